"""Build xAPI document requests for the tests of the document resources."""

from __future__ import annotations

import json
import uuid
from typing import Any
from urllib.parse import urlencode

ACTIVITY = "http://www.example.com/activityId/hashset"
AGENT: dict[str, Any] = {"objectType": "Agent", "account": {"homePage": "http://www.example.com/agentId/1", "name": "Rick James"}}

STATE_URL = "/xapi/activities/state"
ACTIVITY_PROFILE_URL = "/xapi/activities/profile"
AGENT_PROFILE_URL = "/xapi/agents/profile"


def state_params(**overrides: Any) -> dict[str, Any]:
    """Return State parameters with a fresh stateId."""
    params: dict[str, Any] = {"activityId": ACTIVITY, "agent": AGENT, "stateId": str(uuid.uuid4())}
    params.update(overrides)
    return params


def activity_profile_params(**overrides: Any) -> dict[str, Any]:
    """Return Activity Profile parameters with a fresh profileId."""
    params: dict[str, Any] = {"activityId": ACTIVITY, "profileId": str(uuid.uuid4())}
    params.update(overrides)
    return params


def agent_profile_params(**overrides: Any) -> dict[str, Any]:
    """Return Agent Profile parameters with a fresh profileId."""
    params: dict[str, Any] = {"agent": AGENT, "profileId": str(uuid.uuid4())}
    params.update(overrides)
    return params


def url(base: str, params: dict[str, Any]) -> str:
    """Encode parameters into a URL, JSON-encoding objects (as xAPI clients do)."""
    encoded = {k: json.dumps(v) if isinstance(v, dict | list | bool) else v for k, v in params.items() if v is not None}
    return f"{base}?{urlencode(encoded)}"


def document() -> dict[str, Any]:
    """Return a JSON document with random contents."""
    return {"name": str(uuid.uuid4()), "location": {"name": str(uuid.uuid4())}, str(uuid.uuid4()): str(uuid.uuid4())}
