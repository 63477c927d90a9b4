"""Forward statements to a second live LRS that stops and restarts mid-way: each arrives exactly once (C6)."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from sqlalchemy import select, update

import lrs
from lrs.config import ConfigError
from lrs.db import get_db, make_engine, utcnow
from lrs.outbox import core
from lrs.outbox.forwarding import FORWARD_CHANNEL, ForwardConfig, check_target
from lrs.outbox.models import DELIVERED, PENDING, OutboxMessage
from lrs.storage import credentials as creds
from tests.conftest import app_config, basic_auth, build_schema, create_pg_database, drop_pg_database
from tests.support import LiveServer

VERB = "http://adlnet.gov/expapi/verbs/completed"


def _statement(verb: str = VERB, activity: str = "http://example.com/courses/1") -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "actor": {"objectType": "Agent", "mbox": "mailto:learner@example.com"},
        "verb": {"id": verb, "display": {"en-US": "completed"}},
        "object": {"objectType": "Activity", "id": activity},
    }


def _credential(app: Flask) -> dict[str, str]:
    with get_db(app).session() as session:
        issued = creds.create_credential(session, "forwarding", ["all"], "http://lb.test")
        return {"Authorization": basic_auth(issued.credential.key, issued.secret), "X-Experience-API-Version": "1.0.3"}


@pytest.fixture
def target(database_url: str, tmp_path: Path) -> Iterator[tuple[LiveServer, Flask]]:
    """Serve a second LRS, on its own database of the same backend, on 127.0.0.1."""
    pg_name = None
    if database_url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'target.db'}"
    else:
        pg_name = f"lb_fwd_{uuid.uuid4().hex[:10]}"
        url = create_pg_database(pg_name)
    engine = make_engine(url)
    build_schema(engine, url)
    engine.dispose()
    app = lrs.create_app(app_config(url, tmp_path / "target"))
    server = LiveServer(app)
    server.start()
    yield server, app
    server.stop()
    get_db(app).dispose()
    if pg_name:
        drop_pg_database(pg_name)


def _source(database_url: str, tmp_path: Path, server: LiveServer, target_headers: dict[str, str], **extra: Any) -> Flask:
    key, secret = _key_secret(target_headers)
    config = app_config(
        database_url,
        tmp_path / "source",
        LRS_FORWARD_ENDPOINT=f"{server.url}/xapi",
        LRS_FORWARD_KEY=key,
        LRS_FORWARD_SECRET=secret,
        OUTBOX_BACKOFF_BASE_SECONDS=0.01,
        OUTBOX_BACKOFF_MAX_SECONDS=0.05,
        **extra,
    )
    return lrs.create_app(config)


def _key_secret(headers: dict[str, str]) -> tuple[str, str]:
    import base64

    key, _, secret = base64.b64decode(headers["Authorization"].split()[1]).decode().partition(":")
    return key, secret


def _ids_at(server: LiveServer, headers: dict[str, str]) -> list[str]:
    response = requests.get(f"{server.url}/xapi/statements?limit=500", headers=headers, timeout=10)
    assert response.status_code == 200, response.text
    return [statement["id"] for statement in response.json()["statements"]]


def _make_due(app: Flask) -> None:
    with get_db(app).session() as session:
        session.execute(update(OutboxMessage).values(next_attempt_at=utcnow() - dt.timedelta(seconds=1)))


def test_forwarding_survives_target_outage_each_statement_once(
    database_url: str, tmp_path: Path, target: tuple[LiveServer, Flask]
) -> None:
    """Forward through an outage and a restart of the target LRS, losing and duplicating nothing (C6)."""
    server, target_app = target
    target_headers = _credential(target_app)
    source = _source(database_url, tmp_path, server, target_headers)
    try:
        client = source.test_client()
        source_headers = _credential(source)
        sent: list[str] = []

        def post(batch: list[dict[str, Any]]) -> None:
            response = client.post("/xapi/statements", json=batch, headers=source_headers)
            assert response.status_code == 200, response.get_data(as_text=True)
            sent.extend(statement["id"] for statement in batch)

        post([_statement() for _ in range(3)])
        post([_statement()])
        assert core.deliver_until_idle(source).delivered == 2
        assert sorted(_ids_at(server, target_headers)) == sorted(sent)

        server.stop()  # the other LRS goes down
        post([_statement(), _statement()])
        post([_statement()])
        outage = core.deliver_until_idle(source)
        assert outage.delivered == 0 and outage.retried == 2
        with get_db(source).session() as session:
            pending = session.scalars(select(OutboxMessage).where(OutboxMessage.status == PENDING)).all()
            assert len(pending) == 2 and all(m.attempts == 1 for m in pending)

        server.start()  # back on the same port
        _make_due(source)
        assert core.deliver_until_idle(source).delivered == 2

        # A deliverer that died after sending but before recording success sends again: still once.
        with get_db(source).session() as session:
            session.execute(update(OutboxMessage).values(status=PENDING, next_attempt_at=utcnow()))
        assert core.deliver_until_idle(source).delivered == 4

        received = _ids_at(server, target_headers)
        assert len(received) == len(set(received)) == 7
        assert sorted(received) == sorted(sent)
        with get_db(source).session() as session:
            assert {m.status for m in session.scalars(select(OutboxMessage))} == {DELIVERED}
    finally:
        get_db(source).dispose()


def test_forwarding_filters_by_verb_and_activity(database_url: str, tmp_path: Path, target: tuple[LiveServer, Flask]) -> None:
    """Forward only statements whose verb and object activity are in the configured filters (C6)."""
    server, target_app = target
    target_headers = _credential(target_app)
    wanted_activity = "http://example.com/courses/wanted"
    source = _source(
        database_url, tmp_path, server, target_headers,
        LRS_FORWARD_VERBS=VERB, LRS_FORWARD_ACTIVITIES=f"{wanted_activity}, http://example.com/courses/also",
    )
    try:
        client = source.test_client()
        headers = _credential(source)
        keep = _statement(activity=wanted_activity)
        batch = [keep, _statement(verb="http://adlnet.gov/expapi/verbs/attempted", activity=wanted_activity), _statement()]
        assert client.post("/xapi/statements", json=batch, headers=headers).status_code == 200
        assert core.deliver_until_idle(source).delivered == 1
        assert _ids_at(server, target_headers) == [keep["id"]]
    finally:
        get_db(source).dispose()


def test_forwarding_refused_statement_goes_dead_without_blocking_others(
    database_url: str, tmp_path: Path, target: tuple[LiveServer, Flask]
) -> None:
    """Park a message the target refuses for good, and keep delivering the rest."""
    server, target_app = target
    target_headers = _credential(target_app)
    source = _source(database_url, tmp_path, server, target_headers)
    try:
        good = _statement()
        with get_db(source).session() as session:
            core.enqueue(session, FORWARD_CHANNEL, {"statements": [{"id": str(uuid.uuid4()), "verb": "not a verb"}]})
            core.enqueue(session, FORWARD_CHANNEL, {"statements": [good]})
        report = core.deliver_until_idle(source)
        assert report.dead == 1 and report.delivered == 1
        assert _ids_at(server, target_headers) == [good["id"]]
    finally:
        get_db(source).dispose()


def test_forwarding_config_reads_filters() -> None:
    """Read the endpoint and the comma-separated filters; an empty filter passes everything."""
    app = Flask(__name__)
    assert ForwardConfig.of(app) is None
    app.config.update(LRS_FORWARD_ENDPOINT="https://lrs.example.gov.tw/xapi/", LRS_FORWARD_VERBS="a:1, b:2")
    with pytest.raises(ConfigError, match="LRS_FORWARD_KEY"):
        ForwardConfig.of(app)
    app.config.update(LRS_FORWARD_KEY="k", LRS_FORWARD_SECRET="s")
    config = ForwardConfig.of(app)
    assert config is not None
    assert config.endpoint == "https://lrs.example.gov.tw/xapi"
    assert config.verbs == {"a:1", "b:2"} and config.activities == frozenset()
    assert config.wants({"verb": {"id": "a:1"}, "object": {"id": "x:1"}})
    assert not config.wants({"verb": {"id": "c:3"}, "object": {"id": "x:1"}})
    app.config["LRS_FORWARD_ENDPOINT"] = "ftp://nope"
    with pytest.raises(ConfigError, match="http"):
        ForwardConfig.of(app)


def test_forwarding_refuses_loopback_unless_allowed() -> None:
    """Refuse to send statements to a loopback address unless ALLOW_PRIVATE_OUTBOUND is set."""
    with pytest.raises(core.Undeliverable, match="ALLOW_PRIVATE_OUTBOUND"):
        check_target("http://127.0.0.1:9/xapi/statements", allow_private=False)
    check_target("http://127.0.0.1:9/xapi/statements", allow_private=True)


def test_forwarding_carries_attachment_data(database_url: str, tmp_path: Path, target: tuple[LiveServer, Flask]) -> None:
    """Send attachments without fileUrl as multipart/mixed parts, so the target stores them too (Communication 1.5.2)."""
    import hashlib

    from lrs.xapi.attachments import AttachmentData, build_multipart

    server, target_app = target
    target_headers = _credential(target_app)
    source = _source(database_url, tmp_path, server, target_headers)
    try:
        data = "結業證書 certificate".encode()
        sha2 = hashlib.sha256(data).hexdigest()
        statement = _statement()
        statement["attachments"] = [{
            "usageType": "http://example.com/attachment-usage/certificate",
            "display": {"en-US": "Certificate"},
            "contentType": "text/plain",
            "length": len(data),
            "sha2": sha2,
        }]
        body, content_type = build_multipart(json.dumps([statement]).encode(), [AttachmentData(sha2, "text/plain", data)])
        posted = source.test_client().post(
            "/xapi/statements", data=body, headers={**_credential(source), "Content-Type": content_type}
        )
        assert posted.status_code == 200, posted.get_data(as_text=True)
        assert core.deliver_until_idle(source).delivered == 1
        fetched = requests.get(
            f"{server.url}/xapi/statements?statementId={statement['id']}&attachments=true", headers=target_headers, timeout=10
        )
        assert fetched.status_code == 200
        assert fetched.headers["Content-Type"].startswith("multipart/mixed")
        assert data in fetched.content
    finally:
        get_db(source).dispose()
