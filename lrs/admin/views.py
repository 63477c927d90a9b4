"""Serve the LRS credentials administration page: create (secret shown once), list, scope and revoke.

Administrators only, every form CSRF-protected. Credentials are checked in the database on each
xAPI request (`lrs.storage.credentials.check_credential`), so a revocation or a scope change takes
effect at once in every worker process.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, flash, g, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from lrs.app import get_settings
from lrs.db import get_session
from lrs.errors import BadRequest, NotFound
from lrs.staff import Role, staff_required
from lrs.storage import credentials as creds

bp = Blueprint("lrs_admin", __name__, url_prefix="/admin/lrs", template_folder="templates")

# What each scope lets a client do (xAPI 1.0.3 Communication 4.2), shown beside the checkboxes.
SCOPE_HELP = {
    "statements/write": "Write statements",
    "statements/read": "Read any statement",
    "statements/read/mine": "Read the statements this credential wrote",
    "all/read": "Read everything",
    "all": "Read and write everything",
    "state": "Read and write state documents",
    "define": "Define activities and agents",
    "profile": "Read and write activity and agent profiles",
}


def _credential(key: str) -> creds.Credential:
    credential = get_session().scalar(select(creds.Credential).where(creds.Credential.key == key))
    if credential is None:
        raise NotFound(_("No credential has the key %(key)s.", key=key))
    return credential


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


def _page(status: int = 200, **context: Any) -> Response:
    credentials = creds.list_credentials(get_session())
    html = render_template(
        "lrs_admin/credentials.html", credentials=credentials, scopes=creds.SCOPES, scope_help=SCOPE_HELP, **context
    )
    return _no_store(make_response(html, status))


@bp.route("/credentials", methods=["GET"])
@staff_required(Role.ADMINISTRATOR)
def credentials() -> Response:
    """List credentials (never their secrets) with the form to create one."""
    return _page()


@bp.route("/credentials", methods=["POST"])
@staff_required(Role.ADMINISTRATOR)
def create() -> Response:
    """Create a credential and show its secret this once."""
    session = get_session()
    name = request.form.get("name", "")
    try:
        scopes = creds.parse_scopes(request.form.getlist("scopes"))
        homepage = get_settings(current_app).public_base_url
        issued = creds.create_credential(session, name, scopes, homepage, created_by=g.staff_user.username)
    except BadRequest as err:
        return _page(400, error=err.message, form_name=name, form_scopes=request.form.getlist("scopes"))
    session.commit()
    html = render_template("lrs_admin/created.html", credential=issued.credential, secret=issued.secret)
    return _no_store(make_response(html, 201))


@bp.route("/credentials/<key>/scopes", methods=["POST"])
@staff_required(Role.ADMINISTRATOR)
def change_scopes(key: str) -> Response | Any:
    """Replace a credential's scopes; the next request it makes is checked against them."""
    credential = _credential(key)
    try:
        scopes = creds.parse_scopes(request.form.getlist("scopes"))
    except BadRequest as err:
        return _page(400, error=err.message)
    if credential.revoked:
        return _page(400, error=_("A revoked credential cannot be changed; create a new one."))
    credential.scopes_text = " ".join(scopes)
    get_session().commit()
    flash(_("The scopes of %(name)s are now: %(scopes)s.", name=credential.name, scopes=", ".join(scopes)), "success")
    return redirect(url_for("lrs_admin.credentials"))


@bp.route("/credentials/<key>/revoke", methods=["POST"])
@staff_required(Role.ADMINISTRATOR)
def revoke(key: str) -> Any:
    """Revoke a credential; every worker refuses it from its next request on."""
    credential = _credential(key)
    creds.revoke_credential(get_session(), key)
    get_session().commit()
    flash(_("%(name)s is revoked: the LRS refuses it from now on.", name=credential.name), "success")
    return redirect(url_for("lrs_admin.credentials"))


@bp.route("/outbox", methods=["GET"])
@staff_required(Role.ADMINISTRATOR)
def outbox() -> Response:
    """Show the outbox by channel (forwarding, the tool's deliveries): pending, delivered, dead, last error."""
    from lrs.outbox import core
    from lrs.outbox.forwarding import ForwardConfig

    forwarding = ForwardConfig.of(current_app)
    html = render_template(
        "lrs_admin/outbox.html",
        channels=core.status(get_session()),
        forwarding=forwarding,
        handled=sorted(core.handlers(current_app)),
    )
    return _no_store(make_response(html, 200))


@bp.route("/outbox/retry", methods=["POST"])
@staff_required(Role.ADMINISTRATOR)
def outbox_retry() -> Any:
    """Make a channel's dead messages due again, after the cause was fixed."""
    from lrs.outbox import core

    channel = request.form.get("channel") or None
    count = core.retry_dead(get_session(), channel)
    flash(_("%(count)s dead message(s) will be delivered again.", count=count), "success")
    return redirect(url_for("lrs_admin.outbox"))
