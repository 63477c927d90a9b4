"""Test the State Resource over HTTP (xAPI 1.0.3 Communication 2.2, 2.3), for 1.0.3 and 2.0.0 clients."""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.lrs.documents import fixtures
from tests.lrs.documents.helpers import STATE_URL, document, state_params, url

# The shared fixtures of the document tests, bound here so pytest finds them.
xclient = fixtures.xclient
credential_for = fixtures.credential_for
headers = fixtures.headers


def _without(params: dict[str, Any], *names: str) -> dict[str, Any]:
    return {k: v for k, v in params.items() if k not in names}


def test_state_put_then_get_returns_document_byte_for_byte(xclient: FlaskClient, headers: dict[str, str]) -> None:
    """Store any content type and return it unchanged with its type (Communication 1.5.b1, 2.3.s3)."""
    params = state_params()
    body = b"\x00\x01binary \xff suspend data"
    put = xclient.put(url(STATE_URL, params), data=body, content_type="application/octet-stream", headers=headers)
    assert put.status_code == 204
    got = xclient.get(url(STATE_URL, params), headers=headers)
    assert got.status_code == 200
    assert got.data == body
    assert got.headers["Content-Type"] == "application/octet-stream"


def test_state_get_sends_quoted_sha1_etag_and_last_modified(xclient: FlaskClient, headers: dict[str, str]) -> None:
    """Send a quoted SHA-1 ETag and a Last-Modified date on GET (Communication 3.1.s4.b1-b4, 2.2.s6.b1)."""
    params = state_params()
    xclient.put(url(STATE_URL, params), data=b"hello", content_type="text/plain", headers=headers)
    got = xclient.get(url(STATE_URL, params), headers=headers)
    assert got.headers["ETag"] == '"aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d"'
    modified = dt.datetime.strptime(got.headers["Last-Modified"], "%a, %d %b %Y %H:%M:%S GMT").replace(tzinfo=dt.UTC)
    assert abs((dt.datetime.now(dt.UTC) - modified).total_seconds()) < 60


def test_state_head_returns_headers_without_body(xclient: FlaskClient, headers: dict[str, str]) -> None:
    """Answer HEAD like GET without the body (Communication 1.1.s3.b1)."""
    params = state_params()
    xclient.put(url(STATE_URL, params), json=document(), headers=headers)
    head = xclient.head(url(STATE_URL, params), headers=headers)
    assert head.status_code == 200
    assert head.data == b""
    assert head.headers["ETag"].startswith('"')


def test_state_get_missing_document_is_404(xclient: FlaskClient, headers: dict[str, str]) -> None:
    """Answer 404 for a single document that does not exist (Communication 3.2.s2.b4)."""
    assert xclient.get(url(STATE_URL, state_params()), headers=headers).status_code == 404


def test_state_post_new_document_is_stored_as_put(xclient: FlaskClient, headers: dict[str, str]) -> None:
    """Store a POSTed document that does not exist yet as given (Communication 2.2.s7)."""
    params, doc = state_params(), document()
    assert xclient.post(url(STATE_URL, params), json=doc, headers=headers).status_code == 204
    assert xclient.get(url(STATE_URL, params), headers=headers).get_json() == doc


@pytest.mark.parametrize("body", [b"1", b"true"])
def test_state_post_accepts_any_content(xclient: FlaskClient, headers: dict[str, str], body: bytes) -> None:
    """Never refuse a new document for its contents (Communication 2.2.s4.b2)."""
    response = xclient.post(
        url(STATE_URL, state_params()), data=body, content_type="application/x-www-form-urlencoded", headers=headers
    )
    assert response.status_code == 204


def test_state_post_merges_json_objects(xclient: FlaskClient, headers: dict[str, str]) -> None:
    """Merge a POSTed JSON object into the stored one, top level only (Communication 2.2.s7.b1-b3, 2.2.s8.b2)."""
    params = state_params()
    first = {"car": {"make": "Ford", "model": "Escape"}, "driver": "Dale", "keep": 1}
    second = {"car": {"make": "Dodge"}, "driver": "Jeff"}
    xclient.post(url(STATE_URL, params), json=first, headers=headers)
    merged = xclient.post(url(STATE_URL, params), json=second, headers=headers)
    assert merged.status_code == 204
    got = xclient.get(url(STATE_URL, params), headers=headers)
    assert got.get_json() == {"car": {"make": "Dodge"}, "driver": "Jeff", "keep": 1}
    assert got.headers["Content-Type"] == "application/json"


@pytest.mark.parametrize(
    ("stored", "stored_type", "posted", "posted_type"),
    [
        (b'{"a": 1}', "application/json", b"abcdefg", "not/json"),
        (b"/ asdf / undefined", "application/octet-stream", b'{"a": 1}', "application/json"),
        (b'{"a": 1}', "application/json", b'{"b": 2}{', "application/json"),
        (b'{"a": 1}', "application/json", b"[1, 2]", "application/json"),
        (b"[1, 2]", "application/json", b'{"b": 2}', "application/json"),
    ],
)
def test_state_post_refuses_to_merge_non_json_objects(
    xclient: FlaskClient, headers: dict[str, str], stored: bytes, stored_type: str, posted: bytes, posted_type: str
) -> None:
    """Answer 400 and keep the document when either side is not a JSON object (Communication 2.2.s8.b1)."""
    params = state_params()
    assert xclient.put(url(STATE_URL, params), data=stored, content_type=stored_type, headers=headers).status_code == 204
    refused = xclient.post(url(STATE_URL, params), data=posted, content_type=posted_type, headers=headers)
    assert refused.status_code == 400
    assert refused.get_json()["error"]["message"]
    kept = xclient.get(url(STATE_URL, params), headers=headers)
    assert kept.data == stored


def test_state_put_without_headers_over_existing(xclient: FlaskClient, headers: dict[str, str]) -> None:
    """Replace State without concurrency headers in 1.0.3 (Communication 3.1.s3); refuse it with 409 in 2.0.0.

    xAPI 2.0.0 Communication 3.1 puts the State Resource under the same rule as the profiles, and ADL's
    2.0.0 suite (4.1.4-Concurrency, "Concurrency for the Activity State Resource") checks the 409, the
    message and that the document is unchanged.
    """
    params = state_params()
    assert xclient.put(url(STATE_URL, params), json={"a": 1}, headers=headers).status_code == 204
    response = xclient.put(url(STATE_URL, params), json={"b": 2}, headers=headers)
    if headers["X-Experience-API-Version"] == "2.0.0":
        assert response.status_code == 409
        assert "If-Match" in response.get_json()["error"]["message"]
        assert xclient.get(url(STATE_URL, params), headers=headers).get_json() == {"a": 1}
    else:
        assert response.status_code == 204
        assert xclient.get(url(STATE_URL, params), headers=headers).get_json() == {"b": 2}


def test_state_registration_separates_documents(xclient: FlaskClient, headers: dict[str, str]) -> None:
    """Keep a document per registration (Communication 2.3.s3.table1.row3)."""
    params = state_params()
    registration = str(uuid.uuid4())
    xclient.put(url(STATE_URL, params), json={"plain": True}, headers=headers)
    xclient.put(url(STATE_URL, {**params, "registration": registration}), json={"registered": True}, headers=headers)
    assert xclient.get(url(STATE_URL, params), headers=headers).get_json() == {"plain": True}
    with_reg = xclient.get(url(STATE_URL, {**params, "registration": registration.upper()}), headers=headers)
    assert with_reg.get_json() == {"registered": True}


def test_state_agent_is_matched_by_identifier(xclient: FlaskClient, headers: dict[str, str]) -> None:
    """Find a document by the agent's identifier whatever else the Agent object says (Data 2.4.2.1)."""
    params = state_params(agent={"mbox": "mailto:learner@example.com"})
    xclient.put(url(STATE_URL, params), json={"a": 1}, headers=headers)
    named = {**params, "agent": {"objectType": "Agent", "name": "Learner", "mbox": "mailto:learner@example.com"}}
    assert xclient.get(url(STATE_URL, named), headers=headers).get_json() == {"a": 1}


def test_state_get_ids_lists_context_and_honours_since(xclient: FlaskClient, headers: dict[str, str]) -> None:
    """List the state ids of the context, only those updated after `since` (Communication 2.3.s4, 2.2.s6.b2)."""
    activity = f"http://example.com/activities/{uuid.uuid4()}"
    first, second = state_params(activityId=activity), state_params(activityId=activity)
    xclient.put(url(STATE_URL, first), json={"n": 1}, headers=headers)
    time.sleep(0.02)
    between = dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z")
    time.sleep(0.02)
    xclient.put(url(STATE_URL, second), json={"n": 2}, headers=headers)
    context = _without(first, "stateId")
    listed = xclient.get(url(STATE_URL, context), headers=headers)
    assert listed.status_code == 200
    assert sorted(listed.get_json()) == sorted([first["stateId"], second["stateId"]])
    assert listed.headers["ETag"].startswith('"')
    assert "Last-Modified" in listed.headers
    recent = xclient.get(url(STATE_URL, {**context, "since": between}), headers=headers)
    assert recent.get_json() == [second["stateId"]]


def test_state_get_ids_of_empty_context_is_empty_array(xclient: FlaskClient, headers: dict[str, str]) -> None:
    """Return an empty array when the context has no state (Communication 2.3.s4)."""
    context = _without(state_params(activityId=f"http://example.com/{uuid.uuid4()}"), "stateId")
    response = xclient.get(url(STATE_URL, context), headers=headers)
    assert response.status_code == 200
    assert response.get_json() == []


def test_state_delete_single_document(xclient: FlaskClient, headers: dict[str, str]) -> None:
    """Delete one document and answer 204 (Communication 2.3.s3)."""
    params = state_params()
    xclient.put(url(STATE_URL, params), json={"a": 1}, headers=headers)
    assert xclient.delete(url(STATE_URL, params), headers=headers).status_code == 204
    assert xclient.get(url(STATE_URL, params), headers=headers).status_code == 404


def test_state_delete_all_for_context_keeps_others(xclient: FlaskClient, headers: dict[str, str]) -> None:
    """Delete every state of an activity and agent, and only those (Communication 2.3.s5)."""
    activity = f"http://example.com/activities/{uuid.uuid4()}"
    mine = [state_params(activityId=activity) for _ in range(3)]
    mine.append(state_params(activityId=activity, registration=str(uuid.uuid4())))
    other = state_params(activityId=activity, agent={"mbox": "mailto:other@example.com"})
    for params in [*mine, other]:
        xclient.put(url(STATE_URL, params), json={"x": 1}, headers=headers)
    context = _without(mine[0], "stateId")
    assert xclient.delete(url(STATE_URL, context), headers=headers).status_code == 204
    assert xclient.get(url(STATE_URL, context), headers=headers).get_json() == []
    assert xclient.get(url(STATE_URL, other), headers=headers).status_code == 200


def test_state_delete_with_registration_deletes_only_that_registration(
    xclient: FlaskClient, headers: dict[str, str]
) -> None:
    """Narrow the multi-delete to the registration when one is given (Communication 2.3.s5.table1.row3)."""
    activity = f"http://example.com/activities/{uuid.uuid4()}"
    registration = str(uuid.uuid4())
    plain = state_params(activityId=activity)
    registered = state_params(activityId=activity, registration=registration)
    for params in (plain, registered):
        xclient.put(url(STATE_URL, params), json={"x": 1}, headers=headers)
    xclient.delete(url(STATE_URL, _without(registered, "stateId")), headers=headers)
    assert xclient.get(url(STATE_URL, registered), headers=headers).status_code == 404
    assert xclient.get(url(STATE_URL, plain), headers=headers).status_code == 200


MISSING_OR_BAD = [
    ("PUT", {"activityId": None}),
    ("POST", {"activityId": None}),
    ("GET", {"activityId": None}),
    ("DELETE", {"activityId": None}),
    ("PUT", {"activityId": "1"}),
    ("PUT", {"agent": None}),
    ("POST", {"agent": None}),
    ("GET", {"agent": None}),
    ("DELETE", {"agent": None}),
    ("PUT", {"agent": "not JSON"}),
    ("POST", {"agent": True}),
    ("GET", {"agent": True}),
    ("DELETE", {"agent": {"objectType": "Group", "member": []}}),
    ("PUT", {"registration": True}),
    ("POST", {"registration": "abc"}),
    ("GET", {"registration": True}),
    ("DELETE", {"registration": True}),
    ("PUT", {"stateId": None}),
    ("POST", {"stateId": None}),
    ("PUT", {"profileId": "unexpected"}),
    ("DELETE", {"since": "2024-01-01T00:00:00Z"}),
]


@pytest.mark.parametrize(("method", "change"), MISSING_OR_BAD)
def test_state_rejects_missing_or_malformed_parameters(
    xclient: FlaskClient, headers: dict[str, str], method: str, change: dict[str, Any]
) -> None:
    """Reject missing, malformed or unknown parameters with 400 and a message (Communication 2.3.s3-s5, 3.2.s3.b7)."""
    params = state_params()
    params.update(change)
    kwargs: dict[str, Any] = {"headers": headers}
    if method in {"PUT", "POST"}:
        kwargs["json"] = document()
    response = xclient.open(url(STATE_URL, params), method=method, **kwargs)
    assert response.status_code == 400
    assert response.get_json()["error"]["message"]


def test_state_get_ids_rejects_bad_since(xclient: FlaskClient, headers: dict[str, str]) -> None:
    """Reject a `since` that is not a timestamp with 400 (Communication 2.3.s4.table1.row4)."""
    context = _without(state_params(), "stateId")
    response = xclient.get(url(STATE_URL, {**context, "since": "not a timestamp"}), headers=headers)
    assert response.status_code == 400


def test_state_rejects_broken_agent_encoding(xclient: FlaskClient, headers: dict[str, str]) -> None:
    """Reject an agent parameter whose JSON is broken with 400 (Communication 2.3, XAPI-00235)."""
    agent = json.dumps({"objectType": "Agent", "mbox": "mailto:a@example.com"}).replace(":", '"', 1)
    response = xclient.post(url(STATE_URL, state_params(agent=None)) + "&agent=" + agent, json={}, headers=headers)
    assert response.status_code == 400


def test_state_document_over_limit_is_413(lrs_app: Any, xclient: FlaskClient, headers: dict[str, str]) -> None:
    """Refuse a document larger than the configured limit, writing nothing (Communication 3.2.s2.b7)."""
    lrs_app.config["LRS_DOCUMENT_MAX_BYTES"] = 1024
    params = state_params()
    response = xclient.put(url(STATE_URL, params), data=b"x" * 1025, content_type="text/plain", headers=headers)
    assert response.status_code == 413
    assert "1024" in response.get_json()["error"]["message"]
    assert xclient.get(url(STATE_URL, params), headers=headers).status_code == 404


def test_state_needs_state_scope(xclient: FlaskClient, credential_for: Any) -> None:
    """Refuse writes to a credential without the state scope with 403 (Communication 4.2 scopes)."""
    reader = credential_for("statements/read")
    params = state_params()
    assert xclient.put(url(STATE_URL, params), json={}, headers=reader).status_code == 403
    state_only = credential_for("state")
    assert xclient.put(url(STATE_URL, params), json={}, headers=state_only).status_code == 204
    assert xclient.get(url(STATE_URL, params), headers=credential_for("all/read")).status_code == 200


def test_state_alternate_syntax_put_and_get(xclient: FlaskClient, credential_for: Any) -> None:
    """Accept PUT and GET through the alternate request syntax (Communication 1.3.s3)."""
    from urllib.parse import urlencode

    auth = credential_for("all")
    params = state_params()
    form = {
        "Authorization": auth["Authorization"],
        "X-Experience-API-Version": "1.0.3",
        "Content-Type": "application/json",
        "content": json.dumps({"alt": 1}),
        "activityId": params["activityId"],
        "agent": json.dumps(params["agent"]),
        "stateId": params["stateId"],
    }
    put = xclient.post(
        f"{STATE_URL}?method=PUT", data=urlencode(form), content_type="application/x-www-form-urlencoded"
    )
    assert put.status_code == 204
    got = xclient.get(url(STATE_URL, params), headers=auth)
    assert got.get_json() == {"alt": 1}


def test_state_takes_identified_group_as_agent(xclient: FlaskClient, headers: dict[str, str]) -> None:
    """Store state for an Identified Group, found again by its identifier (xAPI 2.0.0 State Resource agent)."""
    group = {"objectType": "Group", "name": "Cohort 2026", "mbox": "mailto:cohort@example.com", "member": []}
    params = state_params(agent=group)
    assert xclient.put(url(STATE_URL, params), json={"g": 1}, headers=headers).status_code == 204
    by_identifier = {**params, "agent": {"objectType": "Group", "mbox": "mailto:cohort@example.com"}}
    assert xclient.get(url(STATE_URL, by_identifier), headers=headers).get_json() == {"g": 1}


def test_state_get_ids_across_registrations_lists_each_id_once(xclient: FlaskClient, headers: dict[str, str]) -> None:
    """List a stateId once when several registrations hold it and none is given (Communication 2.3.s4)."""
    activity = f"http://example.com/activities/{uuid.uuid4()}"
    for registration in (None, str(uuid.uuid4()), str(uuid.uuid4())):
        params = state_params(activityId=activity, stateId="bookmark", registration=registration)
        assert xclient.put(url(STATE_URL, params), json={"r": registration}, headers=headers).status_code == 204
    context = _without(state_params(activityId=activity), "stateId")
    assert xclient.get(url(STATE_URL, context), headers=headers).get_json() == ["bookmark"]
