"""Talk to a live LRS on 127.0.0.1 with the `tincan` Python client, as a foreign xAPI client would."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from tincan import (
    Activity,
    ActivityDefinition,
    Agent,
    LanguageMap,
    RemoteLRS,
    Statement,
    StatementRef,
    Verb,
)
from werkzeug.serving import make_server

COMPLETED = "http://adlnet.gov/expapi/verbs/completed"
VOIDED = "http://adlnet.gov/expapi/verbs/voided"


@pytest.fixture
def live_lrs(app: Flask, make_credential: Callable[..., tuple[str, str]]) -> Iterator[RemoteLRS]:
    """Serve the app on 127.0.0.1 (a free port) and give a tincan RemoteLRS pointed at it."""
    key, secret = make_credential("all")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield RemoteLRS(endpoint=f"http://127.0.0.1:{server.server_port}/xapi/", version="1.0.3", username=key, password=secret)
    finally:
        server.shutdown()
        thread.join(timeout=5)


def make_statement(index: int, verb: str = COMPLETED) -> Statement:
    """Build a statement with the tincan model classes."""
    return Statement(
        actor=Agent(name="Learner", mbox="mailto:learner@example.com"),
        verb=Verb(id=verb, display=LanguageMap({"en-US": "completed"})),
        object=Activity(
            id=f"http://example.com/courses/{index}",
            definition=ActivityDefinition(name=LanguageMap({"en-US": f"Course {index}"})),
        ),
    )


def test_tincan_save_one_and_retrieve(live_lrs: RemoteLRS) -> None:
    """Save one statement (POST), then one with an id (PUT), and read both back (Communication 2.1)."""
    saved = live_lrs.save_statement(make_statement(1))
    assert saved.success, saved.data
    with_id = make_statement(2)
    with_id.id = str(uuid.uuid4())
    put = live_lrs.save_statement(with_id)
    assert put.success, put.data
    for ident in (saved.content.id, with_id.id):
        got = live_lrs.retrieve_statement(ident)
        assert got.success, got.data
        assert str(got.content.id) == str(ident)
        assert got.content.verb.id == COMPLETED
        assert got.content.authority is not None
        assert got.content.stored is not None


def test_tincan_save_many_query_and_follow_more(live_lrs: RemoteLRS) -> None:
    """Save many, query with a limit and follow `more` to the end (Communication 2.1.2, 2.1.3)."""
    response = live_lrs.save_statements([make_statement(i) for i in range(5)])
    assert response.success, response.data
    saved_ids = {str(item.id) for item in response.content}
    assert len(saved_ids) == 5
    result = live_lrs.query_statements({"verb": Verb(id=COMPLETED), "limit": 2, "ascending": True})
    assert result.success, result.data
    seen = [str(item.id) for item in result.content.statements]
    pages = 1
    while result.content.more:
        result = live_lrs.more_statements(result.content)
        assert result.success, result.data
        seen += [str(item.id) for item in result.content.statements]
        pages += 1
    assert set(seen) == saved_ids and len(seen) == 5
    assert pages == 3


def test_tincan_void_and_retrieve_voided(live_lrs: RemoteLRS) -> None:
    """Void a statement and read it back only as voided (Data 2.3.2)."""
    saved = live_lrs.save_statement(make_statement(9))
    assert saved.success
    voiding = Statement(
        actor=Agent(mbox="mailto:learner@example.com"),
        verb=Verb(id=VOIDED),
        object=StatementRef(id=saved.content.id),
    )
    assert live_lrs.save_statement(voiding).success
    assert not live_lrs.retrieve_statement(saved.content.id).success
    voided = live_lrs.retrieve_voided_statement(saved.content.id)
    assert voided.success
    assert str(voided.content.id) == str(saved.content.id)
