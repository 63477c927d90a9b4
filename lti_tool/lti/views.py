"""Serve the LTI endpoints: login, launch, JWKS, the landing pages and the tool's configuration."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, jsonify, redirect, render_template, request, url_for

from lrs.errors import AppError
from lti_tool.keys import get_keyring
from lti_tool.lti import adapter, dynamic, toolconfig
from lti_tool.lti import launch as launches
from lti_tool.lti.errors import CookieBlocked, LaunchStateError

log = logging.getLogger(__name__)

bp = Blueprint("lti", __name__, url_prefix="/lti", template_folder="templates", static_folder="static",
               static_url_path="/static")
well_known = Blueprint("lti_well_known", __name__)


# Platforms post to these from their own pages: no CSRF token can exist; state and nonce protect them.
# The registration confirmation runs inside the LMS's frame, so it is protected by its own
# unguessable single-use id instead of a session-bound CSRF token.
NEW_WINDOW_PARAM = "lti1p3_new_window"
PROBE_COOKIE = "lti1p3-probe"
CSRF_EXEMPT = ("login", "launch", "launch_verify", "register_confirm")


def _refused(stage: str, err: AppError) -> None:
    # Log the reason and the platform, never the token, state or nonce values.
    log.warning("LTI %s refused (%s %s): %s [iss=%s client_id=%s]", stage, err.status, err.code, err.message,
                (request.values.get("iss") or "")[:200], (request.values.get("client_id") or "")[:200])


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    """Answer a platform's third-party-initiated login (LTI Security Framework 1.0 §5.1.1)."""
    try:
        answer = launches.begin_login()
    except AppError as err:
        _refused("login", err)
        raise
    if answer.uses_platform_storage:
        record = answer.login.record
        assert record is not None
        page = render_template(
            "lti/login_storage.html", redirect_url=answer.redirect_url, storage_target=record.storage_target,
            platform_origin=record.auth_origin, state=answer.login.state, nonce=record.nonce,
        )
        response = Response(page, mimetype="text/html")
    elif request.values.get(NEW_WINDOW_PARAM):
        response = redirect(answer.redirect_url, code=302)  # type: ignore[assignment]
    else:
        # Check in the browser that the state cookie can be kept here (third-party cookies may be
        # blocked in the LMS's frame) before the platform spends its one-time login hint.
        params = {k: v for k, v in request.values.items() if k in adapter.LOGIN_PARAMS}
        page = render_template("lti/login_cookie_check.html", redirect_url=answer.redirect_url,
                               new_window_url=url_for("lti.login") + "?" + urlencode({**params, NEW_WINDOW_PARAM: "1"}),
                               probe=PROBE_COOKIE)
        response = Response(page, mimetype="text/html")
        secure = answer.login.cookies().secure
        response.set_cookie(PROBE_COOKIE, "1", max_age=adapter.STATE_TTL, path="/lti", secure=secure,
                            httponly=False, samesite="None" if secure else "Lax")
    response.headers["Cache-Control"] = "no-store"
    return launches.respond_with_cookies(response, answer.login)


@bp.route("/launch", methods=["POST"])
def launch() -> Any:
    """Validate a launch (LTI Security Framework 1.0 §5.1.3) and land on the tool's page."""
    try:
        outcome = launches.complete_launch()
    except CookieBlocked as err:
        _refused("launch", err)
        query = urlencode({**err.login_params, NEW_WINDOW_PARAM: "1"})
        page = render_template("lti/new_window.html", message=err.message, url=url_for("lti.login") + "?" + query)
        return Response(page, status=err.status, mimetype="text/html")
    except AppError as err:
        _refused("launch", err)
        raise
    if outcome.context is not None:
        response = redirect(launches.landing_url(outcome.context, outcome.token), code=303)
        response.delete_cookie(f"lti1p3-{outcome.state}", path="/lti")  # the state is spent
        return response
    page = render_template(
        "lti/launch_storage.html", pending_id=outcome.pending_id, state=outcome.state, nonce=outcome.nonce,
        platform_origin=outcome.auth_origin, storage_target=outcome.storage_target,
        new_window_url=url_for("lti.login") + "?" + urlencode({**(outcome.login_params or {}), NEW_WINDOW_PARAM: "1"}),
    )
    return Response(page, mimetype="text/html", headers={"Cache-Control": "no-store"})


@bp.route("/launch/verify", methods=["POST"])
def launch_verify() -> Any:
    """Finish a launch whose state the platform's storage returned (LTI Client Side postMessages)."""
    try:
        context, token = launches.finish_storage_launch(
            request.form.get("pending", ""), request.form.get("state", ""), request.form.get("nonce", ""))
    except LaunchStateError as err:
        _refused("launch verification", err)
        raise
    return redirect(launches.landing_url(context, token), code=303)


@bp.route("/launched")
@launches.launch_required
def launched() -> str:
    """Show who launched what (the learner player replaces this page later)."""
    context = launches.current_launch()
    return render_template("lti/launched.html", launch=context)


@bp.route("/deep-link")
@launches.launch_required
def deep_link_placeholder() -> str:
    """Show the deep-linking placeholder (course selection comes later)."""
    return render_template("lti/deep_link.html", launch=launches.current_launch())


def _jwks_response() -> Response:
    response = jsonify(get_keyring().jwks())
    # Platforms cache our keys; a short lifetime lets a rotation reach them well within the overlap.
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.route("/jwks")
def jwks() -> Response:
    """Publish the tool's public keys (RFC 7517 JWKS; LTI Security Framework 1.0 §6.3)."""
    return _jwks_response()


@well_known.route("/.well-known/jwks.json")
def well_known_jwks() -> Response:
    """Publish the tool's public keys at the well-known location."""
    return _jwks_response()


@bp.route("/config")
def config_page() -> Any:
    """Show LMS administrators what to enter in their LMS (page, or JSON when asked for)."""
    config = toolconfig.manual_config()
    wants = request.args.get("format") == "json" or request.accept_mimetypes.best_match(
        ["text/html", "application/json"]) == "application/json"
    if wants:
        return jsonify(config)
    ring = get_keyring()
    public_pem = ring.public_pem(ring.signing_key().kid)
    return render_template("lti/config.html", config=config, public_pem=public_pem)


@bp.route("/config.json")
def config_json() -> Response:
    """Give the tool's configuration as JSON."""
    return jsonify(toolconfig.manual_config())


@bp.route("/register", methods=["GET"])
def register() -> Any:
    """Start LTI Dynamic Registration 1.0 (§3.3): fetch and check the platform, then ask to confirm."""
    try:
        pending = dynamic.start(request.args.get("openid_configuration", ""), request.args.get("registration_token", ""))
    except AppError as err:
        log.warning("dynamic registration refused (%s %s): %s", err.status, err.code, err.message)
        raise
    return render_template("lti/register_confirm.html", pending=pending, request_body=toolconfig.registration_request(pending.config))


@bp.route("/register", methods=["POST"])
def register_confirm() -> Any:
    """Send the confirmed registration to the platform and close the LMS's dialog (§3.5-§3.6)."""
    try:
        row = dynamic.finish(dynamic.load(request.form.get("registration", "")))
    except AppError as err:
        log.warning("dynamic registration failed (%s %s): %s", err.status, err.code, err.message)
        raise
    return render_template("lti/register_done.html", registration=row)
