"""Drive the document resources with a foreign client (the tincan reference library) over live HTTP."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pytest
from flask import Flask
from tincan import (
    Activity,
    ActivityProfileDocument,
    Agent,
    AgentAccount,
    AgentProfileDocument,
    RemoteLRS,
    StateDocument,
)

from lrs.db import get_db
from lrs.storage import credentials as creds
from tests.support import LiveServer, serving


@pytest.fixture
def remote(lrs_app: Flask) -> Iterator[RemoteLRS]:
    """Give a tincan RemoteLRS pointed at the standalone LRS served on 127.0.0.1."""
    with get_db(lrs_app).session() as session:
        issued = creds.create_credential(session, "tincan", ["all"], "http://lb.test")
        key, secret = issued.credential.key, issued.secret
    with serving(lrs_app) as server:
        assert isinstance(server, LiveServer)
        yield RemoteLRS(endpoint=f"{server.url}/xapi/", username=key, password=secret, version="1.0.1")


def _agent() -> Agent:
    return Agent(name="Learner", account=AgentAccount(home_page="http://lms.example.gov.tw", name=uuid.uuid4().hex))


def test_tincan_state_save_retrieve_list_delete(remote: RemoteLRS) -> None:
    """Save (tincan PUTs twice, without If-Match), read, list and clear state (Communication 2.3, 3.1.s3)."""
    activity, agent = Activity(id=f"http://example.com/activities/{uuid.uuid4()}"), _agent()
    state = StateDocument(id="bookmark", activity=activity, agent=agent, content='{"page": 7}', content_type="application/json")
    assert remote.save_state(state).success
    got = remote.retrieve_state(activity, agent, "bookmark")
    assert got.success and json.loads(got.content.content) == {"page": 7}
    ids = remote.retrieve_state_ids(activity, agent)
    assert ids.success and ids.content == ["bookmark"]
    assert remote.clear_state(activity, agent).success
    assert remote.retrieve_state_ids(activity, agent).content == []


def test_tincan_profile_create_without_headers_is_refused_by_default(remote: RemoteLRS) -> None:
    """Refuse tincan's profile create, a PUT with neither If-Match nor If-None-Match, with 400.

    xAPI 1.0.3 Communication 3.1.s3.b1 requires one of the two headers on a profile PUT; ADL's 1.0.3
    suite (XAPI-00273, XAPI-00287) expects 400. Nothing is stored.
    """
    activity = Activity(id=f"http://example.com/activities/{uuid.uuid4()}")
    refused = remote.save_activity_profile(ActivityProfileDocument(id="settings", activity=activity, content="v1", content_type="text/plain"))
    assert not refused.success and refused.response.status == 400
    assert "If-None-Match" in refused.data
    assert remote.retrieve_activity_profile_ids(activity).content == []


def test_tincan_profiles_save_with_etag(lrs_app: Flask, remote: RemoteLRS) -> None:
    """Create profiles, then replace one with the ETag the LRS returned (Communication 2.6, 2.7, 3.1.s4.b5).

    tincan never sends If-None-Match, so it can create profiles only where the operator allows
    LRS_ALLOW_UNCONDITIONAL_PROFILE_CREATE; replacing still needs the ETag (409 without, 412 stale).
    """
    lrs_app.config["LRS_ALLOW_UNCONDITIONAL_PROFILE_CREATE"] = True
    activity, agent = Activity(id=f"http://example.com/activities/{uuid.uuid4()}"), _agent()
    profile = ActivityProfileDocument(id="settings", activity=activity, content="v1", content_type="text/plain")
    assert remote.save_activity_profile(profile).success
    fetched = remote.retrieve_activity_profile(activity, "settings")
    assert fetched.content.content == b"v1"
    # tincan 1.0.0 looks the ETag up under the wrong name, so read the header it received.
    etag = fetched.response.getheader("ETag")
    replacement = ActivityProfileDocument(id="settings", activity=activity, content="v2", content_type="text/plain", etag=etag)
    assert remote.save_activity_profile(replacement).success
    stale = ActivityProfileDocument(id="settings", activity=activity, content="v3", content_type="text/plain", etag=etag)
    refused = remote.save_activity_profile(stale)
    assert not refused.success and refused.response.status == 412
    assert remote.retrieve_activity_profile(activity, "settings").content.content == b"v2"
    agent_profile = AgentProfileDocument(id="prefs", agent=agent, content='{"lang": "zh-TW"}', content_type="application/json")
    assert remote.save_agent_profile(agent_profile).success
    assert remote.retrieve_agent_profile_ids(agent).content == ["prefs"]
