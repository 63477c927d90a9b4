"""Test Dynamic Registration against the live test platform, the tool's configuration, and the JWKS endpoints."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from lrs.db import get_db
from lti_tool.lti import registry
from tests.lti_tool.lti.conftest import TOOL_BASE, TestPlatform

TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"


def _start(client: FlaskClient, platform: TestPlatform, token: str = "reg-token-1") -> Any:
    return client.get("/lti/register", query_string={
        "openid_configuration": platform.issuer + "/.well-known/openid-configuration", "registration_token": token})


def _confirm(client: FlaskClient, page: Any) -> Any:
    match = re.search(r'name="registration" value="([^"]+)"', page.get_data(as_text=True))
    assert match, page.get_data(as_text=True)
    return client.post("/lti/register", data={"registration": match.group(1)}, headers={"Accept": "text/html"})


def _stored(app: Flask, platform: TestPlatform) -> Any:
    with app.app_context(), get_db(app).session() as session:
        row = registry.find(session, platform.issuer, platform.client_id)
        return None if row is None else (row.status, row.deployment_ids, row.source, row.product_family)


@pytest.fixture
def fresh_platform(lti_app: Flask, platform: TestPlatform) -> TestPlatform:
    """Give the test platform with a client id the tool has not registered yet."""
    platform.client_id = "dr-" + platform.client_id
    return platform


def test_register_get_post_registers_and_closes_dialog(lti_app: Flask, fresh_platform: TestPlatform) -> None:
    """Fetch the configuration with the token, POST the registration, store it active, post org.imsglobal.lti.close (DR §3.3-§3.6)."""
    client = lti_app.test_client()
    page = _start(client, fresh_platform)
    assert page.status_code == 200
    assert fresh_platform.issuer in page.get_data(as_text=True)
    assert fresh_platform.behaviour.tokens[-1] == "Bearer reg-token-1"
    done = _confirm(client, page)
    assert done.status_code == 200
    assert "org.imsglobal.lti.close" in done.get_data(as_text=True)
    sent = fresh_platform.behaviour.received[-1]
    assert sent["auth"] == "Bearer reg-token-1"
    body = sent["body"]
    assert body["initiate_login_uri"] == TOOL_BASE + "/lti/login"
    assert body["redirect_uris"] == [TOOL_BASE + "/lti/launch"]
    assert body["jwks_uri"] == TOOL_BASE + "/lti/jwks"
    assert body["token_endpoint_auth_method"] == "private_key_jwt"
    assert set(body["grant_types"]) == {"implicit", "client_credentials"} and body["response_types"] == ["id_token"]
    assert body["scope"] == "https://purl.imsglobal.org/spec/lti-ags/scope/score"  # only what the platform supports
    messages = {m["type"]: m for m in body[TOOL_CONFIGURATION]["messages"]}
    assert set(messages) == {"LtiResourceLinkRequest", "LtiDeepLinkingRequest"}
    assert messages["LtiDeepLinkingRequest"]["label#zh-TW"] and messages["LtiDeepLinkingRequest"]["label#en"]
    assert body[TOOL_CONFIGURATION]["custom_parameters"]
    assert "placements" not in messages["LtiDeepLinkingRequest"]  # the platform declared none
    assert _stored(lti_app, fresh_platform) == ("active", [fresh_platform.deployment_id], "dynamic", "testlms")


def test_register_then_launch_works(lti_app: Flask, fresh_platform: TestPlatform) -> None:
    """Launch successfully right after a dynamic registration."""
    client = lti_app.test_client()
    _confirm(client, _start(client, fresh_platform))
    assert fresh_platform.launch(client).status_code == 303


def test_register_post_is_single_use(lti_app: Flask, fresh_platform: TestPlatform) -> None:
    """Refuse to confirm the same registration twice."""
    client = lti_app.test_client()
    page = _start(client, fresh_platform)
    assert _confirm(client, page).status_code == 200
    again = _confirm(client, page)
    assert again.status_code == 400


def test_register_platform_answering_pending_is_stored_pending(lti_app: Flask, fresh_platform: TestPlatform) -> None:
    """Store the registration as pending when the platform names no deployment yet, and refuse its logins."""
    fresh_platform.behaviour.registration_pending = True
    client = lti_app.test_client()
    assert _confirm(client, _start(client, fresh_platform)).status_code == 200
    assert _stored(lti_app, fresh_platform) == ("pending", [], "dynamic", "testlms")
    login = client.get("/lti/login", query_string=fresh_platform.login_params(lti_deployment_id=""),
                       headers={"Accept": "application/json"})
    assert login.status_code == 403


def test_register_get_refuses_issuer_mismatch(lti_app: Flask, fresh_platform: TestPlatform) -> None:
    """Refuse a configuration whose issuer is not on the configuration URL's host (DR §3.5.1), storing nothing."""
    fresh_platform.behaviour.issuer_override = "https://lms.attacker.example"
    response = _start(lti_app.test_client(), fresh_platform)
    assert response.status_code == 400
    assert "§3.5.1" in response.get_data(as_text=True)
    assert _stored(lti_app, fresh_platform) is None


@pytest.mark.parametrize("status", [401, 403])
def test_register_post_token_refused(lti_app: Flask, fresh_platform: TestPlatform, status: int) -> None:
    """Tell the administrator to start again when the platform refuses the registration token, storing nothing."""
    fresh_platform.behaviour.registration_status = status
    client = lti_app.test_client()
    done = _confirm(client, _start(client, fresh_platform))
    assert done.status_code == 400
    assert "start the registration again" in done.get_data(as_text=True).lower()
    assert _stored(lti_app, fresh_platform) is None


def test_register_post_platform_error_is_502(lti_app: Flask, fresh_platform: TestPlatform) -> None:
    """Answer 502 when the platform's registration endpoint fails on its side."""
    fresh_platform.behaviour.registration_status = 500
    client = lti_app.test_client()
    assert _confirm(client, _start(client, fresh_platform)).status_code == 502


@pytest.mark.parametrize(("query", "status"), [
    ({}, 400),
    ({"openid_configuration": "ftp://example.org/config"}, 400),
    ({"openid_configuration": "http://127.0.0.1:9/.well-known/openid-configuration"}, 502),
])
def test_register_get_refuses_bad_configuration_url(lti_client: FlaskClient, query: dict[str, str], status: int) -> None:
    """Refuse a missing, non-http or unreachable configuration URL with a precise status."""
    response = lti_client.get("/lti/register", query_string=query, headers={"Accept": "application/json"})
    assert response.status_code == status


def test_register_get_refuses_private_address_unless_allowed(database_url: str, tmp_path: Any,
                                                            platform: TestPlatform) -> None:
    """Refuse a configuration URL on a loopback address when ALLOW_PRIVATE_OUTBOUND is off."""
    import lti_tool
    from tests.conftest import app_config

    app = lti_tool.create_app(app_config(database_url, tmp_path, ALLOW_PRIVATE_OUTBOUND=False))
    response = _start(app.test_client(), platform)
    assert response.status_code == 400 and "non-public" in response.get_data(as_text=True)
    get_db(app).dispose()


def test_config_get_shows_urls_as_page_and_json(lti_client: FlaskClient) -> None:
    """Show LMS administrators the login, redirect, deep-linking and JWKS URLs, as a page and as JSON."""
    page = lti_client.get("/lti/config?lang=en").get_data(as_text=True)
    for url in ("/lti/login", "/lti/launch", "/lti/jwks", "/lti/register"):
        assert TOOL_BASE + url in page
    data = lti_client.get("/lti/config.json").get_json()
    assert data["oidc_initiation_url"] == TOOL_BASE + "/lti/login"
    assert data["redirect_uris"] == [TOOL_BASE + "/lti/launch"] and data["deep_linking_url"] == TOOL_BASE + "/lti/launch"
    assert data["public_jwk_url"] == TOOL_BASE + "/lti/jwks"
    assert lti_client.get("/lti/config", headers={"Accept": "application/json"}).get_json() == data


@pytest.mark.parametrize("path", ["/lti/jwks", "/.well-known/jwks.json"])
def test_jwks_get_shows_public_keys_only(lti_client: FlaskClient, path: str) -> None:
    """Publish the tool's RS256 keys with kid and without private members (RFC 7517; Security §6.3)."""
    response = lti_client.get(path)
    keys = response.get_json()["keys"]
    assert response.status_code == 200 and keys
    assert all(k["alg"] == "RS256" and k["kid"] and not {"d", "p", "q", "dp", "dq", "qi"} & set(k) for k in keys)


def test_config_get_is_traditional_chinese_by_default(lti_client: FlaskClient) -> None:
    """Show the configuration page in Traditional Chinese unless English is asked for."""
    page = lti_client.get("/lti/config").get_data(as_text=True)
    assert "在您的學習平臺註冊本工具" in page and "動態註冊" in page
    assert "Register this tool in your LMS" in lti_client.get("/lti/config?lang=en").get_data(as_text=True)


def test_config_json_is_pasteable_as_canvas_developer_key(lti_client: FlaskClient) -> None:
    """Give the fields a Canvas developer key JSON needs, with deep-linking placements, and the PEM on the page."""
    data = lti_client.get("/lti/config.json").get_json()
    for field in ("title", "description", "oidc_initiation_url", "target_link_uri", "public_jwk_url", "scopes",
                  "custom_fields", "extensions"):
        assert data[field], field
    placements = data["extensions"][0]["settings"]["placements"]
    assert {p["message_type"] for p in placements} == {"LtiDeepLinkingRequest"}
    page = lti_client.get("/lti/config").get_data(as_text=True)
    assert "BEGIN PUBLIC KEY" in page and "PRIVATE" not in page


def test_register_request_asks_only_for_placements_the_platform_declares(lti_app: Flask) -> None:
    """Ask for deep-linking placements in the platform's own vocabulary only (Dynamic Registration §3.3.2)."""
    from lti_tool.lti.toolconfig import PLATFORM_CONFIGURATION, registration_request

    canvas = {PLATFORM_CONFIGURATION: {"messages_supported": [
        {"type": "LtiDeepLinkingRequest", "placements": ["link_selection", "editor_button", "assignment_selection"]},
        {"type": "LtiResourceLinkRequest"}]}}
    with lti_app.app_context():
        body = registration_request(canvas)
    messages = {m["type"]: m for m in body[TOOL_CONFIGURATION]["messages"]}
    assert messages["LtiDeepLinkingRequest"]["placements"] == ["link_selection", "assignment_selection"]
    assert "placements" not in messages["LtiResourceLinkRequest"]


@pytest.mark.parametrize(("issuer", "config_url", "accepted"), [
    ("https://moodle.example.gov.tw", "https://moodle.example.gov.tw/mod/lti/openid-configuration.php", True),
    ("https://moodle.example.gov.tw/moodle", "https://moodle.example.gov.tw/moodle/mod/lti/openid-configuration.php", True),
    ("https://moodle.example.gov.tw", "https://evil.example/openid-configuration", False),
    ("https://canvas.instructure.com", "https://school.instructure.com/api/lti/security/openid-configuration", True),
    ("https://canvas.instructure.com", "https://instructure.com.evil.example/openid-configuration", False),
    ("https://other.instructure.com", "https://school.instructure.com/api/lti/security/openid-configuration", False),
])
def test_register_issuer_host_check(issuer: str, config_url: str, accepted: bool) -> None:
    """Require the issuer on the configuration URL's host (DR §3.5.1), Canvas Cloud's shared issuer on its hosts only."""
    from lti_tool.lti.dynamic import check_configuration
    from lti_tool.lti.errors import PlatformAnswerInvalid

    config = {"issuer": issuer, "authorization_endpoint": issuer + "/auth", "token_endpoint": issuer + "/token",
              "jwks_uri": issuer + "/jwks", "registration_endpoint": issuer + "/register"}
    if accepted:
        check_configuration(config, config_url)
    else:
        with pytest.raises(PlatformAnswerInvalid, match=r"§3\.5\.1"):
            check_configuration(config, config_url)
