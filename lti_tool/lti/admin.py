"""Serve the administrators' page for platform registrations (manual registration, status, removal)."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from lrs.app import get_settings
from lrs.cache import get_cache
from lrs.db import get_session
from lrs.errors import AppError, BadRequest
from lrs.staff import Role, staff_required
from lti_tool.lti import registry, toolconfig
from lti_tool.lti.models import RegistrationStatus

bp = Blueprint("lti_admin", __name__, url_prefix="/lti/admin", template_folder="templates")


def _form_input() -> registry.RegistrationInput:
    form = request.form
    jwks_text = form.get("platform_jwks", "").strip()
    try:
        platform_jwks = json.loads(jwks_text) if jwks_text else None
    except ValueError:
        raise BadRequest(_("The pasted key set is not valid JSON.")) from None
    if platform_jwks is not None and not isinstance(platform_jwks, dict):
        raise BadRequest(_("The pasted key set must be a JSON object with a \"keys\" list."))
    deployments = [d.strip() for d in form.get("deployment_ids", "").replace(",", "\n").splitlines() if d.strip()]
    return registry.RegistrationInput(
        issuer=form.get("issuer", "").strip(), client_id=form.get("client_id", "").strip(),
        auth_login_url=form.get("auth_login_url", "").strip(), jwks_url=form.get("jwks_url", "").strip(),
        auth_token_url=form.get("auth_token_url", "").strip(), auth_audience=form.get("auth_audience", "").strip(),
        name=form.get("name", "").strip(), product_family=form.get("product_family", "").strip(),
        deployment_ids=deployments, platform_jwks=platform_jwks,
        status=RegistrationStatus(form.get("status", "active")) if form.get("status") in {s.value for s in RegistrationStatus}
        else RegistrationStatus.ACTIVE,
    )


@bp.route("/platforms", methods=["GET", "POST"])
@staff_required(Role.ADMINISTRATOR)
def platforms() -> Any:
    """List registrations and register a platform by hand."""
    session = get_session()
    error = None
    status = 200
    if request.method == "POST":
        try:
            row = registry.create(session, _form_input(), allow_http=get_settings(current_app).allow_private_outbound)
            session.commit()
            flash(_("Registered %(issuer)s (client %(client)s).", issuer=row.issuer, client=row.client_id), "success")
            return redirect(url_for("lti_admin.platforms"), code=303)
        except AppError as err:
            session.rollback()
            error, status = err.message, err.status
    rows = registry.list_all(session)
    requests = {row.id: registry.deployment_requests(get_cache(), row) for row in rows}
    return render_template("lti/admin_platforms.html", registrations=rows, deployment_requests=requests, error=error,
                           form=request.form, config=toolconfig.manual_config(),
                           statuses=[s.value for s in RegistrationStatus]), status


@bp.route("/platforms/<int:registration_id>/status", methods=["POST"])
@staff_required(Role.ADMINISTRATOR)
def platform_status(registration_id: int) -> Any:
    """Change a registration's status and add deployment ids."""
    session = get_session()
    row = registry.get(session, registration_id)
    registry.set_status(row, request.form.get("status", row.status))
    added = [d.strip() for d in request.form.get("deployment_ids", "").replace(",", "\n").splitlines() if d.strip()]
    registry.add_deployments(row, added)
    session.commit()
    flash(_("Saved %(issuer)s.", issuer=row.issuer), "success")
    return redirect(url_for("lti_admin.platforms"), code=303)


@bp.route("/platforms/<int:registration_id>/delete", methods=["POST"])
@staff_required(Role.ADMINISTRATOR)
def platform_delete(registration_id: int) -> Any:
    """Remove a registration."""
    session = get_session()
    row = registry.get(session, registration_id)
    registry.remove(session, row)
    session.commit()
    flash(_("Removed %(issuer)s.", issuer=row.issuer), "success")
    return redirect(url_for("lti_admin.platforms"), code=303)
