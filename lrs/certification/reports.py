"""Build what staff look at and upload from the ledger: exports, transcripts, agency compliance, shortfalls (D4, D5).

IDs are decrypted here only to build an export; every other view shows the masked form.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lrs.certification import codes as code_lists
from lrs.certification import exports, idno, ledger, registry, rules
from lrs.certification.models import Course, Credit, Person
from lrs.certification.people import audit
from lrs.certification.rules import TAIPEI


def _decimal_score(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


def export_credits(session: Session, vault: idno.IdVault, year: int, agency: str | None) -> Iterator[exports.ExportCredit]:
    """Yield the year's credited rows (of one agency) as export credits, decrypting each ID just for the file."""
    query = (
        select(Credit, Person, Course)
        .join(Person, Person.id == Credit.person_id)
        .join(Course, Course.id == Credit.course_id)
        .where(Credit.year == year, Credit.status == "credited")
        .order_by(Course.course_code, Person.id)
    )
    if agency:
        query = query.where(Person.agency_code == agency)
    segments_cache: dict[int, tuple[rules.Segment, ...]] = {}
    for credit, person, course in session.execute(query):
        if course.id not in segments_cache:
            segments_cache[course.id] = registry.course_segments(course)
        completed = credit.completed_at or course.class_end
        yield exports.ExportCredit(
            ref=f"credit #{credit.id}", year=credit.year, id_number=vault.decrypt(person.id_cipher), name=person.name,
            agency_code=person.agency_code, course_code=course.course_code, course_title=course.title,
            primary_code=course.primary_code, digital=registry.hours(credit.digital_tenths),
            physical=registry.hours(credit.physical_tenths), class_start=course.class_start, class_end=course.class_end,
            started_at=credit.started_at or completed, completed_at=completed, segments=segments_cache[course.id],
            summary=course.summary, city_code=course.city_code, term=course.term, score=_decimal_score(credit.score),
            birthday=person.birthday,
        )


@dataclass
class ExportRun:
    """One export written to disk."""

    result: exports.ExportResult
    paths: list[Path] = field(default_factory=list)


def run_export(session: Session, vault: idno.IdVault, *, year: int, agency: str | None, folder: Path, by: str,
               export_day: dt.date | None = None, allow_passport: bool = True, max_rows: int = exports.MAX_ROWS_PER_FILE,
               with_json: bool = False, json_ids: bool = False) -> ExportRun:
    """Validate and write a year's portal and 環教 files (zipped when several), the refusal report and optional JSON."""
    day = export_day or dt.datetime.now(TAIPEI).date()
    table = code_lists.code_table(session)
    credits = list(export_credits(session, vault, year, agency))
    result = exports.build_exports(credits, table, export_day=day, allow_passport=allow_passport, max_rows=max_rows)
    label = f"{year}_{agency or 'all'}"
    folder.mkdir(parents=True, exist_ok=True)
    paths = result.write(folder, zip_name=f"{day.isoformat()}_{label}.zip")
    report = {"year": year, "agency": agency, "portal_rows": result.portal_rows, "env_rows": result.env_rows,
              "files": [name for name, _ in result.files], "refused": [r.as_dict() for r in result.refused]}
    refused_path = folder / f"{day.isoformat()}_{label}_refused.json"
    refused_path.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    paths.append(refused_path)
    if with_json:
        refused_refs = {r.ref for r in result.refused}
        data = [exports.credit_json(c, include_id=json_ids) for c in credits if c.ref not in refused_refs]
        json_path = folder / f"{day.isoformat()}_{label}.json"
        json_path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
        paths.append(json_path)
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


def transcript(session: Session, person: Person, year: int, book: rules.ProfileBook, today: dt.date) -> dict[str, Any]:
    """Return a learner's year: ledger rows with explanations, quota progress and any deadline warning (D4)."""
    result = person_compliance(session, person, year, book)
    profile = book.resolve(person.agency_code, year)
    warning = rules.deadline_warning(result, profile, today)
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


def agency_compliance(session: Session, year: int, agency: str | None, book: rules.ProfileBook, today: dt.date) -> dict[str, Any]:
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
                      .where(Credit.person_id.in_(chunk), Credit.year.in_([year, year - 1]), Credit.status == "credited"))
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
        warning = rules.deadline_warning(result, profile, today)
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
