"""Test the OIDC login and the hardened launch against a live test platform, attacks included."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lrs.cache import get_cache
from tests.lti_tool.lti.conftest import INSTRUCTOR, TOOL_BASE, TestPlatform, _new_key, auth_redirect, cache_keys


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _stored_nothing(app: Flask) -> bool:
    with app.app_context():
        return not cache_keys(app, "lti:session:") and not cache_keys(app, "lti:pl:") and not cache_keys(app, "lti:pending:")


# --- the login ---------------------------------------------------------------------------------------


def test_login_get_redirects_to_platform_auth_with_oidc_params(lti_client: FlaskClient, platform: TestPlatform) -> None:
    """Redirect to the auth endpoint with scope, response type and mode, prompt, state and nonce (Security §5.1.1.2)."""
    response = lti_client.get("/lti/login", query_string=platform.login_params(lti1p3_new_window="1"))
    assert response.status_code == 302
    location = urlsplit(response.location)
    assert f"{location.scheme}://{location.netloc}{location.path}" == platform.issuer + "/auth"
    query = {k: v[0] for k, v in parse_qs(location.query).items()}
    assert query["scope"] == "openid" and query["response_type"] == "id_token"
    assert query["response_mode"] == "form_post" and query["prompt"] == "none"
    assert query["client_id"] == platform.client_id and query["redirect_uri"] == TOOL_BASE + "/lti/launch"
    assert query["login_hint"] == "user-42" and query["lti_message_hint"] == "rl-1"
    assert len(query["state"]) >= 32 and len(query["nonce"]) >= 32 and query["state"] != query["nonce"]
    cookie = response.headers["Set-Cookie"]
    assert "lti1p3-" + query["state"] in cookie and "HttpOnly" in cookie and "Path=/lti" in cookie


def test_login_post_is_accepted(lti_client: FlaskClient, platform: TestPlatform) -> None:
    """Accept the login initiation as a form POST as well as a GET (Security §5.1.1.1)."""
    response = lti_client.post("/lti/login", data=platform.login_params())
    assert auth_redirect(response).startswith(platform.issuer + "/auth")


def test_login_in_frame_checks_cookies_before_platform_spends_hint(lti_client: FlaskClient, platform: TestPlatform) -> None:
    """Check that the frame keeps cookies before going to the platform, offering a new window otherwise."""
    response = lti_client.get("/lti/login", query_string=platform.login_params())
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert auth_redirect(response).startswith(platform.issuer + "/auth?")
    assert "lti1p3_new_window=1" in html and 'target="_blank"' in html and "lti_message_hint=rl-1" in html
    cookies = response.headers.getlist("Set-Cookie")
    assert any(c.startswith("lti1p3-probe=1") and "HttpOnly" not in c for c in cookies)
    assert any(c.startswith("lti1p3-") and not c.startswith("lti1p3-probe") and "HttpOnly" in c for c in cookies)


def test_launch_post_platform_error_is_explained(lti_client: FlaskClient, platform: TestPlatform) -> None:
    """Explain an authentication error the platform posts back instead of an id_token (OIDC Core §3.2.2.6)."""
    state, _ = platform.login(lti_client)
    response = lti_client.post("/lti/launch", data={"error": "invalid_request", "state": state},
                               headers={"Accept": "application/json"})
    assert response.status_code == 400 and "invalid_request" in response.get_json()["error"]["message"]


@pytest.mark.parametrize(("change", "status", "needle"), [
    ({"iss": ""}, 400, "issuer"),
    ({"login_hint": ""}, 400, "login_hint"),
    ({"target_link_uri": ""}, 400, "target_link_uri"),
    ({"target_link_uri": "https://evil.example/lti/launch"}, 400, "not on this tool"),
    ({"iss": "https://unknown.example"}, 403, "No registration"),
    ({"client_id": "someone-else"}, 403, "No registration"),
    ({"lti_deployment_id": "unknown-deployment"}, 403, "deployment"),
])
def test_login_get_refuses_bad_initiation(lti_client: FlaskClient, platform: TestPlatform, change: dict[str, str],
                                          status: int, needle: str) -> None:
    """Refuse an incomplete or unregistered login with a precise 4xx, never a 500 (Security §5.1.1.1)."""
    params = {**platform.login_params(), **change}
    response = lti_client.get("/lti/login", query_string={k: v for k, v in params.items() if v},
                              headers={"Accept": "application/json"})
    assert response.status_code == status
    assert needle in response.get_json()["error"]["message"]


def test_login_refuses_pending_registration(lti_app: Flask, platform: TestPlatform) -> None:
    """Refuse logins for a registration an administrator has not activated."""
    from lti_tool.lti.models import RegistrationStatus

    platform.register(lti_app, status=RegistrationStatus.PENDING, client_id="pending-client")
    response = lti_app.test_client().get("/lti/login", query_string=platform.login_params(client_id="pending-client"),
                                         headers={"Accept": "application/json"})
    assert response.status_code == 403 and "pending" in response.get_json()["error"]["message"]


# --- successful launches -----------------------------------------------------------------------------


def test_launch_post_learner_lands_on_page_with_launch_token(lti_client: FlaskClient, platform: TestPlatform) -> None:
    """Accept a valid resource-link launch and land on a page naming person, role, course and catalog course."""
    launched = platform.launch(lti_client)
    assert launched.status_code == 303
    assert "lt=" in launched.location
    token = parse_qs(urlsplit(launched.location).query)["lt"][0]
    fresh = FlaskClient(lti_client.application)  # no cookies at all: the page works from the token alone
    page = fresh.get("/lti/launched", query_string={"lt": token, "lang": "en"})
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "林小明 Lin Hsiao-ming" in text and "Learner" in text and "國際視野 101" in text and "ted-001" in text


def test_launch_post_instructor_role_and_locale(lti_client: FlaskClient, platform: TestPlatform) -> None:
    """Map the Instructor context role to instructor and the launch locale to the page language (Core §A.2, §5.3.7)."""
    launched = platform.launch(lti_client, role=INSTRUCTOR, locale="en-US")
    token = parse_qs(urlsplit(launched.location).query)["lt"][0]
    page = FlaskClient(lti_client.application).get("/lti/launched", query_string={"lt": token})
    text = page.get_data(as_text=True)
    assert "Instructor" in text and 'lang="en"' in text


def test_launch_post_deep_linking_lands_on_placeholder(lti_client: FlaskClient, platform: TestPlatform) -> None:
    """Accept an LtiDeepLinkingRequest with its settings and land on the deep-linking page (Deep Linking 2.0 §4.4)."""
    launched = platform.launch(
        lti_client, role=INSTRUCTOR,
        **{"https://purl.imsglobal.org/spec/lti/claim/message_type": "LtiDeepLinkingRequest",
           "https://purl.imsglobal.org/spec/lti/claim/resource_link": None,
           "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings": {
               "deep_link_return_url": platform.issuer + "/dl-return", "accept_types": ["ltiResourceLink"],
               "accept_presentation_document_targets": ["iframe", "window"]}},
    )
    assert launched.status_code == 303 and "lt=" in launched.location
    token = parse_qs(urlsplit(launched.location).query)["lt"][0]
    page = FlaskClient(lti_client.application).get("/lti/deep-link", query_string={"lt": token, "lang": "en"})
    assert page.status_code == 200 and "Add international courses" in page.get_data(as_text=True)


def test_launch_current_launch_gives_typed_context(lti_client: FlaskClient, lti_app: Flask, platform: TestPlatform) -> None:
    """Give other packages the launch context through `current_launch()` from the `lt` token alone."""
    from lti_tool.lti.claims import ToolRole
    from lti_tool.lti.launch import current_launch, message_launch

    launched = platform.launch(lti_client)
    token = parse_qs(urlsplit(launched.location).query)["lt"][0]
    with lti_app.test_request_context("/anything", query_string={"lt": token}):
        lti_app.preprocess_request()
        context = current_launch()
        assert context is not None
        assert context.role is ToolRole.LEARNER and context.subject == "user-42" and context.issuer == platform.issuer
        assert context.deployment_id == platform.deployment_id and context.catalog_course == "ted-001"
        restored = message_launch(context)
        assert restored.get_launch_data()["sub"] == "user-42"
        from lti_tool.lti.outbound import BoundedSession

        assert isinstance(restored.get_service_connector()._requests_session, BoundedSession)


def test_launched_get_without_token_is_401(lti_client: FlaskClient) -> None:
    """Refuse the landing page without a valid launch token."""
    assert lti_client.get("/lti/launched", headers={"Accept": "application/json"}).status_code == 401
    assert lti_client.get("/lti/launched?lt=forged.token", headers={"Accept": "application/json"}).status_code == 401


# --- the attack matrix -------------------------------------------------------------------------------


def _forged_signature(p: TestPlatform, claims: dict[str, Any]) -> str:
    _, other_pem = _new_key()
    return p.sign(claims, key_pem=other_pem)


def _alg_none(p: TestPlatform, claims: dict[str, Any]) -> str:
    return f"{_b64({'alg': 'none', 'typ': 'JWT', 'kid': p.kid})}.{_b64(claims)}."


def _hs256(p: TestPlatform, claims: dict[str, Any]) -> str:
    # The key-confusion attack: HMAC keyed with the platform's public key, which anyone can fetch.
    header = _b64({"alg": "HS256", "typ": "JWT", "kid": p.kid})
    body = _b64(claims)
    import hashlib
    import hmac

    from cryptography.hazmat.primitives import serialization

    secret = p.key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    signature = base64.urlsafe_b64encode(hmac.new(secret, f"{header}.{body}".encode(), hashlib.sha256).digest())
    return f"{header}.{body}.{signature.rstrip(b'=').decode()}"


def _unknown_kid(p: TestPlatform, claims: dict[str, Any]) -> str:
    return p.sign(claims, kid="not-a-platform-key")


def _no_kid(p: TestPlatform, claims: dict[str, Any]) -> str:
    return jwt.encode(claims, p.private_pem, algorithm="RS256")


def _garbage(p: TestPlatform, claims: dict[str, Any]) -> str:
    return "not-a-jwt"


NOW = int(time.time())
LTI = "https://purl.imsglobal.org/spec/lti/claim/"

ATTACKS: list[tuple[str, dict[str, Any], Callable[[TestPlatform, dict[str, Any]], str] | None, int, str]] = [
    ("forged signature", {}, _forged_signature, 401, "signature"),
    ("alg none", {}, _alg_none, 401, "RS256 only"),
    ("HS256", {}, _hs256, 401, "RS256 only"),
    ("unknown kid", {}, _unknown_kid, 401, "not in the platform's key set"),
    ("no kid", {}, _no_kid, 400, "no kid"),
    ("not a JWT", {}, _garbage, 400, "well-formed"),
    ("expired", {"exp": NOW - 3600, "iat": NOW - 4000}, None, 401, "expired"),
    ("future iat", {"iat": NOW + 3600, "exp": NOW + 4000}, None, 401, "future"),
    ("no exp", {"exp": None}, None, 401, "'exp'"),
    ("no iat", {"iat": None}, None, 401, "'iat'"),
    ("wrong aud", {"aud": "another-tool"}, None, 401, "audience"),
    ("wrong azp", {"aud": ["CLIENT", "another"], "azp": "another"}, None, 401, "azp"),
    ("other issuer", {"iss": "https://attacker.example"}, None, 401, "issuer"),
    ("unknown deployment", {LTI + "deployment_id": "dep-x"}, None, 403, "deployment"),
    ("wrong nonce", {"nonce": "a-nonce-from-elsewhere"}, None, 401, "nonce"),
    ("no message type", {LTI + "message_type": None}, None, 400, "message_type"),
    ("no version", {LTI + "version": None}, None, 400, "version"),
    ("wrong version", {LTI + "version": "1.1"}, None, 400, "1.3.0"),
    ("unsupported message", {LTI + "message_type": "LtiSubmissionReviewRequest"}, None, 400, "does not handle"),
    ("no resource link", {LTI + "resource_link": None}, None, 400, "Resource Link"),
    ("no target link uri", {LTI + "target_link_uri": None}, None, 400, "target_link_uri"),
    ("roles not a list", {LTI + "roles": 7}, None, 400, "roles"),
    ("resource link not an object", {LTI + "resource_link": "rl-1"}, None, 400, "resource_link"),
    ("custom not an object", {LTI + "custom": ["x"]}, None, 400, "custom"),
    ("deep linking settings not an object", {LTI + "message_type": "LtiDeepLinkingRequest",
                                             "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings": "x"},
     None, 400, "deep_linking_settings"),
    ("iat not a number", {"iat": "yesterday"}, None, 401, "invalid"),
]


@pytest.mark.parametrize(("name", "overrides", "forge", "status", "needle"), ATTACKS, ids=[a[0] for a in ATTACKS])
def test_launch_post_refuses_attack(lti_app: Flask, lti_client: FlaskClient, platform: TestPlatform, name: str,
                                    overrides: dict[str, Any], forge: Callable[[TestPlatform, dict[str, Any]], str] | None,
                                    status: int, needle: str, caplog: pytest.LogCaptureFixture) -> None:
    """Refuse each forged or broken id_token with a precise 4xx, log it without the token, store nothing (Security §5.1.3)."""
    state, nonce = platform.login(lti_client)
    if overrides.get("aud") == ["CLIENT", "another"]:
        overrides = {**overrides, "aud": [platform.client_id, "another"]}
    overrides = dict(overrides)
    claims = platform.claims(overrides.pop("nonce", nonce), **overrides)
    token = forge(platform, claims) if forge else platform.sign(claims)
    response = lti_client.post("/lti/launch", data={"id_token": token, "state": state},
                               headers={"Accept": "application/json"})
    assert response.status_code == status, response.get_data(as_text=True)
    assert needle in response.get_json()["error"]["message"]
    assert token not in response.get_data(as_text=True)
    assert _stored_nothing(lti_app)
    refusals = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert refusals and needle in refusals[-1]
    assert not any(token in m or state in m or (len(token) > 40 and token.split(".")[1] in m) for m in refusals)


@pytest.mark.parametrize(("data", "needle"), [
    ({"id_token": "x.y.z"}, "lacks its state"),
    ({"id_token": "x.y.z", "state": "state-never-issued"}, "unknown, expired or already used"),
    ({"state": "whatever"}, "id_token"),
])
def test_launch_post_refuses_missing_or_unknown_state(lti_client: FlaskClient, data: dict[str, str], needle: str) -> None:
    """Refuse a launch without a state this tool issued, or without an id_token, with a 400."""
    response = lti_client.post("/lti/launch", data=data, headers={"Accept": "application/json"})
    assert response.status_code == 400 and needle in response.get_json()["error"]["message"]


def test_launch_post_replay_is_refused(lti_app: Flask, lti_client: FlaskClient, platform: TestPlatform) -> None:
    """Refuse the same id_token and state posted twice, even from another browser (Security §5.1.3.1 nonce)."""
    state, nonce = platform.login(lti_client)
    token = platform.sign(platform.claims(nonce))
    assert lti_client.post("/lti/launch", data={"id_token": token, "state": state}).status_code == 303
    for client in (lti_client, FlaskClient(lti_app)):
        again = client.post("/lti/launch", data={"id_token": token, "state": state}, headers={"Accept": "application/json"})
        assert again.status_code == 400


def test_launch_post_used_nonce_is_refused(lti_app: Flask, lti_client: FlaskClient, platform: TestPlatform) -> None:
    """Refuse a nonce already marked used, whatever the state says (single-use nonce, atomic)."""
    import hashlib

    state, nonce = platform.login(lti_client)
    with lti_app.app_context():
        digest = hashlib.sha256(f"{platform.issuer}\n{nonce}".encode()).hexdigest()
        assert get_cache().add("lti:nonce:" + digest, "1", 60)
    response = lti_client.post("/lti/launch", data={"id_token": platform.sign(platform.claims(nonce)), "state": state},
                               headers={"Accept": "application/json"})
    assert response.status_code == 401 and "already used" in response.get_json()["error"]["message"]
    assert _stored_nothing(lti_app)


def test_launch_post_state_from_another_browser_offers_new_window(lti_app: Flask, lti_client: FlaskClient,
                                                                  platform: TestPlatform) -> None:
    """Refuse a launch whose state cookie this browser lacks, and offer to continue in a new window."""
    state, nonce = platform.login(lti_client)
    other = FlaskClient(lti_app)
    response = other.post("/lti/launch", data={"id_token": platform.sign(platform.claims(nonce)), "state": state})
    text = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "lti1p3_new_window=1" in text and 'target="_blank"' in text
    assert _stored_nothing(lti_app)


@pytest.mark.parametrize(("path", "status", "needle"), [
    ("/jwks-slow", 504, "in time"),
    ("/jwks-huge", 400, "more than"),
    ("/jwks-error", 502, "HTTP 500"),
    ("CLOSED", 502, "cannot be reached"),
])
def test_launch_post_refuses_when_platform_jwks_fails(lti_app: Flask, platform: TestPlatform, path: str, status: int,
                                                      needle: str) -> None:
    """Refuse with 502/504 when the platform's JWKS is unreachable or slow, and 400 when it is huge."""
    import socket

    from lrs.db import get_db
    from lti_tool.lti import registry

    if path == "CLOSED":
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        jwks_url = f"http://127.0.0.1:{probe.getsockname()[1]}/jwks"
        probe.close()
    else:
        jwks_url = platform.issuer + path
    with lti_app.app_context(), get_db(lti_app).session() as session:
        row = registry.find(session, platform.issuer, platform.client_id)
        assert row is not None
        row.jwks_url = jwks_url
    client = lti_app.test_client()
    state, nonce = platform.login(client)
    response = client.post("/lti/launch", data={"id_token": platform.sign(platform.claims(nonce)), "state": state},
                           headers={"Accept": "application/json"})
    assert response.status_code == status, response.get_data(as_text=True)
    assert needle in response.get_json()["error"]["message"]
    assert _stored_nothing(lti_app)


def test_launch_post_refetches_jwks_once_on_unknown_kid(lti_app: Flask, platform: TestPlatform) -> None:
    """Refetch the platform's JWKS when a new kid appears (key rotation), at most once per interval."""
    client = lti_app.test_client()
    assert platform.launch(client).status_code == 303
    fetched = platform.jwks_requests
    assert platform.launch(client).status_code == 303
    assert platform.jwks_requests == fetched  # cached: a known key costs no request
    new_key, new_pem = _new_key()
    from lti_tool.keys import public_jwk

    platform.extra_keys = [public_jwk(new_key.public_key(), "rotated-key")]
    try:
        state, nonce = platform.login(client)
        token = platform.sign(platform.claims(nonce), key_pem=new_pem, kid="rotated-key")
        response = client.post("/lti/launch", data={"id_token": token, "state": state})
        assert response.status_code == 303
        assert platform.jwks_requests == fetched + 1
        state, nonce = platform.login(client)
        unknown = platform.sign(platform.claims(nonce), kid="yet-another")
        refused = client.post("/lti/launch", data={"id_token": unknown, "state": state},
                              headers={"Accept": "application/json"})
        assert refused.status_code == 401 and platform.jwks_requests == fetched + 1  # rate-limited
    finally:
        platform.extra_keys = []


def test_launch_get_is_not_allowed(lti_client: FlaskClient) -> None:
    """Answer 405 to a GET on the launch URL (the platform must form-post the id_token)."""
    assert lti_client.get("/lti/launch").status_code == 405


def test_launch_deep_link_response_signed_with_published_key(lti_client: FlaskClient, lti_app: Flask,
                                                             platform: TestPlatform) -> None:
    """Sign a Deep Linking response with the tool's current key, verifiable against /lti/jwks (Deep Linking 2.0 §4.5)."""
    from pylti1p3.deep_link_resource import DeepLinkResource

    from lti_tool.lti.launch import current_launch, message_launch

    launched = platform.launch(
        lti_client, role=INSTRUCTOR,
        **{LTI + "message_type": "LtiDeepLinkingRequest", LTI + "resource_link": None,
           "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings": {
               "deep_link_return_url": platform.issuer + "/dl-return", "accept_types": ["ltiResourceLink"],
               "accept_presentation_document_targets": ["iframe"], "data": "opaque"}},
    )
    token = parse_qs(urlsplit(launched.location).query)["lt"][0]
    jwks = lti_client.get("/lti/jwks").get_json()
    with lti_app.test_request_context("/", query_string={"lt": token}):
        lti_app.preprocess_request()
        context = current_launch()
        assert context is not None and context.is_deep_linking
        deep_link = message_launch(context).get_deep_link()
        resource = DeepLinkResource().set_url(TOOL_BASE + "/lti/launch").set_title("TED").set_custom_params(
            {"catalog_course": "ted-001"})
        response_jwt = deep_link.get_response_jwt([resource])
    header = jwt.get_unverified_header(response_jwt)
    key = next(k for k in jwks["keys"] if k["kid"] == header["kid"])
    claims = jwt.decode(response_jwt, jwt.PyJWK(key).key, algorithms=["RS256"], audience=platform.issuer)
    assert claims["iss"] == platform.client_id and claims["https://purl.imsglobal.org/spec/lti-dl/claim/data"] == "opaque"


def test_launch_post_with_launch_state_in_redis(database_url: str, tmp_path: Any, platform: TestPlatform,
                                                redis_url: str, redis_prefix: str) -> None:
    """Run a complete launch with state, nonces and sessions in Redis, and refuse its replay."""
    import redis

    import lti_tool
    from lrs.db import get_db
    from tests.conftest import app_config

    app = lti_tool.create_app(app_config(database_url, tmp_path, PUBLIC_BASE_URL=TOOL_BASE, REDIS_URL=redis_url,
                                         REDIS_KEY_PREFIX=redis_prefix))
    platform.register(app)
    client = app.test_client()
    state, nonce = platform.login(client)
    token = platform.sign(platform.claims(nonce))
    assert client.post("/lti/launch", data={"id_token": token, "state": state}).status_code == 303
    assert client.post("/lti/launch", data={"id_token": token, "state": state}).status_code == 400
    keys = [k.decode() for k in redis.Redis.from_url(redis_url).scan_iter(match=redis_prefix + "lti:*")]
    assert any(k.startswith(redis_prefix + "lti:session:") for k in keys)
    assert any(k.startswith(redis_prefix + "lti:nonce:") for k in keys)
    assert not any(k.startswith(redis_prefix + "lti:state:") for k in keys)
    assert not cache_keys(app, "lti:")
    get_db(app).dispose()


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=6,
)
_CLAIM_NAMES = ["sub", "aud", "azp", "iat", "exp", "name", "locale", LTI + "message_type", LTI + "version",
                LTI + "deployment_id", LTI + "target_link_uri", LTI + "resource_link", LTI + "roles",
                LTI + "context", LTI + "custom", LTI + "launch_presentation", LTI + "tool_platform",
                "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(changes=st.dictionaries(st.sampled_from(_CLAIM_NAMES), _json_values, max_size=4))
def test_launch_post_never_fails_with_500(lti_client: FlaskClient, platform: TestPlatform,
                                          changes: dict[str, Any]) -> None:
    """Answer any signed claim set, however odd its types, with a redirect or a 4xx, never a 500."""
    state, nonce = platform.login(lti_client)
    claims = {**platform.claims(nonce), **changes}
    response = lti_client.post("/lti/launch", data={"id_token": platform.sign(claims), "state": state},
                               headers={"Accept": "application/json"})
    assert response.status_code in (303, 400, 401, 403), response.get_data(as_text=True)
