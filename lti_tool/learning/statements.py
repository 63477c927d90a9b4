"""Build the xAPI statements that record a learner's path through a course (feature A9).

Pure functions only. Every statement has a deterministic id (uuid5 of the enrollment's
registration, the verb and what makes the event unique), so a redelivery of the same event is the
same statement and the LRS stores it once (xAPI 1.0.3 Data 2.4.1: an LRS accepts an identical
statement again without change). The actor is an account on the launching platform (xAPI 1.0.3
Data 2.4.2.4: `homePage` is the platform issuer, `name` the LTI `sub`), and `context.registration`
is the enrollment's UUID (Data 2.4.6).

Vocabulary: verbs are ADL's (http://adlnet.gov/expapi/verbs/...); activity types are ADL's
`course` and `cmi.interaction`; the tool's own IRIs (catalog course activity, extensions) live
under the tool's public base URL:

- `{base}/catalog/courses/{code}`: the catalog course (statement object);
- `{base}/catalog/courses/{code}/quiz/{question}`: a quiz question (object of `answered`);
- `{base}/xapi/extensions/course-code` (string), `.../certified-hours` (number, hours),
  `.../category-codes` (list of strings), `.../lti-resource-link` (string), `.../lti-context`
  (string), `.../credited-hours` (number) and `.../survey-submitted` (boolean, when the course asks
  for a survey), both on the result of `completed`.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from lti_tool.learning.rules import iso_duration

# A fixed namespace for statement ids: changing it would duplicate every redelivered statement.
STATEMENT_NAMESPACE = uuid.UUID("6f1d6c8e-1f0b-5a43-9a36-3c1c7b9c2d41")
ADL_VERBS = "http://adlnet.gov/expapi/verbs/"
VERB_DISPLAY: dict[str, dict[str, str]] = {
    "launched": {"en-US": "launched", "zh-TW": "啟動"},
    "initialized": {"en-US": "initialized", "zh-TW": "開始"},
    "progressed": {"en-US": "progressed", "zh-TW": "進展"},
    "completed": {"en-US": "completed", "zh-TW": "完成"},
    "passed": {"en-US": "passed", "zh-TW": "通過"},
    "failed": {"en-US": "failed", "zh-TW": "未通過"},
    "terminated": {"en-US": "terminated", "zh-TW": "結束"},
    "answered": {"en-US": "answered", "zh-TW": "作答"},
}
COURSE_TYPE = "http://adlnet.gov/expapi/activities/course"
INTERACTION_TYPE = "http://adlnet.gov/expapi/activities/cmi.interaction"
LMS_COURSE_TYPE = "http://adlnet.gov/expapi/activities/course"
XAPI_VERSION = "1.0.0"


@dataclass(frozen=True)
class StatementContext:
    """Everything a statement says about who, where and which course, taken from the enrollment."""

    base_url: str
    issuer: str
    sub: str
    registration: uuid.UUID
    course_code: str
    course_title_en: str
    course_title_zh: str
    hours_tenths: int
    platform_name: str = ""
    learner_name: str = ""
    language: str = ""
    lms_context_id: str = ""
    lms_context_title: str = ""
    resource_link_id: str = ""
    category_codes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def course_iri(self) -> str:
        """Return the catalog course's activity id."""
        return f"{self.base_url}/catalog/courses/{quote(self.course_code, safe='')}"

    @property
    def lms_course_iri(self) -> str | None:
        """Return the LMS course's activity id (the platform issuer's context), when known."""
        if not self.lms_context_id:
            return None
        return f"{self.issuer.rstrip('/')}/lti/contexts/{quote(self.lms_context_id, safe='')}"

    def extension(self, name: str) -> str:
        """Return the IRI of one of the tool's extensions."""
        return f"{self.base_url}/xapi/extensions/{name}"


def hours_value(tenths: int) -> float | int:
    """Return hours as a JSON number: whole hours as integers, else one decimal place."""
    hours = Decimal(tenths) / 10
    return int(hours) if hours == hours.to_integral_value() else float(hours)


def statement_id(registration: uuid.UUID, verb: str, discriminator: str) -> str:
    """Return the deterministic id of one event of an enrollment."""
    return str(uuid.uuid5(STATEMENT_NAMESPACE, f"{registration}|{verb}|{discriminator}"))


def actor(ctx: StatementContext) -> dict[str, Any]:
    """Return the learner as an Agent identified by an account on the platform (xAPI 1.0.3 Data 2.4.2.4)."""
    agent: dict[str, Any] = {"objectType": "Agent", "account": {"homePage": ctx.issuer, "name": ctx.sub}}
    if ctx.learner_name:
        agent["name"] = ctx.learner_name
    return agent


def course_activity(ctx: StatementContext) -> dict[str, Any]:
    """Return the catalog course as an Activity with a bilingual definition (xAPI 1.0.3 Data 2.4.4.1)."""
    name = {"en-US": ctx.course_title_en or ctx.course_code}
    if ctx.course_title_zh:
        name["zh-TW"] = ctx.course_title_zh
    return {"objectType": "Activity", "id": ctx.course_iri, "definition": {"name": name, "type": COURSE_TYPE}}


def context(ctx: StatementContext, parent: bool = False) -> dict[str, Any]:
    """Return the statement context: registration, LMS course, platform, language, course extensions.

    The LMS course is a `grouping` activity (xAPI 1.0.3 Data 2.4.6.2); for statements whose object
    is a part of the course (a quiz question) the catalog course is the `parent`.
    """
    activities: dict[str, list[dict[str, Any]]] = {}
    if parent:
        activities["parent"] = [course_activity(ctx)]
    lms = ctx.lms_course_iri
    if lms:
        lms_activity: dict[str, Any] = {"objectType": "Activity", "id": lms, "definition": {"type": LMS_COURSE_TYPE}}
        if ctx.lms_context_title:
            lms_activity["definition"]["name"] = {"und": ctx.lms_context_title}
        activities["grouping"] = [lms_activity]
    extensions: dict[str, Any] = {
        ctx.extension("course-code"): ctx.course_code,
        ctx.extension("certified-hours"): hours_value(ctx.hours_tenths),
    }
    if ctx.category_codes:
        extensions[ctx.extension("category-codes")] = list(ctx.category_codes)
    if ctx.resource_link_id:
        extensions[ctx.extension("lti-resource-link")] = ctx.resource_link_id
    if ctx.lms_context_id:
        extensions[ctx.extension("lti-context")] = ctx.lms_context_id
    body: dict[str, Any] = {"registration": str(ctx.registration), "extensions": extensions}
    if activities:
        body["contextActivities"] = activities
    if ctx.platform_name:
        body["platform"] = ctx.platform_name[:200]
    if ctx.language:
        body["language"] = ctx.language
    return body


def _timestamp(at: dt.datetime) -> str:
    if at.tzinfo is None:
        raise ValueError("statement timestamps must be timezone-aware")
    return at.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _statement(
    ctx: StatementContext,
    verb: str,
    discriminator: str,
    at: dt.datetime,
    result: dict[str, Any] | None = None,
    obj: dict[str, Any] | None = None,
) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "id": statement_id(ctx.registration, verb, discriminator),
        "actor": actor(ctx),
        "verb": {"id": ADL_VERBS + verb, "display": VERB_DISPLAY[verb]},
        "object": obj or course_activity(ctx),
        "context": context(ctx, parent=obj is not None),
        "timestamp": _timestamp(at),
    }
    if result is not None:
        statement["result"] = result
    return statement


def _score(score: float) -> dict[str, Any]:
    # xAPI 1.0.3 Data 2.4.5.1: scaled in [-1, 1]; raw between min and max.
    return {"scaled": round(score / 100.0, 4), "raw": score, "min": 0, "max": 100}


def launched(ctx: StatementContext, launch_number: int, at: dt.datetime) -> dict[str, Any]:
    """Record the learner's n-th launch of the course from the LMS."""
    return _statement(ctx, "launched", f"launch:{launch_number}", at)


def initialized(ctx: StatementContext, tab: str, at: dt.datetime) -> dict[str, Any]:
    """Record a player page opening (one per player tab)."""
    return _statement(ctx, "initialized", f"tab:{tab}", at)


def progressed(ctx: StatementContext, percent: int, read_seconds: int, at: dt.datetime) -> dict[str, Any]:
    """Record reading progress reaching a milestone percentage of the required time."""
    if not 0 < percent <= 100:
        raise ValueError("a progress milestone is a percentage from 1 to 100")
    result = {
        "duration": iso_duration(read_seconds),
        "extensions": {"https://w3id.org/xapi/cmi5/result/extensions/progress": percent},
    }
    return _statement(ctx, "progressed", f"reading:{percent}", at, result)


def passed_or_failed(
    ctx: StatementContext, attempt: int, score: float, pass_mark: int, at: dt.datetime
) -> dict[str, Any]:
    """Record a quiz attempt's outcome: `passed` at or above the pass mark, else `failed`."""
    success = score >= pass_mark
    verb = "passed" if success else "failed"
    return _statement(ctx, verb, f"attempt:{attempt}", at, {"score": _score(score), "success": success})


def answered(
    ctx: StatementContext, attempt: int, question_key: str, response: str, correct: bool, at: dt.datetime
) -> dict[str, Any]:
    """Record the answer to one quiz question (object: the question, parent: the course)."""
    question = {
        "objectType": "Activity",
        "id": f"{ctx.course_iri}/quiz/{quote(question_key, safe='')}",
        "definition": {"type": INTERACTION_TYPE, "interactionType": "choice"},
    }
    result = {"response": response, "success": correct}
    return _statement(ctx, "answered", f"attempt:{attempt}:{question_key}", at, result, obj=question)


def completed(
    ctx: StatementContext, read_seconds: int, best_score: float | None, credited_tenths: int, at: dt.datetime,
    survey_submitted: bool | None = None,
) -> dict[str, Any]:
    """Record completion under R4: reading time, test passed and survey submitted; once per enrollment.

    `result.duration` is the enrollment's cumulative server-measured reading time, which the hour
    certification reads for R4's reading condition (lrs/certification/evidence.py).
    """
    extensions: dict[str, Any] = {ctx.extension("credited-hours"): hours_value(credited_tenths)}
    if survey_submitted is not None:
        extensions[ctx.extension("survey-submitted")] = survey_submitted
    result: dict[str, Any] = {
        "completion": True,
        "success": True,
        "duration": iso_duration(read_seconds),
        "extensions": extensions,
    }
    if best_score is not None:
        result["score"] = _score(best_score)
    return _statement(ctx, "completed", "course", at, result)


def terminated(ctx: StatementContext, tab: str, session_seconds: int, at: dt.datetime) -> dict[str, Any]:
    """Record a player page closing, with the reading time it counted."""
    return _statement(ctx, "terminated", f"tab:{tab}", at, {"duration": iso_duration(session_seconds)})
