"""Act as a small LTI 1.3 platform at /demo, in demo mode only, so newcomers can launch without an LMS.

It plays every platform part of LTI Security Framework 1.0 §5.1: it starts a third-party login at
the tool (offering its storage with `lti_storage_target`, LTI Client Side postMessages), answers
the authentication request at `/demo/auth` with an RS256 id_token, publishes its JWKS at
`/demo/jwks`, and hosts the tool in an iframe whose page answers `lti.put_data`/`lti.get_data`.
It is registered with the tool like any platform (source "demo"). Never enabled in production:
the blueprint is only mounted when DEMO_MODE is on, and its auth endpoint signs for anyone.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Blueprint, Flask, Response, current_app, make_response, redirect, render_template, request
from flask_babel import get_locale
from itsdangerous import BadSignature, URLSafeSerializer

from lrs.app import get_settings
from lrs.cache import get_cache
from lrs.config import write_once
from lrs.db import get_db
from lrs.errors import BadRequest
from lti_tool.keys import get_keyring, public_jwk
from lti_tool.lti import registry
from lti_tool.lti.claims import CATALOG_COURSE_PARAM, DEEP_LINKING_REQUEST, RESOURCE_LINK_REQUEST
from lti_tool.lti.models import RegistrationSource, RegistrationStatus

bp = Blueprint("lti_demo", __name__, url_prefix="/demo", template_folder="templates")

CLIENT_ID = "demo-client"
DEPLOYMENT_ID = "demo-deployment"
KEY_FILE = "demo-platform.pem"
KID = "demo-platform-1"
ROLES = {
    "learner": ["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"],
    "instructor": ["http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"],
}
PEOPLE = {"learner": "王小華 Wang Hsiao-hua", "instructor": "陳老師 Teacher Chen"}


def issuer(app: Flask | None = None) -> str:
    """Return the demo platform's issuer."""
    return get_settings(app or current_app).public_base_url + "/demo"


def _private_key(app: Flask) -> rsa.RSAPrivateKey:
    path: Path = get_settings(app).keys_dir / KEY_FILE
    if not path.exists():
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        write_once(path, pem)  # another worker may make it first: theirs is kept and read
    loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
    assert isinstance(loaded, rsa.RSAPrivateKey)
    return loaded


def jwks(app: Flask) -> dict[str, Any]:
    """Return the demo platform's public key set."""
    return {"keys": [public_jwk(_private_key(app).public_key(), KID)]}


def ensure_registered(app: Flask) -> bool:
    """Register the demo platform with the tool once; tell whether it was created now."""
    with get_db(app).session() as session:
        if registry.find(session, issuer(app), CLIENT_ID) is not None:
            return False
        base = issuer(app)
        registry.create(session, registry.RegistrationInput(
            issuer=base, client_id=CLIENT_ID, auth_login_url=base + "/auth", jwks_url=base + "/jwks",
            auth_token_url=base + "/token", name="示範學習平臺 Demo LMS", product_family="demo",
            deployment_ids=[DEPLOYMENT_ID],
            # The key set is given inline, so a single-process server never has to fetch from itself.
            platform_jwks=jwks(app), status=RegistrationStatus.ACTIVE, source=RegistrationSource.DEMO,
        ), allow_http=True)
    return True


def _hints() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="demo-platform-login-hint")


# The site-wide policy frames only https pages; the demo LMS frames the tool, which is http under `make run`.
DEMO_CSP = ("default-src 'self'; img-src 'self' data: https:; media-src 'self' https:; frame-src 'self' {tool} https:; "
            "style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-inline'")


@bp.route("/")
def home() -> Response:
    """Show the demo LMS: pick a role and launch the tool in a frame."""
    ensure_registered(current_app)
    tool_origin = "{0.scheme}://{0.netloc}".format(urlsplit(get_settings(current_app).public_base_url))
    response = make_response(render_template("lti/demo.html", people=PEOPLE, tool_origin=tool_origin,
                                             links=demo_links()))
    response.headers["Content-Security-Policy"] = DEMO_CSP.format(tool=tool_origin)
    return response


@bp.route("/start")
def start() -> Any:
    """Start a third-party-initiated login at the tool, as an LMS does when a link is clicked (§5.1.1)."""
    ensure_registered(current_app)
    role = request.args.get("role", "learner")
    if role not in ROLES:
        raise BadRequest("Choose the role learner or instructor.")
    message = DEEP_LINKING_REQUEST if request.args.get("message") == "deep_linking" else RESOURCE_LINK_REQUEST
    link = next((item for item in demo_links() if item["id"] == request.args.get("link")), None)
    hint = _hints().dumps({
        "role": role, "message": message, "name": (request.args.get("name") or PEOPLE[role])[:100],
        "course": (request.args.get("course") or "")[:100], "link": link,
        "locale": request.args.get("locale") or str(get_locale() or "zh_Hant_TW"),
    })
    base = get_settings(current_app).public_base_url
    params = {
        "iss": issuer(), "login_hint": hint, "target_link_uri": base + "/lti/launch",
        "lti_message_hint": message, "client_id": CLIENT_ID, "lti_deployment_id": DEPLOYMENT_ID,
    }
    if request.args.get("storage", "1") == "1":
        params["lti_storage_target"] = "_parent"
    return redirect(base + "/lti/login?" + urlencode(params), code=302)


def _claims(hint: dict[str, Any], nonce: str, redirect_uri: str) -> dict[str, Any]:
    now = int(time.time())
    role = hint["role"]
    claims: dict[str, Any] = {
        "iss": issuer(), "aud": CLIENT_ID, "azp": CLIENT_ID, "sub": f"demo-{role}", "nonce": nonce,
        "iat": now, "exp": now + 300, "name": hint["name"], "email": f"{role}@demo.example",
        "locale": "en-US" if str(hint["locale"]).startswith("en") else "zh-TW",
        "https://purl.imsglobal.org/spec/lti/claim/message_type": hint["message"],
        "https://purl.imsglobal.org/spec/lti/claim/version": "1.3.0",
        "https://purl.imsglobal.org/spec/lti/claim/deployment_id": DEPLOYMENT_ID,
        "https://purl.imsglobal.org/spec/lti/claim/target_link_uri": redirect_uri,
        "https://purl.imsglobal.org/spec/lti/claim/roles": ROLES[role],
        "https://purl.imsglobal.org/spec/lti/claim/context": {
            "id": "demo-course", "label": "DEMO101", "title": "示範課程：國際視野 Demo course: Global outlook",
            "type": ["http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering"]},
        "https://purl.imsglobal.org/spec/lti/claim/tool_platform": {
            "guid": "demo-platform", "name": "示範學習平臺 Demo LMS", "product_family_code": "demo"},
        "https://purl.imsglobal.org/spec/lti/claim/launch_presentation": {
            "document_target": "iframe", "return_url": issuer() + "/", "locale": "en" if str(hint["locale"]).startswith("en") else "zh-TW"},
        "https://purl.imsglobal.org/spec/lti/claim/custom": (
            {CATALOG_COURSE_PARAM: hint["course"]} if hint["course"] else {}),
    }
    link = hint.get("link")
    if link and hint["message"] == RESOURCE_LINK_REQUEST:
        # A link added by deep linking: launch it with the custom parameters the tool chose (DL 2.0 §3.3).
        claims["https://purl.imsglobal.org/spec/lti/claim/custom"] = link["custom"]
        claims["https://purl.imsglobal.org/spec/lti/claim/target_link_uri"] = link["url"] or redirect_uri
        claims["https://purl.imsglobal.org/spec/lti/claim/resource_link"] = {"id": link["id"], "title": link["title"]}
        return claims
    if hint["message"] == DEEP_LINKING_REQUEST:
        claims["https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"] = {
            "deep_link_return_url": issuer() + "/deep-link-return", "accept_types": ["ltiResourceLink"],
            "accept_presentation_document_targets": ["iframe", "window"], "accept_multiple": True}
    else:
        claims["https://purl.imsglobal.org/spec/lti/claim/resource_link"] = {
            "id": "demo-link-" + (hint["course"] or "1"), "title": "示範活動 Demo activity"}
    return claims


@bp.route("/auth", methods=["GET", "POST"])
def auth() -> str:
    """Answer the tool's authentication request with a signed id_token, form-posted back (§5.1.1.2-§5.1.1.3)."""
    values = request.values
    base = get_settings(current_app).public_base_url
    redirect_uri = values.get("redirect_uri", "")
    if values.get("client_id") != CLIENT_ID or redirect_uri != base + "/lti/launch":
        raise BadRequest("The demo platform only answers this tool's client id and launch URL.")
    if values.get("response_type") != "id_token" or values.get("scope") != "openid" or not values.get("nonce"):
        raise BadRequest("The authentication request lacks response_type=id_token, scope=openid or a nonce.")
    try:
        hint = _hints().loads(values.get("login_hint", ""))
    except BadSignature:
        raise BadRequest("The login hint did not come from this demo platform.") from None
    pem = _private_key(current_app).private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                  serialization.NoEncryption())
    token = jwt.encode(_claims(hint, values["nonce"], redirect_uri), pem, algorithm="RS256", headers={"kid": KID})
    return render_template("lti/demo_post.html", action=redirect_uri, id_token=token, state=values.get("state", ""))


@bp.route("/jwks")
def demo_jwks() -> Any:
    """Publish the demo platform's public key set."""
    return jwks(current_app)


LINKS_KEY = "demo:lti-links"
LINKS_TTL = 30 * 24 * 3600
DEEP_LINKING_CONTENT_ITEMS = "https://purl.imsglobal.org/spec/lti-dl/claim/content_items"


def demo_links() -> list[dict[str, Any]]:
    """Return the resource links course staff added to the demo course by deep linking."""
    raw = get_cache().get(LINKS_KEY)
    links = json.loads(raw) if raw else []
    return links if isinstance(links, list) else []


@bp.route("/deep-link-return", methods=["POST"])
def deep_link_return() -> Any:
    """Receive a Deep Linking response (Deep Linking 2.0 §4.5): verify it and add its links to the demo course."""
    raw = request.form.get("JWT", "")
    keys = {key["kid"]: key for key in get_keyring().jwks()["keys"]}
    try:
        kid = jwt.get_unverified_header(raw).get("kid", "")
        if kid not in keys:
            raise jwt.InvalidTokenError("unknown kid")
        claims = jwt.decode(raw, jwt.PyJWK(keys[kid]).key, algorithms=["RS256"], audience=issuer(),
                            issuer=CLIENT_ID, leeway=60, options={"require": ["exp", "iat", "nonce"]})
    except jwt.InvalidTokenError as err:
        raise BadRequest(f"The deep-linking response does not verify with the tool's keys ({type(err).__name__}).") from None
    items = claims.get(DEEP_LINKING_CONTENT_ITEMS) or []
    links = demo_links()
    added = 0
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict) or item.get("type") != "ltiResourceLink":
            continue
        raw_custom = item.get("custom")
        custom: dict[str, Any] = raw_custom if isinstance(raw_custom, dict) else {}
        links.append({"id": f"demo-link-{len(links) + 1}", "title": str(item.get("title") or "")[:200],
                      "url": str(item.get("url") or ""), "custom": {str(k): str(v) for k, v in custom.items()}})
        added += 1
    get_cache().set(LINKS_KEY, json.dumps(links[-50:], ensure_ascii=False), LINKS_TTL)
    return render_template("lti/demo_returned.html", added=added, links=links[-50:])
