"""Test statement delivery through the outbox to the embedded LRS and to a remote LRS that goes down."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

import lrs
import lti_tool
from lrs.db import get_db
from lrs.outbox import core as outbox
from lrs.storage import credentials as creds
from lti_tool.learning import delivery
from lti_tool.learning.tokens import player_token
from tests.conftest import app_config, basic_auth
from tests.support import LiveServer

from .conftest import FAST_RETRIES, add_course, launch, queued_statements
from .test_player import TAB_RE, _pass_quiz, _read, _survey

VERBS = "http://adlnet.gov/expapi/verbs/"


def _complete(app: Flask, client: FlaskClient, clock: Any, enrollment_id: int, *, survey: bool = True) -> None:
    with app.test_request_context():
        token = player_token(enrollment_id)
    page = client.get(f"/learn/{token}")
    match = TAB_RE.search(page.get_data(as_text=True))
    assert match
    _pass_quiz(client, token)
    if survey:
        assert _survey(client, token).status_code == 303
    _read(client, clock, match.group(1), 360)


def _stored(client: FlaskClient, headers: dict[str, str], registration: str) -> list[dict[str, Any]]:
    response = client.get(f"/xapi/statements?registration={registration}&limit=500", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return list(response.get_json()["statements"])


def _registration(app: Flask, enrollment_id: int) -> str:
    from .conftest import enrollment_of

    return enrollment_of(app, enrollment_id).registration


def test_delivery_embedded_completion_statement_stored_once(
    app: Flask, client: FlaskClient, short_course: str, enroll: Callable[..., Any], clock: Any, xapi_headers: dict[str, str]
) -> None:
    """A learner meeting R4 gets exactly one `completed` statement in the LRS, even after redelivery."""
    enrollment_id, _ = enroll()
    _complete(app, client, clock, enrollment_id)
    report = outbox.deliver_until_idle(app, channels=[delivery.STATEMENT_CHANNEL])
    assert report.dead == 0 and report.retried == 0, report.errors
    registration = _registration(app, enrollment_id)
    stored = _stored(client, xapi_headers, registration)
    verbs = [st["verb"]["id"].removeprefix(VERBS) for st in stored]
    assert verbs.count("completed") == 1
    assert {"launched", "initialized", "progressed", "passed", "answered"} <= set(verbs)
    completed = next(st for st in stored if st["verb"]["id"].endswith("completed"))
    assert completed["actor"]["account"] == {"homePage": "https://lms.example.gov.tw", "name": "learner-1"}
    assert completed["context"]["registration"] == registration
    assert completed["result"]["completion"] is True
    assert completed["result"]["duration"] == "PT6M"  # cumulative reading time, as certification reads it
    assert completed["result"]["extensions"]["http://lb.test/xapi/extensions/survey-submitted"] is True
    # Redelivery of everything already sent stores nothing twice (deterministic ids).
    with get_db(app).session() as session:
        delivery.enqueue_statements(session, queued_statements(app))
    assert outbox.deliver_until_idle(app, channels=[delivery.STATEMENT_CHANNEL]).dead == 0
    assert len(_stored(client, xapi_headers, registration)) == len(stored)


@pytest.mark.parametrize("missing", ["survey", "reading", "quiz"])
def test_delivery_embedded_missing_condition_sends_no_completion(
    app: Flask, client: FlaskClient, short_course: str, enroll: Callable[..., Any], clock: Any,
    xapi_headers: dict[str, str], missing: str,
) -> None:
    """R4: a learner who misses any one condition gets no `completed` statement."""
    enrollment_id, _ = enroll()
    with app.test_request_context():
        token = player_token(enrollment_id)
    tab = TAB_RE.search(client.get(f"/learn/{token}").get_data(as_text=True))
    assert tab
    if missing != "quiz":
        _pass_quiz(client, token)
    else:
        _pass_quiz(client, token, answer="b")
    if missing != "survey" and missing != "quiz":
        _survey(client, token)
    _read(client, clock, tab.group(1), 330 if missing == "reading" else 360)
    outbox.deliver_until_idle(app, channels=[delivery.STATEMENT_CHANNEL])
    verbs = [st["verb"]["id"] for st in _stored(client, xapi_headers, _registration(app, enrollment_id))]
    assert VERBS + "completed" not in verbs
    assert VERBS + "launched" in verbs


@pytest.fixture
def remote(database_url: str, tmp_path: Path) -> Iterator[tuple[Flask, LiveServer, tuple[str, str]]]:
    """Give a standalone LRS served on 127.0.0.1, with a credential for the tool."""
    lrs_app = lrs.create_app(app_config(database_url, tmp_path / "lrs"))
    with get_db(lrs_app).session() as session:
        issued = creds.create_credential(session, "tool", ["all"], "http://lrs.test")
        key, secret = issued.credential.key, issued.secret
    server = LiveServer(lrs_app).start()
    yield lrs_app, server, (key, secret)
    server.stop()
    get_db(lrs_app).dispose()


def test_delivery_remote_lrs_outage_loses_and_duplicates_nothing(
    database_url: str, tmp_path: Path, remote: tuple[Flask, LiveServer, tuple[str, str]]
) -> None:
    """An LRS that is down keeps statements queued; once it is back every statement arrives exactly once."""
    lrs_app, server, (key, secret) = remote
    tool = lti_tool.create_app(app_config(
        database_url, tmp_path / "tool", LRS_ENDPOINT=server.url + "/xapi", LRS_KEY=key, LRS_SECRET=secret,
        **FAST_RETRIES,
    ))
    from lti_tool.learning import service

    from .conftest import Clock

    clock = Clock()
    tool.extensions[service.CLOCK_KEY] = clock
    add_course(tool, "C1", hours_tenths=1)
    with tool.test_request_context(), get_db(tool).session() as session:
        info = launch()
        enrollment = service.enroll(session, info, service.load_course(session, "C1"))
        enrollment_id = enrollment.id
    server.stop()
    client = tool.test_client()
    _complete(tool, client, clock, enrollment_id)
    down = outbox.deliver_until_idle(tool, channels=[delivery.STATEMENT_CHANNEL])
    assert down.delivered == 0 and down.retried > 0 and down.dead == 0
    expected = {st["id"] for st in queued_statements(tool)}
    server.start()
    import time

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        outbox.deliver_until_idle(tool, channels=[delivery.STATEMENT_CHANNEL])
        with get_db(tool).session() as session:
            if not [row for row in outbox.status(session) if row.channel == delivery.STATEMENT_CHANNEL and row.pending]:
                break
        time.sleep(0.01)
    lrs_client = lrs_app.test_client()
    headers = {"Authorization": basic_auth(key, secret), "X-Experience-API-Version": "1.0.3"}
    registration = _registration(tool, enrollment_id)
    stored = _stored(lrs_client, headers, registration)
    assert {st["id"] for st in stored} == expected
    assert len(stored) == len(expected)
    assert sum(st["verb"]["id"] == VERBS + "completed" for st in stored) == 1
    get_db(tool).dispose()


def test_delivery_embedded_statements_meet_certification_evidence_contract(
    app: Flask, client: FlaskClient, short_course: str, enroll: Callable[..., Any], clock: Any
) -> None:
    """The hour certification reads the delivered statements as one attempt meeting R4 (lrs/certification/evidence.py)."""
    from lrs.certification import evidence
    from lrs.xapi.statements import agent_key

    enrollment_id, _ = enroll()
    _complete(app, client, clock, enrollment_id)
    outbox.deliver_until_idle(app, channels=[delivery.STATEMENT_CHANNEL])
    actor = agent_key({"objectType": "Agent", "account": {"homePage": "https://lms.example.gov.tw", "name": "learner-1"}})
    assert actor
    activity = "http://lb.test/catalog/courses/C1"
    with get_db(app).session() as session:
        attempts, problems = evidence.read_attempts(session, [actor], [activity], {activity: "C1"})
    assert problems == []
    [attempt] = attempts[(actor, activity)]
    assert attempt.registration == _registration(app, enrollment_id)
    assert attempt.read_seconds == 360
    assert attempt.best_score == 100
    assert attempt.survey_submitted() and attempt.completed_at is not None
    assert attempt.first_pass(Decimal(60)) is not None
    assert attempt.problems == []
