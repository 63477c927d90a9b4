"""Queue the player's xAPI statements and AGS scores in the durable outbox, and deliver them from it.

Statements and scores are queued (`lrs.outbox.enqueue`) in the same transaction as the progress
they record, so a crash or an outage of the LRS or the platform loses nothing; redelivery is
harmless because statement ids are deterministic (xAPI 1.0.3 Communication 2.1.2: the LRS accepts
an identical statement again without change) and AGS scores carry the timestamp of the event they
report (AGS 2.0 §3.4.7: a platform ignores a score older than the one it holds).

This is the one module of the tool that speaks to an LRS. With the embedded LRS the statements go
through the LRS's own validation and storage layer in one transaction (no HTTP to ourselves);
with `LRS_ENDPOINT` they are POSTed there as a batch with the configured key and secret.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from typing import Any

import orjson
import requests
from flask import Flask
from sqlalchemy.orm import Session

from lrs.app import get_settings
from lrs.db import get_db, utcnow
from lrs.errors import AppError
from lrs.outbox import core as outbox
from lti_tool.learning.models import LearningEnrollment, LearningScoreSend

log = logging.getLogger(__name__)

STATEMENT_CHANNEL = "learning.xapi"
SCORE_CHANNEL = "learning.ags"
SCORE_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
XAPI_VERSION = "1.0.3"
USER_AGENT = "InternationalLearningBridge/1.0 (xAPI statement delivery)"


def enqueue_statements(session: Session, statements: Sequence[dict[str, Any]]) -> None:
    """Queue statements for the configured LRS, in the caller's transaction."""
    if statements:
        outbox.enqueue(session, STATEMENT_CHANNEL, {"statements": list(statements)})


def enqueue_score(session: Session, enrollment: LearningEnrollment, now: dt.datetime) -> LearningScoreSend | None:
    """Queue the learner's current standing as an AGS score, when the launch offered the score scope."""
    if not (enrollment.ags_lineitems_url or enrollment.ags_lineitem_url) or SCORE_SCOPE not in enrollment.ags_scopes.split():
        return None
    done = enrollment.completed_at is not None
    score = None
    if done:
        score = enrollment.best_score if enrollment.has_test and enrollment.best_score is not None else 100.0
    send = LearningScoreSend(
        enrollment_id=enrollment.id,
        created_at=now,
        activity_progress="Completed" if done else "InProgress",
        grading_progress="FullyGraded" if done else "Pending",
        score_given=score,
        status="pending",
        attempts=0,
    )
    session.add(send)
    session.flush()
    outbox.enqueue(session, SCORE_CHANNEL, {"score_send_id": send.id})
    return send


# ---- delivery to the LRS ------------------------------------------------------------------------


def tool_authority(app: Flask) -> dict[str, Any]:
    """Return the Agent the embedded LRS records as the authority of the tool's statements (Data 2.4.9)."""
    return {
        "objectType": "Agent",
        "name": "International Learning Bridge LTI tool",
        "account": {"homePage": get_settings(app).public_base_url, "name": "lti-tool"},
    }


def _store_embedded(app: Flask, statements: list[dict[str, Any]]) -> None:
    from lrs.storage import statements as repo
    from lrs.storage.hooks import run_stored_hooks
    from lrs.xapi import validation

    session = get_db(app).sessions()
    try:
        for index, statement in enumerate(statements):
            validation.validate_statement(statement, XAPI_VERSION, f"statements[{index}]")
        result = repo.store_batch(session, statements, authority=tool_authority(app), version=XAPI_VERSION)
        if result.stored:
            run_stored_hooks(app, session, result.stored)
        session.commit()
    except AppError as err:
        session.rollback()
        # A refusal by the LRS's own rules will not change on a retry: keep it visible as dead.
        raise outbox.Undeliverable(f"the embedded LRS refused the statements: {err.message}") from None
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def _post_remote(app: Flask, statements: list[dict[str, Any]]) -> None:
    settings = get_settings(app)
    assert settings.lrs_endpoint and settings.lrs_key and settings.lrs_secret
    from lti_tool.lti.outbound import OutboundError, check_url

    url = settings.lrs_endpoint.rstrip("/") + "/statements"
    try:
        check_url(url, settings.allow_private_outbound)
    except OutboundError as err:
        raise outbox.RetryLater(f"the LRS at {settings.lrs_endpoint} cannot be used: {err}") from None
    try:
        response = requests.post(
            url,
            data=orjson.dumps(statements),
            headers={"Content-Type": "application/json", "X-Experience-API-Version": XAPI_VERSION,
                     "User-Agent": USER_AGENT},
            auth=(settings.lrs_key, settings.lrs_secret),
            timeout=settings.outbound_timeout_seconds,
            allow_redirects=False,
        )
    except requests.RequestException as err:
        raise outbox.RetryLater(f"the LRS at {settings.lrs_endpoint} did not answer ({type(err).__name__})") from None
    status = response.status_code
    detail = response.text[:300]
    response.close()
    if status in (200, 204):
        return
    if status in (400, 409, 413):
        # Communication 2.1.2: 400 invalid, 409 an id already stored with a different statement.
        raise outbox.Undeliverable(f"the LRS refused the statements with {status}: {detail}")
    # 401/403 (credentials being fixed), 429, 5xx and anything else: the LRS may accept them later.
    raise outbox.RetryLater(f"the LRS answered {status}: {detail}")


def deliver_statements(app: Flask, payload: dict[str, Any]) -> None:
    """Deliver one queued batch of statements to the configured LRS (the outbox handler)."""
    statements = payload.get("statements")
    if not isinstance(statements, list) or not statements:
        raise outbox.Undeliverable("the outbox message holds no statements")
    if get_settings(app).lrs_endpoint:
        _post_remote(app, statements)
    else:
        _store_embedded(app, statements)


def register(app: Flask) -> None:
    """Register the tool's outbox handlers: statements to the LRS, scores to platforms."""
    from lti_tool.learning import ags

    outbox.register_handler(app, STATEMENT_CHANNEL, deliver_statements)
    outbox.register_handler(app, SCORE_CHANNEL, ags.deliver_score)


def mark_score(app: Flask, send_id: int, *, sent: bool, error: str = "") -> None:
    """Record the outcome of one AGS score delivery attempt, for administrators to see."""
    with get_db(app).session() as session:
        send = session.get(LearningScoreSend, send_id)
        if send is None:
            return
        send.attempts += 1
        if sent:
            send.status = "sent"
            send.sent_at = utcnow()
            send.last_error = ""
        else:
            send.status = "failed"
            send.last_error = error[:1000]
