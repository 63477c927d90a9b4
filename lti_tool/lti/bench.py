"""Measure complete LTI login + launch round trips per second against gunicorn workers.

`learning-bridge bench lti` starts a local platform (its own RSA key and JWKS over HTTP on
127.0.0.1), a fresh SQLite database (or `--database-url`), and gunicorn with 2 and 4 workers,
once with launch state in the database and once in Redis (when `--redis-url` or REDIS_URL is
given). Each round trip is what a browser does: GET /lti/login, the platform signs an id_token
for the returned state and nonce, POST /lti/launch with the state cookie, 303 to the landing page.
(The login asks for the top-level variant, `lti1p3_new_window=1`: in a frame the tool first answers a
page whose script checks cookies and continues to the same URL, which costs the server nothing.)
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import click
import jwt
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from lti_tool.keys import public_jwk

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class LocalPlatform:
    """A minimal platform: an RSA key, its JWKS served on 127.0.0.1, and an id_token signer."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.pem = self.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption())
        self.kid = "bench-key"
        self.client_id = "bench-client"
        self.deployment_id = "bench-deployment"
        body = json.dumps({"keys": [public_jwk(self.key.public_key(), self.kid)]}).encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.issuer = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()

    def id_token(self, nonce: str, target: str, sub: str = "bench-user") -> str:
        """Sign a resource-link launch for a nonce."""
        now = int(time.time())
        lti = "https://purl.imsglobal.org/spec/lti/claim/"
        claims = {
            "iss": self.issuer, "aud": self.client_id, "sub": sub, "nonce": nonce, "iat": now, "exp": now + 300,
            "name": "Bench User", lti + "message_type": "LtiResourceLinkRequest", lti + "version": "1.3.0",
            lti + "deployment_id": self.deployment_id, lti + "target_link_uri": target,
            lti + "resource_link": {"id": "bench-link"}, lti + "roles": [
                "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"],
        }
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": self.kid})


@contextmanager
def gunicorn(env: dict[str, str], workers: int, port: int, timeout: float = 60.0) -> Iterator[str]:
    """Run `gunicorn lti_tool.wsgi:app` on 127.0.0.1:port until the block ends; yield its base URL."""
    full_env = {**os.environ, **env}
    process = subprocess.Popen(  # noqa: S603  (fixed argument list)
        [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--bind", f"127.0.0.1:{port}",
         "--log-level", "warning", "lti_tool.wsgi:app"],
        cwd=PROJECT_ROOT, env=full_env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                error = process.stderr.read().decode(errors="replace")[-2000:] if process.stderr else ""
                raise RuntimeError(f"gunicorn exited with {process.returncode}: {error}")
            try:
                if requests.get(base + "/lti/jwks", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not answer in time")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stderr:
            process.stderr.close()


def round_trip(session: requests.Session, base: str, platform: LocalPlatform) -> tuple[int, str]:
    """Run one login + launch like a browser; return the launch's status and its landing location."""
    login = session.get(base + "/lti/login", params={
        "iss": platform.issuer, "login_hint": "bench-user", "target_link_uri": base + "/lti/launch",
        "client_id": platform.client_id, "lti_deployment_id": platform.deployment_id, "lti1p3_new_window": "1",
    }, allow_redirects=False, timeout=10)
    if login.status_code != 302:
        return login.status_code, ""
    query = parse_qs(urlsplit(login.headers["Location"]).query)
    token = platform.id_token(query["nonce"][0], base + "/lti/launch")
    launch = session.post(base + "/lti/launch", data={"id_token": token, "state": query["state"][0]},
                          allow_redirects=False, timeout=10)
    return launch.status_code, launch.headers.get("Location", "")


def prepare_database(url: str, platform: LocalPlatform, env: dict[str, str]) -> None:
    """Create the schema (when empty) and register the platform, through the app factory."""
    from lrs.db import Base, alembic_config, get_db
    from lrs.models import import_all_models
    from lti_tool import create_app
    from lti_tool.lti import registry

    import_all_models()
    from alembic import command
    from sqlalchemy import inspect

    from lrs.db import make_engine

    engine = make_engine(url)
    if not inspect(engine).has_table("lti_registration"):
        Base.metadata.create_all(engine)
        config = alembic_config(url)
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.stamp(config, "head")
    engine.dispose()
    overrides = {k: v for k, v in env.items() if k in {"DATABASE_URL", "KEYS_DIR", "INSTANCE_PATH", "SECRET_KEY",
                                                        "PUBLIC_BASE_URL", "ALLOW_PRIVATE_OUTBOUND"}}
    app = create_app(overrides)
    with get_db(app).session() as session:
        if registry.find(session, platform.issuer, platform.client_id) is None:
            registry.create(session, registry.RegistrationInput(
                issuer=platform.issuer, client_id=platform.client_id, auth_login_url=platform.issuer + "/auth",
                jwks_url=platform.issuer + "/jwks", deployment_ids=[platform.deployment_id], name="Bench LMS",
            ), allow_http=True)
    get_db(app).dispose()


@dataclass
class Figures:
    """What one configuration measured."""

    label: str
    round_trips: int
    failures: dict[int, int]
    seconds: float
    latencies_ms: list[float]

    def line(self) -> str:
        """Return one printable line."""
        rate = self.round_trips / self.seconds if self.seconds else 0.0
        p50 = statistics.median(self.latencies_ms) if self.latencies_ms else 0.0
        p95 = sorted(self.latencies_ms)[int(len(self.latencies_ms) * 0.95) - 1] if self.latencies_ms else 0.0
        return (f"{self.label:<28} {rate:8.1f} round trips/s   p50 {p50:6.1f} ms   p95 {p95:6.1f} ms   "
                f"({self.round_trips} ok, {sum(self.failures.values())} failed, {self.seconds:.1f} s)"
                + (f" failures by status: {self.failures}" if self.failures else ""))


def measure(base: str, platform: LocalPlatform, seconds: float, clients: int, label: str) -> Figures:
    """Run round trips from several client threads for a while."""
    latencies: list[float] = []
    failures: dict[int, int] = {}
    lock = threading.Lock()
    round_trip(requests.Session(), base, platform)  # warm up: JWKS fetched and cached once
    stop = time.monotonic() + seconds

    def client_loop() -> None:
        session = requests.Session()
        while time.monotonic() < stop:
            started = time.perf_counter()
            status, _ = round_trip(session, base, platform)
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                if status == 303:
                    latencies.append(elapsed)
                else:
                    failures[status] = failures.get(status, 0) + 1

    began = time.monotonic()
    threads = [threading.Thread(target=client_loop) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Figures(label, len(latencies), failures, time.monotonic() - began, latencies)


@click.command("lti")
@click.option("--seconds", type=float, default=5.0, show_default=True, help="Measuring time per configuration.")
@click.option("--clients", type=int, default=4, show_default=True, help="Concurrent simulated browsers.")
@click.option("--workers", "worker_counts", type=int, multiple=True, default=(2, 4), show_default=True,
              help="gunicorn worker counts to measure (repeat).")
@click.option("--database-url", default="", help="Database for the run (default: a fresh SQLite file).")
@click.option("--redis-url", default=lambda: os.environ.get("REDIS_URL", ""), help="Also measure with state in Redis.")
def bench_lti(seconds: float, clients: int, worker_counts: tuple[int, ...], database_url: str, redis_url: str) -> None:
    """Measure LTI login + launch round trips per second with gunicorn workers (database and Redis state)."""
    platform = LocalPlatform()
    folder = Path(tempfile.mkdtemp(prefix="lb-bench-lti-"))
    port = free_port()
    env = {
        "DATABASE_URL": database_url or f"sqlite:///{folder / 'bench.db'}",
        "KEYS_DIR": str(folder / "keys"), "INSTANCE_PATH": str(folder / "instance"),
        "SECRET_KEY": "bench-" + uuid.uuid4().hex, "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "ALLOW_PRIVATE_OUTBOUND": "1", "DEMO_MODE": "0",
    }
    try:
        prepare_database(env["DATABASE_URL"], platform, env)
        backends = [("database", {"REDIS_URL": ""})]
        if redis_url:
            backends.append(("redis", {"REDIS_URL": redis_url, "REDIS_KEY_PREFIX": f"lbbench:{uuid.uuid4().hex[:8]}:"}))
        db_kind = "sqlite" if env["DATABASE_URL"].startswith("sqlite") else "postgresql"
        click.echo(f"LTI login + launch round trips, {clients} clients, {seconds:g} s each, database {db_kind}")
        for workers in worker_counts:
            for name, extra in backends:
                with gunicorn({**env, **extra}, workers, port) as base:
                    figures = measure(base, platform, seconds, clients, f"{workers} workers, state in {name}")
                click.echo(figures.line())
        if not redis_url:
            click.echo("(Redis not measured: give --redis-url or set REDIS_URL)")
    finally:
        platform.close()
