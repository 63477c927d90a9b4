"""Give learning tests catalog courses, question banks and enrollments on a real database."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import orjson
import pytest
from flask import Flask
from sqlalchemy import select

from lrs.db import get_db, utcnow
from lrs.outbox.models import OutboxMessage
from lti_tool.catalog.domain import search_text
from lti_tool.catalog.models import CatalogCourse, CatalogProvider, CatalogSegment
from lti_tool.learning import delivery, service
from lti_tool.learning.models import LearningEnrollment, LearningQuestion

ISSUER = "https://lms.example.gov.tw"
AGS_SCOPES = (
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
)


def add_course(app: Flask, code: str, *, hours_tenths: int = 10, fmt: str = "talk", has_test: bool = True,
               pass_mark: int | None = 60, survey_required: bool = True, status: str = "published",
               questions: int = 2) -> None:
    """Store a catalog course (and its provider, segment and question bank)."""
    with get_db(app).session() as session:
        provider = session.query(CatalogProvider).filter_by(key="world-bank").one_or_none()
        if provider is None:
            provider = CatalogProvider(key="world-bank", name_en="World Bank", name_zh="世界銀行", country="US",
                                       kind="international_organisation", website="https://worldbank.org")
            session.add(provider)
            session.flush()
        course = CatalogCourse(
            code=code, status=status, title_en=f"Course {code}", title_zh=f"課程 {code}", provider_id=provider.id,
            format=fmt, url=f"https://courses.example.org/{code}", embed_url=f"https://www.youtube-nocookie.com/embed/{code}",
            hours_tenths=hours_tenths, digital_tenths=hours_tenths, has_test=has_test, pass_mark=pass_mark,
            survey_required=survey_required, published_at=utcnow(), listed_at=utcnow(),
            search_text=search_text([code, f"Course {code}", f"課程 {code}"]),
        )
        session.add(course)
        session.flush()
        session.add(CatalogSegment(course_id=course.id, position=0, category_code="505", hours_tenths=hours_tenths))
        for number in range(questions):
            session.add(LearningQuestion(
                course_code=code, key=f"q{number + 1}", position=number, prompt_en=f"Question {number + 1}?",
                prompt_zh=f"第 {number + 1} 題？", answer="a",
                choices_json=orjson.dumps([{"key": "a", "en": "Right", "zh": "對"},
                                           {"key": "b", "en": "Wrong", "zh": "錯"}]).decode(),
            ))


def launch(**changes: Any) -> service.LearnerLaunch:
    """Return a learner launch as the LTI core would give it."""
    values: dict[str, Any] = {
        "issuer": ISSUER, "sub": "learner-1", "client_id": "client-1", "deployment_id": "dep-1",
        "name": "林小華", "locale": "zh-TW", "platform_name": "Moodle", "context_id": "ctx-1",
        "context_title": "國際課程", "resource_link_id": "rl-1", "custom": {"catalog_course": "C1"},
    }
    values.update(changes)
    return service.LearnerLaunch(**values)


@pytest.fixture
def course(app: Flask) -> str:
    """Give a published one-hour talk with a 2-question quiz at pass mark 60 and a survey."""
    add_course(app, "C1")
    return "C1"


@pytest.fixture
def short_course(app: Flask) -> str:
    """Give a published 0.1-hour talk (6 minutes of reading) with a quiz and a survey, as C1."""
    add_course(app, "C1", hours_tenths=1)
    return "C1"


@pytest.fixture
def enroll(app: Flask) -> Callable[..., tuple[int, list[dict[str, Any]]]]:
    """Give a factory that enrols a learner through the service, as a launch would, returning (id, queued)."""

    def make(**changes: Any) -> tuple[int, list[dict[str, Any]]]:
        with app.test_request_context(), get_db(app).session() as session:
            info = launch(**changes)
            snapshot = service.load_course(session, service.requested_course_code(info))
            enrollment = service.enroll(session, info, snapshot)
            session.flush()
            return enrollment.id, queued_payloads(session, delivery.STATEMENT_CHANNEL)

    return make


def queued_payloads(session: Any, channel: str) -> list[dict[str, Any]]:
    """Return the payloads queued in the outbox on a channel, oldest first."""
    rows = session.scalars(select(OutboxMessage).where(OutboxMessage.channel == channel).order_by(OutboxMessage.id))
    return [orjson.loads(row.payload) for row in rows]


def queued_statements(app: Flask) -> list[dict[str, Any]]:
    """Return every statement queued for the LRS, oldest first."""
    with get_db(app).session() as session:
        return [st for payload in queued_payloads(session, delivery.STATEMENT_CHANNEL) for st in payload["statements"]]


def enrollment_of(app: Flask, enrollment_id: int) -> LearningEnrollment:
    """Read an enrollment afresh."""
    with get_db(app).session() as session:
        row = session.get(LearningEnrollment, enrollment_id)
        assert row is not None
        session.expunge(row)
        return row


class Clock:
    """A server clock the test moves forward by hand."""

    def __init__(self) -> None:
        self.now = dt.datetime(2026, 3, 5, 1, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        """Return the current test time."""
        return self.now

    def advance(self, seconds: float) -> None:
        """Move time forward."""
        self.now += dt.timedelta(seconds=seconds)


@pytest.fixture
def clock(app: Flask) -> Clock:
    """Give the app a hand-driven clock."""
    value = Clock()
    app.extensions[service.CLOCK_KEY] = value
    return value


FAST_RETRIES = {"OUTBOX_BACKOFF_BASE_SECONDS": 0.001, "OUTBOX_BACKOFF_MAX_SECONDS": 0.002}
