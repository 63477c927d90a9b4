"""Test the Activities resource (xAPI 1.0.3 Communication 2.5)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.lrs.documents import fixtures

xclient = fixtures.xclient
headers = fixtures.headers
credential_for = fixtures.credential_for


def _statement(activity_id: str, definition: dict[str, Any]) -> dict[str, Any]:
    return {
        "actor": {"mbox": "mailto:learner@example.com"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced", "display": {"en-US": "experienced"}},
        "object": {"objectType": "Activity", "id": activity_id, "definition": definition},
    }


def test_activities_get_unknown_returns_activity_object(xclient: FlaskClient, headers: dict[str, str]) -> None:
    """Return an Activity Object even without a canonical definition (Communication 2.5.s2.b1)."""
    activity_id = f"http://example.com/activities/{uuid.uuid4()}"
    response = xclient.get(f"/xapi/activities?activityId={activity_id}", headers=headers)
    assert response.status_code == 200
    assert response.get_json() == {"objectType": "Activity", "id": activity_id}


def test_activities_get_returns_definition_merged_from_statements(xclient: FlaskClient, headers: dict[str, str]) -> None:
    """Return the canonical definition, with the language maps of every statement merged (Communication 2.5.s1; Data 2.4.4.1)."""
    activity_id = f"http://example.com/activities/{uuid.uuid4()}"
    first = _statement(activity_id, {"name": {"en-US": "Course"}, "type": "http://adlnet.gov/expapi/activities/course"})
    second = _statement(activity_id, {"name": {"zh-TW": "課程"}, "description": {"en-US": "An international course"}})
    for statement in (first, second):
        stored = xclient.post("/xapi/statements", json=statement, headers=headers)
        assert stored.status_code == 200, stored.get_data(as_text=True)
    body = xclient.get(f"/xapi/activities?activityId={activity_id}", headers=headers).get_json()
    assert body["id"] == activity_id
    assert body["definition"]["name"] == {"en-US": "Course", "zh-TW": "課程"}
    assert body["definition"]["description"] == {"en-US": "An international course"}
    assert body["definition"]["type"] == "http://adlnet.gov/expapi/activities/course"


@pytest.mark.parametrize("query", ["", "?activityId=", "?activityId=1", "?activityId=http://a.example.com&agent=x"])
def test_activities_get_rejects_bad_activity_id(xclient: FlaskClient, headers: dict[str, str], query: str) -> None:
    """Reject a missing or non-IRI activityId, or an unknown parameter, with 400 (Communication 2.5.s1.table1.row1)."""
    response = xclient.get("/xapi/activities" + query, headers=headers)
    assert response.status_code == 400


def test_activities_put_is_405(xclient: FlaskClient, headers: dict[str, str]) -> None:
    """Refuse writes to the Activities resource (Communication 2.5)."""
    response = xclient.put("/xapi/activities?activityId=http://a.example.com", json={}, headers=headers)
    assert response.status_code == 405
