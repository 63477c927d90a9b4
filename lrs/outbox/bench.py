"""Benchmark the document resources under gunicorn and the outbox deliverer, printing figures.

`bench documents` serves the standalone LRS with several gunicorn worker processes and measures
State PUT, GET and POST-merge rates from concurrent clients, then races clients holding the same
ETag and counts winners (exactly one per race is the correctness figure). `bench outbox` measures
how fast messages are enqueued and delivered with a no-op handler.
"""

from __future__ import annotations

import base64
import contextlib
import json
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import lrs
from lrs.bench import lrs_bench
from lrs.db import Database, get_db
from lrs.outbox import core
from lrs.storage import credentials as creds

Echo = Callable[[str], None]


@contextlib.contextmanager
def _backend(postgres: str | None, folder: Path) -> Iterator[lrs_bench.Backend]:
    if postgres:
        with lrs_bench.postgres_backend(postgres) as backend:
            yield backend
    else:
        with lrs_bench.sqlite_backend(folder) as backend:
            yield backend


def _credential(database: Database) -> dict[str, str]:
    with database.session() as session:
        issued = creds.create_credential(session, "bench", ["all"], "http://127.0.0.1")
        token = base64.b64encode(f"{issued.credential.key}:{issued.secret}".encode()).decode()
    return {"Authorization": f"Basic {token}", "X-Experience-API-Version": "1.0.3", "Content-Type": "application/json"}


def _state_path(activity: str, state_id: str) -> str:
    agent = json.dumps({"mbox": "mailto:bench@example.com"})
    return "/xapi/activities/state?" + urlencode({"activityId": activity, "agent": agent, "stateId": state_id})


def _rate(
    port: int, headers: dict[str, str], clients: int, seconds: float, make: Callable[[int, int], tuple[str, str, bytes | None]]
) -> tuple[float, int]:
    counts = [0] * clients
    failures = [0] * clients
    deadline = time.monotonic() + seconds

    def run(index: int) -> None:
        n = 0
        while time.monotonic() < deadline:
            method, path, body = make(index, n)
            status, _ = lrs_bench.request(port, method, path, headers, body)
            if status in (200, 204):
                counts[index] += 1
            else:
                failures[index] += 1
            n += 1

    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts) / (time.monotonic() - started), sum(failures)


def _races(port: int, headers: dict[str, str], clients: int, rounds: int) -> tuple[int, int]:
    path = _state_path("http://example.com/bench/race", "race")
    lrs_bench.request(port, "PUT", path, headers, b'{"round": -1}')
    single_winner = 0
    for round_no in range(rounds):
        connection_headers = {**headers, "If-Match": fetch_etag(port, path, headers)}
        barrier = threading.Barrier(clients)
        results: list[int] = []
        lock = threading.Lock()

        def run(
            index: int, round_no: int, extra: dict[str, str], barrier: threading.Barrier, results: list[int],
            lock: threading.Lock,
        ) -> None:
            barrier.wait()
            code, _ = lrs_bench.request(port, "PUT", path, extra, json.dumps({"round": round_no, "w": index}).encode())
            with lock:
                results.append(code)

        threads = [
            threading.Thread(target=run, args=(i, round_no, connection_headers, barrier, results, lock)) for i in range(clients)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if results.count(204) == 1 and results.count(412) == clients - 1:
            single_winner += 1
    return rounds, single_winner


def fetch_etag(port: int, path: str, headers: dict[str, str]) -> str:
    """GET a document from a live LRS on 127.0.0.1 and return its ETag."""
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        response.read()
        return response.getheader("ETag") or ""
    finally:
        connection.close()


def run_documents(seconds: float, workers: int, clients: int, races: int, postgres: str | None, echo: Echo) -> None:
    """Print document request rates and race outcomes under gunicorn."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        with _backend(postgres, folder) as backend:
            database = Database(backend.url)
            try:
                lrs_bench.build_schema(database)
                headers = _credential(database)
            finally:
                database.dispose()
            echo(f"{backend.name}: {workers} gunicorn workers, {clients} clients, {seconds:g} s per case")
            with lrs_bench.gunicorn(backend.url, folder, workers) as port:
                activity = f"http://example.com/bench/{uuid.uuid4()}"
                put_rate, put_fail = _rate(
                    port, headers, clients, seconds,
                    lambda i, n: ("PUT", _state_path(activity, f"s{i}-{n}"), b'{"bookmark": 1, "suspend": "x"}'),
                )
                echo(f"  state PUT (new documents):      {put_rate:8.1f} req/s  ({put_fail} failed)")
                get_rate, get_fail = _rate(port, headers, clients, seconds, lambda i, n: ("GET", _state_path(activity, f"s{i}-0"), None))
                echo(f"  state GET:                      {get_rate:8.1f} req/s  ({get_fail} failed)")
                shared = _state_path(activity, "shared")
                post_rate, post_fail = _rate(
                    port, headers, clients, seconds, lambda i, n: ("POST", shared, json.dumps({f"k{i}": n}).encode())
                )
                echo(f"  state POST merge, one document: {post_rate:8.1f} req/s  ({post_fail} failed)")
                rounds, single = _races(port, headers, clients, races)
                echo(f"  If-Match races: {rounds}, with exactly one winner: {single}")


def run_outbox(messages: int, postgres: str | None, echo: Echo) -> None:
    """Print how fast the outbox enqueues and delivers messages (no-op handler)."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        with _backend(postgres, folder) as backend:
            app = lrs.create_app(
                {"DATABASE_URL": backend.url, "INSTANCE_PATH": str(folder / "instance"), "KEYS_DIR": str(folder / "keys"),
                 "SECRET_KEY": uuid.uuid4().hex + uuid.uuid4().hex, "OUTBOX_BATCH_SIZE": 200}
            )
            database = get_db(app)
            try:
                lrs_bench.build_schema(database)
                delivered: list[Any] = []
                core.register_handler(app, "bench", lambda _app, payload: delivered.append(payload["n"]))
                started = time.monotonic()
                for first in range(0, messages, 100):
                    with database.session() as session:
                        for n in range(first, min(messages, first + 100)):
                            core.enqueue(session, "bench", {"n": n})
                enqueue_rate = messages / (time.monotonic() - started)
                started = time.monotonic()
                report = core.deliver_until_idle(app)
                deliver_rate = report.delivered / max(time.monotonic() - started, 1e-9)
                echo(f"{backend.name}: {messages} messages")
                echo(f"  enqueue (100 per transaction): {enqueue_rate:8.1f} msg/s")
                echo(f"  deliver (claim, handle, mark): {deliver_rate:8.1f} msg/s, delivered {report.delivered}, in order: {delivered == sorted(delivered)}")
            finally:
                database.dispose()
