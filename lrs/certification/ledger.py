"""Recompute the ledger of certified hours from LRS statements: idempotent, explained, voiding revokes (D3).

For each person (through their mapped actors) and registered course, statements are grouped into
attempts (evidence.py); each attempt is judged by R4-R6, the qualifying completions by R7-R8, and
the result is written as one row per person, course and year:

- `credited`: hours earned, pointing to the statement ids that prove it;
- `refused`: completions in that year that earned nothing, with the reasons (shown on the transcript);
- `in_progress`: attempts started that year that have not completed yet, with what is still missing;
- `revoked`: a row that was credited before but no longer is (a statement was voided, the registry
  changed, or staff revoked it), with the reason.

Running it twice gives the same ledger (rows change only when their content changes). Manual
credits and revocations (`Override`) need a reason, are audited and win over the evidence.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import gc
import json
import logging
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, NamedTuple, cast

import orjson
from sqlalchemy import ColumnElement, String, Table, insert, select, type_coerce
from sqlalchemy.orm import Session

from lrs.certification import evidence, registry, rules
from lrs.certification.models import ActorLink, Course, Credit, Override, Person
from lrs.certification.people import audit
from lrs.certification.rules import TAIPEI
from lrs.db import utc_from_driver, utcnow
from lrs.errors import BadRequest, NotFound
from lrs.storage.models import Statement

log = logging.getLogger(__name__)
MAX_REPORTED_PROBLEMS = 200
NO_YEARS: frozenset[int] = frozenset()


_BULK_LOCK = threading.Lock()
_bulk_depth = 0
_was_enabled = True


@contextlib.contextmanager
def bulk_work() -> Iterator[None]:
    """Run a recomputation or export with the cyclic garbage collector off, collecting only between batches.

    They allocate millions of short-lived, acyclic objects (rows, attempts, lines), which reference
    counting frees; left on, the collector ran every few hundred allocations and re-scanned what the
    batch held, about a third of the time of a year's recomputation with default thresholds and still
    a fifth with raised ones. Objects alive before the work starts are frozen out of the scans, and
    the loops call `collect_garbage()` at their batch boundaries, where the batch's objects are gone
    and a collection is cheap, so cyclic garbage never builds up.
    """
    global _bulk_depth, _was_enabled
    with _BULK_LOCK:
        if _bulk_depth == 0:
            _was_enabled = gc.isenabled()
            gc.freeze()
            gc.disable()
        _bulk_depth += 1
    try:
        yield
    finally:
        with _BULK_LOCK:
            _bulk_depth -= 1
            if _bulk_depth == 0:
                if _was_enabled:
                    gc.enable()
                gc.unfreeze()


def collect_garbage() -> None:
    """Collect cyclic garbage at a batch boundary of bulk work (the collector is off inside `bulk_work`).

    Only the young generations: what was allocated since the previous boundary and what survived just
    one, so a boundary costs one batch's worth however long the work (or another thread's) has run.
    """
    if _bulk_depth:
        gc.collect(1)


@dataclass
class RecomputeReport:
    """What a recomputation did."""

    years: list[int]
    people: int = 0
    credited: int = 0
    refused: int = 0
    inserted: int = 0
    updated: int = 0
    revoked: int = 0
    unchanged: int = 0
    problems: list[str] = field(default_factory=list)
    problem_count: int = 0

    def note(self, problem: str) -> None:
        """Record a problem found in the evidence (the first 200 are kept)."""
        self.problem_count += 1
        if len(self.problems) < MAX_REPORTED_PROBLEMS:
            self.problems.append(problem)

    def as_dict(self) -> dict[str, Any]:
        """Return the report as JSON-ready data."""
        return {k: getattr(self, k) for k in ("years", "people", "credited", "refused", "inserted", "updated",
                                               "revoked", "unchanged", "problem_count", "problems")}


def _json(value: list[str]) -> str:
    """Serialise a list of strings compactly (UTF-8 kept as is)."""
    return orjson.dumps(value).decode()


@dataclass
class Desired:
    """A ledger row as the evidence and overrides want it."""

    status: str
    source: str
    digital_tenths: int
    physical_tenths: int
    score: str | None
    started_at: dt.datetime | None
    completed_at: dt.datetime | None
    statement_ids: list[str]
    explanation: list[str]

    def values(self) -> dict[str, Any]:
        """Return the column values."""
        return {
            "status": self.status, "source": self.source, "digital_tenths": self.digital_tenths,
            "physical_tenths": self.physical_tenths, "score": self.score, "started_at": self.started_at,
            "completed_at": self.completed_at, "statement_ids": _json(self.statement_ids),
            "explanation": _json(self.explanation),
        }


@dataclass
class CourseInfo:
    """What the ledger needs of a registry entry, computed once per run."""

    course: Course
    terms: rules.CourseTerms
    pass_mark: Decimal | None
    # Plain copies of the columns read per credit (an ORM attribute read costs more than the rest of a judgement).
    id: int = field(init=False)
    code: str = field(init=False)
    digital_tenths: int = field(init=False)
    physical_tenths: int = field(init=False)
    decisions: dict[tuple[Decimal, Decimal | None, bool], tuple[rules.CreditDecision, list[str]]] = field(default_factory=dict)
    days: dict[dt.date, tuple[int, bool, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.id, self.code = self.course.id, self.course.course_code
        self.digital_tenths, self.physical_tenths = self.course.digital_tenths, self.course.physical_tenths

    def decide(self, facts: rules.Attempt) -> tuple[rules.CreditDecision, list[str]]:
        """Return R4's decision and its explanation, computed once per distinct reading time, score and survey."""
        key = (facts.read_seconds, facts.best_score, facts.survey_submitted)
        found = self.decisions.get(key)
        if found is None:
            found = self._decide(key, facts)
        return found

    def decide_facts(self, read_seconds: Decimal, best_score: Decimal | None, survey: bool) -> tuple[rules.CreditDecision, list[str]]:
        """Return R4's decision for these three facts, building the attempt only the first time they are seen."""
        key = (read_seconds, best_score, survey)
        found = self.decisions.get(key)
        if found is None:
            found = self._decide(key, rules.Attempt(read_seconds=read_seconds, best_score=best_score, survey_submitted=survey))
        return found

    def sole_completion(self, moment: dt.datetime) -> tuple[int, bool, str]:
        """Return R7/R8's (year, credited, explanation) for a person's only qualifying completion of this course.

        With one completion, `choose_credits` depends on its moment only through the Taipei date (the
        year, the class period, the wording), so the answer is computed once per date.
        """
        day = rules.taipei_date(moment)
        found = self.days.get(day)
        if found is None:
            choice = rules.choose_credits(self.terms, [(moment, "")])[0]
            found = self.days[day] = (choice.year, choice.credited, choice.explanation)
        return found

    def _decide(self, key: tuple[Decimal, Decimal | None, bool], facts: rules.Attempt) -> tuple[rules.CreditDecision, list[str]]:
        decision = rules.decide_credit(self.terms, facts)  # reads only these three facts of the attempt
        if self.course.digital_tenths == 0 and self.course.physical_tenths > 0:
            # Physical (實體) hours are attested by attendance, which statements do not prove: staff grant them.
            decision = rules.CreditDecision(rules.ZERO, (rules.Condition(
                "physical", False, "This course's hours are all physical (實體): staff certify attendance with a manual credit."),))
        found = self.decisions[key] = (decision, decision.explain())
        return found


@functools.lru_cache(maxsize=4096)
def _score_text(score: Decimal | None) -> str | None:
    if score is None or not Decimal(-1000) < score < Decimal(1000):
        return None  # xAPI keeps scores within their bounds; anything else is not a score to print
    return format(score.quantize(Decimal("0.01")).normalize(), "f")


def _course_infos(session: Session) -> dict[str, CourseInfo]:
    infos = {}
    for course in session.scalars(select(Course)):
        terms = registry.course_terms(course)
        infos[course.activity_id] = CourseInfo(course, terms, rules.effective_pass_mark(terms).value)
    return infos


def _judge_sole(info: CourseInfo, attempt: evidence.AttemptEvidence, report: RecomputeReport, person_id: int) -> dict[int, Desired]:
    """Judge a person's only attempt at a course without manual credits: `_judge` for that case, in fewer steps.

    This is the common case (one enrollment per course), so it skips the bookkeeping that several
    attempts need; `test_bench_equivalence` holds both paths to the same ledger.
    """
    for problem in attempt.problems:
        report.note(f"Person #{person_id}, course {info.code}: {problem}")
    best = attempt.best_score
    survey = attempt.survey_submitted()
    decision, explained = info.decide_facts(attempt.read_seconds, best, survey)
    moments = [m for m in (attempt.completed_at, attempt.first_pass(info.pass_mark), attempt.survey_at) if m is not None]
    moment = max(moments) if moments else None
    if decision.credited and moment is not None:
        year, credited, why = info.sole_completion(moment)
        if credited:
            return {year: Desired("credited", "evidence", info.digital_tenths, info.physical_tenths, _score_text(best),
                                  attempt.started_at, moment, sorted(attempt.statement_ids), [why, *explained])}
        return {year: Desired("refused", "evidence", 0, 0, None, None, None, sorted(set(attempt.statement_ids)), [why])}
    when = moment or attempt.started_at
    if when is None:
        return {}
    lines = [f"Attempt {attempt.registration or '(no registration)'}: " + line for line in explained if line]
    status = "refused" if attempt.completed_at is not None else "in_progress"
    return {rules.attribute_year(when): Desired(status, "evidence", 0, 0, None, None, None, sorted(set(attempt.statement_ids)),
                                                lines[: len(decision.failures)] or lines[:1])}


def _judge(info: CourseInfo, attempts: Sequence[evidence.AttemptEvidence], report: RecomputeReport,
           person_id: int, granted_years: frozenset[int] = frozenset()) -> dict[int, Desired]:
    """Judge one person's attempts at one course; return the desired row per year.

    `granted_years` are years with a manual credit: for a course without cross-year repeats, that is the
    one credit ever (R7), so evidence in another year earns nothing.
    """
    if len(attempts) == 1 and not granted_years:
        return _judge_sole(info, attempts[0], report, person_id)
    course = info.course
    qualifying: list[tuple[dt.datetime, str]] = []
    decisions: dict[str, tuple[evidence.AttemptEvidence, rules.CreditDecision, list[str]]] = {}
    facts_of: dict[str, rules.Attempt] = {}
    refused_by_year: dict[int, list[str]] = {}
    refused_ids: dict[int, list[str]] = {}
    finished_years: set[int] = set()  # years with a completion that earned nothing (refused), not just work in progress
    for index, attempt in enumerate(attempts):
        for problem in attempt.problems:
            report.note(f"Person #{person_id}, course {course.course_code}: {problem}")
        passed_at = attempt.first_pass(info.pass_mark)
        facts = rules.Attempt(
            read_seconds=attempt.read_seconds, best_score=attempt.best_score, test_passed_at=passed_at,
            survey_submitted=attempt.survey_submitted(), survey_submitted_at=attempt.survey_at,
            completed_at=attempt.completed_at, started_at=attempt.started_at,
        )
        decision, explained = info.decide(facts)
        moment = rules.completion_moment(facts)
        ref = str(index)
        decisions[ref] = (attempt, decision, explained)
        facts_of[ref] = facts
        if decision.credited and moment is not None:
            qualifying.append((moment, ref))
        else:
            when = moment or attempt.started_at
            if when is None:
                continue
            year = rules.attribute_year(when)
            if attempt.completed_at is not None:
                finished_years.add(year)
            lines = [f"Attempt {attempt.registration or '(no registration)'}: " + line for line in explained if line]
            refused_by_year.setdefault(year, []).extend(lines[: len(decision.failures)] or lines[:1])
            refused_ids.setdefault(year, []).extend(attempt.statement_ids)
    desired: dict[int, Desired] = {}
    for choice in rules.choose_credits(info.terms, qualifying):
        attempt, decision, explained = decisions[choice.ref]
        if choice.credited and not info.terms.cross_year_repeat and granted_years - {choice.year}:
            first = min(granted_years - {choice.year})
            choice = rules.YearChoice(choice.moment, choice.year, False,
                                      f"Already credited manually in {first}; this course does not allow credit again (R7).", choice.ref)
        if choice.credited:
            desired[choice.year] = Desired(
                "credited", "evidence", course.digital_tenths, course.physical_tenths, _score_text(facts_of[choice.ref].best_score),
                attempt.started_at, choice.moment, sorted(attempt.statement_ids),
                [choice.explanation, *explained],
            )
        else:
            finished_years.add(choice.year)
            refused_by_year.setdefault(choice.year, []).append(choice.explanation)
            refused_ids.setdefault(choice.year, []).extend(attempt.statement_ids)
    for year, lines in refused_by_year.items():
        if year not in desired:
            status = "refused" if year in finished_years else "in_progress"
            desired[year] = Desired(status, "evidence", 0, 0, None, None, None, sorted(set(refused_ids.get(year, []))), lines)
    return desired


def credit_year_in(years: Iterable[int]) -> ColumnElement[bool]:
    """Filter credits by year where they are also filtered by a list of people.

    Written as `year + 0 IN (...)` so that SQLite reads the batch's people through the (person, course,
    year) key: for `year IN (...)` it preferred the (year, status) index and read every credit of the
    year for each batch, which made a year's recomputation quadratic. PostgreSQL plans by its statistics either way.
    """
    return (Credit.year + 0).in_(list(years))


def _apply_overrides(session: Session, person_ids: Sequence[int], years: set[int] | None,
                     infos_by_id: dict[int, CourseInfo], wanted: dict[tuple[int, int, int], Desired]) -> None:
    query = select(Override).where(Override.person_id.in_(person_ids), Override.active.is_(True)).order_by(Override.at, Override.id)
    for override in session.scalars(query):
        if years is not None and override.year not in years:
            continue
        key = (override.person_id, override.course_id, override.year)
        info = infos_by_id.get(override.course_id)
        if info is None:
            continue
        if override.action == "grant":
            current = wanted.get(key)
            if current is not None and current.status == "credited":
                current.explanation.append(f"Also granted manually by {override.by}: {override.reason}")
                continue
            wanted[key] = Desired("credited", "manual", info.course.digital_tenths, info.course.physical_tenths, None,
                                  override.completed_at, override.completed_at, [],
                                  [f"Manual credit by {override.by} on {override.at.date()}: {override.reason}"])
        else:
            prior = wanted.get(key)
            wanted[key] = Desired("revoked", "manual", 0, 0, None, None, None, prior.statement_ids if prior else [],
                                  [f"Revoked by {override.by} on {override.at.date()}: {override.reason}"])


def _why_revoked(session: Session, statement_ids: list[str]) -> list[str]:
    if not statement_ids:
        return ["No longer supported by the evidence or the registry."]
    voided = list(session.scalars(select(Statement.statement_id).where(Statement.statement_id.in_(statement_ids), Statement.voided.is_(True))))
    if voided:
        return [f"Revoked: statement {sid} was voided." for sid in voided]
    return ["Revoked: the evidence no longer meets the rules (the registry entry or the statements changed)."]


def _compute_batch(session: Session, person_ids: Sequence[int], years: set[int] | None, infos: dict[str, CourseInfo],
                   report: RecomputeReport, course_ids: set[int] | None = None) -> None:
    links = session.execute(select(ActorLink.actor_key, ActorLink.person_id).where(ActorLink.person_id.in_(person_ids))).all()
    person_of = {row.actor_key: row.person_id for row in links}
    activity_ids = set(infos) if course_ids is None else {a for a, i in infos.items() if i.id in course_ids}
    codes = {a: infos[a].course.course_code for a in activity_ids}
    grouped, problems = evidence.read_attempts(session, list(person_of), activity_ids, codes)
    for problem in problems:
        report.note(problem)
    by_person_course: dict[tuple[int, str], list[evidence.AttemptEvidence]] = {}
    for (actor_key, activity_id), attempts in grouped.items():
        by_person_course.setdefault((person_of[actor_key], activity_id), []).extend(attempts)
    wanted: dict[tuple[int, int, int], Desired] = {}
    grants: dict[tuple[int, int], set[int]] = {}
    for grant in session.execute(select(Override.person_id, Override.course_id, Override.year).where(
            Override.person_id.in_(person_ids), Override.active.is_(True), Override.action == "grant")):
        grants.setdefault((grant.person_id, grant.course_id), set()).add(grant.year)
    for (person_id, activity_id), attempts in by_person_course.items():
        info = infos[activity_id]
        found = grants.get((person_id, info.id))
        granted = frozenset(found) if found else NO_YEARS
        for year, desired in _judge(info, attempts, report, person_id, granted).items():
            if years is None or year in years:
                wanted[(person_id, info.id, year)] = desired
    infos_by_id = {i.id: i for i in infos.values() if course_ids is None or i.id in course_ids}
    _apply_overrides(session, person_ids, years, infos_by_id, wanted)

    # Existing rows are compared as plain values; only a row that changes becomes an ORM object (a re-run of
    # an unchanged year loads none, instead of millions).
    query = select(Credit.id, Credit.person_id, Credit.course_id, Credit.year, Credit.status, Credit.source, Credit.digital_tenths,
                   Credit.physical_tenths, Credit.score, type_coerce(Credit.started_at, String), type_coerce(Credit.completed_at, String),
                   Credit.statement_ids, Credit.explanation).where(Credit.person_id.in_(person_ids))
    if years is not None:
        query = query.where(credit_year_in(years))
    if course_ids is not None:
        query = query.where(Credit.course_id.in_(course_ids))
    existing = {(r[1], r[2], r[3]): _StoredCredit(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], utc_from_driver(r[9]), utc_from_driver(r[10]),
                                                  r[11], r[12]) for r in session.execute(query)}
    now = utcnow()
    inserts: list[tuple[Any, ...]] = []
    for key, desired in wanted.items():
        if desired.status == "credited":
            report.credited += 1
        elif desired.status == "refused":
            report.refused += 1
        row = existing.pop(key, None)
        if row is not None and desired.status in ("refused", "in_progress") and row.status in ("credited", "revoked"):
            # A credit that the evidence no longer supports is revoked (and stays revoked), never just "refused".
            if row.status == "revoked":
                report.unchanged += 1
                continue
            desired = Desired("revoked", "evidence", 0, 0, None, None, None, json.loads(row.statement_ids),
                              _why_revoked(session, json.loads(row.statement_ids)) + desired.explanation)
        if row is None:
            if desired.status == "revoked" and desired.source != "manual":
                continue  # nothing was credited, so there is nothing to revoke
            inserts.append((*key, desired.status, desired.source, desired.digital_tenths, desired.physical_tenths, desired.score,
                            desired.started_at, desired.completed_at, _json(desired.statement_ids), _json(desired.explanation),
                            now, now))  # in the order of _CREDIT_COLUMNS
            report.inserted += 1
            continue
        values = desired.values()
        if all(getattr(row, k) == v for k, v in values.items()):
            report.unchanged += 1
        else:
            if row.status == "credited" and desired.status != "credited":
                report.revoked += 1
            credit = session.get_one(Credit, row.id)
            for k, v in values.items():
                setattr(credit, k, v)
            credit.updated_at = now
            report.updated += 1
    for row in existing.values():
        if row.status == "credited":
            credit = session.get_one(Credit, row.id)
            credit.status = "revoked"
            credit.explanation = _json(_why_revoked(session, json.loads(row.statement_ids)))
            credit.updated_at = now
            report.revoked += 1
            report.updated += 1
        elif row.status in ("refused", "in_progress"):
            session.delete(session.get_one(Credit, row.id))
            report.updated += 1
        else:
            report.unchanged += 1
    session.flush()
    if inserts:
        _insert_credits(session, inserts)


class _StoredCredit(NamedTuple):
    """A ledger row as read for comparison (the fields of `Desired.values()`, times aware)."""

    id: int
    person_id: int
    course_id: int
    year: int
    status: str
    source: str
    digital_tenths: int
    physical_tenths: int
    score: str | None
    started_at: dt.datetime | None
    completed_at: dt.datetime | None
    statement_ids: str
    explanation: str


_CREDIT_COLUMNS = ("person_id", "course_id", "year", "status", "source", "digital_tenths", "physical_tenths", "score",
                   "started_at", "completed_at", "statement_ids", "explanation", "created_at", "updated_at")


def _sqlite_time(value: dt.datetime | None) -> str | None:
    """Format an aware time as SQLAlchemy's SQLite DateTime stores a UTCDateTime: naive UTC with microseconds."""
    if value is None:
        return None
    if value.tzinfo is not dt.UTC:
        value = value.astimezone(dt.UTC)
    return value.isoformat(" ", "microseconds")[:-6]  # without the "+00:00"


def _insert_credits(session: Session, rows: list[tuple[Any, ...]]) -> None:
    """Insert new ledger rows (tuples in the order of _CREDIT_COLUMNS) in one driver-level executemany."""
    connection = session.connection()
    name = connection.dialect.name
    if name not in ("sqlite", "postgresql"):
        session.execute(insert(cast(Table, Credit.__table__)), [dict(zip(_CREDIT_COLUMNS, row, strict=True)) for row in rows])
        return
    mark = "?" if name == "sqlite" else "%s"
    # Only constant table and column names are written into the text; every value is bound.
    sql = f"INSERT INTO {Credit.__tablename__} ({', '.join(_CREDIT_COLUMNS)}) VALUES ({', '.join([mark] * len(_CREDIT_COLUMNS))})"  # noqa: S608
    params = rows
    if name == "sqlite":  # times as SQLAlchemy writes them there; created_at and updated_at are one moment
        now = _sqlite_time(rows[0][-1])
        params = [(*row[:8], _sqlite_time(row[8]), _sqlite_time(row[9]), row[10], row[11], now, now) for row in rows]
    connection.exec_driver_sql(sql, params)


def recompute(session: Session, years: Iterable[int] | None, *, agency: str | None = None,
              person_ids: Sequence[int] | None = None, batch_size: int = 1000, commit_each_batch: bool = False,
              id_range: tuple[int, int] | None = None) -> RecomputeReport:
    """Recompute the ledger rows of the given years (None: every year) for everyone, an agency or some people.

    `id_range` (first, last + 1) limits the run to people whose number falls in it, so that several
    processes can share a large recomputation without overlapping.
    """
    year_set = set(years) if years is not None else None
    report = RecomputeReport(sorted(year_set) if year_set else [])
    infos = _course_infos(session)
    query = select(Person.id).order_by(Person.id)
    if agency:
        query = query.where(Person.agency_code == agency)
    if person_ids is not None:
        query = query.where(Person.id.in_(person_ids))
    if id_range is not None:
        query = query.where(Person.id >= id_range[0], Person.id < id_range[1])
    ids = list(session.scalars(query))
    report.people = len(ids)
    with bulk_work():
        for start in range(0, len(ids), batch_size):
            _compute_batch(session, ids[start:start + batch_size], year_set, infos, report)
            if commit_each_batch:
                session.commit()
            collect_garbage()
    return report


def recompute_subjects(session: Session, subjects: Sequence[tuple[str, str]]) -> RecomputeReport | None:
    """Recompute every year of the (actor, activity) pairs that new statements touched (the stored-statement hook)."""
    if not subjects:
        return None
    actor_keys = {a for a, _ in subjects}
    links = session.execute(select(ActorLink.actor_key, ActorLink.person_id).where(ActorLink.actor_key.in_(actor_keys))).all()
    if not links:
        return None
    all_infos = _course_infos(session)
    touched = {act for _, act in subjects}
    course_ids = {i.course.id for a, i in all_infos.items() if a in touched}
    if not course_ids:
        return None
    report = RecomputeReport([])
    _compute_batch(session, sorted({row.person_id for row in links}), None, all_infos, report, course_ids=course_ids)
    return report


def manual_override(session: Session, *, person: Person, course: Course, year: int, action: str, reason: str, by: str,
                    completed_on: dt.date | None = None) -> Override:
    """Grant or revoke a credit by hand, with a reason; audited, and applied at once (D3)."""
    if action not in {"grant", "revoke"}:
        raise BadRequest("An override either grants or revokes a credit.")
    if len(reason.strip()) < 5:
        raise BadRequest("Give a reason of at least 5 characters; it is kept in the audit trail.")
    completed_at = None
    if action == "grant":
        if completed_on is None:
            raise BadRequest("A manual credit needs the completion date (實際上課結束日期).")
        if completed_on.year != year:
            raise BadRequest(f"The completion date {completed_on} is not in {year} (R8 attributes credits by completion date).")
        completed_at = dt.datetime.combine(completed_on, dt.time(12, 0), TAIPEI)
    for old in session.scalars(select(Override).where(Override.person_id == person.id, Override.course_id == course.id,
                                                      Override.year == year, Override.active.is_(True))):
        old.active = False
    override = Override(person_id=person.id, course_id=course.id, year=year, action=action, reason=reason.strip(), by=by,
                        completed_at=completed_at)
    session.add(override)
    session.flush()
    audit(session, by, f"credit.{action}", f"person #{person.id} course {course.course_code} {year}", reason=reason.strip())
    report = RecomputeReport([year])
    _compute_batch(session, [person.id], {year}, _course_infos(session), report, course_ids={course.id})
    return override


def withdraw_override(session: Session, override_id: int, *, by: str, reason: str) -> None:
    """Withdraw a manual credit or revocation; the evidence decides again. Audited."""
    override = session.get(Override, override_id)
    if override is None or not override.active:
        raise NotFound(f"No active override #{override_id}.")
    if len(reason.strip()) < 5:
        raise BadRequest("Give a reason of at least 5 characters; it is kept in the audit trail.")
    override.active = False
    audit(session, by, "credit.withdraw_override", f"override #{override.id}", reason=reason.strip())
    report = RecomputeReport([override.year])
    _compute_batch(session, [override.person_id], {override.year}, _course_infos(session), report, course_ids={override.course_id})


def credits_of(session: Session, person_id: int, year: int | None = None) -> list[tuple[Credit, Course]]:
    """Return a person's ledger rows with their courses, newest year first."""
    query = select(Credit, Course).join(Course, Course.id == Credit.course_id).where(Credit.person_id == person_id)
    if year is not None:
        query = query.where(Credit.year == year)
    return [(c, k) for c, k in session.execute(query.order_by(Credit.year.desc(), Course.course_code))]


def credit_lines(rows: Iterable[tuple[Credit, Course]]) -> list[rules.CreditLine]:
    """Turn credited ledger rows into the annual rules' lines, split by segment (R10)."""
    out: list[rules.CreditLine] = []
    for credit, course in rows:
        if credit.status != "credited":
            continue
        digital, physical = registry.hours(credit.digital_tenths), registry.hours(credit.physical_tenths)
        try:
            segments = rules.split_segments(course.primary_code, digital, physical, registry.course_segments(course))
        except rules.RuleError:  # the registry changed since: count the whole credit under the main code
            segments = [rules.Segment(course.primary_code, digital, physical)]
        out.extend(rules.CreditLine(seg.code, seg.hours, seg.digital, seg.physical) for seg in segments)
    return out
