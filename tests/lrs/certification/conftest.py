"""Fixtures of the certification tests: a registry entry, a mapped person and statements posted to the real LRS."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from lrs.certification import codes, people, registry, settings
from lrs.certification.models import Course, Person
from lrs.db import get_db

BASE = "http://lb.test"
ISSUER = "https://lms.example.gov.tw"
COURSE_CODE = "INT-AI-01"
ACTIVITY = f"{BASE}/catalog/courses/{COURSE_CODE}"
ID_NUMBER = "A123456789"
AGENCY = "379680000A"
TPE = dt.timezone(dt.timedelta(hours=8))


@pytest.fixture
def db(app: Flask) -> Iterator[Session]:
    """Give a session on the app's database, committed by the test when it wants."""
    with app.app_context():
        session = get_db(app).sessions()
        try:
            yield session
        finally:
            session.close()


def course_input(**changes: Any) -> registry.CourseInput:
    """Return a valid registry entry: 2 h digital, pass mark 60, survey, class period 2025-2026."""
    data: dict[str, Any] = {
        "course_code": COURSE_CODE, "title": "AI 素養入門", "title_en": "AI For Everyone", "primary_code": "202",
        "digital": Decimal(2), "physical": Decimal(0), "class_start": dt.date(2025, 1, 1), "class_end": dt.date(2026, 12, 31),
        "pass_mark": Decimal(60), "provider_effort": Decimal(6),
    }
    data.update(changes)
    return registry.CourseInput(**data)


@pytest.fixture
def course(app: Flask, db: Session) -> Course:
    """Register the test course."""
    with app.app_context():
        entry = registry.save_course(db, course_input(), codes.code_table(db), by="", base_url=BASE)
        db.commit()
        return entry


@pytest.fixture
def person(app: Flask, db: Session) -> Person:
    """Register a person with a national ID and map the LMS account `learner-1` to them."""
    with app.app_context():
        someone = people.register_person(db, settings.get_vault(app), name="王小明", agency_code=AGENCY, id_number=ID_NUMBER,
                                         by="test")
        people.link_actor(db, someone, ISSUER, "learner-1", by="test")
        db.commit()
        return someone


def statement(verb: str, at: dt.datetime, *, account: str = "learner-1", activity: str = ACTIVITY,
              registration: str = "11111111-1111-4111-8111-111111111111", result: dict[str, Any] | None = None,
              course_code: str | None = COURSE_CODE) -> dict[str, Any]:
    """Build a statement as the learner player writes it."""
    body: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "actor": {"objectType": "Agent", "account": {"homePage": ISSUER, "name": account}},
        "verb": {"id": f"http://adlnet.gov/expapi/verbs/{verb}", "display": {"en-US": verb}},
        "object": {"objectType": "Activity", "id": activity},
        "context": {"registration": registration,
                    "extensions": {f"{BASE}/xapi/extensions/course-code": course_code} if course_code else {}},
        "timestamp": at.isoformat(),
    }
    if result is not None:
        body["result"] = result
    return body


def completion(at: dt.datetime, *, seconds: int = 7200, score: float | None = 80, **kw: Any) -> list[dict[str, Any]]:
    """Return the launched, passed and completed statements of one finished attempt."""
    out = [statement("launched", at - dt.timedelta(hours=3), **kw)]
    if score is not None:
        out.append(statement("passed" if score >= 60 else "failed", at - dt.timedelta(minutes=5),
                             result={"score": {"scaled": score / 100, "raw": score, "min": 0, "max": 100}, "success": score >= 60}, **kw))
    out.append(statement("completed", at, result={"completion": True, "success": True, "duration": f"PT{seconds}S"}, **kw))
    return out


@pytest.fixture
def post(client: FlaskClient, xapi_headers: dict[str, str]) -> Callable[[list[dict[str, Any]]], list[str]]:
    """Give a function that POSTs statements to the embedded LRS and returns their ids."""

    def send(statements: list[dict[str, Any]]) -> list[str]:
        response = client.post("/xapi/statements", json=statements, headers=xapi_headers)
        assert response.status_code == 200, response.get_data(as_text=True)
        return list(response.get_json())

    return send
