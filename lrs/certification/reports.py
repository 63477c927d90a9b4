"""Build what staff look at and upload from the ledger: exports, transcripts, agency compliance, shortfalls (D4, D5).

IDs are decrypted here only to build an export; every other view shows the masked form.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import zipfile
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lrs.certification import codes as code_lists
from lrs.certification import exports, idno, ledger, parallel, registry, rules
from lrs.certification.models import Course, Credit, Person
from lrs.certification.people import audit
from lrs.certification.rules import TAIPEI
from lrs.db import driver_stream, utc_from_driver

# The order in which export_credits builds ExportCredit tuples (positionally, for speed).
_CREDIT_FIELDS = ("ref", "year", "id_number", "name", "agency_code", "course_code", "course_title", "primary_code", "digital",
                  "physical", "class_start", "class_end", "started_at", "completed_at", "segments", "summary", "city_code", "term",
                  "score", "birthday")


def _decimal_score(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


def export_credits(session: Session, vault: idno.IdVault, year: int, agency: str | None,
                   id_range: tuple[int, int] | None = None) -> Iterator[exports.ExportCredit]:
    """Yield the year's credited rows (of one agency) as export credits, decrypting each ID just for the file.

    Reads plain columns on the driver's cursor, streamed and ordered by person, so a year of millions
    of rows needs neither ORM objects nor more than one decryption per person. `id_range` (first,
    last + 1) limits it to some people, for parallel exports.
    """
    assert exports.ExportCredit._fields == _CREDIT_FIELDS, "export_credits builds ExportCredit positionally: follow its new order"
    session.flush()  # the rows are read below the ORM, which would not flush pending changes itself
    courses = {course.id: course for course in session.scalars(select(Course))}
    # Per course, its ExportCredit fields in the tuple's order: course_code to primary_code, the class
    # period, and segments to term.
    fixed: dict[int, tuple[tuple[str, str, str], dt.datetime, dt.datetime, tuple[Any, ...]]] = {
        course_id: ((course.course_code, course.title, course.primary_code), course.class_start, course.class_end,
                    (registry.course_segments(course), course.summary, course.city_code, course.term))
        for course_id, course in courses.items()}
    # Only constant table and column names are written into the text; every value is bound. Times come
    # as the driver gives them: SQLite's naive-UTC text (parsed here in C) or PostgreSQL's aware datetimes.
    # People are walked in id order (of the range or agency) and each one's credits read through the
    # (person, course, year) key, already in the order wanted. SQLite is told so (CROSS JOIN keeps the
    # order of the tables, `+` keeps the year off the year-status index): left to itself, it read every
    # credit of the year for each worker and sorted them.
    sqlite = session.get_bind().dialect.name == "sqlite"
    sql = (
        "SELECT c.id, c.year, c.course_id, c.digital_tenths, c.physical_tenths, c.score, c.started_at, c.completed_at, "  # noqa: S608
        f"p.id, p.name, p.agency_code, p.id_cipher, p.birthday FROM {Person.__tablename__} p "
        f"{'CROSS JOIN' if sqlite else 'JOIN'} {Credit.__tablename__} c ON c.person_id = p.id WHERE +c.year = ? AND c.status = ?"
    )
    params: list[Any] = [year, "credited"]
    if agency:
        sql += " AND p.agency_code = ?"
        params.append(agency)
    if id_range is not None:
        sql += " AND p.id >= ? AND p.id < ?"
        params.extend(id_range)
    sql += " ORDER BY p.id, c.course_id"
    last_person, number, born, people = -1, "", None, 0
    hours: dict[int, Decimal] = {}
    scores: dict[str | None, Decimal | None] = {}
    make = exports.ExportCredit._make
    for (credit_id, credit_year, course_id, digital_tenths, physical_tenths, score_text, started, completed_at, person_id,
         name, agency_code, id_cipher, birthday) in driver_stream(session, sql, params):
        if person_id != last_person:
            last_person, number = person_id, vault.decrypt(id_cipher)
            born = dt.date.fromisoformat(birthday) if isinstance(birthday, str) else birthday  # SQLite: ISO text
            people += 1
            if people % 5000 == 0:  # between people: collect the little cyclic garbage of bulk work
                ledger.collect_garbage()
        head, class_start, class_end, tail = fixed[course_id]
        completed = utc_from_driver(completed_at) or class_end
        digital = hours.get(digital_tenths)
        if digital is None:
            digital = hours[digital_tenths] = registry.hours(digital_tenths)
        physical = hours.get(physical_tenths)
        if physical is None:
            physical = hours[physical_tenths] = registry.hours(physical_tenths)
        if score_text in scores:
            score = scores[score_text]
        else:
            score = scores[score_text] = _decimal_score(score_text)
        # Positional, in ExportCredit's field order: a third of the cost of keyword arguments, at millions of rows.
        yield make((f"credit #{credit_id}", credit_year, number, name, agency_code, *head, digital, physical, class_start,
                    class_end, utc_from_driver(started) or completed, completed, *tail, score, born))


@dataclass
class ExportRun:
    """One export written to disk."""

    result: exports.ExportResult
    paths: list[Path] = field(default_factory=list)


def run_export(session: Session, vault: idno.IdVault, *, year: int, agency: str | None, folder: Path, by: str,
               export_day: dt.date | None = None, allow_passport: bool = True, max_rows: int = exports.MAX_ROWS_PER_FILE,
               with_json: bool = False, json_ids: bool = False, in_memory: bool = False,
               job: parallel.Job | None = None) -> ExportRun:
    """Validate and write a year's portal and 環教 files (zipped when several), the refusal report and optional JSON.

    Files are streamed to the folder as each fills up (bounded memory); `in_memory` also keeps their bytes
    in `result.files` (for a download). With a `job`, worker processes build the lines (not with JSON
    or in memory, which stay in this process); the files are the same.
    """
    day = export_day or dt.datetime.now(TAIPEI).date()
    table = code_lists.code_table(session)
    label = f"{year}_{agency or 'all'}"
    # The files hold national ID numbers: an owner-only folder, and owner-only files inside it.
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    paths: list[Path] = []
    json_path = folder / f"{day.isoformat()}_{label}.json"
    json_handle = json_path.open("w", encoding="utf-8") if with_json else None
    first = [True]

    def write_json(credit: exports.ExportCredit) -> None:
        assert json_handle is not None
        json_handle.write(("[\n" if first[0] else ",\n") + json.dumps(exports.credit_json(credit, include_id=json_ids), ensure_ascii=False))
        first[0] = False

    def to_disk(name: str, data: bytes) -> None:
        fd = os.open(folder / name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)

    try:
        if job is not None and not with_json and not in_memory:
            result = parallel.export(session, job, year=year, agency=agency, export_day=day, allow_passport=allow_passport,
                                     max_rows=max_rows, scratch=folder, sink=to_disk)
        else:
            with ledger.bulk_work():
                result = exports.build_exports(
                    export_credits(session, vault, year, agency), table, export_day=day, allow_passport=allow_passport,
                    max_rows=max_rows, sink=None if in_memory else to_disk, on_accept=write_json if with_json else None,
                )
    finally:
        if json_handle is not None:
            json_handle.write("[]\n" if first[0] else "\n]\n")
            json_handle.close()
    if in_memory:
        paths = result.write(folder, zip_name=f"{day.isoformat()}_{label}.zip")
    elif len(result.file_names) > 1:
        target = folder / f"{day.isoformat()}_{label}.zip"
        with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=exports.ZIP_LEVEL) as archive:
            for name in result.file_names:
                info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o600 << 16
                archive.writestr(info, (folder / name).read_bytes(), compresslevel=exports.ZIP_LEVEL)
                (folder / name).unlink()
        paths = [target]
    else:
        paths = [folder / name for name in result.file_names]
    report = {"year": year, "agency": agency, "portal_rows": result.portal_rows, "env_rows": result.env_rows,
              "files": result.file_names, "refused": [r.as_dict() for r in result.refused]}
    refused_path = folder / f"{day.isoformat()}_{label}_refused.json"
    refused_path.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    paths.append(refused_path)
    if with_json:
        paths.append(json_path)
    for path in paths:
        path.chmod(0o600)
    audit(session, by, "export", label, portal_rows=result.portal_rows, env_rows=result.env_rows, refused=len(result.refused),
          files=[p.name for p in paths], ids_in_json=json_ids and with_json)
    return ExportRun(result, paths)


def _group_of(session: Session) -> dict[str, str]:
    return {code: entry.top_group for code, entry in code_lists.code_table(session).items()}


def person_compliance(session: Session, person: Person, year: int, book: rules.ProfileBook,
                      group_of: Mapping[str, str] | None = None) -> rules.ComplianceResult:
    """Check a person's year against their agency's profile and their 資安 role (R1-R3)."""
    rows = ledger.credits_of(session, person.id, year)
    previous = ledger.credits_of(session, person.id, year - 1)
    return rules.check_compliance(
        year, ledger.credit_lines(rows), book.resolve(person.agency_code, year),
        category=rules.StaffCategory(person.category), security_role=rules.SecurityRole(person.security_role),
        previous_year_lines=ledger.credit_lines(previous), group_of=group_of if group_of is not None else _group_of(session),
    )


def transcript(session: Session, person: Person, year: int, book: rules.ProfileBook, today: dt.date,
               holidays: Sequence[dt.date] = ()) -> dict[str, Any]:
    """Return a learner's year: ledger rows with explanations, quota progress and any deadline warning (D4)."""
    result = person_compliance(session, person, year, book)
    profile = book.resolve(person.agency_code, year)
    warning = rules.deadline_warning(result, profile, today, holidays)
    return {
        "person": {"id": person.id, "name": person.name, "agency_code": person.agency_code, "category": person.category,
                   "security_role": person.security_role, "id_number": person.id_masked},
        "year": year,
        "credits": [
            {"course_code": course.course_code, "title": course.title, "status": credit.status, "source": credit.source,
             "hours": rules.format_hours(registry.hours(credit.digital_tenths + credit.physical_tenths)),
             "codes": [s.code for s in rules.split_segments(course.primary_code, registry.hours(credit.digital_tenths),
                                                            registry.hours(credit.physical_tenths), registry.course_segments(course))]
                      if credit.status == "credited" and _splits(course, credit) else [course.primary_code],
             "completed_at": credit.completed_at.astimezone(TAIPEI).isoformat() if credit.completed_at else None,
             "score": credit.score, "statement_ids": json.loads(credit.statement_ids),
             "explanation": json.loads(credit.explanation)}
            for credit, course in ledger.credits_of(session, person.id, year)
        ],
        "compliance": result.as_dict(),
        "warning": None if warning is None else {"cutoff": warning.cutoff.isoformat(),
                                                  "last_completion_day": warning.last_completion_day.isoformat(),
                                                  "days_left": warning.days_left, "explanation": warning.explanation},
    }


def _splits(course: Course, credit: Credit) -> bool:
    try:
        rules.split_segments(course.primary_code, registry.hours(credit.digital_tenths), registry.hours(credit.physical_tenths),
                             registry.course_segments(course))
    except rules.RuleError:
        return False
    return True


def agency_compliance(session: Session, year: int, agency: str | None, book: rules.ProfileBook, today: dt.date,
                      holidays: Sequence[dt.date] = ()) -> dict[str, Any]:
    """Return an agency's year: per-person results, hours distribution, quota shortfalls, monthly trend, warnings (D4, R15)."""
    query = select(Person).order_by(Person.name, Person.id)
    if agency:
        query = query.where(Person.agency_code == agency)
    persons = list(session.scalars(query))
    ids = [p.id for p in persons]
    rows_by_person: dict[int, list[tuple[Credit, Course]]] = defaultdict(list)
    prev_by_person: dict[int, list[tuple[Credit, Course]]] = defaultdict(list)
    monthly: Counter[int] = Counter()
    for start in range(0, len(ids), 1000):
        chunk = ids[start:start + 1000]
        query_rows = (select(Credit, Course).join(Course, Course.id == Credit.course_id)
                      .where(Credit.person_id.in_(chunk), ledger.credit_year_in([year, year - 1]), Credit.status == "credited"))
        for credit, course in session.execute(query_rows):
            if credit.year == year:
                rows_by_person[credit.person_id].append((credit, course))
                if credit.completed_at is not None:
                    monthly[credit.completed_at.astimezone(TAIPEI).month] += credit.digital_tenths + credit.physical_tenths
            else:
                prev_by_person[credit.person_id].append((credit, course))
    group_of = _group_of(session)
    people_out = []
    distribution: Counter[str] = Counter()
    short_by_quota: Counter[str] = Counter()
    labels: dict[str, str] = {}
    warnings = []
    for person in persons:
        profile = book.resolve(person.agency_code, year)
        result = rules.check_compliance(
            year, ledger.credit_lines(rows_by_person[person.id]), profile,
            category=rules.StaffCategory(person.category), security_role=rules.SecurityRole(person.security_role),
            previous_year_lines=ledger.credit_lines(prev_by_person[person.id]), group_of=group_of,
        )
        total = next((o.earned for o in result.outcomes if o.key == "total"), rules.ZERO)
        distribution[_bucket(total)] += 1
        for outcome in result.shortfalls:
            short_by_quota[outcome.key] += 1
            labels[outcome.key] = outcome.label
        warning = rules.deadline_warning(result, profile, today, holidays)
        entry = {"id": person.id, "name": person.name, "id_number": person.id_masked, "category": person.category,
                 "compliant": result.compliant, "total": rules.format_hours(total),
                 "shortfalls": [{"key": o.key, "label": o.label, "shortfall": rules.format_hours(o.shortfall)} for o in result.shortfalls]}
        people_out.append(entry)
        if warning is not None:
            warnings.append({**entry, "cutoff": warning.cutoff.isoformat(), "last_completion_day": warning.last_completion_day.isoformat(),
                             "days_left": warning.days_left, "explanation": warning.explanation})
    return {
        "year": year, "agency": agency, "people": people_out,
        "compliant": sum(1 for p in people_out if p["compliant"]),
        "distribution": [{"bucket": b, "people": distribution.get(b, 0)} for b in BUCKETS],
        "shortfalls_by_quota": [{"key": k, "label": labels[k], "people": n} for k, n in short_by_quota.most_common()],
        "monthly_hours": [{"month": m, "hours": rules.format_hours(registry.hours(monthly.get(m, 0)))} for m in range(1, 13)],
        "warnings": warnings,
    }


BUCKETS = ("0", "0-5", "5-10", "10-15", "15-20", "20-30", "30+")


def _bucket(total: Decimal) -> str:
    """Name the hours bucket of a total: 0, then under 5, 10, 15, 20, 30, and 30 or more."""
    if total <= 0:
        return "0"
    for high, name in ((5, "0-5"), (10, "5-10"), (15, "10-15"), (20, "15-20"), (30, "20-30")):
        if total < high:
            return name
    return "30+"
