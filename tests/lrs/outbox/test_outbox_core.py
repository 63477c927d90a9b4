"""Test the durable outbox: same-transaction enqueue, exclusive claims, backoff, leases and dead letters."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, update

from lrs.db import get_db, utcnow
from lrs.outbox import core
from lrs.outbox.models import DEAD, DELIVERED, PENDING, OutboxMessage

CHANNEL = "test.channel"


@pytest.fixture
def outbox_app(lrs_app: Flask) -> Iterator[Flask]:
    """Give the LRS with quick outbox settings and a recording test handler."""
    lrs_app.config.update(OUTBOX_BACKOFF_BASE_SECONDS=0.01, OUTBOX_BACKOFF_MAX_SECONDS=0.05, OUTBOX_BATCH_SIZE=10)
    lrs_app.extensions["test.delivered"] = []
    lrs_app.extensions["test.fail"] = None

    def handler(app: Flask, payload: dict[str, Any]) -> None:
        failure = app.extensions["test.fail"]
        if failure is not None:
            raise failure
        app.extensions["test.delivered"].append(payload["n"])

    core.register_handler(lrs_app, CHANNEL, handler)
    yield lrs_app


def _enqueue(app: Flask, *numbers: int) -> None:
    with get_db(app).session() as session:
        for n in numbers:
            core.enqueue(session, CHANNEL, {"n": n})


def _rows(app: Flask) -> list[OutboxMessage]:
    with get_db(app).session() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def _make_due(app: Flask) -> None:
    with get_db(app).session() as session:
        session.execute(update(OutboxMessage).values(next_attempt_at=utcnow() - dt.timedelta(seconds=1)))


def test_outbox_enqueue_commits_with_callers_transaction(outbox_app: Flask) -> None:
    """Keep a message only if the caller's transaction commits."""
    with pytest.raises(RuntimeError), get_db(outbox_app).session() as session:
        core.enqueue(session, CHANNEL, {"n": 1})
        raise RuntimeError("the caller's work failed")
    assert _rows(outbox_app) == []
    _enqueue(outbox_app, 2)
    assert [row.status for row in _rows(outbox_app)] == [PENDING]


def test_outbox_deliver_calls_handler_in_order_once(outbox_app: Flask) -> None:
    """Deliver every due message once, oldest first, and mark it delivered."""
    _enqueue(outbox_app, 1, 2, 3)
    report = core.deliver_until_idle(outbox_app)
    assert report.delivered == 3
    assert outbox_app.extensions["test.delivered"] == [1, 2, 3]
    assert {row.status for row in _rows(outbox_app)} == {DELIVERED}
    assert core.deliver_until_idle(outbox_app).handled == 0


def test_outbox_failure_is_retried_with_backoff(outbox_app: Flask) -> None:
    """Retry a failed delivery later, counting attempts, then deliver it once the target is back."""
    _enqueue(outbox_app, 7)
    outbox_app.extensions["test.fail"] = core.RetryLater("target down")
    report = core.deliver_due(outbox_app)
    assert report.retried == 1
    (row,) = _rows(outbox_app)
    assert row.status == PENDING and row.attempts == 1 and row.last_error == "target down"
    assert row.next_attempt_at > utcnow() - dt.timedelta(seconds=1)
    assert row.claimed_by is None
    outbox_app.extensions["test.fail"] = None
    _make_due(outbox_app)
    assert core.deliver_due(outbox_app).delivered == 1
    assert outbox_app.extensions["test.delivered"] == [7]


def test_outbox_undeliverable_and_exhausted_messages_go_dead(outbox_app: Flask) -> None:
    """Park a refused message at once, and a failing one after the maximum attempts; `retry` revives them."""
    outbox_app.config["OUTBOX_MAX_ATTEMPTS"] = 2
    _enqueue(outbox_app, 1)
    outbox_app.extensions["test.fail"] = core.Undeliverable("refused for good")
    assert core.deliver_due(outbox_app).dead == 1
    _enqueue(outbox_app, 2)
    outbox_app.extensions["test.fail"] = ConnectionError("flaky")
    core.deliver_due(outbox_app)
    _make_due(outbox_app)
    assert core.deliver_due(outbox_app).dead == 1
    assert [row.status for row in _rows(outbox_app)] == [DEAD, DEAD]
    with get_db(outbox_app).session() as session:
        statuses = core.status(session)
        assert statuses[0].dead == 2 and statuses[0].last_error == "flaky"
        assert core.retry_dead(session) == 2
    outbox_app.extensions["test.fail"] = None
    assert core.deliver_until_idle(outbox_app).delivered == 2


def test_outbox_backoff_grows_exponentially_and_is_capped() -> None:
    """Wait base * 2^(attempts-1) between attempts, never beyond the cap."""
    policy = core.Policy(backoff_base_seconds=2, backoff_max_seconds=60)
    waits = [core.backoff_seconds(n, policy, jitter=1.0) for n in range(1, 8)]
    assert waits == [2, 4, 8, 16, 32, 60, 60]
    assert 1.6 <= core.backoff_seconds(1, policy) <= 2.4


def test_outbox_claims_are_exclusive_across_workers(outbox_app: Flask) -> None:
    """Never hand the same message to two workers claiming at once (SKIP LOCKED / atomic UPDATE)."""
    _enqueue(outbox_app, *range(40))
    policy = core.Policy(batch_size=7, lease_seconds=60)
    claimed: list[list[int]] = [[] for _ in range(4)]
    barrier = threading.Barrier(4)

    def worker(index: int) -> None:
        barrier.wait()
        while True:
            session = get_db(outbox_app).sessions()
            try:
                got = core.claim(session, f"worker-{index}", policy, [CHANNEL])
            finally:
                session.close()
            if not got:
                return
            claimed[index].extend(message.id for message in got)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    everything = [message_id for ids in claimed for message_id in ids]
    assert len(everything) == 40
    assert len(set(everything)) == 40


def test_outbox_resumes_after_a_worker_dies_mid_delivery(outbox_app: Flask) -> None:
    """Let another worker deliver what a dead worker had claimed, once its lease ran out (restart resumes)."""
    _enqueue(outbox_app, 1, 2)
    session = get_db(outbox_app).sessions()
    try:
        taken = core.claim(session, "crashed-worker", core.Policy(lease_seconds=60), [CHANNEL])
    finally:
        session.close()
    assert len(taken) == 2
    assert core.deliver_due(outbox_app).handled == 0  # still leased to the crashed worker
    with get_db(outbox_app).session() as session:
        session.execute(update(OutboxMessage).values(claimed_until=utcnow() - dt.timedelta(seconds=1)))
    assert core.deliver_due(outbox_app).delivered == 2
    assert outbox_app.extensions["test.delivered"] == [1, 2]


def test_outbox_ignores_channels_without_handler(outbox_app: Flask) -> None:
    """Leave messages of a channel this process has no handler for to the process that has one."""
    with get_db(outbox_app).session() as session:
        core.enqueue(session, "someone.else", {"n": 1})
    assert core.deliver_until_idle(outbox_app).handled == 0
    assert _rows(outbox_app)[0].status == PENDING


def test_outbox_in_process_deliverer_delivers_and_stops(outbox_app: Flask) -> None:
    """Deliver from a background thread of the serving process when OUTBOX_IN_PROCESS is used."""
    import time

    from lrs.outbox import start_in_process

    outbox_app.config["OUTBOX_POLL_SECONDS"] = 0.05
    stop = start_in_process(outbox_app)
    try:
        assert start_in_process(outbox_app) is stop  # one deliverer per app
        _enqueue(outbox_app, 5, 6)
        deadline = time.monotonic() + 10
        while outbox_app.extensions["test.delivered"] != [5, 6] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert outbox_app.extensions["test.delivered"] == [5, 6]
    finally:
        stop.set()
        time.sleep(0.2)
