"""Test the outbox and forwarding admin page."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from lrs.db import get_db
from lrs.outbox import core
from lrs.outbox.models import DEAD, OutboxMessage
from lrs.staff.models import Role
from tests.conftest import csrf_token_from

PAGE = "/admin/lrs/outbox"


def test_outbox_page_shows_channels_and_retries_dead(
    app: Flask, client: FlaskClient, make_staff: Callable[..., tuple[str, str]], login: Callable[[str, str], None]
) -> None:
    """Show counts and the last error per channel to administrators, and revive dead messages (CSRF-protected)."""
    with get_db(app).session() as session:
        core.enqueue(session, "lrs.forward", {"statements": []})
        core.enqueue(session, "lrs.forward", {"statements": []})
    with get_db(app).session() as session:
        session.execute(update(OutboxMessage).where(OutboxMessage.id == 1).values(status=DEAD, last_error="target said 400"))
    assert client.get(PAGE).status_code == 302
    login(*make_staff("curator2", Role.CURATOR))
    assert client.get(PAGE).status_code == 403
    client.post("/staff/logout", data={"csrf_token": csrf_token_from(client, "/staff/")})
    login(*make_staff("admin2", Role.ADMINISTRATOR))
    page = client.get(PAGE + "?lang=en").get_data(as_text=True)
    assert "lrs.forward" in page and "target said 400" in page and "Forwarding is off" in page
    assert client.post(PAGE + "/retry", data={"channel": "lrs.forward"}).status_code == 400
    token = csrf_token_from(client, PAGE)
    assert client.post(PAGE + "/retry", data={"channel": "lrs.forward", "csrf_token": token}).status_code == 302
    with get_db(app).session() as session:
        assert core.status(session)[0].dead == 0
    assert "待送訊息與轉送" in client.get(PAGE + "?lang=zh-TW").get_data(as_text=True)
