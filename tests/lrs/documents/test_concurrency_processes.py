"""Race clients through several gunicorn worker processes: still exactly one winner (Communication 3.1)."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from flask import Flask

from lrs.bench import lrs_bench
from lrs.db import get_db
from lrs.outbox.bench import fetch_etag
from lrs.storage import credentials as creds
from tests.conftest import basic_auth
from tests.lrs.documents.helpers import ACTIVITY_PROFILE_URL, STATE_URL, activity_profile_params, state_params, url

CLIENTS = 4


def _race(port: int, method: str, paths_and_bodies: list[tuple[str, dict[str, str], bytes]]) -> list[int]:
    barrier = threading.Barrier(len(paths_and_bodies))
    results: list[int] = [0] * len(paths_and_bodies)

    def run(index: int) -> None:
        path, headers, body = paths_and_bodies[index]
        barrier.wait()
        results[index] = lrs_bench.request(port, method, path, headers, body)[0]

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(paths_and_bodies))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


@pytest.mark.slow
def test_document_races_across_worker_processes(lrs_app: Flask, database_url: str, tmp_path: Path) -> None:
    """Let one of several If-Match PUTs win and lose no POST merge when requests land in different processes."""
    with get_db(lrs_app).session() as session:
        issued = creds.create_credential(session, "processes", ["all"], "http://lb.test")
        headers = {
            "Authorization": basic_auth(issued.credential.key, issued.secret),
            "X-Experience-API-Version": "1.0.3",
            "Content-Type": "application/json",
        }
    with lrs_bench.gunicorn(database_url, tmp_path, workers=2) as port:
        profile = url(ACTIVITY_PROFILE_URL, activity_profile_params())
        first = lrs_bench.request(port, "PUT", profile, {**headers, "If-None-Match": "*"}, b'{"round": -1}')
        assert first[0] == 204
        for round_no in range(6):
            racing = {**headers, "If-Match": fetch_etag(port, profile, headers)}
            bodies = [(profile, racing, json.dumps({"round": round_no, "w": i}).encode()) for i in range(CLIENTS)]
            statuses = sorted(_race(port, "PUT", bodies))
            assert statuses == [204] + [412] * (CLIENTS - 1), statuses

        state = url(STATE_URL, state_params())
        assert lrs_bench.request(port, "POST", state, headers, b'{"start": 0}')[0] == 204
        for round_no in range(3):
            bodies = [(state, headers, json.dumps({f"k{i}-{round_no}": i}).encode()) for i in range(CLIENTS)]
            assert _race(port, "POST", bodies) == [204] * CLIENTS
        stored = json.loads(lrs_bench.request(port, "GET", state, headers, None)[1])
        assert len(stored) == 1 + 3 * CLIENTS
