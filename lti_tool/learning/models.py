"""Store enrollments and progress, player tabs, quizzes, surveys, evidence, AGS line items and score sends."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import orjson
from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lrs.db import Base, UTCDateTime, utcnow
from lti_tool.learning.rules import CourseTerms, LearnerProgress, TimerState


def new_registration() -> str:
    """Return a fresh registration UUID for an enrollment (xAPI 1.0.3 Data 2.4.6 `registration`)."""
    return str(uuid.uuid4())


class LearningEnrollment(Base):
    """One learner's study of one catalog course through one LMS resource link, with its progress."""

    __tablename__ = "learning_enrollment"
    __table_args__ = (
        UniqueConstraint("issuer", "deployment_id", "sub", "resource_link_id", "course_code",
                         name="uq_learning_enrollment_who_where"),
        Index("ix_learning_enrollment_context", "issuer", "context_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    registration: Mapped[str] = mapped_column(String(36), unique=True, default=new_registration)
    # Who and where: the platform (issuer, client, deployment), the learner's LTI `sub`, the LMS course.
    issuer: Mapped[str] = mapped_column(String(500))
    client_id: Mapped[str] = mapped_column(String(200), default="")
    deployment_id: Mapped[str] = mapped_column(String(200), default="")
    sub: Mapped[str] = mapped_column(String(255))
    platform_name: Mapped[str] = mapped_column(String(200), default="")
    learner_name: Mapped[str] = mapped_column(String(300), default="")
    learner_email: Mapped[str] = mapped_column(String(300), default="")
    locale: Mapped[str] = mapped_column(String(35), default="")
    context_id: Mapped[str] = mapped_column(String(255), default="")
    context_title: Mapped[str] = mapped_column(String(500), default="")
    resource_link_id: Mapped[str] = mapped_column(String(255), default="")
    resource_link_title: Mapped[str] = mapped_column(String(500), default="")
    # LTI AGS 2.0 endpoint claim and NRPS 2.0 claim of the latest launch.
    ags_lineitems_url: Mapped[str] = mapped_column(String(2000), default="")
    ags_lineitem_url: Mapped[str] = mapped_column(String(2000), default="")
    ags_scopes: Mapped[str] = mapped_column(String(1000), default="")
    nrps_url: Mapped[str] = mapped_column(String(2000), default="")
    # The course and the terms it had when the learner enrolled (R4, R5, R6).
    course_code: Mapped[str] = mapped_column(String(40), index=True)
    course_title_en: Mapped[str] = mapped_column(String(300), default="")
    course_title_zh: Mapped[str] = mapped_column(String(300), default="")
    course_format: Mapped[str] = mapped_column(String(20), default="")
    category_codes: Mapped[str] = mapped_column(String(200), default="")
    hours_tenths: Mapped[int] = mapped_column(Integer, default=0)
    has_test: Mapped[bool] = mapped_column(Boolean, default=True)
    pass_mark: Mapped[int | None] = mapped_column(Integer, default=None)
    survey_required: Mapped[bool] = mapped_column(Boolean, default=True)
    # Progress, measured on the server.
    launch_count: Mapped[int] = mapped_column(Integer, default=0)
    read_seconds: Mapped[int] = mapped_column(Integer, default=0)
    active_tab: Mapped[str | None] = mapped_column(String(64), default=None)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    last_beat_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    progress_milestone: Mapped[int] = mapped_column(Integer, default=0)
    quiz_attempts: Mapped[int] = mapped_column(Integer, default=0)
    best_score: Mapped[float | None] = mapped_column(Float, default=None)
    passed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    survey_submitted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    evidence_accepted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    credited_tenths: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_launch_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)

    @property
    def terms(self) -> CourseTerms:
        """Return the course's terms as the rules see them."""
        return CourseTerms(self.hours_tenths, self.has_test, self.pass_mark, self.survey_required)

    @property
    def progress(self) -> LearnerProgress:
        """Return the learner's progress as the rules see them."""
        return LearnerProgress(self.read_seconds, self.best_score, self.survey_submitted_at is not None)

    @property
    def timer(self) -> TimerState:
        """Return the heartbeat timer's state."""
        return TimerState(self.active_tab, self.last_seq, self.last_beat_at, self.read_seconds)

    @timer.setter
    def timer(self, state: TimerState) -> None:
        self.active_tab = state.active_tab
        self.last_seq = state.last_seq
        self.last_beat_at = state.last_beat_at
        self.read_seconds = state.read_seconds

    @property
    def category_code_list(self) -> tuple[str, ...]:
        """Return the course's category codes."""
        return tuple(code for code in self.category_codes.split() if code)


class LearningTab(Base):
    """One opened player page of an enrollment, with the reading time it counted."""

    __tablename__ = "learning_tab"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    enrollment_id: Mapped[int] = mapped_column(ForeignKey("learning_enrollment.id", ondelete="CASCADE"), index=True)
    opened_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    counted_seconds: Mapped[int] = mapped_column(Integer, default=0)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)


class LearningQuestion(Base):
    """One multiple-choice question of a course's question bank, in both languages."""

    __tablename__ = "learning_question"
    __table_args__ = (UniqueConstraint("course_code", "key", name="uq_learning_question_course_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_code: Mapped[str] = mapped_column(String(40), index=True)
    key: Mapped[str] = mapped_column(String(40))
    position: Mapped[int] = mapped_column(Integer, default=0)
    prompt_en: Mapped[str] = mapped_column(Text)
    prompt_zh: Mapped[str] = mapped_column(Text)
    # [{"key": "a", "en": "...", "zh": "..."}, ...]
    choices_json: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(String(40))

    @property
    def choices(self) -> list[dict[str, str]]:
        """Return the choices."""
        value: Any = orjson.loads(self.choices_json)
        return value if isinstance(value, list) else []


class LearningQuizAttempt(Base):
    """One graded quiz attempt: answers given and the score."""

    __tablename__ = "learning_quiz_attempt"
    __table_args__ = (UniqueConstraint("enrollment_id", "number", name="uq_learning_quiz_attempt_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enrollment_id: Mapped[int] = mapped_column(ForeignKey("learning_enrollment.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    score: Mapped[float] = mapped_column(Float)
    answers_json: Mapped[str] = mapped_column(Text, default="{}")
    submitted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class LearningSurveyResponse(Base):
    """A learner's satisfaction survey for a course (one per enrollment)."""

    __tablename__ = "learning_survey_response"

    id: Mapped[int] = mapped_column(primary_key=True)
    enrollment_id: Mapped[int] = mapped_column(
        ForeignKey("learning_enrollment.id", ondelete="CASCADE"), unique=True
    )
    answers_json: Mapped[str] = mapped_column(Text, default="{}")
    comment: Mapped[str] = mapped_column(Text, default="")
    submitted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class LearningEvidence(Base):
    """Evidence of an external MOOC's completion (a certificate URL or file), reviewed by staff."""

    __tablename__ = "learning_evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    enrollment_id: Mapped[int] = mapped_column(ForeignKey("learning_enrollment.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(2000), default="")
    filename: Mapped[str] = mapped_column(String(255), default="")
    content_type: Mapped[str] = mapped_column(String(100), default="")
    size: Mapped[int] = mapped_column(Integer, default=0)
    data: Mapped[bytes | None] = mapped_column(LargeBinary, default=None, deferred=True)
    # pending -> accepted | rejected
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    submitted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    reviewed_by: Mapped[str] = mapped_column(String(80), default="")
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    review_note: Mapped[str] = mapped_column(String(1000), default="")

    enrollment: Mapped[LearningEnrollment] = relationship(lazy="joined")


class LearningLineItem(Base):
    """The AGS line item the tool uses for one resource link of a platform (AGS 2.0 section 3.2)."""

    __tablename__ = "learning_line_item"
    __table_args__ = (
        UniqueConstraint("issuer", "lineitems_url", "resource_link_id", name="uq_learning_line_item_link"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    issuer: Mapped[str] = mapped_column(String(500))
    lineitems_url: Mapped[str] = mapped_column(String(2000))
    resource_link_id: Mapped[str] = mapped_column(String(255))
    lineitem_url: Mapped[str] = mapped_column(String(2000))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class LearningScoreSend(Base):
    """One score the tool must post to a platform's line item; delivered and retried through the outbox."""

    __tablename__ = "learning_score_send"

    id: Mapped[int] = mapped_column(primary_key=True)
    enrollment_id: Mapped[int] = mapped_column(ForeignKey("learning_enrollment.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    activity_progress: Mapped[str] = mapped_column(String(20))
    grading_progress: Mapped[str] = mapped_column(String(20))
    score_given: Mapped[float | None] = mapped_column(Float, default=None)
    # pending -> sent | failed (failed still retried until the outbox gives up)
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(String(1000), default="")
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)

    enrollment: Mapped[LearningEnrollment] = relationship(lazy="joined")
