"""Give catalog tests curators, course rows, stored courses and live servers on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from lrs.db import get_db
from lrs.staff.models import Role
from lti_tool.catalog import service
from lti_tool.catalog.domain import Action, Status
from tests.support import LiveServer


def course_row(**overrides: Any) -> dict[str, Any]:
    """Return the raw fields of a valid course, as a form or an import row gives them."""
    row: dict[str, Any] = {
        "code": "TEST-101",
        "kind": "course",
        "title_zh": "公共政策英語簡報",
        "title_en": "Presenting Public Policy in English",
        "description_zh": "以英語簡報公共政策的線上課程。",
        "description_en": "An online course on presenting public policy in English.",
        "provider_key": "test-university",
        "provider_name_en": "Test University",
        "provider_name_zh": "測試大學",
        "provider_country": "GB",
        "provider_type": "university",
        "platform": "Coursera",
        "format": "mooc",
        "languages": "en",
        "subtitle_languages": "en; zh-Hant",
        "url": "https://courses.example.org/policy-english",
        "licence_holder": "All civil servants",
        "licence_agreement": "Open course terms",
        "effort": "4 weeks, about 12 hours",
        "effort_hours": "12",
        "hours": "6",
        "segments": "202:4; 505:2",
        "has_test": "yes",
        "pass_mark": "80",
        "survey_required": "yes",
        "cross_year_repeat": "no",
        "topics": "英語 English; 簡報 Presentation",
        "tags": "policy",
    }
    row.update(overrides)
    return row


@pytest.fixture(name="course_row")
def course_row_fixture() -> Callable[..., dict[str, Any]]:
    """Give the factory of valid course rows."""
    return course_row


@pytest.fixture
def add_course(app: Flask) -> Callable[..., str]:
    """Give a factory that stores a course in a given status and returns its code."""

    def add(status: Status = Status.PUBLISHED, **overrides: Any) -> str:
        with app.app_context(), get_db(app).session() as session:
            course = service.create_course(session, service.validate(course_row(**overrides), service.category_codes(session)), "fixture")
            code = course.code
            if status is not Status.DRAFT:
                service.apply_action(session, course, Action.SUBMIT, "fixture")
            if status in (Status.PUBLISHED, Status.RETIRED):
                from lti_tool.catalog.domain import CHECKLIST

                service.apply_action(session, course, Action.APPROVE, "fixture", checklist=[k for k, _ in CHECKLIST])
                service.apply_action(session, course, Action.PUBLISH, "fixture")
            if status is Status.RETIRED:
                service.apply_action(session, course, Action.RETIRE, "fixture")
        return code

    return add


@pytest.fixture
def curator(client: FlaskClient, make_staff: Callable[..., tuple[str, str]],
            login: Callable[[str, str], None]) -> FlaskClient:
    """Give the test client logged in as a curator."""
    login(*make_staff("cura", Role.CURATOR))
    return client


@pytest.fixture
def live_app(app: Flask) -> Iterator[LiveServer]:
    """Serve the whole product on 127.0.0.1 (port 0) for browser tests."""
    with LiveServer(app) as server:
        yield server
