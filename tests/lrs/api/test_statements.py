"""Test the Statement resource over HTTP against the xAPI 1.0.3 and 2.0.0 specifications."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from typing import Any

import orjson
import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lrs.db import get_db
from lrs.storage.hooks import register_stored_hook
from lrs.storage.models import Activity, Statement
from lrs.storage.statements import get_activity_definition
from lrs.xapi import types
from tests.conftest import basic_auth
from tests.lrs.xapi.helpers import (
    ATTEMPTED,
    COMPLETED,
    COURSE,
    XapiClient,
    app_of,
    client_for,
    new_id,
    statement,
    voiding,
)


@pytest.fixture
def xapi(client: FlaskClient, make_credential: Callable[..., tuple[str, str]]) -> XapiClient:
    """Give an xAPI 1.0.3 client with the `all` scope."""
    return client_for(client, make_credential)


@pytest.fixture
def xapi2(client: FlaskClient, make_credential: Callable[..., tuple[str, str]]) -> XapiClient:
    """Give an xAPI 2.0.0 client with the `all` scope."""
    return client_for(client, make_credential, version="2.0.0")


@pytest.fixture
def make_xapi(client: FlaskClient, make_credential: Callable[..., tuple[str, str]]) -> Callable[..., XapiClient]:
    """Give a factory of xAPI clients with the given scopes."""

    def make(*scopes: str, version: str = "1.0.3", name: str = "test client") -> XapiClient:
        return client_for(client, make_credential, *scopes, version=version, name=name)

    return make


def count_statements(client: FlaskClient) -> int:
    """Count the rows of the statement table."""
    with get_db(app_of(client)).session() as session:
        return int(session.scalar(select(func.count()).select_from(Statement)) or 0)


# --- POST and PUT -------------------------------------------------------------------------------


def test_statements_post_single_returns_id_and_assigns_lrs_properties(xapi: XapiClient) -> None:
    """Return the id array and set id, stored, timestamp, authority, version (Communication 2.1.2; Data 2.4.1, 2.4.7-2.4.10)."""
    response = xapi.post(statement())
    assert response.status_code == 200
    ids = response.get_json()
    assert len(ids) == 1
    got = xapi.get({"statementId": ids[0]}).get_json()
    assert got["id"] == ids[0]
    assert got["stored"].endswith("Z")
    assert got["timestamp"] == got["stored"]
    assert got["version"] == "1.0.0"
    assert got["authority"]["objectType"] == "Agent"
    assert got["authority"]["account"]["homePage"] == "http://lb.test"


def test_statements_timestamp_returned_in_utc_with_milliseconds(xapi: XapiClient) -> None:
    """Return a sent timestamp as the same instant in UTC, RFC 3339, with at least 3 decimals.

    xAPI 1.0.3 Data 4.5 ("The LRS SHOULD* return the Timestamp in UTC timezone"); IEEE 9274.1.1
    4.2.7; ADL XAPI-00122. The column the `since`/`until` and certification queries use holds the
    same instant.
    """
    sent = {"2013-05-01T12:00:00Z": "2013-05-01T12:00:00.000Z", "2024-05-01 08:30:00.1234567+0800": "2024-05-01T00:30:00.1234567Z"}
    for text, expected in sent.items():
        ident = xapi.post(statement(timestamp=text)).get_json()[0]
        got = xapi.get({"statementId": ident}).get_json()
        assert got["timestamp"] == expected
        with get_db(app_of(xapi.client)).session() as session:
            column = session.scalar(select(Statement.timestamp).where(Statement.statement_id == ident))
        assert column is not None and column == types.parse_timestamp(text)


def test_statements_post_array_returns_ids_in_order(xapi: XapiClient) -> None:
    """Return ids in the same order as the statements posted (Communication 2.1.2)."""
    given = [new_id(), new_id()]
    ids = xapi.store(statement(id=given[0]), statement(), statement(id=given[1]))
    assert ids[0] == given[0] and ids[2] == given[1] and len(set(ids)) == 3


def test_statements_put_stores_under_statement_id(xapi: XapiClient) -> None:
    """Store with 204 No Content under statementId (Communication 2.1.1)."""
    ident = new_id()
    response = xapi.put(ident, statement())
    assert response.status_code == 204
    assert response.get_data() == b""
    assert xapi.get({"statementId": ident}).get_json()["id"] == ident


def test_statements_put_without_statement_id_rejected(xapi: XapiClient) -> None:
    """Require statementId on PUT (Communication 2.1.1 parameters table)."""
    response = xapi.client.put("/xapi/statements", json=statement(), headers=xapi.headers())
    assert response.status_code == 400
    assert "statementId" in response.get_json()["error"]["message"]


def test_statements_put_mismatched_id_rejected(xapi: XapiClient) -> None:
    """Reject a statement whose id differs from statementId (Communication 2.1.1.s3.b3)."""
    response = xapi.put(new_id(), statement(id=new_id()))
    assert response.status_code == 400


def test_statements_put_existing_equivalent_accepted_without_change(xapi: XapiClient) -> None:
    """Accept an equivalent statement again without modifying the stored one (Communication 2.1.1.s2.b2)."""
    ident = new_id()
    assert xapi.put(ident, statement()).status_code == 204
    before = xapi.get({"statementId": ident}).get_json()
    time.sleep(0.005)
    # Different verb display and activity definition are not part of the comparison (Data 2.3.1).
    again = statement(verb={"id": COMPLETED, "display": {"en-GB": "finished"}}, timestamp="2020-01-01T00:00:00Z")
    assert xapi.put(ident, again).status_code == 204
    # Nothing new in the POST: 204 (Communication 2.1.1 "409 Conflict or 204 No Content"; ADL suite
    # H.Communication2.1 "should return 409 or 204 when statement ID already exists on PUT").
    repeated = xapi.post(again | {"id": ident})
    assert repeated.status_code == 204 and repeated.data == b""
    assert xapi.get({"statementId": ident}).get_json() == before
    assert count_statements(xapi.client) == 1
    # A batch that stores something new still answers 200 with every id, the repeated one included.
    fresh = new_id()
    mixed = xapi.post([again | {"id": ident}, statement() | {"id": fresh}])
    assert mixed.status_code == 200 and mixed.get_json() == [ident, fresh]
    assert count_statements(xapi.client) == 2


def test_statements_put_existing_different_is_conflict(xapi: XapiClient) -> None:
    """Answer 409 Conflict for a different statement with a stored id (Communication 2.1.1.s2.b3)."""
    ident = new_id()
    xapi.put(ident, statement())
    response = xapi.put(ident, statement(verb={"id": ATTEMPTED}))
    assert response.status_code == 409
    assert xapi.get({"statementId": ident}).get_json()["verb"]["id"] == COMPLETED


def test_statements_post_conflict_rolls_back_whole_batch(xapi: XapiClient) -> None:
    """Store nothing of a batch that conflicts anywhere (Communication 2.1.2; Data 2.3.1 immutability)."""
    ident = new_id()
    xapi.put(ident, statement())
    fresh = new_id()
    response = xapi.post([statement(id=fresh), statement(id=ident, verb={"id": ATTEMPTED})])
    assert response.status_code == 409
    assert xapi.get({"statementId": fresh}).status_code == 404
    assert count_statements(xapi.client) == 1


def test_statements_post_duplicate_ids_in_batch_rejected(xapi: XapiClient) -> None:
    """Reject a batch holding two statements with one id (Communication 2.1.1.s2.b4)."""
    ident = new_id()
    response = xapi.post([statement(id=ident), statement(id=ident.upper())])
    assert response.status_code == 400
    assert "more than once" in response.get_json()["error"]["message"]
    assert count_statements(xapi.client) == 0


def test_statements_post_invalid_statement_in_batch_stores_nothing(xapi: XapiClient) -> None:
    """Reject the whole batch when one statement is invalid, naming its path (Data 2.2)."""
    response = xapi.post([statement(), statement(context={"revision": "1", "bogus": 1})])
    assert response.status_code == 400
    assert response.get_json()["error"]["message"].startswith("statements[1].context.bogus")
    assert count_statements(xapi.client) == 0


def test_statements_post_revision_with_agent_object_names_rule(xapi: XapiClient) -> None:
    """Name the path and rule: revision only with an Activity object (Data 2.4.6.s4.b3)."""
    body = statement(object={"objectType": "Agent", "mbox": "mailto:x@example.com"}, context={"revision": "2"})
    response = xapi.post(body)
    assert response.status_code == 400
    assert response.get_json()["error"]["message"] == "statement.context.revision is only allowed when the object is an Activity"


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/json", b"{not json"),
        ("application/json", b""),
        ("text/plain", b"{}"),
        ("application/json", b"42"),
        ("application/json", b'[{"actor": null}]'),
    ],
)
def test_statements_post_malformed_body_rejected(xapi: XapiClient, content_type: str, body: bytes) -> None:
    """Answer 400 (never 500) to malformed JSON or wrong content types (Communication 3.2 errors)."""
    response = xapi.client.post("/xapi/statements", data=body, headers=xapi.headers(**{"Content-Type": content_type}))
    assert response.status_code == 400
    assert response.get_json()["error"]["message"]


def test_statements_post_unknown_parameter_rejected(xapi: XapiClient) -> None:
    """Reject parameters the resource does not define (Communication 2.0 "LRS MUST reject unrecognised parameters")."""
    response = xapi.client.post("/xapi/statements?foo=1", json=statement(), headers=xapi.headers())
    assert response.status_code == 400
    assert count_statements(xapi.client) == 0


def test_statements_post_oversized_body_rejected(client: FlaskClient, xapi: XapiClient) -> None:
    """Refuse a body above the configured limit with 413 and store nothing."""
    app_of(client).config["MAX_CONTENT_LENGTH"] = 2048
    big = statement(result={"response": "x" * 4096})
    response = xapi.post(big)
    assert response.status_code == 413
    assert count_statements(xapi.client) == 0


# --- Versions ------------------------------------------------------------------------------------


def test_statements_post_without_version_header_rejected(xapi: XapiClient) -> None:
    """Reject requests without X-Experience-API-Version (Communication 3.3.s3.b4)."""
    response = xapi.client.post("/xapi/statements", json=statement(), headers={"Authorization": xapi.auth})
    assert response.status_code == 400
    assert response.headers["X-Experience-API-Version"] == "1.0.3"


def test_statements_post_v2_sets_version_2(xapi2: XapiClient) -> None:
    """Set version 2.0.0 on statements without one under xAPI 2.0 (IEEE 9274.1.1 4.2.4.3)."""
    ident = xapi2.store(statement())[0]
    response = xapi2.get({"statementId": ident})
    assert response.get_json()["version"] == "2.0.0"
    assert response.headers["X-Experience-API-Version"] == "2.0.0"


def test_statements_post_v1_rejects_statement_version_2(xapi: XapiClient) -> None:
    """Reject a statement version other than 1.0.x under 1.0.3 (Data 2.4.10.s3.b1)."""
    response = xapi.post(statement(version="2.0.0"))
    assert response.status_code == 400
    assert "statement.version" in response.get_json()["error"]["message"]


def test_statements_post_context_agents_only_in_v2(xapi: XapiClient, xapi2: XapiClient) -> None:
    """Accept contextAgents in 2.0.0 only (IEEE 9274.1.1 4.2.2.5; 1.0.3 Data 2.4.6 has no such property)."""
    context = {
        "contextAgents": [
            {"objectType": "contextAgent", "agent": {"mbox": "mailto:t@example.com"}, "relevantTypes": ["http://example.com/t"]}
        ]
    }
    assert xapi.post(statement(context=context)).status_code == 400
    assert xapi2.post(statement(context=context)).status_code == 200


def test_statements_get_retains_accepted_version(xapi: XapiClient) -> None:
    """Return statements with the version they were accepted with (Data 2.4.10.s3.b2)."""
    ident = xapi.store(statement(version="1.0.1"))[0]
    assert xapi.get({"statementId": ident}).get_json()["version"] == "1.0.1"


# --- Credentials ---------------------------------------------------------------------------------


def test_statements_post_without_credentials_is_unauthorized(client: FlaskClient) -> None:
    """Answer 401 without credentials (Communication 4.1)."""
    response = client.post("/xapi/statements", json=statement(), headers={"X-Experience-API-Version": "1.0.3"})
    assert response.status_code == 401
    assert "WWW-Authenticate" in response.headers


@pytest.mark.parametrize("which", ["wrong secret", "unknown key"])
def test_statements_post_with_wrong_credentials_is_unauthorized(
    client: FlaskClient, lrs_credentials: tuple[str, str], which: str
) -> None:
    """Answer 401 and store nothing for a wrong secret or an unknown key (Communication 4.1)."""
    key, secret = lrs_credentials
    header = basic_auth(key, secret + "x") if which == "wrong secret" else basic_auth("0" * 32, secret)
    before = count_statements(client)
    response = client.post(
        "/xapi/statements", json=statement(), headers={"Authorization": header, "X-Experience-API-Version": "1.0.3"}
    )
    assert response.status_code == 401
    assert count_statements(client) == before


def test_statements_post_with_read_scope_forbidden(make_xapi: Callable[..., XapiClient]) -> None:
    """Answer 403 when the credential lacks statements/write (Communication 4.2 scopes)."""
    reader = make_xapi("statements/read")
    response = reader.post(statement())
    assert response.status_code == 403
    assert reader.get().status_code == 200


def test_statements_get_read_mine_sees_only_own(make_xapi: Callable[..., XapiClient]) -> None:
    """Limit statements/read/mine to statements the credential wrote (Communication 4.2 scope table)."""
    mine = make_xapi("statements/write", "statements/read/mine", name="mine")
    other = make_xapi("all", name="other")
    own = mine.store(statement())[0]
    theirs = other.store(statement())[0]
    assert mine.ids() == [own]
    assert mine.get({"statementId": theirs}).status_code == 404
    assert set(other.ids()) == {own, theirs}


def test_statements_get_write_only_forbidden(make_xapi: Callable[..., XapiClient]) -> None:
    """Answer 403 to a read by a write-only credential (Communication 4.2)."""
    writer = make_xapi("statements/write")
    assert writer.get().status_code == 403


# --- GET one -------------------------------------------------------------------------------------


def test_statements_get_unknown_id_not_found(xapi: XapiClient) -> None:
    """Answer 404 for an id the LRS does not have (Communication 2.1.3)."""
    assert xapi.get({"statementId": new_id()}).status_code == 404


def test_statements_get_single_sends_consistent_through_and_last_modified(xapi: XapiClient) -> None:
    """Send X-Experience-API-Consistent-Through and Last-Modified (Communication 2.1.3.s2.b5, 2.1.3 Last-Modified)."""
    ident = xapi.store(statement())[0]
    response = xapi.get({"statementId": ident})
    assert response.headers["X-Experience-API-Consistent-Through"].endswith("Z")
    assert response.headers["Last-Modified"]


@pytest.mark.parametrize("extra", [{"verb": COMPLETED}, {"limit": "1"}, {"voidedStatementId": "x"}])
def test_statements_get_single_with_other_parameters_rejected(xapi: XapiClient, extra: dict[str, str]) -> None:
    """Reject statementId with parameters other than attachments and format (Communication 2.1.3.s2.b2)."""
    assert xapi.get({"statementId": new_id(), **extra}).status_code == 400


def test_statements_get_single_with_format_and_attachments_accepted(xapi: XapiClient) -> None:
    """Allow attachments and format beside statementId (Communication 2.1.3.s2.b2)."""
    ident = xapi.store(statement())[0]
    response = xapi.get({"statementId": ident, "format": "ids", "attachments": "false"})
    assert response.status_code == 200
    assert response.get_json()["object"] == {"id": COURSE}


def test_statements_head_returns_headers_without_body(xapi: XapiClient) -> None:
    """Answer HEAD like GET without a body (Communication 1.1 HEAD)."""
    ident = xapi.store(statement())[0]
    response = xapi.client.head("/xapi/statements", query_string={"statementId": ident}, headers=xapi.headers())
    assert response.status_code == 200
    assert response.get_data() == b""
    assert response.headers["X-Experience-API-Consistent-Through"]


# --- Voiding -------------------------------------------------------------------------------------


def test_statements_voiding_hides_target_except_by_voided_id(xapi: XapiClient) -> None:
    """Return a voided statement only by voidedStatementId, never in queries (Data 2.3.2; Communication 2.1.4)."""
    target = xapi.store(statement())[0]
    voider = xapi.store(voiding(target))[0]
    assert xapi.get({"statementId": target}).status_code == 404
    got = xapi.get({"voidedStatementId": target})
    assert got.status_code == 200 and got.get_json()["id"] == target
    assert xapi.get({"voidedStatementId": voider}).status_code == 404
    assert target not in xapi.ids()
    assert voider in xapi.ids()


def test_statements_voiding_a_voiding_statement_refused(xapi: XapiClient) -> None:
    """Refuse to void a voiding statement (Data 2.3.2: a voiding statement cannot itself be voided)."""
    target = xapi.store(statement())[0]
    voider = xapi.store(voiding(target))[0]
    response = xapi.post(voiding(voider))
    assert response.status_code == 400
    assert xapi.get({"statementId": voider}).status_code == 200


def test_statements_voiding_requires_statement_ref(xapi: XapiClient) -> None:
    """Reject the voided verb with an object that is not a StatementRef (Data 2.3.2.s2.b1)."""
    response = xapi.post(statement(verb={"id": "http://adlnet.gov/expapi/verbs/voided"}))
    assert response.status_code == 400
    assert "StatementRef" in response.get_json()["error"]["message"]


def test_statements_voiding_unknown_target_accepted_and_applied_later(xapi: XapiClient) -> None:
    """Accept voiding an unknown id (IEEE 9274.1.1 4.2.4.1) and treat the target as voided when it arrives."""
    target = new_id()
    assert xapi.post(voiding(target)).status_code == 200
    xapi.put(target, statement())
    assert xapi.get({"statementId": target}).status_code == 404
    assert xapi.get({"voidedStatementId": target}).status_code == 200


# --- Queries -------------------------------------------------------------------------------------


@pytest.fixture
def corpus(xapi: XapiClient) -> dict[str, str]:
    """Store a small set of statements to query."""
    registration = "6fbd600f-d17c-4c74-801a-2ec2e53231f6"
    names: dict[str, str] = {}
    names["a_completed"] = xapi.store(statement())[0]
    names["b_attempted"] = xapi.store(
        statement(
            actor={"mbox": "mailto:other@example.com"},
            verb={"id": ATTEMPTED},
            object={"id": "http://example.com/quiz"},
            context={
                "registration": registration,
                "instructor": {"mbox": "mailto:teacher@example.com"},
                "contextActivities": {"parent": {"id": COURSE}},
            },
        )
    )[0]
    names["c_agent_object"] = xapi.store(
        statement(actor={"mbox": "mailto:teacher@example.com"}, object={"objectType": "Agent", "mbox": "mailto:learner@example.com"})
    )[0]
    names["registration"] = registration
    return names


def _agent(mbox: str) -> str:
    return orjson.dumps({"mbox": mbox}).decode()


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"verb": COMPLETED}, {"a_completed", "c_agent_object"}),
        ({"verb": ATTEMPTED}, {"b_attempted"}),
        ({"activity": COURSE}, {"a_completed"}),
        ({"activity": COURSE, "related_activities": "true"}, {"a_completed", "b_attempted"}),
        ({"agent": _agent("mailto:learner@example.com")}, {"a_completed", "c_agent_object"}),
        ({"agent": _agent("mailto:teacher@example.com")}, {"c_agent_object"}),
        ({"agent": _agent("mailto:teacher@example.com"), "related_agents": "true"}, {"b_attempted", "c_agent_object"}),
        ({"registration": "6FBD600F-D17C-4C74-801A-2EC2E53231F6"}, {"b_attempted"}),
        ({"verb": COMPLETED, "agent": _agent("mailto:teacher@example.com")}, {"c_agent_object"}),
        ({"verb": ATTEMPTED, "activity": COURSE, "related_activities": "true"}, {"b_attempted"}),
    ],
)
def test_statements_get_filters(xapi: XapiClient, corpus: dict[str, str], params: dict[str, str], expected: set[str]) -> None:
    """Filter by agent, verb, activity, registration, related_* (Communication 2.1.3 parameters table)."""
    assert set(xapi.ids(params)) == {corpus[name] for name in expected}


def test_statements_get_orders_by_stored_descending_unless_ascending(xapi: XapiClient, corpus: dict[str, str]) -> None:
    """Return the most recently stored first, or oldest first with ascending=true (Communication 2.1.3)."""
    order = [corpus["a_completed"], corpus["b_attempted"], corpus["c_agent_object"]]
    assert xapi.ids() == order[::-1]
    assert xapi.ids({"ascending": "true"}) == order


def test_statements_get_since_until_compare_stored(xapi: XapiClient) -> None:
    """Filter since (exclusive) and until (inclusive) on stored (Communication 2.1.3)."""
    first = xapi.store(statement())[0]
    stored = xapi.get({"statementId": first}).get_json()["stored"]
    time.sleep(0.01)
    second = xapi.store(statement())[0]
    assert xapi.ids({"since": stored}) == [second]
    assert xapi.ids({"until": stored}) == [first]


def test_statements_get_more_pages_through_everything(xapi: XapiClient) -> None:
    """Follow `more` until it is empty and see every statement once (Communication 2.1.3 StatementResult)."""
    stored = set(xapi.store(*[statement() for _ in range(7)]))
    seen: list[str] = []
    response = xapi.get({"limit": "3"})
    while True:
        body = response.get_json()
        assert len(body["statements"]) <= 3
        seen += [item["id"] for item in body["statements"]]
        if not body["more"]:
            break
        assert body["more"].startswith("/xapi/statements?")
        response = xapi.get(body["more"])
        assert response.status_code == 200
    assert len(seen) == 7 and set(seen) == stored


def test_statements_get_result_has_statements_and_more(xapi: XapiClient) -> None:
    """Answer a StatementResult with statements and an empty more when complete (Data 2.5)."""
    response = xapi.get()
    assert response.get_json() == {"statements": [], "more": ""}
    assert response.headers["X-Experience-API-Consistent-Through"]


@pytest.mark.parametrize(
    "params",
    [
        {"foo": "bar"},
        {"limit": "-1"},
        {"limit": "ten"},
        {"since": "yesterday"},
        {"agent": "not json"},
        {"agent": '{"name": "no identifier"}'},
        {"verb": "not an iri"},
        {"registration": "123"},
        {"format": "full"},
        {"ascending": "yes"},
        {"more": "garbage"},
    ],
)
def test_statements_get_bad_parameters_rejected(xapi: XapiClient, params: dict[str, str]) -> None:
    """Reject unknown or malformed query parameters with 400 (Communication 2.1.3)."""
    response = xapi.get(params)
    assert response.status_code == 400
    assert response.get_json()["error"]["message"]


def test_statements_get_statement_ref_matches_target_filters(xapi: XapiClient) -> None:
    """Return statements targeting a matching statement (Communication 2.1.3 Filter Conditions for StatementRefs)."""
    target = xapi.store(statement(verb={"id": ATTEMPTED}))[0]
    referrer = xapi.store(statement(object={"objectType": "StatementRef", "id": target}))[0]
    assert set(xapi.ids({"verb": ATTEMPTED})) == {target, referrer}
    # The rule also holds when the referring statement arrived before its target.
    later = new_id()
    early = xapi.store(statement(object={"objectType": "StatementRef", "id": later}))[0]
    second = xapi.store(statement(object={"objectType": "StatementRef", "id": later}))[0]
    xapi.put(later, statement(verb={"id": "http://example.com/verbs/rare"}))
    assert set(xapi.ids({"verb": "http://example.com/verbs/rare"})) == {later, early, second}


def test_statements_get_format_ids_keeps_only_identifiers(xapi: XapiClient) -> None:
    """Return only identifying properties with format=ids (Communication 2.1.3 format)."""
    xapi.store(statement())
    got = xapi.get({"format": "ids"}).get_json()["statements"][0]
    assert got["actor"] == {"objectType": "Agent", "mbox": "mailto:learner@example.com"}
    assert got["verb"] == {"id": COMPLETED}
    assert got["object"] == {"id": COURSE}


def test_statements_get_format_canonical_uses_merged_definition_and_language(xapi: XapiClient) -> None:
    """Return the canonical definition in the requested language (Communication 2.1.3 format=canonical)."""
    xapi.store(statement(object={"id": COURSE, "definition": {"name": {"en-US": "Intl 101"}}}))
    xapi.store(statement(object={"id": COURSE, "definition": {"name": {"zh-TW": "國際 101"}}}))
    first = xapi.get({"format": "canonical"}, **{"Accept-Language": "zh-TW, en;q=0.5"}).get_json()["statements"]
    assert all(item["object"]["definition"]["name"] == {"zh-TW": "國際 101"} for item in first)
    english = xapi.get({"format": "canonical"}, **{"Accept-Language": "en"}).get_json()["statements"]
    assert english[0]["object"]["definition"]["name"] == {"en-US": "Intl 101"}
    assert english[0]["verb"]["display"] == {"en-US": "completed"}


def test_statements_post_merges_activity_definitions(xapi: XapiClient) -> None:
    """Merge language maps into the Activity's canonical definition (Data 2.4.4.1; IEEE 9274.1.1 4.2.4.3)."""
    xapi.store(statement(object={"id": COURSE, "definition": {"name": {"en-US": "A"}, "type": "http://example.com/t"}}))
    xapi.store(statement(object={"id": COURSE, "definition": {"name": {"zh-TW": "甲"}}}))
    with get_db(app_of(xapi.client)).session() as session:
        definition = get_activity_definition(session, COURSE)
    assert definition == {"name": {"en-US": "A", "zh-TW": "甲"}, "type": "http://example.com/t"}


def test_statements_batch_merges_many_activities_and_repeats_once(xapi: XapiClient) -> None:
    """Store a definition for each of 600 Activities in one batch, one Activity named twice (Data 2.4.4.1).

    More Activities than one lookup takes at a time, and a repeat inside the batch whose language
    maps merge; a second batch then extends a stored definition.
    """
    ids = [f"http://example.com/activities/{index}" for index in range(600)]
    batch = [statement(object={"id": ident, "definition": {"name": {"en-US": f"A{index}"}}}) for index, ident in enumerate(ids)]
    batch.append(statement(object={"id": ids[0], "definition": {"name": {"zh-TW": "甲"}}}))
    assert xapi.post(batch).status_code == 200
    assert xapi.post(statement(object={"id": ids[599], "definition": {"description": {"en-US": "last"}}})).status_code == 200
    with get_db(app_of(xapi.client)).session() as session:
        assert get_activity_definition(session, ids[0]) == {"name": {"en-US": "A0", "zh-TW": "甲"}}
        assert get_activity_definition(session, ids[599]) == {"name": {"en-US": "A599"}, "description": {"en-US": "last"}}
        assert session.scalar(select(func.count()).select_from(Activity).where(Activity.activity_id.like("http://example.com/activities/%"))) == 600


def test_statements_get_context_activities_returned_as_arrays(xapi: XapiClient) -> None:
    """Return every contextActivities value as an array (Data 2.4.6.2.s4.b3)."""
    ident = xapi.store(statement(context={"contextActivities": {"parent": {"id": COURSE}}}))[0]
    got = xapi.get({"statementId": ident}).get_json()
    assert got["context"]["contextActivities"]["parent"] == [{"id": COURSE}]


# --- Alternate syntax, CORS, hooks ---------------------------------------------------------------


def test_statements_alternate_syntax_put_in_v1(xapi: XapiClient) -> None:
    """Accept PUT through the alternate request syntax in 1.0.3 (Communication 1.3)."""
    ident = new_id()
    form = {
        "statementId": ident,
        "content": orjson.dumps(statement()).decode(),
        "Authorization": xapi.auth,
        "X-Experience-API-Version": "1.0.3",
        "Content-Type": "application/json",
    }
    response = xapi.client.post("/xapi/statements?method=PUT", data=form)
    assert response.status_code == 204
    assert xapi.get({"statementId": ident}).status_code == 200


def test_statements_alternate_syntax_get_in_v1(xapi: XapiClient) -> None:
    """Accept GET through the alternate request syntax in 1.0.3 (Communication 1.3)."""
    ident = xapi.store(statement())[0]
    form = {"statementId": ident, "Authorization": xapi.auth, "X-Experience-API-Version": "1.0.3"}
    response = xapi.client.post("/xapi/statements?method=GET", data=form)
    assert response.status_code == 200
    assert response.get_json()["id"] == ident


def test_statements_alternate_syntax_refused_in_v2(xapi2: XapiClient) -> None:
    """Refuse the alternate request syntax under 2.0.0, which removed it."""
    form = {"Authorization": xapi2.auth, "X-Experience-API-Version": "2.0.0", "content": orjson.dumps(statement()).decode()}
    response = xapi2.client.post("/xapi/statements?method=POST", data=form)
    assert response.status_code == 400


def test_statements_options_preflight_allows_browser_clients(client: FlaskClient) -> None:
    """Answer CORS preflights without credentials so course content in a browser can call the LRS."""
    response = client.options(
        "/xapi/statements",
        headers={"Origin": "https://course.example.com", "Access-Control-Request-Method": "POST"},
    )
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == "https://course.example.com"
    assert "X-Experience-API-Version" in response.headers["Access-Control-Allow-Headers"]
    assert "X-Experience-API-Consistent-Through" in response.headers["Access-Control-Expose-Headers"]


def test_statements_delete_not_allowed(xapi: XapiClient) -> None:
    """Answer 405 to DELETE: statements are never deleted (Data 2.3.3)."""
    assert xapi.client.delete("/xapi/statements", headers=xapi.headers()).status_code == 405


def test_statements_post_runs_stored_hooks_in_transaction(xapi: XapiClient) -> None:
    """Give stored-statement hooks the statements as stored, inside the storing transaction."""
    seen: list[dict[str, Any]] = []

    def hook(session: Session, stored: Sequence[dict[str, Any]]) -> None:
        assert session.in_transaction()
        seen.extend(stored)

    register_stored_hook(app_of(xapi.client), hook)
    ident = xapi.store(statement())[0]
    assert [item["id"] for item in seen] == [ident]
    assert seen[0]["stored"] and seen[0]["authority"] and seen[0]["version"] == "1.0.0"


def test_statements_post_failing_hook_stores_nothing(xapi: XapiClient) -> None:
    """Store nothing when a hook fails: hooks and statements commit together."""

    def hook(session: Session, stored: Sequence[dict[str, Any]]) -> None:
        raise RuntimeError("forwarding table unavailable")

    register_stored_hook(app_of(xapi.client), hook)
    response = xapi.post(statement())
    assert response.status_code == 500
    assert count_statements(xapi.client) == 0


def test_statements_post_repeated_property_rejected(xapi: XapiClient) -> None:
    """Reject a statement that uses a property twice (IEEE 9274.1.1 4.2.1 Table Guidelines)."""
    body = b'{"actor": {"mbox": "mailto:a@example.com"}, "verb": {"id": "http://e.com/v", "id": "http://e.com/w"}, "object": {"id": "http://e.com/a"}}'
    response = xapi.client.post("/xapi/statements", data=body, headers=xapi.headers(**{"Content-Type": "application/json"}))
    assert response.status_code == 400
    assert "'id' appears more than once" in response.get_json()["error"]["message"]
    assert count_statements(xapi.client) == 0


def test_statements_put_keeps_id_case_and_matches_case_insensitively(xapi: XapiClient) -> None:
    """Return the id as sent and treat UUID case as the same id (Data 2.3.1: case is not compared)."""
    ident = new_id().upper()
    assert xapi.put(ident, statement(id=ident)).status_code == 204
    got = xapi.get({"statementId": ident.lower()})
    assert got.status_code == 200 and got.get_json()["id"] == ident
    assert xapi.put(ident.lower(), statement()).status_code == 204
    assert count_statements(xapi.client) == 1


def test_statements_get_since_until_include_whole_batches(xapi: XapiClient) -> None:
    """Treat statements stored in one batch alike: until includes all of them, since none (Communication 2.1.3)."""
    batch = xapi.store(statement(), statement(), statement())
    stored = xapi.get({"statementId": batch[0]}).get_json()["stored"]
    time.sleep(0.01)
    later = xapi.store(statement())
    assert set(xapi.ids({"until": stored})) == set(batch)
    assert xapi.ids({"since": stored}) == later
    assert xapi.ids({"until": "2001-01-01T00:00:00Z"}) == []
    assert set(xapi.ids({"since": "2001-01-01T00:00:00Z", "verb": COMPLETED})) == {*batch, *later}


@pytest.mark.parametrize("target_first", [True, False])
def test_statements_get_statement_ref_chain_matches_recursively(xapi: XapiClient, target_first: bool) -> None:
    """Apply the StatementRef rule recursively: a targets b targets c (Communication 2.1.3 Filter Conditions)."""
    c_id, b_id = new_id(), new_id()
    rare = "http://example.com/verbs/chain-" + new_id()
    c = statement(id=c_id, verb={"id": rare})
    b = statement(id=b_id, object={"objectType": "StatementRef", "id": c_id})
    a = statement(object={"objectType": "StatementRef", "id": b_id})
    order = [c, b, a] if target_first else [a, b, c]
    ids = [xapi.store(item)[0] for item in order]
    assert set(xapi.ids({"verb": rare})) == set(ids)


@pytest.mark.parametrize(("extension", "status"), [(b"1e400", 400), (b"[" * 5000 + b"]" * 5000, 400)])
def test_statements_post_unrepresentable_values_rejected(xapi: XapiClient, extension: bytes, status: int) -> None:
    """Answer 400, never 500, to numbers beyond floating point or nesting beyond the parser, storing nothing."""
    body = (
        b'{"actor": {"mbox": "mailto:a@example.com"}, "verb": {"id": "http://e.com/v"}, "object": {"id": "http://e.com/a"},'
        b' "result": {"extensions": {"http://e.com/x": ' + extension + b"}}}"
    )
    response = xapi.client.post("/xapi/statements", data=body, headers=xapi.headers(**{"Content-Type": "application/json"}))
    assert response.status_code == status, response.get_data(as_text=True)
    assert count_statements(xapi.client) == 0


@pytest.mark.parametrize("value", [123456789012345678901234567890, [[[[[[[[[[1]]]]]]]]]] * 1])
def test_statements_post_extension_values_never_rejected(xapi: XapiClient, value: object) -> None:
    """Store any extension value, even beyond 64-bit integers (IEEE 9274.1.1 4.2.7 Extensions)."""
    deep: object = value
    for _ in range(300 if isinstance(value, list) else 0):
        deep = [deep]
    ident = xapi.store(statement(result={"extensions": {"http://e.com/x": deep}}))[0]
    assert xapi.get({"statementId": ident}).status_code == 200


def test_statements_get_returns_extension_integers_beyond_64_bits_exactly(xapi: XapiClient) -> None:
    """Return an extension value exactly as stored, by id and in a query (IEEE 9274.1.1 4.2.7; Communication 2.1.3 exact)."""
    value = 123456789012345678901234567890
    rare = "http://example.com/verbs/big-" + new_id()
    ident = xapi.store(statement(verb={"id": rare}, result={"extensions": {"http://e.com/x": value}}))[0]
    single = json.loads(xapi.get({"statementId": ident}).get_data())
    listed = json.loads(xapi.get({"verb": rare}).get_data())["statements"]
    assert single["result"]["extensions"]["http://e.com/x"] == value
    assert [item["result"]["extensions"]["http://e.com/x"] for item in listed] == [value]


def test_statements_get_consistent_through_covers_latest_write(xapi: XapiClient) -> None:
    """Vouch for every stored statement up to the latest one visible (Communication 2.1.3 Consistent-Through)."""
    ident = xapi.store(statement())[0]
    stored = xapi.get({"statementId": ident}).get_json()["stored"]
    through = xapi.get({"verb": ATTEMPTED}).headers["X-Experience-API-Consistent-Through"]
    assert through >= stored  # same fixed-width UTC format, so text order is time order


def test_statements_post_rolled_back_batch_leaves_no_remembered_definition(xapi: XapiClient) -> None:
    """Keep the Activity merge exact after a failed batch: nothing it merged is remembered as stored."""
    failing = {"on": True}

    def hook(session: Session, stored: Sequence[dict[str, Any]]) -> None:
        if failing["on"]:
            raise RuntimeError("forwarding table unavailable")

    register_stored_hook(app_of(xapi.client), hook)
    body = statement(object={"id": COURSE, "definition": {"name": {"fr": "Cours"}}})
    assert xapi.post(body).status_code == 500
    failing["on"] = False
    assert xapi.post(body).status_code == 200
    with get_db(app_of(xapi.client)).session() as session:
        assert get_activity_definition(session, COURSE) == {"name": {"fr": "Cours"}}
