"""Test manual registration: the `platforms` and `keys` commands and the administrators' page."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from lrs.db import get_db
from lrs.staff import Role
from lti_tool.lti import registry
from lti_tool.lti.cli import keys_group, platforms_group
from tests.conftest import csrf_token_from

ISSUER = "https://moodle.example.gov.tw"


@pytest.fixture
def make_staff_lti(lti_app: Flask) -> Callable[..., Any]:
    """Give a factory that logs a test client in as a new administrator of the LTI test app."""
    from lrs.staff import service as staff_service

    def make(client: FlaskClient, username: str) -> None:
        with get_db(lti_app).session() as session:
            staff_service.create_user(session, username, "correct-horse-battery", {Role.ADMINISTRATOR})
        token = csrf_token_from(client, "/staff/login")
        response = client.post("/staff/login", data={"username": username, "password": "correct-horse-battery",
                                                     "csrf_token": token})
        assert response.status_code == 302

    return make


def test_platforms_add_list_status_remove(app: Flask) -> None:
    """Register, list, activate with a deployment, and remove a platform from the command line."""
    runner = app.test_cli_runner()
    added = runner.invoke(platforms_group, [
        "add", "--issuer", ISSUER, "--client-id", "abc", "--auth-login-url", ISSUER + "/mod/lti/auth.php",
        "--jwks-url", ISSUER + "/mod/lti/certs.php", "--token-url", ISSUER + "/mod/lti/token.php",
        "--name", "Moodle", "--status", "pending",
    ])
    assert added.exit_code == 0, added.output
    listed = json.loads(runner.invoke(platforms_group, ["list", "--json"]).output)
    assert [(p["issuer"], p["client_id"], p["status"], p["deployments"]) for p in listed] == [(ISSUER, "abc", "pending", [])]
    registration_id = str(listed[0]["id"])
    changed = runner.invoke(platforms_group, ["status", registration_id, "active", "--add-deployment", "1"])
    assert changed.exit_code == 0 and "active" in changed.output and "1" in changed.output
    duplicate = runner.invoke(platforms_group, ["add", "--issuer", ISSUER, "--client-id", "abc",
                                                "--auth-login-url", ISSUER + "/auth", "--jwks-url", ISSUER + "/jwks"])
    assert duplicate.exit_code != 0 and "already registered" in duplicate.output
    removed = runner.invoke(platforms_group, ["remove", registration_id, "--yes"])
    assert removed.exit_code == 0
    assert json.loads(runner.invoke(platforms_group, ["list", "--json"]).output) == []


def test_platforms_add_refuses_bad_urls(app: Flask) -> None:
    """Refuse a registration whose endpoints are not https URLs, with a message naming the field."""
    result = app.test_cli_runner().invoke(platforms_group, [
        "add", "--issuer", ISSUER, "--client-id", "x", "--auth-login-url", "not a url", "--jwks-url", ISSUER + "/j"])
    assert result.exit_code != 0 and "authorization" in result.output


def test_keys_rotate_tokens_signed_before_and_after_verify(app: Flask, client: FlaskClient) -> None:
    """Verify against /lti/jwks a token signed before a rotation and one signed after it (Security §6.3)."""
    import jwt

    from lti_tool.keys import get_keyring

    with app.app_context():
        before = get_keyring().signing_key()
        old_token = jwt.encode({"iss": "tool"}, before.private_pem, algorithm="RS256", headers={"kid": before.kid})
        assert app.test_cli_runner().invoke(keys_group, ["rotate", "--overlap-hours", "0"]).exit_code == 0
        after = get_keyring().signing_key()
        new_token = jwt.encode({"iss": "tool"}, after.private_pem, algorithm="RS256", headers={"kid": after.kid})
    assert before.kid != after.kid
    published = {k["kid"]: k for k in client.get("/.well-known/jwks.json").get_json()["keys"]}
    for token in (old_token, new_token):
        kid = jwt.get_unverified_header(token)["kid"]
        assert jwt.decode(token, jwt.PyJWK(published[kid]).key, algorithms=["RS256"])["iss"] == "tool"


def test_keys_rotate_publishes_second_key(app: Flask, client: FlaskClient) -> None:
    """Publish a new key at once with `keys rotate`, keeping the current one signing during the overlap."""
    before = client.get("/lti/jwks").get_json()["keys"]
    result = app.test_cli_runner().invoke(keys_group, ["rotate", "--overlap-hours", "1"])
    assert result.exit_code == 0, result.output
    after = client.get("/lti/jwks").get_json()["keys"]
    assert len(after) == len(before) + 1
    listing = app.test_cli_runner().invoke(keys_group, ["list"]).output
    assert listing.count("signing") == 1 and before[0]["kid"] in listing.split("signing")[0]


def test_admin_platforms_needs_administrator(client: FlaskClient, make_staff: Callable[..., tuple[str, str]],
                                             login: Callable[[str, str], None]) -> None:
    """Refuse the platforms page to anonymous visitors and to curators."""
    assert client.get("/lti/admin/platforms").status_code == 302
    login(*make_staff("curator1", Role.CURATOR))
    assert client.get("/lti/admin/platforms").status_code == 403


def test_admin_platforms_post_registers_and_changes_status(app: Flask, client: FlaskClient,
                                                           make_staff: Callable[..., tuple[str, str]],
                                                           login: Callable[[str, str], None]) -> None:
    """Register a platform through the page, then disable it and add a deployment, with CSRF tokens."""
    login(*make_staff("admin1", Role.ADMINISTRATOR))
    token = csrf_token_from(client, "/lti/admin/platforms")
    form = {"csrf_token": token, "issuer": ISSUER, "client_id": "page-client", "name": "Agency Moodle",
            "auth_login_url": ISSUER + "/auth", "jwks_url": ISSUER + "/jwks", "deployment_ids": "d1\nd2",
            "status": "active"}
    created = client.post("/lti/admin/platforms", data=form)
    assert created.status_code == 303
    with get_db(app).session() as session:
        row = registry.find(session, ISSUER, "page-client")
        assert row is not None and row.deployment_ids == ["d1", "d2"] and row.status == "active"
        row_id = row.id
    changed = client.post(f"/lti/admin/platforms/{row_id}/status",
                          data={"csrf_token": token, "status": "disabled", "deployment_ids": "d3"})
    assert changed.status_code == 303
    with get_db(app).session() as session:
        row = registry.get(session, row_id)
        assert row.status == "disabled" and row.deployment_ids == ["d1", "d2", "d3"]
    bad = client.post("/lti/admin/platforms", data={**form, "client_id": "other", "jwks_url": "", "platform_jwks": ""})
    assert bad.status_code == 400 and "JWKS" in bad.get_data(as_text=True)
    page = client.get("/lti/admin/platforms?lang=en").get_data(as_text=True)
    assert "Agency Moodle" in page
    no_csrf = client.post(f"/lti/admin/platforms/{row_id}/delete")
    assert no_csrf.status_code == 400
    deleted = client.post(f"/lti/admin/platforms/{row_id}/delete", data={"csrf_token": token})
    assert deleted.status_code == 303


def test_admin_platforms_offers_deployments_that_tried_to_launch(
        lti_app: Flask, platform: Any, make_staff_lti: Callable[..., Any]) -> None:
    """Show an administrator the unregistered deployment that launched (signature verified) and add it in a click."""
    client = lti_app.test_client()
    state, nonce = platform.login(client)
    claims = {**platform.claims(nonce), "https://purl.imsglobal.org/spec/lti/claim/deployment_id": "canvas-dep-9"}
    refused = client.post("/lti/launch", data={"id_token": platform.sign(claims), "state": state})
    assert refused.status_code == 403
    admin = lti_app.test_client()
    make_staff_lti(admin, "admin2")
    page = admin.get("/lti/admin/platforms?lang=en").get_data(as_text=True)
    assert "canvas-dep-9" in page and "signed by the platform" in page
    with get_db(lti_app).session() as session:
        row = registry.find(session, platform.issuer, platform.client_id)
        assert row is not None
        row_id, status = row.id, row.status
    token = csrf_token_from(admin, "/lti/admin/platforms")
    added = admin.post(f"/lti/admin/platforms/{row_id}/status",
                       data={"csrf_token": token, "deployment_ids": "canvas-dep-9", "status": status})
    assert added.status_code == 303
    assert "Tried to launch" not in admin.get("/lti/admin/platforms?lang=en").get_data(as_text=True)
    assert platform.launch(client, **{"https://purl.imsglobal.org/spec/lti/claim/deployment_id": "canvas-dep-9"}).status_code == 303
