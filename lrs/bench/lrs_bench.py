"""Measure the LRS: HTTP ingest under gunicorn, the raw database ceiling, validation, query latency.

`learning-bridge bench lrs` runs this on SQLite and, when a PostgreSQL URL is given, on a
temporary PostgreSQL database too. Everything runs on 127.0.0.1; the gunicorn server and the
temporary databases are removed at the end, whatever happens.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import os
import random
import re
import secrets
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import orjson
import psycopg
from alembic import command
from sqlalchemy import text
from sqlalchemy.orm import Session

from lrs.db import Base, Database, alembic_config, utcnow
from lrs.models import import_all_models
from lrs.storage import credentials as creds
from lrs.storage import statements as repo
from lrs.xapi import statements as xs
from lrs.xapi.validation import validate_statement

Echo = Callable[[str], None]
VERBS = [f"http://adlnet.gov/expapi/verbs/v{index}" for index in range(19)]
RARE_VERB = "http://example.com/verbs/rarely-used"
HOME = "https://lms.example.gov.tw"
# The gunicorn master's process id by port, for CPU accounting.
SERVER_PIDS: dict[int, int] = {}


def sample_statement(rng: random.Random, actors: int = 5000, activities: int = 20000, courses: int = 100) -> dict[str, Any]:
    """Return a realistic statement of about 1.6 KB (account actor, definition, result, context)."""
    course = rng.randrange(courses)
    activity = rng.randrange(activities)
    verb = RARE_VERB if rng.random() < 0.001 else VERBS[rng.randrange(len(VERBS))]
    return {
        "actor": {"objectType": "Agent", "name": f"Learner {rng.randrange(actors)}", "account": {"homePage": HOME, "name": f"u{rng.randrange(actors)}"}},
        "verb": {"id": verb, "display": {"en-US": "completed", "zh-TW": "完成"}},
        "object": {
            "objectType": "Activity",
            "id": f"https://learning.example.gov.tw/activities/{activity}",
            "definition": {
                "name": {"en-US": f"International module {activity}", "zh-TW": f"國際課程單元 {activity}"},
                "description": {"en-US": "A module of an international course licensed for civil servants.", "zh-TW": "公務人員國際教育課程單元。"},
                "type": "http://adlnet.gov/expapi/activities/module",
                "extensions": {"https://learning.example.gov.tw/xapi/hours": 2, "https://learning.example.gov.tw/xapi/category": "A1-02"},
            },
        },
        "result": {"score": {"scaled": 0.86, "raw": 86, "min": 0, "max": 100}, "success": True, "completion": True, "duration": "PT42M10S"},
        "context": {
            "registration": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "platform": "International Learning Bridge",
            "language": "zh-TW",
            "contextActivities": {
                "parent": [{"id": f"https://learning.example.gov.tw/courses/{course}", "objectType": "Activity"}],
                "grouping": [{"id": "https://learning.example.gov.tw/zones/international", "objectType": "Activity"}],
                "category": [{"id": "https://w3id.org/xapi/cmi5/context/categories/moveon"}],
            },
            "extensions": {"https://learning.example.gov.tw/xapi/agency": "A0000001", "https://learning.example.gov.tw/xapi/session": secrets.token_hex(8)},
        },
        "timestamp": "2026-05-01T08:30:00.000+08:00",
    }


def percentile(values: list[float], fraction: float) -> float:
    """Return a percentile (nearest rank) of values in milliseconds."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))] * 1000


@dataclass
class Backend:
    """A database to benchmark, with how to drop it afterwards."""

    name: str
    url: str
    cleanup: Callable[[], None]


@contextlib.contextmanager
def sqlite_backend(folder: Path) -> Iterator[Backend]:
    """Give a fresh SQLite database file."""
    yield Backend("SQLite", f"sqlite:///{folder / 'bench.db'}", lambda: None)


@contextlib.contextmanager
def postgres_backend(server_url: str) -> Iterator[Backend]:
    """Create a temporary PostgreSQL database on the server and drop it afterwards."""
    admin = re.sub(r"^postgresql\+psycopg://", "postgresql://", server_url)
    name = f"lb_bench_{secrets.token_hex(4)}"
    with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')  # generated name, never user input
    url = admin.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1) + f"/{name}"

    def drop() -> None:
        with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    try:
        yield Backend("PostgreSQL", url, drop)
    finally:
        drop()


def build_schema(database: Database) -> None:
    """Create every table and stamp the migration head, as `db upgrade` leaves a database."""
    import_all_models()
    Base.metadata.create_all(database.engine)
    config = alembic_config(database.url)
    with database.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.stamp(config, "head")


def process_cpu_seconds(pid: int) -> float | None:
    """Return the CPU time (user + system) a process and its children have used, or None off Linux.

    On a shared machine wall-clock rates vary with everyone else's load; CPU per statement does not.
    """
    try:
        pids = [pid]
        with contextlib.suppress(OSError):
            pids += [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
        total = 0
        for each in pids:
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
        return total / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def machine_load() -> str:
    """Describe how busy the machine is: 1-minute load average against the CPU count."""
    try:
        one, _, _ = os.getloadavg()
    except OSError:
        return "load unknown"
    return f"load average {one:.2f} on {os.cpu_count()} CPUs"


@contextlib.contextmanager
def gunicorn(url: str, folder: Path, workers: int) -> Iterator[int]:
    """Run the standalone LRS under gunicorn on 127.0.0.1 (a free port) and yield the port."""
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": secrets.token_urlsafe(32),
        "INSTANCE_PATH": str(folder / "instance"),
        "KEYS_DIR": str(folder / "keys"),
        "PUBLIC_BASE_URL": "http://127.0.0.1",
        "WEB_CONCURRENCY": str(workers),
    }
    process = subprocess.Popen(  # noqa: S603 (fixed argument list)
        [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--bind", "127.0.0.1:0", "--log-level", "info", "lrs:create_app()"],
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    try:
        port = None
        deadline = time.monotonic() + 30
        assert process.stderr is not None
        while port is None and time.monotonic() < deadline:
            line = process.stderr.readline()
            if not line and process.poll() is not None:
                raise RuntimeError("gunicorn exited before listening")
            match = re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", line)
            if match:
                port = int(match.group(1))
        if port is None:
            raise RuntimeError("gunicorn did not start listening within 30 s")
        # Keep draining gunicorn's log so a full pipe never blocks it.
        drain = threading.Thread(target=lambda: [None for _ in process.stderr or ()], daemon=True)
        drain.start()
        _wait_ready(port, workers)
        SERVER_PIDS[port] = process.pid
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        if process.stderr is not None:
            with contextlib.suppress(ValueError, OSError):
                process.stderr.close()


def _wait_ready(port: int, workers: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            status, _ = request(port, "GET", "/xapi/about", {}, None)
            if status == 200:
                time.sleep(0.5 * workers)
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("the LRS under gunicorn did not answer /xapi/about")


def request(port: int, method: str, path: str, headers: dict[str, str], body: bytes | None) -> tuple[int, bytes]:
    """Send one HTTP request on a new connection (gunicorn sync workers close after each)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def ingest_http(
    port: int, auth: str, batch: int, seconds: float, clients: int, rng: random.Random
) -> tuple[float, float, float, float | None]:
    """POST batches from several client threads for some seconds.

    Returns statements/s, p50 and p99 latency (ms) and the server's CPU microseconds per statement.
    """
    bodies = [orjson.dumps([sample_statement(rng) for _ in range(batch)]) for _ in range(20)]
    headers = {"Authorization": auth, "X-Experience-API-Version": "1.0.3", "Content-Type": "application/json"}
    latencies: list[float] = []
    stored = [0]
    failures: list[int] = []
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def run(index: int) -> None:
        count = 0
        while time.monotonic() < stop:
            started = time.perf_counter()
            status, _ = request(port, "POST", "/xapi/statements", headers, bodies[(index + count) % len(bodies)])
            elapsed = time.perf_counter() - started
            count += 1
            with lock:
                if status == 200:
                    latencies.append(elapsed)
                    stored[0] += batch
                else:
                    failures.append(status)

    pid = SERVER_PIDS.get(port)
    cpu_before = process_cpu_seconds(pid) if pid else None
    started = time.perf_counter()
    threads = [threading.Thread(target=run, args=(index,)) for index in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if failures:
        raise RuntimeError(f"{len(failures)} POSTs failed, e.g. status {failures[0]}")
    cpu_after = process_cpu_seconds(pid) if pid else None
    cpu = (cpu_after - cpu_before) / stored[0] * 1e6 if cpu_before is not None and cpu_after is not None and stored[0] else None
    return stored[0] / elapsed, percentile(latencies, 0.5), percentile(latencies, 0.99), cpu


def settle(database: Database) -> None:
    """Start each run from the same state: SQLite's write-ahead log checkpointed and emptied."""
    if database.engine.dialect.name == "sqlite":
        with database.engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def ingest_raw(database: Database, authority: dict[str, Any], seconds: float, rng: random.Random) -> float:
    """Insert the same rows in batches of 100 without HTTP, validation or preparation; return statements/s.

    The rows and index keys are built before timing; each batch takes the write lock, gets fresh
    ids and stored-order keys, and commits, on one connection kept open: what the database
    itself can take.
    """
    agent = xs.agent_key(authority)
    now = utcnow()
    templates = []
    for _ in range(20):
        prepared = [xs.prepare(stmt, stored=now, authority=authority, version="1.0.3") for stmt in (sample_statement(rng) for _ in range(100))]
        found = [xs.statement_keys(stmt) for stmt in prepared]
        rows = [repo.statement_row(stmt, key, stored_at=now, authority_key=agent) for stmt, key in zip(prepared, found, strict=True)]
        templates.append((rows, [key.keys for key in found]))
    count = 0
    with database.engine.connect() as connection:
        session = Session(bind=connection)
        started = time.perf_counter()
        stop = time.monotonic() + seconds
        try:
            while time.monotonic() < stop:
                template_rows, template_keys = templates[count % len(templates)]
                repo.lock_for_write(session)
                stored = utcnow()
                batch = [{**row, "statement_id": str(uuid.uuid4()), "stored": stored} for row in template_rows]
                repo.insert_rows(session, batch, template_keys)
                session.commit()
                count += 1
        finally:
            session.close()
    return count * 100 / (time.perf_counter() - started)


def validation_cost(rng: random.Random, rounds: int = 5000) -> tuple[float, int]:
    """Return the microseconds validation takes per statement, and the statement's size in bytes."""
    stmt = sample_statement(rng)
    started = time.perf_counter()
    for _ in range(rounds):
        validate_statement(stmt, "1.0.3")
    return (time.perf_counter() - started) / rounds * 1e6, len(orjson.dumps(stmt))


def fill(database: Database, authority: dict[str, Any], target: int, rng: random.Random, echo: Echo) -> int:
    """Store statements in-process until the database holds `target`; return how many it holds."""
    with database.session() as session:
        have = int(session.execute(text("SELECT count(*) FROM lrs_statement")).scalar() or 0)
    started, first = time.perf_counter(), have
    report_at = (have // 100_000 + 1) * 100_000  # the ingest runs leave a count that is no round number
    while have < target:
        size = min(1000, target - have)
        with database.session() as session:
            repo.store_batch(session, [sample_statement(rng) for _ in range(size)], authority=authority, version="1.0.3")
        have += size
        if have >= report_at:
            echo(f"    filled {have:,} statements ({(have - first) / (time.perf_counter() - started):,.0f}/s)")
            report_at += 100_000
    with database.engine.begin() as connection:
        connection.execute(text("ANALYZE"))
    return have


def query_latencies(port: int, auth: str, database: Database, rng: random.Random, rounds: int) -> list[tuple[str, int, float, float]]:
    """Time GET by id and each filter at limits 10 and 100; return (name, limit, p50, p95) rows."""
    with database.session() as session:
        some_id = session.execute(text("SELECT statement_id FROM lrs_statement ORDER BY pk DESC LIMIT 1 OFFSET 1000")).scalar()
        some_id = some_id or session.execute(text("SELECT statement_id FROM lrs_statement LIMIT 1")).scalar()
        registration = session.execute(text("SELECT registration FROM lrs_statement ORDER BY pk DESC LIMIT 1 OFFSET 500")).scalar()
        registration = registration or session.execute(text("SELECT registration FROM lrs_statement LIMIT 1")).scalar()
        middle = session.execute(text("SELECT max(stored) FROM lrs_statement")).scalar()
    sample = sample_statement(rng)
    agent = orjson.dumps(sample["actor"]).decode()
    course = sample["context"]["contextActivities"]["parent"][0]["id"]
    since = middle.strftime("%Y-%m-%dT%H:%M:%S.000Z") if middle is not None and hasattr(middle, "strftime") else "2000-01-01T00:00:00Z"
    cases: list[tuple[str, dict[str, str], bool]] = [
        ("GET by id", {"statementId": str(some_id)}, False),
        ("no filter", {}, True),
        ("agent", {"agent": agent}, True),
        ("verb", {"verb": VERBS[0]}, True),
        ("activity", {"activity": sample["object"]["id"]}, True),
        ("registration", {"registration": str(registration)}, True),
        ("since", {"since": since}, True),
        ("related_activities", {"activity": course, "related_activities": "true"}, True),
        ("related_activities + rare verb", {"activity": course, "related_activities": "true", "verb": RARE_VERB}, True),
        ("agent + verb", {"agent": agent, "verb": VERBS[1]}, True),
    ]
    headers = {"Authorization": auth, "X-Experience-API-Version": "1.0.3"}
    rows = []
    for name, params, limited in cases:
        for limit in (10, 100) if limited else (0,):
            query = {**params, **({"limit": str(limit)} if limited else {})}
            path = "/xapi/statements?" + urlencode(query)
            timings = []
            for _ in range(rounds):
                started = time.perf_counter()
                status, _ = request(port, "GET", path, headers, None)
                timings.append(time.perf_counter() - started)
                if status != 200:
                    raise RuntimeError(f"GET {path} answered {status}")
            rows.append((name, limit, percentile(timings, 0.5), percentile(timings, 0.95)))
    return rows


def run_backend(backend: Backend, folder: Path, sizes: list[int], seconds: float, rounds: int, workers: int, clients: int, echo: Echo) -> None:
    """Run every measurement on one database and print the figures."""
    rng = random.Random(1003)  # noqa: S311 (benchmark data, not security)
    database = Database(backend.url)
    try:
        build_schema(database)
        with database.session() as session:
            issued = creds.create_credential(session, "bench", ["all"], "http://127.0.0.1")
            auth = "Basic " + base64.b64encode(f"{issued.credential.key}:{issued.secret}".encode()).decode()
            authority = orjson.loads(issued.credential.authority_json)
        echo(f"\n== {backend.name} ({workers} gunicorn sync workers, {clients} client threads, {seconds:g} s per run) ==")
        with gunicorn(backend.url, folder, workers) as port:
            echo("Ingest over HTTP (POST /xapi/statements):")
            results = {}
            for batch in (1, 10, 100):
                settle(database)
                rate, p50, p99, cpu = ingest_http(port, auth, batch, seconds, clients, rng)
                results[batch] = rate
                cost = f"   server CPU {cpu:6.0f} µs/statement" if cpu is not None else ""
                echo(f"  batch {batch:>3}: {rate:8,.0f} statements/s   p50 {p50:7.1f} ms   p99 {p99:7.1f} ms{cost}   ({machine_load()})")
            settle(database)
            raw = ingest_raw(database, authority, seconds, rng)
            echo(f"  raw database ceiling (batch 100, same rows, no HTTP/validation/preparation): {raw:,.0f} statements/s")
            echo(f"  HTTP batch-100 / raw ceiling: {results[100] / raw:.2f}")
            for size in sizes:
                echo(f"Queries at {size:,} stored statements:")
                held = fill(database, authority, size, rng, echo)
                if held > size:
                    echo(f"  (the database already holds {held:,})")
                for name, limit, p50, p95 in query_latencies(port, auth, database, rng, rounds):
                    label = f"{name} (limit {limit})" if limit else name
                    echo(f"  {label:<45} p50 {p50:7.2f} ms   p95 {p95:7.2f} ms")
    finally:
        database.dispose()


def run(sizes: list[int], seconds: float, rounds: int, workers: int, clients: int, postgres: str | None, echo: Echo) -> None:
    """Benchmark SQLite and, when given, PostgreSQL."""
    echo(f"Machine before starting: {machine_load()} (the run itself adds about {workers} + 1 busy processes).")
    micros, size = validation_cost(random.Random(7))  # noqa: S311
    echo(f"Validation: {micros:.1f} µs per {size:,}-byte statement (hand-written validator).")
    with tempfile.TemporaryDirectory(prefix="lb-bench-") as tmp:
        folder = Path(tmp)
        with sqlite_backend(folder) as backend:
            run_backend(backend, folder, sizes, seconds, rounds, workers, clients, echo)
        if postgres:
            with postgres_backend(postgres) as backend:
                run_backend(backend, folder, sizes, seconds, rounds, workers, clients, echo)
