"""Test the Agents resource (xAPI 1.0.3 Communication 2.4)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.lrs.documents import fixtures

xclient = fixtures.xclient
headers = fixtures.headers
credential_for = fixtures.credential_for


def test_agents_get_returns_person_for_unknown_agent(xclient: FlaskClient, headers: dict[str, str]) -> None:
    """Return a Person holding the requested agent's information in arrays (Communication 2.4.s3.b3, 2.4.s5)."""
    agent = {"objectType": "Agent", "name": "Rick James", "account": {"homePage": "http://www.example.com/agentId/1", "name": "Rick James"}}
    response = xclient.get("/xapi/agents?agent=" + json.dumps(agent), headers=headers)
    assert response.status_code == 200
    assert response.get_json() == {
        "objectType": "Person",
        "name": ["Rick James"],
        "account": [{"homePage": "http://www.example.com/agentId/1", "name": "Rick James"}],
    }
    assert response.headers["Content-Type"] == "application/json"


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?agent=not%20json",
        "?agent=" + json.dumps({"objectType": "Group", "member": [{"mbox": "mailto:a@example.com"}]}),
        "?agent=" + json.dumps({"mbox": "mailto:a@example.com", "mbox_sha1sum": "a" * 40}),
        "?agent=" + json.dumps({"mbox": "mailto:a@example.com"}) + "&activityId=http://example.com",
    ],
)
def test_agents_get_rejects_bad_agent(xclient: FlaskClient, headers: dict[str, str], query: str) -> None:
    """Reject a missing or malformed agent, or an unknown parameter, with 400 (Communication 2.4.s2, 3.2.s3.b7)."""
    response = xclient.get("/xapi/agents" + query, headers=headers)
    assert response.status_code == 400
    assert response.get_json()["error"]["message"]


def test_agents_needs_credentials(xclient: FlaskClient, credential_for: Any) -> None:
    """Refuse a request without credentials with 401 (Communication 4.0)."""
    response = xclient.get("/xapi/agents?agent=" + json.dumps({"mbox": "mailto:a@example.com"}),
                           headers={"X-Experience-API-Version": "1.0.3"})
    assert response.status_code == 401
    ok = xclient.get("/xapi/agents?agent=" + json.dumps({"mbox": "mailto:a@example.com"}), headers=credential_for("state"))
    assert ok.get_json() == {"objectType": "Person", "mbox": ["mailto:a@example.com"]}


def test_agents_get_adds_names_seen_in_statements(xclient: FlaskClient, headers: dict[str, str]) -> None:
    """List the names statements gave the agent, beside the one asked with (Communication 2.4.s5.table1.row2)."""
    mbox = f"mailto:{uuid.uuid4().hex}@example.com"
    for name in ("王小明", "Hsiao-Ming Wang"):
        statement = {
            "actor": {"objectType": "Agent", "name": name, "mbox": mbox},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
            "object": {"id": "http://example.com/activities/1"},
        }
        assert xclient.post("/xapi/statements", json=statement, headers=headers).status_code == 200
    person = xclient.get("/xapi/agents?agent=" + json.dumps({"mbox": mbox}), headers=headers).get_json()
    assert person == {"objectType": "Person", "name": ["Hsiao-Ming Wang", "王小明"], "mbox": [mbox]}
    named = xclient.get("/xapi/agents?agent=" + json.dumps({"name": "王小明", "mbox": mbox}), headers=headers).get_json()
    assert named["name"] == ["王小明", "Hsiao-Ming Wang"]
