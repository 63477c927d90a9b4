"""Serve the staff login, logout and landing pages."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Flask, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from lrs.db import get_session
from lrs.staff import auth, service
from lrs.staff.models import Role

bp = Blueprint("staff", __name__, url_prefix="/staff", template_folder="templates")

# Areas other packages add to the staff landing page: (endpoint, label, roles that see it).
STAFF_LINKS_KEY = "lb.staff_links"


def register_staff_link(app: Flask, endpoint: str, label: str, *roles: Role) -> None:
    """Add a link to the staff landing page, shown to accounts holding one of the roles."""
    app.extensions.setdefault(STAFF_LINKS_KEY, []).append((endpoint, label, roles))


def _safe_next(target: str | None) -> str:
    # Only same-site relative paths: an open redirect after login is a phishing aid.
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("staff.home")


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    """Show the login form and log a staff member in."""
    error = None
    if request.method == "POST":
        username = request.form.get("username", "").strip()
        password = request.form.get("password", "")
        db = get_session()
        user = service.authenticate(db, username, password)
        db.commit()
        if user is not None:
            auth.log_in(user)
            return redirect(_safe_next(request.args.get("next")))
        error = _("Wrong username or password, or the account is disabled or locked for 15 minutes.")
    status = 401 if error else 200
    return render_template("staff/login.html", error=error), status


@bp.route("/logout", methods=["POST"])
def logout() -> Any:
    """Log out and return to the login page."""
    auth.log_out()
    flash(_("You have logged out."), "success")
    return redirect(url_for("staff.login"))


@bp.route("/")
@auth.staff_required()
def home() -> Any:
    """List the staff areas this account may open."""
    user = g.staff_user
    links = [
        {"url": url_for(endpoint), "label": _(label)}
        for endpoint, label, roles in current_app.extensions.get(STAFF_LINKS_KEY, [])
        if not roles or user.has_role(*roles)
    ]
    return render_template("staff/home.html", links=links, roles=sorted(r.value for r in user.roles))


def init_app(app: Flask) -> None:
    """Register the staff pages and load the logged-in account before each request."""
    app.register_blueprint(bp)
    app.before_request(auth.load_staff_user)
    service.warm_up()
