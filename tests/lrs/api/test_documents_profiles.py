"""Test the Activity Profile and Agent Profile resources over HTTP (xAPI 1.0.3 Communication 2.6, 2.7)."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.lrs.documents import fixtures
from tests.lrs.documents.helpers import (
    ACTIVITY_PROFILE_URL,
    AGENT_PROFILE_URL,
    activity_profile_params,
    agent_profile_params,
    document,
    url,
)

RESOURCES: list[tuple[str, Callable[..., dict[str, Any]]]] = [
    (ACTIVITY_PROFILE_URL, activity_profile_params),
    (AGENT_PROFILE_URL, agent_profile_params),
]

# The shared fixtures of the document tests, bound here so pytest finds them.
xclient = fixtures.xclient
credential_for = fixtures.credential_for
headers = fixtures.headers


@pytest.fixture(params=RESOURCES, ids=["activity_profile", "agent_profile"])
def resource(request: pytest.FixtureRequest) -> tuple[str, Callable[..., dict[str, Any]]]:
    """Give each profile resource's URL and parameter factory."""
    return request.param  # type: ignore[no-any-return]


def test_profile_put_new_then_get(xclient: FlaskClient, headers: dict[str, str], resource: Any) -> None:
    """Store a new profile document and return it with its type (Communication 2.6.s3, 2.7.s3)."""
    base, make = resource
    params, doc = make(), document()
    assert xclient.put(url(base, params), json=doc, headers={**headers, "If-None-Match": "*"}).status_code == 204
    got = xclient.get(url(base, params), headers=headers)
    assert got.status_code == 200
    assert got.get_json() == doc
    assert got.headers["ETag"].startswith('"') and len(got.headers["ETag"]) == 42
    assert "Last-Modified" in got.headers


def test_profile_put_without_headers_creating_is_400(
    lrs_app: Flask, xclient: FlaskClient, headers: dict[str, str], resource: Any
) -> None:
    """Refuse a new profile PUT with neither If-Match nor If-None-Match, storing nothing.

    xAPI 1.0.3 Communication 3.1.s3.b1 (the client MUST include one of them on a profile PUT); ADL's
    suite XAPI-00273 / XAPI-00287 "upon processing a PUT request without an ETag header returns an
    error code and message" with 400. LRS_ALLOW_UNCONDITIONAL_PROFILE_CREATE lets it through.
    """
    base, make = resource
    params = make()
    refused = xclient.put(url(base, params), json={"v": 1}, headers=headers)
    assert refused.status_code == 400
    assert "If-None-Match: *" in refused.get_json()["error"]["message"]
    assert xclient.get(url(base, params), headers=headers).status_code == 404
    lrs_app.config["LRS_ALLOW_UNCONDITIONAL_PROFILE_CREATE"] = True
    assert xclient.put(url(base, params), json={"v": 1}, headers=headers).status_code == 204
    assert xclient.get(url(base, params), headers=headers).get_json() == {"v": 1}
    assert xclient.put(url(base, params), json={"v": 2}, headers=headers).status_code == 409


def test_profile_put_if_none_match_star_creates_only(xclient: FlaskClient, headers: dict[str, str], resource: Any) -> None:
    """Create with If-None-Match "*" and refuse it once the document exists with 412 (Communication 3.1.s4.b6, b9)."""
    base, make = resource
    params = make()
    star = {**headers, "If-None-Match": "*"}
    assert xclient.put(url(base, params), json={"v": 1}, headers=star).status_code == 204
    assert xclient.put(url(base, params), json={"v": 2}, headers=star).status_code == 412
    assert xclient.get(url(base, params), headers=headers).get_json() == {"v": 1}


def test_profile_put_without_headers_over_existing_is_409(
    xclient: FlaskClient, headers: dict[str, str], resource: Any
) -> None:
    """Answer 409 with an explanation, and keep the document (Communication 3.1.s4.b13-b15)."""
    base, make = resource
    params = make()
    xclient.post(url(base, params), json={"v": 1}, headers=headers)
    refused = xclient.put(url(base, params), json={"v": 2}, headers=headers)
    assert refused.status_code == 409
    assert "If-Match" in refused.get_json()["error"]["message"]
    assert xclient.get(url(base, params), headers=headers).get_json() == {"v": 1}


def test_profile_put_if_match(xclient: FlaskClient, headers: dict[str, str], resource: Any) -> None:
    """Replace on the current ETag, refuse a stale one with 412 and change nothing (Communication 3.1.s4.b5, b9-b10)."""
    base, make = resource
    params = make()
    xclient.post(url(base, params), json={"v": 1}, headers=headers)
    etag = xclient.get(url(base, params), headers=headers).headers["ETag"]
    stale = {**headers, "If-Match": '"1111111111111111111111111111111111111111"'}
    assert xclient.put(url(base, params), json={"v": 2}, headers=stale).status_code == 412
    assert xclient.put(url(base, params), json={"v": 3}, headers={**headers, "If-Match": etag}).status_code == 204
    assert xclient.get(url(base, params), headers=headers).get_json() == {"v": 3}
    assert xclient.put(url(base, params), json={"v": 4}, headers={**headers, "If-Match": etag}).status_code == 412


def test_profile_put_if_match_on_missing_document_is_412(
    xclient: FlaskClient, headers: dict[str, str], resource: Any
) -> None:
    """Fail If-Match when there is no document to match (RFC 7232 3.1; Communication 3.1.s4.b5)."""
    base, make = resource
    params = make()
    response = xclient.put(url(base, params), json={}, headers={**headers, "If-Match": '"abc"'})
    assert response.status_code == 412
    assert xclient.get(url(base, params), headers=headers).status_code == 404


def test_profile_post_if_match(xclient: FlaskClient, headers: dict[str, str], resource: Any) -> None:
    """Merge on the current ETag and refuse a stale one with 412 (Communication 3.1.s4.b7, b11-b12)."""
    base, make = resource
    params = make()
    xclient.post(url(base, params), json={"a": 1}, headers=headers)
    etag = xclient.get(url(base, params), headers=headers).headers["ETag"]
    assert xclient.post(url(base, params), json={"b": 2}, headers={**headers, "If-Match": "1234"}).status_code == 412
    assert xclient.post(url(base, params), json={"b": 2}, headers={**headers, "If-Match": etag}).status_code == 204
    assert xclient.get(url(base, params), headers=headers).get_json() == {"a": 1, "b": 2}


def test_profile_post_if_none_match_star_on_existing_is_412(
    xclient: FlaskClient, headers: dict[str, str], resource: Any
) -> None:
    """Refuse a POST with If-None-Match "*" over an existing document (Communication 3.1.s4.b8)."""
    base, make = resource
    params = make()
    xclient.post(url(base, params), json={"a": 1}, headers=headers)
    response = xclient.post(url(base, params), json={"b": 2}, headers={**headers, "If-None-Match": "*"})
    assert response.status_code == 412
    assert xclient.get(url(base, params), headers=headers).get_json() == {"a": 1}


def test_profile_post_without_headers_merges(xclient: FlaskClient, headers: dict[str, str], resource: Any) -> None:
    """Merge JSON on POST without concurrency headers (Communication 2.2.s7; 3.1.s3.b2 is a client SHOULD)."""
    base, make = resource
    params = make()
    xclient.post(url(base, params), json={"car": "Honda"}, headers=headers)
    assert xclient.post(url(base, params), json={"type": "Civic"}, headers=headers).status_code == 204
    assert xclient.get(url(base, params), headers=headers).get_json() == {"car": "Honda", "type": "Civic"}


def test_profile_post_non_json_over_json_is_400(xclient: FlaskClient, headers: dict[str, str], resource: Any) -> None:
    """Refuse to merge a non-JSON POST into a JSON document (Communication 2.2.s8.b1)."""
    base, make = resource
    params = make()
    xclient.post(url(base, params), json={"a": 1}, headers=headers)
    response = xclient.post(url(base, params), data=b"abc", content_type="application/x-www-form-urlencoded", headers=headers)
    assert response.status_code == 400


def test_profile_delete_if_match(xclient: FlaskClient, headers: dict[str, str], resource: Any) -> None:
    """Delete on the current ETag, refuse a stale one with 412 and keep the document (Communication 3.1.s4.b7, b11)."""
    base, make = resource
    params = make()
    xclient.post(url(base, params), json={"a": 1}, headers=headers)
    etag = xclient.get(url(base, params), headers=headers).headers["ETag"]
    assert xclient.delete(url(base, params), headers={**headers, "If-Match": "1234"}).status_code == 412
    assert xclient.get(url(base, params), headers=headers).status_code == 200
    assert xclient.delete(url(base, params), headers={**headers, "If-Match": etag}).status_code == 204
    assert xclient.get(url(base, params), headers=headers).status_code == 404


def test_profile_delete_without_headers_and_missing_is_204(
    xclient: FlaskClient, headers: dict[str, str], resource: Any
) -> None:
    """Delete without headers, and answer 204 for a document already gone (Communication 2.6.s3, 2.7.s3)."""
    base, make = resource
    params = make()
    xclient.post(url(base, params), json={"a": 1}, headers=headers)
    assert xclient.delete(url(base, params), headers=headers).status_code == 204
    assert xclient.delete(url(base, params), headers=headers).status_code == 204


def test_profile_get_ids_with_since(xclient: FlaskClient, headers: dict[str, str], resource: Any) -> None:
    """List profile ids, only those updated after `since` (Communication 2.6.s4, 2.7.s4)."""
    base, make = resource
    scope = (
        {"activityId": f"http://example.com/activities/{uuid.uuid4()}"}
        if base == ACTIVITY_PROFILE_URL
        else {"agent": {"mbox": f"mailto:{uuid.uuid4()}@example.com"}}
    )
    old, new = make(**scope), make(**scope)
    xclient.post(url(base, old), json={}, headers=headers)
    time.sleep(0.02)
    between = dt.datetime.now(dt.UTC).isoformat()
    time.sleep(0.02)
    xclient.post(url(base, new), json={}, headers=headers)
    everything = xclient.get(url(base, scope), headers=headers)
    assert sorted(everything.get_json()) == sorted([old["profileId"], new["profileId"]])
    assert xclient.get(url(base, {**scope, "since": between}), headers=headers).get_json() == [new["profileId"]]


def test_activity_profile_rejects_bad_parameters(xclient: FlaskClient, headers: dict[str, str]) -> None:
    """Reject a non-IRI activityId, a missing profileId and an unknown agent parameter (Communication 2.7.s3)."""
    for change in ({"activityId": "1"}, {"activityId": None}, {"profileId": None}, {"agent": {"mbox": "mailto:a@b.c"}}):
        params = {**activity_profile_params(), **change}
        response = xclient.put(url(ACTIVITY_PROFILE_URL, params), json={}, headers={**headers, "If-None-Match": "*"})
        assert response.status_code == 400, change


def test_agent_profile_rejects_bad_parameters(xclient: FlaskClient, headers: dict[str, str]) -> None:
    """Reject a missing or invalid agent and a missing profileId (Communication 2.6.s3)."""
    for method in ("PUT", "POST", "GET", "DELETE"):
        for change in ({"agent": None}, {"agent": True}, {"agent": {"objectType": "Group", "member": []}}):
            params = {**agent_profile_params(), **change}
            response = xclient.open(url(AGENT_PROFILE_URL, params), method=method, json={}, headers=headers)
            assert response.status_code == 400, (method, change)
    for method in ("PUT", "POST", "DELETE"):
        params = {**agent_profile_params(), "profileId": None}
        assert xclient.open(url(AGENT_PROFILE_URL, params), method=method, json={}, headers=headers).status_code == 400


def test_profile_needs_profile_scope(xclient: FlaskClient, credential_for: Any, resource: Any) -> None:
    """Let only profile (or all) credentials write profiles (Communication 4.2 scopes)."""
    base, make = resource
    params = make()
    assert xclient.put(url(base, params), json={}, headers=credential_for("state")).status_code == 403
    assert xclient.put(url(base, params), json={}, headers={**credential_for("profile"), "If-None-Match": "*"}).status_code == 204
    assert xclient.get(url(base, params), headers=credential_for("all/read")).status_code == 200
