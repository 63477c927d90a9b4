"""Keep staff logged in through the signed session cookie, and guard staff pages by role.

Every admin, curator and certification page of both apps uses `staff_required`. A session holds
the account id, its session version (bumped on disable) and the login time; it expires after
`SESSION_LIFETIME_MINUTES` of inactivity.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import current_app, g, redirect, request, session, url_for

from lrs.db import get_session
from lrs.errors import Forbidden, Unauthorized, wants_json
from lrs.staff.models import Role, StaffUser

F = TypeVar("F", bound=Callable[..., Any])


def log_in(user: StaffUser) -> None:
    """Start a fresh session for the account (a new session defeats fixation)."""
    session.clear()
    session.permanent = True
    session["staff_id"] = user.id
    session["staff_version"] = user.session_version
    session["seen"] = int(time.time())


def log_out() -> None:
    """End the session."""
    session.clear()


def load_staff_user() -> None:
    """Put the logged-in account, if any, on `g.staff_user`."""
    g.staff_user = None
    if request.path.startswith("/xapi/"):
        return  # xAPI clients authenticate with LRS credentials, never with a staff session
    staff_id = session.get("staff_id")
    if staff_id is None:
        return
    lifetime = current_app.config["PERMANENT_SESSION_LIFETIME"].total_seconds()
    now = int(time.time())
    if now - int(session.get("seen", 0)) > lifetime:
        session.clear()
        return
    user = get_session().get(StaffUser, staff_id)
    if user is None or not user.active or user.session_version != session.get("staff_version"):
        session.clear()
        return
    if now - int(session.get("seen", 0)) > 60:
        session["seen"] = now  # sliding expiry, refreshed at most once a minute
    g.staff_user = user


def staff_required(*roles: Role) -> Callable[[F], F]:
    """Require a logged-in staff account holding one of the roles (administrators pass always)."""

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            user: StaffUser | None = g.get("staff_user")
            if user is None:
                if wants_json():
                    raise Unauthorized("Log in as staff to use this.")
                return redirect(url_for("staff.login", next=request.full_path.rstrip("?")))
            if roles and not user.has_role(*roles):
                needed = " or ".join(role.value for role in roles)
                raise Forbidden(f"This needs the {needed} role; ask an administrator to grant it.")
            return view(*args, **kwargs)

        return cast(F, wrapped)

    return decorate
