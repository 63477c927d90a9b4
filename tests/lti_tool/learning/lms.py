"""A test LMS on 127.0.0.1: launches, token endpoint, AGS line items and scores, NRPS pages, deep-link return.

It checks what it receives as a real platform would (the tool's client assertion and deep-linking
response are verified against the tool's JWKS, bearer tokens against the ones it issued, content
types against the AGS media types) and records everything for the tests to assert on.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask, jsonify, request
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from lrs.db import get_db
from lti_tool.keys import get_keyring, public_jwk
from lti_tool.lti import registry

TOOL_BASE = "http://lb.test"
LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
LTI = "https://purl.imsglobal.org/spec/lti/claim/"
AGS_SCOPES = [
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
    "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
]


@dataclass
class Records:
    """What the LMS received and how it behaves."""

    tokens: list[dict[str, Any]] = field(default_factory=list)
    line_items: dict[str, dict[str, Any]] = field(default_factory=dict)
    scores: list[dict[str, Any]] = field(default_factory=list)
    deep_links: list[dict[str, Any]] = field(default_factory=list)
    roster_requests: list[str] = field(default_factory=list)
    down: bool = False
    slow_seconds: float = 0.0
    members: list[dict[str, Any]] = field(default_factory=list)
    page_size: int = 2
    score_status: int = 204


def auth_redirect(response: Any) -> str:
    """Return where the tool's login answer sends the browser: a redirect, or the URL its checking page goes on to."""
    if response.status_code == 302:
        return str(response.location)
    assert response.status_code == 200, response.get_data(as_text=True)
    match = re.search(r'id="lti-(?:login|storage)-config">(.*?)</script>', response.get_data(as_text=True), re.S)
    assert match, response.get_data(as_text=True)
    return str(json.loads(match.group(1))["redirect"])


class TestLms:
    """A live LTI 1.3 platform with Advantage services for the learning tests."""

    __test__ = False

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.private_pem = self.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                  serialization.NoEncryption()).decode()
        self.kid = "lms-key-1"
        self.client_id = "client-" + uuid.uuid4().hex[:8]
        self.deployment_id = "deployment-1"
        self.records = Records()
        self.issued: set[str] = set()
        self.tool_jwks: dict[str, Any] = {"keys": []}
        self.server = make_server("127.0.0.1", 0, self._wsgi(), threaded=True)
        self.issuer = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    # ---- the platform's HTTP side -------------------------------------------------------------------

    def _verify_tool_jwt(self, token: str, audience: str) -> dict[str, Any]:
        header = jwt.get_unverified_header(token)
        key = next(k for k in self.tool_jwks["keys"] if k["kid"] == header["kid"])
        claims: dict[str, Any] = jwt.decode(token, jwt.PyJWK(key).key, algorithms=["RS256"], audience=audience)
        return claims

    def _authorised(self, scope: str) -> bool:
        header = request.headers.get("Authorization", "")
        token = header.removeprefix("Bearer ")
        granted = next((t for t in self.records.tokens if t["access_token"] == token), None)
        return granted is not None and scope in granted["scope"].split()

    def _wsgi(self) -> Flask:
        web = Flask("test_lms")
        lms = self

        @web.before_request
        def outage() -> Any:
            if lms.records.slow_seconds:
                time.sleep(lms.records.slow_seconds)
            if lms.records.down and request.path not in ("/jwks",):
                return jsonify({"error": "maintenance"}), 503
            return None

        @web.get("/jwks")
        def jwks() -> Any:
            return jsonify({"keys": [public_jwk(lms.key.public_key(), lms.kid)]})

        @web.post("/token")
        def token() -> Any:
            form = request.form
            if form.get("grant_type") != "client_credentials" or form.get("client_assertion_type") != \
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer":
                return jsonify({"error": "unsupported_grant_type"}), 400
            try:
                claims = lms._verify_tool_jwt(form["client_assertion"], lms.issuer + "/token")
            except Exception:
                return jsonify({"error": "invalid_client"}), 401
            if claims["iss"] != lms.client_id or claims["sub"] != lms.client_id:
                return jsonify({"error": "invalid_client"}), 401
            issued = {"access_token": secrets.token_urlsafe(16), "token_type": "Bearer", "expires_in": 3600,
                      "scope": form.get("scope", "")}
            lms.records.tokens.append(issued)
            return jsonify(issued)

        @web.route("/courses/<course>/lineitems", methods=["GET", "POST"])
        def lineitems(course: str) -> Any:
            if not lms._authorised(AGS_SCOPES[0]):
                return jsonify({"error": "forbidden"}), 401
            if request.method == "GET":
                wanted = request.args.get("resource_link_id")
                items = [item for item in lms.records.line_items.values()
                         if wanted is None or item.get("resourceLinkId") == wanted]
                return web.response_class(json.dumps(items), mimetype="application/vnd.ims.lis.v2.lineitemcontainer+json")
            if request.mimetype != "application/vnd.ims.lis.v2.lineitem+json":
                return jsonify({"error": "content type"}), 415
            body = dict(request.get_json(force=True))
            if not isinstance(body.get("scoreMaximum"), int | float) or not body.get("label"):
                return jsonify({"error": "scoreMaximum and label are required"}), 400
            item_id = f"{lms.issuer}/courses/{course}/lineitems/{len(lms.records.line_items) + 1}?type=grade"
            body["id"] = item_id
            lms.records.line_items[item_id] = body
            return web.response_class(json.dumps(body), status=201, mimetype="application/vnd.ims.lis.v2.lineitem+json")

        @web.post("/courses/<course>/lineitems/<int:number>/scores")
        def scores(course: str, number: int) -> Any:
            if not lms._authorised(AGS_SCOPES[1]):
                return jsonify({"error": "forbidden"}), 401
            if request.mimetype != "application/vnd.ims.lis.v1.score+json":
                return jsonify({"error": "content type"}), 415
            body = dict(request.get_json(force=True))
            body["_lineitem"] = f"{lms.issuer}/courses/{course}/lineitems/{number}?{request.query_string.decode()}"
            if lms.records.score_status >= 400:
                return jsonify({"error": "refused"}), lms.records.score_status
            lms.records.scores.append(body)
            return "", lms.records.score_status

        @web.get("/courses/<course>/memberships")
        def memberships(course: str) -> Any:
            if not lms._authorised("https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"):
                return jsonify({"error": "forbidden"}), 401
            page = int(request.args.get("page", "1"))
            lms.records.roster_requests.append(request.full_path)
            size = lms.records.page_size
            chunk = lms.records.members[(page - 1) * size: page * size]
            response = web.response_class(json.dumps({
                "id": request.url, "context": {"id": course}, "members": chunk,
            }), mimetype="application/vnd.ims.lti-nrps.v2.membershipcontainer+json")
            if page * size < len(lms.records.members):
                response.headers["Link"] = f'<{lms.issuer}/courses/{course}/memberships?page={page + 1}>; rel="next"'
            return response

        @web.post("/deep-link-return")
        def deep_link_return() -> Any:
            claims = lms._verify_tool_jwt(request.form["JWT"], lms.issuer)
            lms.records.deep_links.append(claims)
            return "<p>ok</p>"

        return web

    def close(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()

    # ---- the tool's side: registration and launches ---------------------------------------------

    def register(self, app: Flask) -> None:
        """Register this LMS with the tool, and learn the tool's public keys."""
        with app.app_context(), get_db(app).session() as session:
            registry.create(session, registry.RegistrationInput(
                issuer=self.issuer, client_id=self.client_id, auth_login_url=self.issuer + "/auth",
                jwks_url=self.issuer + "/jwks", auth_token_url=self.issuer + "/token", name="Test LMS",
                product_family="testlms", deployment_ids=[self.deployment_id],
            ), allow_http=True)
            self.tool_jwks = get_keyring(app).jwks()

    def claims(self, nonce: str, *, role: str = LEARNER, sub: str = "learner-1", course: str = "C1",
               resource_link: str = "rl-1", message_type: str = "LtiResourceLinkRequest", **extra: Any) -> dict[str, Any]:
        """Return an id_token's claims for a launch (LTI Core 1.3 §5.3, AGS §3.1, NRPS §3.6.1)."""
        now = int(time.time())
        body: dict[str, Any] = {
            "iss": self.issuer, "aud": self.client_id, "sub": sub, "nonce": nonce, "iat": now, "exp": now + 300,
            "name": "林小華 Lin Hsiao-hua", "email": "lin@example.gov.tw", "locale": "zh-TW",
            LTI + "message_type": message_type, LTI + "version": "1.3.0",
            LTI + "deployment_id": self.deployment_id,
            LTI + "target_link_uri": TOOL_BASE + "/lti/launch",
            LTI + "roles": [role],
            LTI + "context": {"id": "course-7", "title": "國際視野 101", "label": "IV101"},
            LTI + "tool_platform": {"name": "Test LMS", "product_family_code": "testlms"},
            "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint": {
                "scope": AGS_SCOPES, "lineitems": f"{self.issuer}/courses/course-7/lineitems",
            },
            "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice": {
                "context_memberships_url": f"{self.issuer}/courses/course-7/memberships",
                "service_versions": ["2.0"],
            },
        }
        if message_type == "LtiResourceLinkRequest":
            body[LTI + "resource_link"] = {"id": resource_link, "title": "國際課程 " + course}
            body[LTI + "custom"] = {"catalog_course": course}
        body.update(extra)
        return body

    def launch(self, client: FlaskClient, **claims: Any) -> Any:
        """Run the OIDC login and the launch through the tool; return the launch's response."""
        params = {"iss": self.issuer, "login_hint": claims.get("sub", "learner-1"),
                  "target_link_uri": TOOL_BASE + "/lti/launch", "client_id": self.client_id,
                  "lti_deployment_id": self.deployment_id}
        login = client.get("/lti/login", query_string=params)
        query = parse_qs(urlsplit(auth_redirect(login)).query)
        token = jwt.encode(self.claims(query["nonce"][0], **claims), self.private_pem, algorithm="RS256",
                           headers={"kid": self.kid})
        return client.post("/lti/launch", data={"id_token": token, "state": query["state"][0]})
