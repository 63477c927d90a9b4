"""Test the credentials administration page: login, role, CSRF, create, scope and revoke (C4)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

import lrs
from lrs.db import get_db
from lrs.staff.models import Role
from tests.conftest import app_config, basic_auth, csrf_token_from

PAGE = "/admin/lrs/credentials"
STATE = "/xapi/activities/state?activityId=http://example.com/a&agent=%7B%22mbox%22%3A%22mailto%3Aa%40example.com%22%7D&stateId=s"


def _admin(client: FlaskClient, make_staff: Callable[..., tuple[str, str]], login: Callable[[str, str], None]) -> None:
    login(*make_staff("admin-" + uuid.uuid4().hex[:6], Role.ADMINISTRATOR))


def _create(client: FlaskClient, name: str, *scopes: str) -> tuple[str, str]:
    token = csrf_token_from(client, PAGE)
    response = client.post(PAGE, data={"csrf_token": token, "name": name, "scopes": list(scopes)})
    assert response.status_code == 201, response.get_data(as_text=True)
    page = response.get_data(as_text=True)
    key = re.search(r'id="credential-key">([^<]+)<', page)
    secret = re.search(r'id="credential-secret">([^<]+)<', page)
    assert key and secret
    return key.group(1), secret.group(1)


def _xapi(key: str, secret: str) -> dict[str, str]:
    return {"Authorization": basic_auth(key, secret), "X-Experience-API-Version": "1.0.3"}


def test_admin_credentials_needs_login_and_administrator(
    client: FlaskClient, make_staff: Callable[..., tuple[str, str]], login: Callable[[str, str], None]
) -> None:
    """Send anonymous visitors to the login page and refuse staff without the administrator role."""
    anonymous = client.get(PAGE)
    assert anonymous.status_code == 302 and "/staff/login" in anonymous.headers["Location"]
    login(*make_staff("curator1", Role.CURATOR))
    assert client.get(PAGE).status_code == 403


def test_admin_creates_credential_and_shows_secret_once(
    client: FlaskClient, make_staff: Callable[..., tuple[str, str]], login: Callable[[str, str], None]
) -> None:
    """Create a working credential, show its secret on creation and never on the list."""
    _admin(client, make_staff, login)
    key, secret = _create(client, "Moodle of agency A", "state", "statements/write")
    assert client.put(STATE, json={"a": 1}, headers=_xapi(key, secret)).status_code == 204
    listing = client.get(PAGE).get_data(as_text=True)
    assert key in listing and "Moodle of agency A" in listing
    assert secret not in listing
    assert client.get(PAGE).headers["Cache-Control"] == "no-store"


def test_admin_create_refuses_missing_csrf_and_bad_input(
    client: FlaskClient, make_staff: Callable[..., tuple[str, str]], login: Callable[[str, str], None]
) -> None:
    """Refuse a form without its CSRF token, and explain an empty name or no scope."""
    _admin(client, make_staff, login)
    assert client.post(PAGE, data={"name": "x", "scopes": ["all"]}).status_code == 400
    token = csrf_token_from(client, PAGE)
    no_scope = client.post(PAGE, data={"csrf_token": token, "name": "x"})
    assert no_scope.status_code == 400 and "scope" in no_scope.get_data(as_text=True)
    no_name = client.post(PAGE, data={"csrf_token": token, "name": " ", "scopes": ["all"]})
    assert no_name.status_code == 400


def test_admin_revocation_takes_effect_at_once_in_every_worker(
    app: Flask, client: FlaskClient, make_staff: Callable[..., tuple[str, str]], login: Callable[[str, str], None],
    database_url: str, tmp_path: Path,
) -> None:
    """Refuse a revoked credential from the next request on, in another worker process's app too."""
    other_worker = lrs.create_app(app_config(database_url, tmp_path / "worker2"))
    try:
        _admin(client, make_staff, login)
        key, secret = _create(client, "to revoke", "all")
        other = other_worker.test_client()
        assert other.get("/xapi/activities?activityId=http://example.com/a", headers=_xapi(key, secret)).status_code == 200
        token = csrf_token_from(client, PAGE)
        revoked = client.post(f"{PAGE}/{key}/revoke", data={"csrf_token": token})
        assert revoked.status_code == 302
        assert other.get("/xapi/activities?activityId=http://example.com/a", headers=_xapi(key, secret)).status_code == 401
        assert client.put(STATE, json={}, headers=_xapi(key, secret)).status_code == 401
        assert "revoked" in client.get(PAGE + "?lang=en").get_data(as_text=True)
    finally:
        get_db(other_worker).dispose()


def test_admin_changes_scopes(
    client: FlaskClient, make_staff: Callable[..., tuple[str, str]], login: Callable[[str, str], None]
) -> None:
    """Narrow a credential's scopes; the next request is checked against the new ones."""
    _admin(client, make_staff, login)
    key, secret = _create(client, "narrowed", "all")
    assert client.put(STATE, json={}, headers=_xapi(key, secret)).status_code == 204
    token = csrf_token_from(client, PAGE)
    changed = client.post(f"{PAGE}/{key}/scopes", data={"csrf_token": token, "scopes": ["statements/read"]})
    assert changed.status_code == 302
    assert client.put(STATE, json={}, headers=_xapi(key, secret)).status_code == 403
    bad = client.post(f"{PAGE}/{key}/scopes", data={"csrf_token": token, "scopes": ["everything"]})
    assert bad.status_code == 400


def test_admin_page_is_in_chinese_by_default_and_english_on_request(
    client: FlaskClient, make_staff: Callable[..., tuple[str, str]], login: Callable[[str, str], None]
) -> None:
    """Show the page in Traditional Chinese by default and in English with ?lang=en, linked from the staff home."""
    _admin(client, make_staff, login)
    chinese = client.get(PAGE).get_data(as_text=True)
    assert "LRS 憑證" in chinese and "建立憑證" in chinese
    english = client.get(PAGE + "?lang=en").get_data(as_text=True)
    assert "Create a credential" in english
    assert PAGE in client.get("/staff/").get_data(as_text=True)
