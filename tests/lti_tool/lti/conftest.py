"""Give LTI tests a live test platform on 127.0.0.1 with its own RSA keys, JWKS and registration endpoint."""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask, jsonify, request
from flask.testing import FlaskClient
from werkzeug.serving import BaseWSGIServer, make_server

import lrs.cache  # noqa: F401  (registers the cache table before the schema is built)
import lti_tool
from lrs.db import get_db
from lti_tool.keys import public_jwk
from lti_tool.lti import registry
from lti_tool.lti.models import RegistrationStatus
from tests.conftest import app_config

TOOL_BASE = "http://lb.test"
LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"


def _new_key() -> tuple[rsa.RSAPrivateKey, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    return key, pem


@dataclass
class PlatformBehaviour:
    """How the test platform answers its registration endpoint."""

    registration_status: int = 200
    registration_pending: bool = False
    issuer_override: str | None = None
    received: list[dict[str, Any]] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)


class TestPlatform:
    """A tiny LTI 1.3 platform served over HTTP: JWKS, OpenID configuration, registration endpoint."""

    __test__ = False

    def __init__(self) -> None:
        self.key, self.private_pem = _new_key()
        self.kid = "platform-key-1"
        self.client_id = "client-" + uuid.uuid4().hex[:8]
        self.deployment_id = "deployment-1"
        self.behaviour = PlatformBehaviour()
        self.jwks_requests = 0
        self.extra_keys: list[dict[str, str]] = []
        self.server: BaseWSGIServer = make_server("127.0.0.1", 0, self._wsgi(), threaded=True)
        self.issuer = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def _wsgi(self) -> Flask:
        web = Flask("test_platform")
        platform = self

        @web.get("/jwks")
        def jwks() -> Any:
            platform.jwks_requests += 1
            return jsonify({"keys": [public_jwk(platform.key.public_key(), platform.kid), *platform.extra_keys]})

        @web.get("/jwks-slow")
        def jwks_slow() -> Any:
            time.sleep(2.5)
            return jsonify({"keys": []})

        @web.get("/jwks-huge")
        def jwks_huge() -> Any:
            return jsonify({"keys": [], "padding": "x" * (2 * 1024 * 1024)})

        @web.get("/jwks-error")
        def jwks_error() -> Any:
            return jsonify({"error": "down"}), 500

        @web.get("/.well-known/openid-configuration")
        def openid_configuration() -> Any:
            platform.behaviour.tokens.append(request.headers.get("Authorization", ""))
            return jsonify(platform.openid_configuration())

        @web.post("/register")
        def register() -> Any:
            behaviour = platform.behaviour
            behaviour.received.append({"auth": request.headers.get("Authorization", ""), "body": request.get_json()})
            if behaviour.registration_status != 200:
                return jsonify({"error": "invalid_token"}), behaviour.registration_status
            body = dict(request.get_json() or {})
            body["client_id"] = platform.client_id
            config = dict(body.get("https://purl.imsglobal.org/spec/lti-tool-configuration", {}))
            if not behaviour.registration_pending:
                config["deployment_id"] = platform.deployment_id
            body["https://purl.imsglobal.org/spec/lti-tool-configuration"] = config
            return jsonify(body)

        return web

    def openid_configuration(self) -> dict[str, Any]:
        """Return the platform's OpenID configuration (LTI Dynamic Registration 1.0 §3.4.1)."""
        return {
            "issuer": self.behaviour.issuer_override or self.issuer,
            "authorization_endpoint": self.issuer + "/auth",
            "token_endpoint": self.issuer + "/token",
            "jwks_uri": self.issuer + "/jwks",
            "registration_endpoint": self.issuer + "/register",
            "scopes_supported": ["openid", "https://purl.imsglobal.org/spec/lti-ags/scope/score"],
            "response_types_supported": ["id_token"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "claims_supported": ["sub", "iss", "name", "email"],
            "https://purl.imsglobal.org/spec/lti-platform-configuration": {
                "product_family_code": "testlms", "version": "1.0",
                "messages_supported": [{"type": "LtiResourceLinkRequest"}, {"type": "LtiDeepLinkingRequest"}],
            },
        }

    def close(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()

    def register(self, app: Flask, jwks_path: str = "/jwks", status: RegistrationStatus = RegistrationStatus.ACTIVE,
                 client_id: str | None = None) -> None:
        """Register this platform with the tool, as an administrator would."""
        with app.app_context(), get_db(app).session() as session:
            registry.create(session, registry.RegistrationInput(
                issuer=self.issuer, client_id=client_id or self.client_id, auth_login_url=self.issuer + "/auth",
                jwks_url=self.issuer + jwks_path, auth_token_url=self.issuer + "/token", name="Test LMS",
                product_family="testlms", deployment_ids=[self.deployment_id], status=status,
            ), allow_http=True)

    def claims(self, nonce: str, role: str = LEARNER, **overrides: Any) -> dict[str, Any]:
        """Return a valid resource-link launch's claims (LTI Core 1.3 §5.3)."""
        now = int(time.time())
        body: dict[str, Any] = {
            "iss": self.issuer, "aud": self.client_id, "sub": "user-42", "nonce": nonce,
            "iat": now, "exp": now + 300,
            "name": "林小明 Lin Hsiao-ming", "email": "lin@example.gov.tw", "locale": "zh-TW",
            "https://purl.imsglobal.org/spec/lti/claim/message_type": "LtiResourceLinkRequest",
            "https://purl.imsglobal.org/spec/lti/claim/version": "1.3.0",
            "https://purl.imsglobal.org/spec/lti/claim/deployment_id": self.deployment_id,
            "https://purl.imsglobal.org/spec/lti/claim/target_link_uri": TOOL_BASE + "/lti/launch",
            "https://purl.imsglobal.org/spec/lti/claim/resource_link": {"id": "rl-1", "title": "TED: Ideas"},
            "https://purl.imsglobal.org/spec/lti/claim/roles": [role],
            "https://purl.imsglobal.org/spec/lti/claim/context": {"id": "c-1", "title": "國際視野 101", "label": "IV101"},
            "https://purl.imsglobal.org/spec/lti/claim/custom": {"catalog_course": "ted-001"},
        }
        for name, value in overrides.items():
            if value is None:
                body.pop(name, None)
            else:
                body[name] = value
        return body

    def sign(self, claims: dict[str, Any], key_pem: str | None = None, kid: str | None = None) -> str:
        """Sign claims with RS256 and the platform's key."""
        key: Any = key_pem or self.key  # a key object signs without re-parsing the PEM each time
        return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid or self.kid})

    def login(self, client: FlaskClient, **extra: str) -> tuple[str, str]:
        """Start a login at the tool and return the state and nonce of its authentication request."""
        response = client.get("/lti/login", query_string=self.login_params(**extra))
        query = parse_qs(urlsplit(auth_redirect(response)).query)
        return query["state"][0], query["nonce"][0]

    def login_params(self, **extra: str) -> dict[str, str]:
        """Return the third-party-initiated login parameters (LTI Security Framework 1.0 §5.1.1.1)."""
        params = {"iss": self.issuer, "login_hint": "user-42", "target_link_uri": TOOL_BASE + "/lti/launch",
                  "lti_message_hint": "rl-1", "client_id": self.client_id, "lti_deployment_id": self.deployment_id}
        params.update(extra)
        return {k: v for k, v in params.items() if v}

    def launch(self, client: FlaskClient, role: str = LEARNER, **overrides: Any) -> Any:
        """Run a complete login and launch; return the launch response."""
        state, nonce = self.login(client)
        token = self.sign(self.claims(nonce, role=role, **overrides))
        return client.post("/lti/launch", data={"id_token": token, "state": state})


@pytest.fixture(scope="session")
def platform() -> Iterator[TestPlatform]:
    """Give a live test platform on 127.0.0.1."""
    test_platform = TestPlatform()
    yield test_platform
    test_platform.close()


@pytest.fixture
def lti_app(database_url: str, tmp_path: Path, platform: TestPlatform) -> Iterator[Flask]:
    """Give the product with short outbound bounds, and the test platform registered."""
    platform.behaviour = PlatformBehaviour()
    platform.client_id = "client-" + uuid.uuid4().hex[:8]
    application = lti_tool.create_app(app_config(
        database_url, tmp_path, PUBLIC_BASE_URL=TOOL_BASE, OUTBOUND_TIMEOUT_SECONDS="1",
    ))
    platform.register(application)
    yield application
    get_db(application).dispose()


@pytest.fixture
def lti_client(lti_app: Flask) -> FlaskClient:
    """Give a test client of the product with the platform registered."""
    return lti_app.test_client()


def auth_redirect(response: Any) -> str:
    """Return where a login answer sends the browser: its redirect, or the URL its page continues to."""
    if response.status_code == 302:
        return str(response.location)
    assert response.status_code == 200, response.get_data(as_text=True)
    html = response.get_data(as_text=True) if hasattr(response, "get_data") else response.text
    match = re.search(r'id="lti-(?:login|storage)-config">(.*?)</script>', html, re.S)
    assert match, html
    return str(json.loads(match.group(1))["redirect"])


def cache_keys(app: Flask, prefix: str) -> list[str]:
    """List the database cache's live keys starting with a prefix."""
    from sqlalchemy import select

    from lrs.cache import CacheEntry

    with get_db(app).session() as session:
        return list(session.scalars(select(CacheEntry.key).where(CacheEntry.key.startswith(prefix))))


def decode_json(response: Any) -> dict[str, Any]:
    """Return a response's JSON body."""
    return json.loads(response.get_data(as_text=True))
