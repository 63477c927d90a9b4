"""Test /healthz and the refusal to serve a database that is not at the migration head."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

import lti_tool
from lrs.db import get_db, make_engine
from tests.conftest import app_config


def test_healthz_get_reports_database_ready(client: FlaskClient) -> None:
    """Answer 200 with the revision at head."""
    response = client.get("/healthz")
    body = response.get_json()
    assert response.status_code == 200
    assert body["status"] == "ok"
    assert body["database"]["reachable"] is True
    assert body["database"]["revision"] == body["database"]["head"]
    assert body["database"]["up_to_date"] is True


def test_app_refuses_database_without_schema(tmp_path: Path) -> None:
    """Answer 503 naming `learning-bridge db upgrade` while the database has no schema."""
    app = lti_tool.create_app(app_config(f"sqlite:///{tmp_path / 'empty.db'}", tmp_path))
    client = app.test_client()
    health = client.get("/healthz")
    assert health.status_code == 503
    assert "learning-bridge db upgrade" in health.get_json()["problem"]
    page = client.get("/", headers={"Accept": "application/json"})
    assert page.status_code == 503
    assert "learning-bridge db upgrade" in page.get_json()["error"]["message"]
    get_db(app).dispose()


def test_app_refuses_database_from_newer_version(app: Flask) -> None:
    """Answer 503 when the database was migrated by a newer version of the code."""
    engine = make_engine(get_db(app).url)
    with engine.begin() as connection:
        head = connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
        connection.execute(text("UPDATE alembic_version SET version_num = 'ffffffffffff'"))
    try:
        response = app.test_client().get("/healthz")
        assert response.status_code == 503
        assert "newer version" in response.get_json()["problem"]
    finally:
        # The PostgreSQL database is shared by the run's tests: put the revision back.
        with engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = :head"), {"head": head})
        engine.dispose()


def test_app_unreachable_database_is_reported(tmp_path: Path) -> None:
    """Report an unreachable PostgreSQL server as unreachable, not as a crash."""
    app = lti_tool.create_app(app_config("postgresql://nobody@127.0.0.1:1/none", tmp_path))
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["database"]["reachable"] is False
    assert "unreachable" in body["problem"]
    get_db(app).dispose()
