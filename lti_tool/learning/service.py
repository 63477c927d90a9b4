"""Run a learner's path through a course: enrol on launch, count heartbeats, grade quizzes, take surveys.

Each function changes the enrollment and, in the same transaction (the caller's session), queues
the xAPI statements and AGS scores that record the change (`delivery`), so progress and its
record are stored together or not at all. Completion follows R4 (`rules.completion`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass, field
from typing import Any

import orjson
from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lrs.app import get_settings
from lrs.db import utcnow
from lrs.errors import BadRequest, Conflict, Forbidden, NotFound
from lti_tool.learning import delivery
from lti_tool.learning import statements as xapi
from lti_tool.learning.models import (
    LearningEnrollment,
    LearningQuestion,
    LearningQuizAttempt,
    LearningSurveyResponse,
    LearningTab,
)
from lti_tool.learning.rules import (
    BeatOutcome,
    CompletionStatus,
    HeartbeatPolicy,
    account_heartbeat,
    claim_timer,
    completion,
    score_percent,
    survey_open,
)

# The custom parameters of a deep-linked resource link: the course code and the tool's signature of it.
COURSE_PARAM = "catalog_course"
COURSE_SIG_PARAM = "catalog_course_sig"
MILESTONES = (25, 50, 75, 100)
# Courses studied on the provider's own site: reading time comes from accepted evidence, not heartbeats.
EXTERNAL_FORMATS = frozenset({"mooc", "blended"})
SURVEY_ITEMS = ("useful", "quality", "recommend")
SURVEY_SCALE = range(1, 6)
MAX_COMMENT = 2000


@dataclass(frozen=True)
class LearnerLaunch:
    """The parts of a verified LTI launch the learning player needs (LTI Core 1.3 §5.3-§5.4)."""

    issuer: str
    sub: str
    client_id: str = ""
    deployment_id: str = ""
    role: str = "learner"
    name: str = ""
    email: str = ""
    locale: str = ""
    platform_name: str = ""
    context_id: str = ""
    context_title: str = ""
    resource_link_id: str = ""
    resource_link_title: str = ""
    custom: dict[str, str] = field(default_factory=dict)
    # AGS 2.0 §3.1 endpoint claim: scope, lineitems, lineitem.
    ags_scopes: tuple[str, ...] = ()
    ags_lineitems: str = ""
    ags_lineitem: str = ""
    # NRPS 2.0 §3.6.1 claim: context_memberships_url.
    nrps_url: str = ""


@dataclass(frozen=True)
class CourseSnapshot:
    """What the player takes from a catalog course: its titles, format, address and terms."""

    code: str
    title_en: str
    title_zh: str
    format: str
    url: str
    embed_url: str
    hours_tenths: int
    has_test: bool
    pass_mark: int | None
    survey_required: bool
    category_codes: tuple[str, ...]


CLOCK_KEY = "learning.clock"


def clock() -> dt.datetime:
    """Return the server's current time (an app may carry its own clock, as tests and benchmarks do)."""
    source = current_app.extensions.get(CLOCK_KEY, utcnow)
    value: dt.datetime = source()
    return value


def course_signature(code: str) -> str:
    """Return the tool's signature of a course code, put beside it in deep-linked custom parameters."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"catalog_course:{code}".encode(), hashlib.sha256).hexdigest()[:32]


def requested_course_code(launch: LearnerLaunch) -> str:
    """Return the course a launch names, refusing a code whose signature was altered."""
    code = launch.custom.get(COURSE_PARAM, "").strip().upper()
    if not code:
        raise BadRequest(
            "This LMS link does not name a catalog course. Ask the course staff to add the course again "
            "with the tool's course picker (deep linking)."
        )
    signature = launch.custom.get(COURSE_SIG_PARAM)
    if signature is not None and not hmac.compare_digest(signature, course_signature(code)):
        raise Forbidden(
            "This LMS link's course parameters were changed after it was created. Ask the course staff to "
            "add the course again with the tool's course picker."
        )
    return code


def load_course(session: Session, code: str) -> CourseSnapshot:
    """Read a published course from the catalog, or explain why it cannot be studied."""
    from lti_tool.catalog import service as catalog

    try:
        course = catalog.get_published_course(session, code)
    except NotFound:
        raise NotFound(
            "This course is not (or no longer) offered in the international learning zone. "
            "Ask the course staff to choose another course."
        ) from None
    return CourseSnapshot(
        code=course.code,
        title_en=course.title_en,
        title_zh=course.title_zh,
        format=course.format,
        url=course.url,
        embed_url=course.embed_url,
        hours_tenths=course.hours_tenths,
        has_test=course.has_test,
        pass_mark=course.pass_mark,
        survey_required=course.survey_required,
        category_codes=tuple(segment.category_code for segment in course.segments),
    )


def statement_context(enrollment: LearningEnrollment) -> xapi.StatementContext:
    """Build the statement context of an enrollment."""
    return xapi.StatementContext(
        base_url=get_settings(current_app).public_base_url,
        issuer=enrollment.issuer,
        sub=enrollment.sub,
        registration=uuid.UUID(enrollment.registration),
        course_code=enrollment.course_code,
        course_title_en=enrollment.course_title_en,
        course_title_zh=enrollment.course_title_zh,
        hours_tenths=enrollment.hours_tenths,
        platform_name=enrollment.platform_name,
        learner_name=enrollment.learner_name,
        language=_language_tag(enrollment.locale),
        lms_context_id=enrollment.context_id,
        lms_context_title=enrollment.context_title,
        resource_link_id=enrollment.resource_link_id,
        category_codes=enrollment.category_code_list,
    )


def _language_tag(locale: str) -> str:
    # xAPI wants an RFC 5646 tag; LTI locales are BCP 47 too but some platforms send zh_TW.
    tag = locale.replace("_", "-").strip()
    return tag if tag and all(part.isalnum() and len(part) <= 8 for part in tag.split("-")) else ""


def heartbeat_policy() -> HeartbeatPolicy:
    """Return the heartbeat policy from configuration."""
    config = current_app.config
    return HeartbeatPolicy(
        interval_seconds=int(config.get("LEARNING_HEARTBEAT_SECONDS", 30)),
        grace_seconds=int(config.get("LEARNING_HEARTBEAT_GRACE_SECONDS", 15)),
        min_interval_seconds=int(config.get("LEARNING_HEARTBEAT_MIN_SECONDS", 10)),
    )


# ---- enrolment and launch -----------------------------------------------------------------------


def enroll(session: Session, launch: LearnerLaunch, course: CourseSnapshot, now: dt.datetime | None = None) -> LearningEnrollment:
    """Find or create the learner's enrollment for this resource link and course, and record the launch."""
    now = now or clock()
    existing = select(LearningEnrollment).where(
        LearningEnrollment.issuer == launch.issuer,
        LearningEnrollment.deployment_id == launch.deployment_id,
        LearningEnrollment.sub == launch.sub,
        LearningEnrollment.resource_link_id == launch.resource_link_id,
        LearningEnrollment.course_code == course.code,
    ).with_for_update()
    enrollment = session.scalar(existing)
    if enrollment is None:
        enrollment = _create_enrollment(session, launch, course, now) or session.scalar(existing)
        if enrollment is None:
            raise Conflict("Your enrollment is being created by another window; launch the course again.")
    _record_launch(session, enrollment, launch, now)
    return enrollment


def _create_enrollment(session: Session, launch: LearnerLaunch, course: CourseSnapshot,
                       now: dt.datetime) -> LearningEnrollment | None:
    """Insert a new enrollment, or return None when a concurrent launch inserted it first."""
    # The course's terms are fixed when the learner enrols, so a later catalog edit never moves the goal.
    enrollment = LearningEnrollment(
        issuer=launch.issuer, deployment_id=launch.deployment_id, sub=launch.sub,
        resource_link_id=launch.resource_link_id, course_code=course.code,
        course_title_en=course.title_en, course_title_zh=course.title_zh, course_format=course.format,
        category_codes=" ".join(course.category_codes), hours_tenths=course.hours_tenths,
        has_test=course.has_test, pass_mark=course.pass_mark, survey_required=course.survey_required,
        created_at=now, launch_count=0, read_seconds=0, last_seq=0, progress_milestone=0, quiz_attempts=0,
        credited_tenths=0,
    )
    savepoint = session.begin_nested()
    try:
        session.add(enrollment)
        session.flush()
    except IntegrityError:
        # Two launches of the same learner raced (two windows, a double click): the other one won.
        savepoint.rollback()
        return None
    savepoint.commit()
    return enrollment


def _record_launch(session: Session, enrollment: LearningEnrollment, launch: LearnerLaunch, now: dt.datetime) -> None:
    """Keep the latest launch's details and record the launch (statement and catalog count)."""
    enrollment.client_id = launch.client_id
    enrollment.platform_name = launch.platform_name[:200]
    enrollment.learner_name = launch.name[:300]
    enrollment.learner_email = launch.email[:300]
    enrollment.locale = launch.locale[:35]
    enrollment.context_id = launch.context_id[:255]
    enrollment.context_title = launch.context_title[:500]
    enrollment.resource_link_title = launch.resource_link_title[:500]
    if launch.ags_lineitems or launch.ags_lineitem:
        enrollment.ags_lineitems_url = launch.ags_lineitems[:2000]
        enrollment.ags_lineitem_url = launch.ags_lineitem[:2000]
        enrollment.ags_scopes = " ".join(launch.ags_scopes)[:1000]
    if launch.nrps_url:
        enrollment.nrps_url = launch.nrps_url[:2000]
    enrollment.launch_count += 1
    enrollment.last_launch_at = now
    session.flush()
    delivery.enqueue_statements(session, [xapi.launched(statement_context(enrollment), enrollment.launch_count, now)])
    from lti_tool.catalog import service as catalog

    catalog.record_learning_activity(session, enrollment.course_code, launches=1)


def get_enrollment(session: Session, enrollment_id: int, *, lock: bool = False) -> LearningEnrollment:
    """Return an enrollment by id, or raise NotFound; `lock` holds its row until the transaction ends.

    Locking writes to the row first (a no-op UPDATE): PostgreSQL then holds the row lock, and SQLite
    takes its write lock before reading, so concurrent heartbeats or answers of one learner apply one
    after the other on both backends, each to the state the previous one left.
    """
    query = select(LearningEnrollment).where(LearningEnrollment.id == enrollment_id)
    if lock:
        session.execute(update(LearningEnrollment).where(LearningEnrollment.id == enrollment_id)
                        .values(last_seq=LearningEnrollment.last_seq).execution_options(synchronize_session=False))
        query = query.with_for_update().execution_options(populate_existing=True)
    enrollment = session.scalar(query)
    if enrollment is None:
        raise NotFound("This enrollment no longer exists; launch the course again from your LMS.")
    return enrollment


def open_tab(session: Session, enrollment: LearningEnrollment, now: dt.datetime | None = None) -> LearningTab:
    """Open a player page: it takes the enrollment's one timer, and older pages stop counting."""
    now = now or clock()
    tab = LearningTab(id=secrets.token_urlsafe(18), enrollment_id=enrollment.id, opened_at=now, counted_seconds=0)
    session.add(tab)
    enrollment.timer = claim_timer(enrollment.timer, tab.id, now)
    session.flush()
    delivery.enqueue_statements(session, [xapi.initialized(statement_context(enrollment), tab.id, now)])
    return tab


@dataclass(frozen=True)
class HeartbeatAnswer:
    """What a heartbeat did and where the learner stands now."""

    outcome: BeatOutcome
    credited_seconds: int
    status: CompletionStatus
    read_seconds: int


def heartbeat(session: Session, enrollment_id: int, tab_id: str, seq: int, visible: bool,
              now: dt.datetime | None = None) -> HeartbeatAnswer:
    """Count one authenticated heartbeat at server time, under a row lock so concurrent beats serialise."""
    if not 1 <= seq <= 10_000_000:
        raise BadRequest("A heartbeat's sequence number must be a whole number from 1 to 10000000.")
    now = now or clock()
    enrollment = get_enrollment(session, enrollment_id, lock=True)
    tab = session.get(LearningTab, tab_id)
    if tab is None or tab.enrollment_id != enrollment.id:
        raise Forbidden("This heartbeat names a page that was never opened; reload the course page.")
    if enrollment.course_format in EXTERNAL_FORMATS:
        # Keeping our page open is not studying a MOOC: only accepted evidence stands for its reading time.
        raise Conflict("This course is studied on the provider's site; its reading time comes from your evidence of completion.")
    result = account_heartbeat(enrollment.timer, tab_id, seq, visible, now, heartbeat_policy())
    enrollment.timer = result.state
    tab.counted_seconds += result.credited_seconds
    advance(session, enrollment, now)
    return HeartbeatAnswer(result.outcome, result.credited_seconds, completion(enrollment.terms, enrollment.progress),
                           enrollment.read_seconds)


def close_tab(session: Session, enrollment_id: int, tab_id: str, now: dt.datetime | None = None) -> None:
    """Close a player page (its `pagehide` beacon): stop its clock and record `terminated` once."""
    now = now or clock()
    enrollment = get_enrollment(session, enrollment_id, lock=True)
    tab = session.get(LearningTab, tab_id)
    if tab is None or tab.enrollment_id != enrollment.id:
        raise Forbidden("This page was never opened; reload the course page.")
    if tab.closed_at is not None:
        return
    tab.closed_at = now
    if enrollment.active_tab == tab_id:
        enrollment.last_beat_at = None
    delivery.enqueue_statements(
        session, [xapi.terminated(statement_context(enrollment), tab_id, tab.counted_seconds, now)]
    )


# ---- progress and completion --------------------------------------------------------------------


def advance(session: Session, enrollment: LearningEnrollment, now: dt.datetime) -> CompletionStatus:
    """Record reading milestones and, once every condition of R4 holds, the completion (once)."""
    status = completion(enrollment.terms, enrollment.progress)
    ctx = statement_context(enrollment)
    required = status.required_seconds
    percent = 100 if required == 0 else min(100, enrollment.read_seconds * 100 // required)
    reached = [m for m in MILESTONES if enrollment.progress_milestone < m <= percent]
    queued: list[dict[str, Any]] = [xapi.progressed(ctx, m, enrollment.read_seconds, now) for m in reached]
    if reached:
        enrollment.progress_milestone = reached[-1]
    just_completed = status.complete and enrollment.completed_at is None
    if just_completed:
        enrollment.completed_at = now
        enrollment.credited_tenths = status.credited_tenths
        survey = enrollment.survey_submitted_at is not None if enrollment.survey_required else None
        queued.append(xapi.completed(ctx, enrollment.read_seconds, enrollment.best_score, status.credited_tenths, now,
                                     survey_submitted=survey))
    if queued:
        delivery.enqueue_statements(session, queued)
    if just_completed:
        from lti_tool.catalog import service as catalog

        catalog.record_learning_activity(session, enrollment.course_code, completions=1)
    if just_completed or reached:
        # The gradebook hears of progress at each milestone and of the completion (AGS 2.0 §3.4.6-§3.4.7).
        delivery.enqueue_score(session, enrollment, now)
    return status


def questions(session: Session, course_code: str) -> list[LearningQuestion]:
    """Return a course's question bank in order."""
    return list(session.scalars(
        select(LearningQuestion).where(LearningQuestion.course_code == course_code)
        .order_by(LearningQuestion.position, LearningQuestion.id)
    ))


def grade_quiz(session: Session, enrollment: LearningEnrollment, answers: dict[str, str],
               now: dt.datetime | None = None) -> LearningQuizAttempt:
    """Grade one quiz attempt, keep the best score and record passed or failed (R4, R5)."""
    now = now or clock()
    enrollment = get_enrollment(session, enrollment.id, lock=True)
    if enrollment.completed_at is not None:
        raise Conflict("You have already completed this course; quiz answers are no longer taken.")
    pass_mark = enrollment.terms.effective_pass_mark
    if pass_mark is None:
        raise Conflict("This course has no quiz.")
    bank = questions(session, enrollment.course_code)
    if not bank:
        raise Conflict("This course's quiz has no questions yet; tell the course staff.")
    correct = 0
    given: dict[str, str] = {}
    for question in bank:
        answer = str(answers.get(question.key, ""))[:40]
        given[question.key] = answer
        correct += answer == question.answer
    score = score_percent(correct, len(bank))
    enrollment.quiz_attempts += 1
    attempt = LearningQuizAttempt(enrollment_id=enrollment.id, number=enrollment.quiz_attempts, score=score,
                                  answers_json=orjson.dumps(given).decode(), submitted_at=now)
    session.add(attempt)
    if enrollment.best_score is None or score > enrollment.best_score:
        enrollment.best_score = score
    if score >= pass_mark and enrollment.passed_at is None:
        enrollment.passed_at = now
    ctx = statement_context(enrollment)
    records = [xapi.answered(ctx, attempt.number, q.key, given[q.key], given[q.key] == q.answer, now) for q in bank]
    records.append(xapi.passed_or_failed(ctx, attempt.number, score, pass_mark, now))
    delivery.enqueue_statements(session, records)
    session.flush()
    advance(session, enrollment, now)
    return attempt


def submit_survey(session: Session, enrollment: LearningEnrollment, answers: dict[str, str], comment: str,
                  now: dt.datetime | None = None) -> LearningSurveyResponse:
    """Store the learner's survey; it is open only once the test is passed (R4), and taken once."""
    now = now or clock()
    enrollment = get_enrollment(session, enrollment.id, lock=True)
    if not survey_open(enrollment.terms, enrollment.best_score):
        raise Conflict("Pass the quiz first: the survey counts only after the quiz is passed.")
    if enrollment.survey_submitted_at is not None:
        raise Conflict("You have already submitted the survey for this course.")
    values: dict[str, int] = {}
    for item in SURVEY_ITEMS:
        raw = str(answers.get(item, "")).strip()
        if not raw.isdigit() or int(raw) not in SURVEY_SCALE:
            raise BadRequest("Answer every survey question with a rating from 1 to 5.")
        values[item] = int(raw)
    response = LearningSurveyResponse(enrollment_id=enrollment.id, answers_json=orjson.dumps(values).decode(),
                                      comment=comment.strip()[:MAX_COMMENT], submitted_at=now)
    session.add(response)
    enrollment.survey_submitted_at = now
    session.flush()
    advance(session, enrollment, now)
    return response
