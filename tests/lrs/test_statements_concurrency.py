"""Several processes POST statements at once: each accepted statement is stored exactly once."""

from __future__ import annotations

import multiprocessing
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import func, select

import lrs
from lrs.db import get_db
from lrs.storage.models import Statement, StatementKey
from tests.conftest import app_config, basic_auth
from tests.lrs.xapi.helpers import statement

WORKERS = 4
BATCHES = 6


def _worker(database_url: str, tmp: str, auth: str, shared_ids: list[str], index: int, queue: Any) -> None:
    """Post batches from one process: its own statements plus ids every process sends."""
    app = lrs.create_app(app_config(database_url, Path(tmp)))
    client = app.test_client()
    accepted: list[str] = []
    statuses: list[int] = []
    for batch in range(BATCHES):
        own = [statement(id=str(uuid.uuid4())) for _ in range(5)]
        # Every process also sends the same shared statement: equivalent, so accepted, stored once.
        shared = statement(id=shared_ids[batch])
        response = client.post(
            "/xapi/statements",
            json=[*own, shared],
            headers={"Authorization": auth, "X-Experience-API-Version": "1.0.3"},
        )
        statuses.append(response.status_code)
        if response.status_code == 200:
            accepted += response.get_json()
    get_db(app).dispose()
    queue.put((index, statuses, accepted))


def test_statements_post_concurrent_processes_store_each_once(
    app: Flask, database_url: str, tmp_path: Path, make_credential: Callable[..., tuple[str, str]]
) -> None:
    """Store every accepted statement exactly once under concurrent writers (Communication 2.1.2; Data 2.3.1)."""
    auth = basic_auth(*make_credential("all"))
    shared_ids = [str(uuid.uuid4()) for _ in range(BATCHES)]
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    processes = [
        context.Process(target=_worker, args=(database_url, str(tmp_path / f"w{i}"), auth, shared_ids, i, queue))
        for i in range(WORKERS)
    ]
    for process in processes:
        process.start()
    results = [queue.get(timeout=120) for _ in processes]
    for process in processes:
        process.join(timeout=30)
        assert process.exitcode == 0
    accepted: set[str] = set()
    for _, statuses, ids in results:
        assert statuses == [200] * BATCHES
        accepted.update(ids)
    with get_db(app).session() as session:
        stored = list(session.scalars(select(Statement.statement_id)))
        orphans = session.scalar(
            select(func.count()).select_from(StatementKey).where(StatementKey.statement_pk.not_in(select(Statement.pk)))
        )
        pks = list(session.scalars(select(Statement.pk).order_by(Statement.pk)))
        stored_order = list(session.scalars(select(Statement.stored).order_by(Statement.pk)))
    assert len(stored) == len(set(stored))
    assert set(stored) == accepted
    assert len(accepted) == WORKERS * BATCHES * 5 + BATCHES
    assert orphans == 0
    # Stored order (the keyset key) agrees with the stored timestamps.
    assert pks == sorted(pks) and stored_order == sorted(stored_order)
