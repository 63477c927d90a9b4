"""Enqueue outbox messages, register channel handlers, and deliver due messages with retries.

`enqueue` adds a row to the caller's session, so the message commits or rolls back with the work
it reports. `deliver_due` claims due messages (FOR UPDATE SKIP LOCKED on PostgreSQL, an atomic
claiming UPDATE on SQLite) under a lease, commits the claim, calls each message's handler
outside any transaction, then records the outcome: delivered, retried later with exponential
backoff, or dead after too many attempts or a permanent refusal. A restart resumes from the
table: unclaimed and lease-expired messages are simply due again.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import random
import socket
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
from flask import Flask
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from lrs.db import get_db, utcnow
from lrs.outbox.models import DEAD, DELIVERED, PENDING, OutboxMessage

log = logging.getLogger(__name__)

HANDLERS_KEY = "lb.outbox_handlers"
Handler = Callable[[Flask, dict[str, Any]], None]


class DeliveryError(Exception):
    """A handler could not deliver a message."""


class RetryLater(DeliveryError):
    """The target is unavailable for now; try again after a backoff."""


class Undeliverable(DeliveryError):
    """The target refused the message for good; retrying cannot help."""


@dataclass(frozen=True)
class Policy:
    """How the deliverer batches, leases and backs off."""

    batch_size: int = 50
    lease_seconds: float = 120.0
    max_attempts: int = 100
    backoff_base_seconds: float = 2.0
    backoff_max_seconds: float = 3600.0

    @classmethod
    def of(cls, app: Flask) -> Policy:
        """Read the policy from the app's configuration (OUTBOX_* settings)."""
        config = app.config
        return cls(
            batch_size=int(config.get("OUTBOX_BATCH_SIZE", cls.batch_size)),
            lease_seconds=float(config.get("OUTBOX_LEASE_SECONDS", cls.lease_seconds)),
            max_attempts=int(config.get("OUTBOX_MAX_ATTEMPTS", cls.max_attempts)),
            backoff_base_seconds=float(config.get("OUTBOX_BACKOFF_BASE_SECONDS", cls.backoff_base_seconds)),
            backoff_max_seconds=float(config.get("OUTBOX_BACKOFF_MAX_SECONDS", cls.backoff_max_seconds)),
        )


def backoff_seconds(attempts: int, policy: Policy, jitter: float | None = None) -> float:
    """Return the wait before the next attempt: base * 2^(attempts-1), capped, with +-20% jitter."""
    exponent = max(0, attempts - 1)
    delay = min(policy.backoff_max_seconds, policy.backoff_base_seconds * (2 ** min(exponent, 40)))
    factor = jitter if jitter is not None else random.uniform(0.8, 1.2)  # noqa: S311 (spreading retries, not security)
    return float(min(policy.backoff_max_seconds, delay * factor))


def register_handler(app: Flask, channel: str, handler: Handler) -> None:
    """Deliver the channel's messages with `handler(app, payload)`; it raises DeliveryError to retry or give up."""
    app.extensions.setdefault(HANDLERS_KEY, {})[channel] = handler


def handlers(app: Flask) -> Mapping[str, Handler]:
    """Return the registered handlers by channel."""
    return app.extensions.get(HANDLERS_KEY, {})  # type: ignore[no-any-return]


def enqueue(session: Session, channel: str, payload: dict[str, Any], *, delay_seconds: float = 0) -> OutboxMessage:
    """Add a message to the caller's transaction; it is delivered only if that transaction commits."""
    if not channel or len(channel) > 64:
        raise ValueError("an outbox channel name has 1 to 64 characters")
    now = utcnow()
    message = OutboxMessage(
        channel=channel,
        payload=orjson.dumps(payload).decode("utf-8"),
        status=PENDING,
        attempts=0,
        next_attempt_at=now + dt.timedelta(seconds=delay_seconds),
        created_at=now,
        last_error="",
    )
    session.add(message)
    return message


def worker_name() -> str:
    """Name this worker process uniquely (host, pid and a random suffix)."""
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class Claimed:
    """A message claimed for delivery."""

    id: int
    channel: str
    payload: dict[str, Any]
    attempts: int


def claim(session: Session, worker: str, policy: Policy, channels: list[str] | None = None) -> list[Claimed]:
    """Claim up to a batch of due messages for this worker under a lease, and commit the claim."""
    now = utcnow()
    until = now + dt.timedelta(seconds=policy.lease_seconds)
    due = select(OutboxMessage.id).where(
        OutboxMessage.status == PENDING,
        OutboxMessage.next_attempt_at <= now,
        (OutboxMessage.claimed_until.is_(None)) | (OutboxMessage.claimed_until < now),
    )
    if channels:
        due = due.where(OutboxMessage.channel.in_(channels))
    due = due.order_by(OutboxMessage.id).limit(policy.batch_size)
    if session.get_bind().dialect.name == "postgresql":
        # Rows another worker is claiming are skipped, never waited for nor taken twice.
        ids = list(session.scalars(due.with_for_update(skip_locked=True)))
        if ids:
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(ids))
                .values(claimed_by=worker, claimed_until=until)
                .execution_options(synchronize_session=False)
            )
    else:
        # SQLite runs one writer at a time, so this UPDATE claims atomically.
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(due.scalar_subquery()))
            .values(claimed_by=worker, claimed_until=until)
            .execution_options(synchronize_session=False)
        )
    session.commit()
    rows = session.execute(
        select(OutboxMessage.id, OutboxMessage.channel, OutboxMessage.payload, OutboxMessage.attempts)
        .where(OutboxMessage.claimed_by == worker, OutboxMessage.claimed_until == until, OutboxMessage.status == PENDING)
        .order_by(OutboxMessage.id)
    ).all()
    return [Claimed(row.id, row.channel, orjson.loads(row.payload), row.attempts) for row in rows]


def _record(session: Session, worker: str, outcomes: list[tuple[int, dict[str, Any]]]) -> None:
    """Write a batch's outcomes in one transaction, only for messages this worker still holds."""
    delivered = [message_id for message_id, values in outcomes if values.get("status") == DELIVERED]
    if delivered:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(delivered), OutboxMessage.claimed_by == worker)
            .values(status=DELIVERED, attempts=OutboxMessage.attempts + 1, delivered_at=utcnow(), last_error="",
                    claimed_by=None, claimed_until=None)
            .execution_options(synchronize_session=False)
        )
    for message_id, values in outcomes:
        if values.get("status") != DELIVERED:
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == message_id, OutboxMessage.claimed_by == worker)
                .values(claimed_by=None, claimed_until=None, **values)
                .execution_options(synchronize_session=False)
            )
    session.commit()


@dataclass
class Report:
    """What one delivery pass did."""

    delivered: int = 0
    retried: int = 0
    dead: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def handled(self) -> int:
        """Return how many messages the pass handled."""
        return self.delivered + self.retried + self.dead


def deliver_due(app: Flask, worker: str | None = None, channels: list[str] | None = None) -> Report:
    """Claim one batch of due messages, deliver each through its channel's handler, record the outcomes."""
    worker = worker or worker_name()
    policy = Policy.of(app)
    report = Report()
    registered = handlers(app)
    wanted = [c for c in (channels or list(registered)) if c in registered]
    if not wanted:
        return report
    with app.app_context():
        session = get_db(app).sessions()
        try:
            claimed = claim(session, worker, policy, wanted)
            outcomes = [_deliver_one(app, policy, registered[m.channel], m, report) for m in claimed]
            if outcomes:
                # A crash before this line leaves the batch leased, then due again: delivered at least once.
                _record(session, worker, outcomes)
        finally:
            session.close()
    return report


def _deliver_one(app: Flask, policy: Policy, handler: Handler, message: Claimed, report: Report) -> tuple[int, dict[str, Any]]:
    attempts = message.attempts + 1
    try:
        handler(app, message.payload)
    except Undeliverable as err:
        log.warning("outbox message %s on %s is undeliverable: %s", message.id, message.channel, err)
        report.dead += 1
        report.errors.append(str(err))
        return message.id, {"status": DEAD, "attempts": attempts, "last_error": str(err)[:2000]}
    except Exception as err:  # any other failure is treated as transient: the outbox must lose nothing
        text = str(err) or type(err).__name__
        report.errors.append(text)
        if attempts >= policy.max_attempts:
            log.warning("outbox message %s on %s gave up after %s attempts: %s", message.id, message.channel, attempts, text)
            report.dead += 1
            return message.id, {"status": DEAD, "attempts": attempts, "last_error": text[:2000]}
        report.retried += 1
        wait = backoff_seconds(attempts, policy)
        return message.id, {
            "attempts": attempts, "last_error": text[:2000], "next_attempt_at": utcnow() + dt.timedelta(seconds=wait)
        }
    report.delivered += 1
    return message.id, {"status": DELIVERED}


def deliver_until_idle(app: Flask, worker: str | None = None, channels: list[str] | None = None) -> Report:
    """Deliver batch after batch until nothing is due; return the totals."""
    worker = worker or worker_name()
    total = Report()
    while True:
        report = deliver_due(app, worker, channels)
        total.delivered += report.delivered
        total.retried += report.retried
        total.dead += report.dead
        total.errors.extend(report.errors)
        if report.handled == 0 or report.delivered == 0:
            return total


def run_forever(app: Flask, stop: threading.Event, poll_seconds: float = 2.0, channels: list[str] | None = None) -> None:
    """Deliver until `stop` is set, sleeping `poll_seconds` whenever nothing is due."""
    worker = worker_name()
    while not stop.is_set():
        try:
            report = deliver_until_idle(app, worker, channels)
        except Exception:
            log.exception("outbox delivery pass failed; retrying after %s s", poll_seconds)
            report = Report()
        if report.handled == 0 or report.delivered == 0:
            stop.wait(poll_seconds)


@dataclass(frozen=True)
class ChannelStatus:
    """Counts of one channel's messages."""

    channel: str
    pending: int
    delivered: int
    dead: int
    oldest_pending: dt.datetime | None
    last_error: str


def status(session: Session) -> list[ChannelStatus]:
    """Summarise the outbox by channel."""
    counts: dict[str, dict[str, int]] = {}
    for channel, state, count in session.execute(
        select(OutboxMessage.channel, OutboxMessage.status, func.count()).group_by(OutboxMessage.channel, OutboxMessage.status)
    ):
        counts.setdefault(channel, {})[state] = int(count)
    result = []
    for channel in sorted(counts):
        oldest = session.scalar(
            select(func.min(OutboxMessage.created_at)).where(OutboxMessage.channel == channel, OutboxMessage.status == PENDING)
        )
        last_error = session.scalar(
            select(OutboxMessage.last_error)
            .where(OutboxMessage.channel == channel, OutboxMessage.last_error != "")
            .order_by(OutboxMessage.id.desc())
            .limit(1)
        )
        by_state = counts[channel]
        result.append(
            ChannelStatus(
                channel, by_state.get(PENDING, 0), by_state.get(DELIVERED, 0), by_state.get(DEAD, 0),
                oldest,
                last_error or "",
            )
        )
    return result


def retry_dead(session: Session, channel: str | None = None) -> int:
    """Make dead messages due again, with their attempts reset; return how many."""
    statement = update(OutboxMessage).where(OutboxMessage.status == DEAD)
    if channel:
        statement = statement.where(OutboxMessage.channel == channel)
    result = session.execute(
        statement.values(status=PENDING, attempts=0, next_attempt_at=utcnow()).execution_options(synchronize_session=False)
    )
    session.commit()
    return int(getattr(result, "rowcount", 0) or 0)
