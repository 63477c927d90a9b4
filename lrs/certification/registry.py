"""Keep the hour registry: which activities are certifiable and on what terms, with a history of edits (D1).

Entries are validated before anything is stored: codes must exist, hours have one decimal place (R14),
segments fit the hours (R10), the class period is ordered, pass marks lie in 0-100 (R5), foreign courses
follow R13, and an activity id or course code is never registered twice with different terms. The
catalog (lti_tool) keeps entries in step by calling `save_course`; staff edit them on /certification.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.orm import Session

from lrs.certification import rules
from lrs.certification.exports import CITY_CODES
from lrs.certification.models import Course, CourseHistory, CourseSegment
from lrs.certification.rules import TAIPEI, RuleError, Segment
from lrs.db import utcnow
from lrs.errors import BadRequest, Conflict, NotFound


def tenths(value: Decimal) -> int:
    """Convert hours (one decimal place) to whole tenths."""
    return int(value * 10)


@functools.lru_cache(maxsize=4096)
def hours(value_tenths: int | None) -> Decimal:
    """Convert whole tenths back to hours."""
    return (Decimal(value_tenths or 0) / 10).quantize(rules.ONE_PLACE)


@dataclass
class CourseInput:
    """A registry entry as submitted (by staff, the CLI or the catalog), before validation."""

    course_code: str
    title: str
    primary_code: str
    digital: Decimal
    physical: Decimal
    class_start: dt.date
    class_end: dt.date
    title_en: str = ""
    summary: str = ""
    has_test: bool = True
    pass_mark: Decimal | None = None
    survey_required: bool = True
    cross_year_repeat: bool = False
    city_code: str = "10"
    term: str = "1"
    provider_effort: Decimal | None = None
    foreign: bool = True
    active: bool = True
    activity_id: str = ""
    segments: list[Segment] = field(default_factory=list)


def course_activity_id(base_url: str, course_code: str) -> str:
    """Return the catalog course's activity id as the learner player writes it (`{base}/catalog/courses/{code}`)."""
    return f"{base_url.rstrip('/')}/catalog/courses/{quote(course_code, safe='')}"


def _bool(value: Any, default: bool) -> bool:
    if value is None or value == "":
        return default
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on", "y"}
    return bool(value)


def _date(value: Any, what: str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise BadRequest(f"{what} must be a date such as 2026-01-01, got {value!r}.") from None


def course_input_from_dict(data: Mapping[str, Any]) -> CourseInput:
    """Parse a registry entry from JSON or a form, refusing bad values with the field named."""
    try:
        segments = [
            Segment(str(s["code"]).strip(), rules.parse_hours(s.get("digital", 0), what=f"segment {s['code']} digital hours"),
                    rules.parse_hours(s.get("physical", 0), what=f"segment {s['code']} physical hours"), str(s.get("name", "")).strip())
            for s in data.get("segments") or []
        ]
        pass_mark = data.get("pass_mark")
        effort = data.get("provider_effort")
        return CourseInput(
            course_code=str(data.get("course_code", "")).strip(),
            title=str(data.get("title", "")).strip(),
            primary_code=str(data.get("primary_code", "")).strip(),
            digital=rules.parse_hours(data.get("digital", 0) or 0, what="digital hours"),
            physical=rules.parse_hours(data.get("physical", 0) or 0, what="physical hours"),
            class_start=_date(data.get("class_start"), "class_start"),
            class_end=_date(data.get("class_end"), "class_end"),
            title_en=str(data.get("title_en", "")).strip(),
            summary=str(data.get("summary", "")).strip(),
            has_test=_bool(data.get("has_test"), True),
            pass_mark=None if pass_mark in (None, "") else rules.parse_hours(pass_mark, what="pass mark"),
            survey_required=_bool(data.get("survey_required"), True),
            cross_year_repeat=_bool(data.get("cross_year_repeat"), False),
            city_code=str(data.get("city_code", "10") or "10").strip(),
            term=str(data.get("term", "1") or "1").strip(),
            provider_effort=None if effort in (None, "") else rules.parse_hours(effort, what="provider effort"),
            foreign=_bool(data.get("foreign"), True),
            active=_bool(data.get("active"), True),
            activity_id=str(data.get("activity_id", "") or "").strip(),
            segments=segments,
        )
    except RuleError as err:
        raise BadRequest(str(err)) from None
    except (KeyError, TypeError) as err:
        raise BadRequest(f"A segment needs a code and hours ({err}).") from None


def validate_course(data: CourseInput, codes: Mapping[str, Any]) -> list[str]:
    """Return every problem with a registry entry; empty when it can be stored."""
    problems = []
    if not data.course_code or len(data.course_code) > 64 or any(c in data.course_code for c in "\r\n\t,\""):
        problems.append("The course code is required: up to 64 characters without commas, quotes or line breaks.")
    if not data.title or len(data.title) > 300:
        problems.append("The title (課程名稱) is required, up to 300 characters.")
    if len(data.title_en) > 300 or not data.term or len(data.term) > 20 or len(data.activity_id) > 2048:
        problems.append("Keep the English title within 300 characters, the term (期別) 1 to 20 characters and the activity id within 2048.")
    if data.primary_code not in codes:
        problems.append(f"Category code {data.primary_code!r} is not in the code list; add it first if it is new.")
    for segment in data.segments:
        if segment.code not in codes:
            problems.append(f"Segment category code {segment.code!r} is not in the code list.")
    if data.class_start > data.class_end:
        problems.append(f"The class period starts ({data.class_start}) after it ends ({data.class_end}).")
    if data.pass_mark is not None and not Decimal(0) <= data.pass_mark <= Decimal(100):
        problems.append("The pass mark is a score from 0 to 100.")
    if not data.has_test and data.pass_mark is not None:
        problems.append("A course without a test cannot declare a pass mark.")
    try:
        rules.split_segments(data.primary_code, data.digital, data.physical, data.segments)
    except RuleError as err:
        problems.append(str(err))
    if data.foreign and data.digital + data.physical > 0:
        problems.extend(rules.check_foreign_hours(data.digital + data.physical, data.provider_effort, viewing_enforced=data.digital > 0))
    if data.city_code not in CITY_CODES:
        problems.append(f"City code {data.city_code!r} is not a 上課縣市 code (§2.4); 10 is 臺北市, 01 overseas.")
    return problems


def course_snapshot(course: Course) -> dict[str, Any]:
    """Return a registry entry as JSON-ready data (for history, pages and the API)."""
    return {
        "course_code": course.course_code,
        "activity_id": course.activity_id,
        "title": course.title,
        "title_en": course.title_en,
        "summary": course.summary,
        "primary_code": course.primary_code,
        "digital": rules.format_hours(hours(course.digital_tenths)),
        "physical": rules.format_hours(hours(course.physical_tenths)),
        "has_test": course.has_test,
        "pass_mark": None if course.pass_mark_tenths is None else rules.format_hours(hours(course.pass_mark_tenths)),
        # R5: a tested course without a declared pass mark is judged at 60 and flagged for review.
        "pass_mark_review": course.has_test and course.pass_mark_tenths is None,
        "survey_required": course.survey_required,
        "cross_year_repeat": course.cross_year_repeat,
        "class_start": course.class_start.astimezone(TAIPEI).date().isoformat(),
        "class_end": course.class_end.astimezone(TAIPEI).date().isoformat(),
        "city_code": course.city_code,
        "term": course.term,
        "provider_effort": None if course.provider_effort_tenths is None else rules.format_hours(hours(course.provider_effort_tenths)),
        "foreign": course.foreign,
        "active": course.active,
        "version": course.version,
        "segments": [
            {"code": s.code, "name": s.name, "digital": rules.format_hours(hours(s.digital_tenths)),
             "physical": rules.format_hours(hours(s.physical_tenths))}
            for s in course.segments
        ],
    }


def save_course(session: Session, data: CourseInput, codes: Mapping[str, Any], *, by: str, reason: str = "",
                base_url: str = "") -> Course:
    """Create or update the entry with this course code, recording the change in its history."""
    problems = validate_course(data, codes)
    if problems:
        raise BadRequest("The registry entry cannot be saved: " + " ".join(problems), details={"problems": problems})
    activity_id = data.activity_id or course_activity_id(base_url, data.course_code)
    course = session.scalar(select(Course).where(Course.course_code == data.course_code))
    clash = session.scalar(select(Course).where(Course.activity_id == activity_id))
    if clash is not None and (course is None or clash.id != course.id):
        raise Conflict(f"Activity {activity_id} is already registered as course {clash.course_code}; one activity cannot carry two sets of terms.")
    before = course_snapshot(course) if course is not None else None
    if course is None:
        course = Course(course_code=data.course_code, version=0)
        session.add(course)
    elif not reason.strip() and by:
        raise BadRequest("Say why the registry entry changes (the reason is kept in its history).")
    course.activity_id = activity_id
    course.title, course.title_en, course.summary = data.title, data.title_en, data.summary
    course.primary_code = data.primary_code
    course.digital_tenths, course.physical_tenths = tenths(data.digital), tenths(data.physical)
    course.has_test, course.survey_required, course.cross_year_repeat = data.has_test, data.survey_required, data.cross_year_repeat
    course.pass_mark_tenths = None if data.pass_mark is None else tenths(data.pass_mark)
    course.class_start = dt.datetime.combine(data.class_start, dt.time(0, 0), TAIPEI)
    course.class_end = dt.datetime.combine(data.class_end, dt.time(23, 59), TAIPEI)
    course.city_code, course.term = data.city_code, data.term
    course.provider_effort_tenths = None if data.provider_effort is None else tenths(data.provider_effort)
    course.foreign, course.active = data.foreign, data.active
    course.segments = [
        CourseSegment(position=i, code=s.code, name=s.name, digital_tenths=tenths(s.digital), physical_tenths=tenths(s.physical))
        for i, s in enumerate(data.segments)
    ]
    session.flush()
    after = course_snapshot(course)
    if before is not None and {k: v for k, v in before.items() if k != "version"} == {k: v for k, v in after.items() if k != "version"}:
        return course  # nothing changed: no new version, no history row
    course.version += 1
    course.updated_at, course.updated_by = utcnow(), by
    after["version"] = course.version
    session.add(CourseHistory(course_id=course.id, version=course.version, by=by, reason=reason.strip() or ("created" if before is None else ""),
                              before=json.dumps(before, ensure_ascii=False) if before else "",
                              after=json.dumps(after, ensure_ascii=False)))
    session.flush()
    return course


def get_course(session: Session, course_code: str) -> Course:
    """Return the entry with this course code, or raise NotFound."""
    course = session.scalar(select(Course).where(Course.course_code == course_code))
    if course is None:
        raise NotFound(f"No registry entry has course code {course_code!r}.")
    return course


def course_terms(course: Course) -> rules.CourseTerms:
    """Return the rule inputs of a registry entry (R4-R8). Reading time is required for the digital hours."""
    return rules.CourseTerms(
        hours=hours(course.digital_tenths),
        has_test=course.has_test,
        pass_mark=None if course.pass_mark_tenths is None else hours(course.pass_mark_tenths),
        survey_required=course.survey_required,
        cross_year_repeat=course.cross_year_repeat,
        class_start=course.class_start.astimezone(TAIPEI).date(),
        class_end=course.class_end.astimezone(TAIPEI).date(),
    )


def course_segments(course: Course) -> tuple[Segment, ...]:
    """Return a registry entry's segments as rule values."""
    return tuple(Segment(s.code, hours(s.digital_tenths), hours(s.physical_tenths), s.name) for s in course.segments)


def history(session: Session, course: Course) -> list[dict[str, Any]]:
    """Return a registry entry's changes, newest first."""
    rows = session.scalars(select(CourseHistory).where(CourseHistory.course_id == course.id).order_by(CourseHistory.version.desc()))
    return [{"version": h.version, "at": h.at.isoformat(), "by": h.by, "reason": h.reason,
             "before": json.loads(h.before) if h.before else None, "after": json.loads(h.after)} for h in rows]



def sync_from_catalog(
    session: Session,
    codes: Mapping[str, Any],
    *,
    course_code: str,
    title_zh: str,
    title_en: str,
    summary: str,
    digital_tenths: int,
    physical_tenths: int,
    segments: Sequence[tuple[str, int]],
    has_test: bool,
    pass_mark: int | None,
    survey_required: bool,
    cross_year_repeat: bool,
    class_start: dt.date | None,
    class_end: dt.date | None,
    effort_tenths: int | None,
    active: bool,
    base_url: str,
    by: str = "catalog",
) -> Course:
    """Create or update the entry of a catalog course (the catalog calls this on publish, edit and retire).

    The catalog lists every hour under a code (`segments`, tenths, summing to the hours); the first code
    becomes the main code keeping the remainder (R10), the others become segments, taking digital hours
    first. Without a class period the calendar year of today (Taipei) is used; staff can change it.

    What the catalog does not carry stays as certification staff last set it: the class period when the
    catalog gives none, the city code, the term, whether the course is foreign, and segment names.
    """
    if not segments:
        raise BadRequest(f"Catalog course {course_code} has no category code; give it at least one (code:hours).")
    today = dt.datetime.now(TAIPEI).date()
    current = session.scalar(select(Course).where(Course.course_code == course_code))
    kept_names = {segment.code: segment.name for segment in current.segments} if current is not None else {}
    digital_left = digital_tenths
    extra = []
    for code, seg_tenths in segments[1:]:
        from_digital = min(seg_tenths, max(digital_left, 0))
        digital_left -= from_digital
        extra.append(Segment(code, hours(from_digital), hours(seg_tenths - from_digital), kept_names.get(code, "")))
    if class_start is None and class_end is None and current is not None:
        class_start, class_end = current.class_start.astimezone(TAIPEI).date(), current.class_end.astimezone(TAIPEI).date()
    data = CourseInput(
        course_code=course_code, title=title_zh or title_en, title_en=title_en, summary=summary[:500],
        primary_code=segments[0][0], digital=hours(digital_tenths), physical=hours(physical_tenths),
        class_start=class_start or dt.date(today.year, 1, 1), class_end=class_end or dt.date(today.year, 12, 31),
        has_test=has_test, pass_mark=None if pass_mark is None or not has_test else Decimal(pass_mark),
        survey_required=survey_required, cross_year_repeat=cross_year_repeat,
        provider_effort=None if effort_tenths is None else hours(effort_tenths), active=active, segments=extra,
    )
    if current is not None:
        data.city_code, data.term, data.foreign = current.city_code, current.term, current.foreign
    return save_course(session, data, codes, by=by, reason="synchronised from the catalog", base_url=base_url)
