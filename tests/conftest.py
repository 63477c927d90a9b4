"""Give every test a fresh app on a real database: SQLite always, PostgreSQL when CI provides it.

`TEST_DATABASE_URL` (a PostgreSQL server URL) makes every database-facing test run twice, once per
backend. The PostgreSQL run creates its own database (`lb_test_<random>`) and drops it at the
end, so nothing assumes an empty `test` database. `TEST_REDIS_URL` does the same for Redis with
a per-run key prefix. When these variables are set and the server is unreachable, tests fail
rather than skip.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from alembic import command
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, text

import lrs
import lti_tool
from lrs.db import Base, alembic_config, get_db, make_engine
from lrs.models import import_all_models
from lrs.staff import service as staff_service
from lrs.staff.models import Role
from lrs.storage import credentials as creds
from tests.lti_tool.learning.lms import TestLms

import_all_models()

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "")
BACKENDS = ["sqlite"] + (["postgresql"] if TEST_DATABASE_URL else [])
RUN_ID = uuid.uuid4().hex[:10]
SECRET = "test-secret-key-" + "x" * 32


def _pg_server_url(database: str) -> str:
    base = TEST_DATABASE_URL.rsplit("/", 1)[0]
    return f"{base}/{database}"


def _admin_dsn() -> str:
    return TEST_DATABASE_URL.replace("postgresql+psycopg://", "postgresql://")


def create_pg_database(name: str) -> str:
    """Create an empty PostgreSQL database and return its SQLAlchemy URL."""
    with psycopg.connect(_admin_dsn(), autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')  # name is generated here, never user input
    return _pg_server_url(name).replace("postgresql://", "postgresql+psycopg://", 1)


def drop_pg_database(name: str) -> None:
    """Drop a PostgreSQL database made by these tests."""
    with psycopg.connect(_admin_dsn(), autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def build_schema(engine: Engine, url: str) -> None:
    """Create every table from the models and stamp the Alembic head, as `db upgrade` would leave it."""
    Base.metadata.create_all(engine)
    config = alembic_config(url)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.stamp(config, "head")


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """Create this run's PostgreSQL database with the full schema, and drop it at the end."""
    if not TEST_DATABASE_URL:
        pytest.skip("TEST_DATABASE_URL is not set")
    name = f"lb_test_{RUN_ID}"
    url = create_pg_database(name)
    engine = make_engine(url)
    build_schema(engine, url)
    engine.dispose()
    yield url
    drop_pg_database(name)


def _truncate_all(url: str) -> None:
    engine = make_engine(url)
    tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Give the test an empty, migrated database on each backend."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'test.db'}"
        engine = make_engine(url)
        build_schema(engine, url)
        engine.dispose()
        yield url
    else:
        url = request.getfixturevalue("pg_url")
        yield url
        _truncate_all(url)


@pytest.fixture
def redis_url() -> Iterator[str]:
    """Give the test a Redis URL; keys it writes under its prefix are deleted afterwards."""
    if not TEST_REDIS_URL:
        pytest.skip("TEST_REDIS_URL is not set")
    yield TEST_REDIS_URL


@pytest.fixture
def redis_prefix(redis_url: str) -> Iterator[str]:
    """Give the test its own Redis key prefix and delete its keys afterwards."""
    import redis

    prefix = f"lbtest:{RUN_ID}:{uuid.uuid4().hex[:8]}:"
    yield prefix
    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter(match=prefix + "*"):
        client.delete(key)
    client.close()


def app_config(database_url: str, tmp_path: Path, **extra: Any) -> dict[str, Any]:
    """Return the configuration overrides a test app uses."""
    config: dict[str, Any] = {
        "DATABASE_URL": database_url,
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "KEYS_DIR": str(tmp_path / "keys"),
        "SECRET_KEY": SECRET,
        "PUBLIC_BASE_URL": "http://lb.test",
        "ALLOW_PRIVATE_OUTBOUND": True,
        "REDIS_KEY_PREFIX": f"lbtest:{RUN_ID}:{uuid.uuid4().hex[:8]}:",
        "TESTING": True,
    }
    config.update(extra)
    return config


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    """Give the whole product on a fresh database."""
    application = lti_tool.create_app(app_config(database_url, tmp_path))
    yield application
    get_db(application).dispose()


@pytest.fixture
def lrs_app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    """Give the standalone LRS on a fresh database."""
    application = lrs.create_app(app_config(database_url, tmp_path))
    yield application
    get_db(application).dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """Give a test client of the whole product."""
    return app.test_client()


_CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token_from(client: FlaskClient, url: str) -> str:
    """Fetch a page and return the CSRF token of its form."""
    page = client.get(url)
    match = _CSRF_RE.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {url} (status {page.status_code})"
    return match.group(1)


@pytest.fixture
def make_staff(app: Flask) -> Callable[..., tuple[str, str]]:
    """Give a factory of staff accounts that returns (username, password)."""

    def make(username: str, *roles: Role, password: str = "correct-horse-battery") -> tuple[str, str]:
        with get_db(app).session() as session:
            staff_service.create_user(session, username, password, set(roles) or {Role.CURATOR})
        return username, password

    return make


@pytest.fixture
def login(client: FlaskClient) -> Callable[[str, str], None]:
    """Log the client in as a staff account through the real login form."""

    def do_login(username: str, password: str) -> None:
        token = csrf_token_from(client, "/staff/login")
        response = client.post(
            "/staff/login", data={"username": username, "password": password, "csrf_token": token}
        )
        assert response.status_code == 302, response.get_data(as_text=True)

    return do_login


@pytest.fixture
def make_credential(app: Flask) -> Callable[..., tuple[str, str]]:
    """Give a factory of LRS credentials that returns (key, secret)."""

    def make(*scopes: str, name: str = "test client") -> tuple[str, str]:
        with get_db(app).session() as session:
            issued = creds.create_credential(session, name, list(scopes) or ["all"], "http://lb.test")
            return issued.credential.key, issued.secret

    return make


@pytest.fixture
def lrs_credentials(make_credential: Callable[..., tuple[str, str]]) -> tuple[str, str]:
    """Give a key and secret with the `all` scope."""
    return make_credential("all")


def basic_auth(key: str, secret: str) -> str:
    """Return an HTTP Basic Authorization header value."""
    import base64

    return "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()


@pytest.fixture
def xapi_headers(lrs_credentials: tuple[str, str]) -> dict[str, str]:
    """Give headers for an xAPI 1.0.3 request with full-scope credentials."""
    return {"Authorization": basic_auth(*lrs_credentials), "X-Experience-API-Version": "1.0.3"}


@pytest.fixture
def lms(app: Flask) -> Iterator[TestLms]:
    """Give a live test LMS on 127.0.0.1 registered with the tool (with the `app` of the requesting test's module)."""
    platform = TestLms()
    platform.register(app)
    yield platform
    platform.close()
