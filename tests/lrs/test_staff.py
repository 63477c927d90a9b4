"""Test staff accounts, login, roles, CSRF protection and session expiry."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Blueprint, Flask
from flask.testing import FlaskClient

from lrs.db import get_db
from lrs.staff import service, staff_required
from lrs.staff.models import Role, StaffUser
from tests.conftest import csrf_token_from


@pytest.fixture
def guarded_app(app: Flask) -> Flask:
    """Add a page that only certification staff may open."""
    bp = Blueprint("guarded", __name__)

    @bp.route("/guarded")
    @staff_required(Role.CERTIFICATION)
    def guarded() -> str:
        return "certification-only content"

    app.register_blueprint(bp)
    return app


def test_staff_login_get_renders_form_with_csrf_token(client: FlaskClient) -> None:
    """Show a login form that carries a CSRF token and labelled fields."""
    page = client.get("/staff/login").get_data(as_text=True)
    assert 'name="csrf_token"' in page
    assert '<label for="username">' in page
    assert '<label for="password">' in page


def test_staff_login_post_without_csrf_token_is_refused(client: FlaskClient, make_staff: Callable[..., tuple[str, str]]) -> None:
    """Refuse a login form that lacks the CSRF token, with a message to reload."""
    username, password = make_staff("alice", Role.CURATOR)
    response = client.post("/staff/login", data={"username": username, "password": password})
    assert response.status_code == 400
    assert "reload the page" in response.get_data(as_text=True)
    with client.session_transaction() as session:
        assert "staff_id" not in session


def test_staff_login_wrong_password_is_refused(client: FlaskClient, make_staff: Callable[..., tuple[str, str]]) -> None:
    """Answer 401 with the form again for a wrong password."""
    username, _ = make_staff("alice", Role.CURATOR)
    token = csrf_token_from(client, "/staff/login")
    response = client.post("/staff/login?lang=en", data={"username": username, "password": "wrong-password!", "csrf_token": token})
    assert response.status_code == 401
    assert "Wrong username or password" in response.get_data(as_text=True)


def test_staff_login_locks_after_five_failures(app: Flask, client: FlaskClient, make_staff: Callable[..., tuple[str, str]]) -> None:
    """Lock an account for 15 minutes after five wrong passwords, even for the right one."""
    username, password = make_staff("alice", Role.CURATOR)
    for _ in range(5):
        token = csrf_token_from(client, "/staff/login")
        client.post("/staff/login", data={"username": username, "password": "nope-nope-nope", "csrf_token": token})
    token = csrf_token_from(client, "/staff/login")
    response = client.post("/staff/login", data={"username": username, "password": password, "csrf_token": token})
    assert response.status_code == 401
    with get_db(app).session() as session:
        user = session.query(StaffUser).filter_by(username=username).one()
        assert user.locked_until is not None


def test_staff_page_redirects_anonymous_to_login(guarded_app: Flask) -> None:
    """Send an anonymous browser to the login page, remembering where it was going."""
    response = guarded_app.test_client().get("/guarded")
    assert response.status_code == 302
    assert response.headers["Location"] == "/staff/login?next=/guarded"


def test_staff_page_forbids_other_roles(guarded_app: Flask, make_staff: Callable[..., tuple[str, str]]) -> None:
    """Answer 403 to a curator on a certification page."""
    client = guarded_app.test_client()
    username, password = make_staff("carol", Role.CURATOR)
    token = csrf_token_from(client, "/staff/login")
    client.post("/staff/login", data={"username": username, "password": password, "csrf_token": token})
    response = client.get("/guarded?lang=en")
    assert response.status_code == 403
    assert "certification role" in response.get_data(as_text=True)


@pytest.mark.parametrize("role", [Role.CERTIFICATION, Role.ADMINISTRATOR])
def test_staff_page_admits_role_and_administrator(guarded_app: Flask, make_staff: Callable[..., tuple[str, str]], role: Role) -> None:
    """Admit the named role and administrators."""
    client = guarded_app.test_client()
    username, password = make_staff("dora", role)
    token = csrf_token_from(client, "/staff/login")
    client.post("/staff/login", data={"username": username, "password": password, "csrf_token": token})
    response = client.get("/guarded")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "certification-only content"


def test_staff_login_redirect_refuses_other_sites(client: FlaskClient, make_staff: Callable[..., tuple[str, str]]) -> None:
    """Never redirect to another site after login (no open redirect)."""
    username, password = make_staff("erin", Role.CURATOR)
    token = csrf_token_from(client, "/staff/login")
    response = client.post("/staff/login?next=//evil.example/x", data={"username": username, "password": password, "csrf_token": token})
    assert response.status_code == 302
    assert response.headers["Location"] == "/staff/"


def test_staff_disable_ends_existing_session(app: Flask, client: FlaskClient, make_staff: Callable[..., tuple[str, str]], login: Callable[[str, str], None]) -> None:
    """End a logged-in session at once when the account is disabled."""
    username, password = make_staff("frank", Role.CURATOR)
    login(username, password)
    assert client.get("/staff/").status_code == 200
    with get_db(app).session() as session:
        service.set_active(session, username, False)
    assert client.get("/staff/").status_code == 302


def test_staff_session_expires_after_inactivity(client: FlaskClient, make_staff: Callable[..., tuple[str, str]], login: Callable[[str, str], None]) -> None:
    """Log out a session that was idle longer than SESSION_LIFETIME_MINUTES."""
    username, password = make_staff("gina", Role.CURATOR)
    login(username, password)
    with client.session_transaction() as session:
        session["seen"] = int(session["seen"]) - 481 * 60
    assert client.get("/staff/").status_code == 302


def test_staff_logout_needs_csrf_and_ends_session(client: FlaskClient, make_staff: Callable[..., tuple[str, str]], login: Callable[[str, str], None]) -> None:
    """Refuse a logout without the CSRF token; with it, end the session."""
    username, password = make_staff("hank", Role.CURATOR)
    login(username, password)
    assert client.post("/staff/logout").status_code == 400
    assert client.get("/staff/").status_code == 200
    token = csrf_token_from(client, "/staff/")
    assert client.post("/staff/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/staff/").status_code == 302


@pytest.mark.parametrize(
    ("username", "password", "message"),
    [("ab", "long-enough-pw", "3 to 80"), ("ok_name", "short", "at least 10"), ("bad name", "long-enough-pw", "3 to 80")],
)
def test_staff_create_user_rejects_bad_input(app: Flask, username: str, password: str, message: str) -> None:
    """Reject invalid usernames and short passwords with a precise message."""
    from lrs.errors import BadRequest

    with get_db(app).session() as session, pytest.raises(BadRequest, match=message):
        service.create_user(session, username, password, {Role.CURATOR})


def test_staff_password_is_stored_hashed(app: Flask, make_staff: Callable[..., tuple[str, str]]) -> None:
    """Store a salted hash, never the password."""
    _, password = make_staff("ivan", Role.CURATOR)
    with get_db(app).session() as session:
        user = session.query(StaffUser).filter_by(username="ivan").one()
        assert password not in user.password_hash
        assert user.password_hash.startswith(("scrypt:", "pbkdf2:"))
