"""Create, authenticate and disable staff accounts."""

from __future__ import annotations

import datetime as dt
import functools
import re

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from lrs.db import utcnow
from lrs.errors import BadRequest, Conflict, NotFound
from lrs.staff.models import Role, StaffUser

USERNAME_RE = re.compile(r"^[A-Za-z0-9_.@-]{3,80}$")
MIN_PASSWORD_LENGTH = 10
MAX_FAILED_LOGINS = 5
LOCKOUT = dt.timedelta(minutes=15)


@functools.cache
def _dummy_hash() -> str:
    """Return a hash to compare against when the user does not exist, so timing does not reveal usernames.

    Made once per process when the staff pages are registered (`warm_up`), not at import: CLI commands
    and certification workers never log anyone in.
    """
    return generate_password_hash("not-a-real-password-xx")


def warm_up() -> None:
    """Make the dummy hash before the first login, so the first unknown user costs no more than any other."""
    _dummy_hash()


def parse_roles(text: str) -> set[Role]:
    """Parse a comma- or space-separated list of role names."""
    names = [part for part in re.split(r"[,\s]+", text.strip()) if part]
    valid = {role.value for role in Role}
    unknown = [name for name in names if name not in valid]
    if unknown:
        raise BadRequest(f"Unknown role {unknown[0]!r}: use {', '.join(sorted(valid))}.")
    if not names:
        raise BadRequest(f"Give at least one role: {', '.join(sorted(valid))}.")
    return {Role(name) for name in names}


def create_user(
    session: Session, username: str, password: str, roles: set[Role], display_name: str = "", email: str = ""
) -> StaffUser:
    """Create an active account after checking the username and password."""
    if not USERNAME_RE.match(username):
        raise BadRequest("A username has 3 to 80 letters, digits or . _ @ - characters.")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise BadRequest(f"A password needs at least {MIN_PASSWORD_LENGTH} characters.")
    if session.scalar(select(StaffUser).where(StaffUser.username == username)) is not None:
        raise Conflict(f"The username {username!r} is already taken.")
    user = StaffUser(username=username, display_name=display_name, email=email,
                     password_hash=generate_password_hash(password))
    user.roles = roles
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, username: str, password: str) -> StaffUser | None:
    """Return the active account whose password matches, counting failures toward a lockout."""
    user = session.scalar(select(StaffUser).where(StaffUser.username == username))
    if user is None:
        check_password_hash(_dummy_hash(), password)
        return None
    now = utcnow()
    if not user.active or (user.locked_until is not None and user.locked_until > now):
        check_password_hash(_dummy_hash(), password)
        return None
    if not check_password_hash(user.password_hash, password):
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILED_LOGINS:
            user.locked_until = now + LOCKOUT
            user.failed_logins = 0
        return None
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    return user


def set_active(session: Session, username: str, active: bool) -> StaffUser:
    """Enable or disable an account; disabling ends its sessions at once."""
    user = session.scalar(select(StaffUser).where(StaffUser.username == username))
    if user is None:
        raise NotFound(f"No staff account is called {username!r}.")
    user.active = active
    user.session_version += 1
    return user


def list_users(session: Session) -> list[StaffUser]:
    """List every account by username."""
    return list(session.scalars(select(StaffUser).order_by(StaffUser.username)))
