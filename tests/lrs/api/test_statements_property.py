"""Throw malformed and mutated statements at the Statement resource: never a 500, never a partial write."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import orjson
import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from lrs.db import get_db
from lrs.storage.models import Statement, StatementKey
from tests.lrs.xapi.helpers import XapiClient, app_of, client_for, statement

JSON_LEAVES = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**40), 2**40), st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12), st.sampled_from(["mailto:a@b.c", "http://e.com/x", "6fbd600f-d17c-4c74-801a-2ec2e53231f6", "P1D", "en-US", ""]),
)
JSON_VALUES = st.recursive(JSON_LEAVES, lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)), max_leaves=6)
KEYS = st.sampled_from(
    ["id", "actor", "verb", "object", "result", "context", "timestamp", "objectType", "mbox", "member", "display",
     "definition", "score", "scaled", "registration", "contextActivities", "parent", "extensions", "attachments", "x"]
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


@st.composite
def mutated_statements(draw: st.DrawFn) -> Any:
    """Draw a rich valid statement with one to three random mutations."""
    value: Any = statement(
        context={"registration": "6fbd600f-d17c-4c74-801a-2ec2e53231f6", "contextActivities": {"parent": [{"id": "http://e.com/p"}]}},
        result={"score": {"scaled": 0.5}, "success": True, "duration": "PT5M"},
    )
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(value)
        path = draw(st.sampled_from(paths))
        action = draw(st.sampled_from(["replace", "delete", "insert"]))
        if not path:
            value = draw(JSON_VALUES) if action == "replace" else value
            continue
        parent = value
        for step in path[:-1]:
            parent = parent[step]
        last = path[-1]
        if action == "replace":
            parent[last] = draw(JSON_VALUES)
        elif action == "delete":
            del parent[last]
        elif isinstance(parent[last], dict):
            parent[last][draw(KEYS)] = draw(JSON_VALUES)
    return value


def _counts(client: FlaskClient) -> tuple[int, int]:
    with get_db(app_of(client)).session() as session:
        statements = int(session.scalar(select(func.count()).select_from(Statement)) or 0)
        keys = int(session.scalar(select(func.count()).select_from(StatementKey)) or 0)
    return statements, keys


@pytest.fixture
def xapi(client: FlaskClient, make_credential: Callable[..., tuple[str, str]]) -> XapiClient:
    """Give an xAPI 1.0.3 client with the `all` scope."""
    return client_for(client, make_credential)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mutated=mutated_statements(), version=st.sampled_from(["1.0.3", "2.0.0"]))
def test_statements_post_mutated_never_500_never_partial(xapi: XapiClient, mutated: Any, version: str) -> None:
    """Answer 200 or 400 to mutated statements and store all of a batch or none of it (Data 2.2; Communication 2.1.2)."""
    before = _counts(xapi.client)
    batch = [statement(), copy.deepcopy(mutated)]
    response = xapi.client.post("/xapi/statements", data=orjson.dumps(batch), headers={**xapi.headers(), "X-Experience-API-Version": version, "Content-Type": "application/json"})
    assert response.status_code in (200, 400), response.get_data(as_text=True)
    after = _counts(xapi.client)
    if response.status_code == 200:
        assert after[0] == before[0] + 2
    else:
        assert after == before
        assert response.get_json()["error"]["message"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.binary(max_size=200), content_type=st.sampled_from(["application/json", "multipart/mixed; boundary=x", "text/plain", ""]))
def test_statements_post_garbage_bytes_never_500(xapi: XapiClient, body: bytes, content_type: str) -> None:
    """Answer 400 to arbitrary bytes and store nothing."""
    before = _counts(xapi.client)
    response = xapi.client.post("/xapi/statements", data=body, headers=xapi.headers(**{"Content-Type": content_type}))
    assert response.status_code in (200, 400), response.get_data(as_text=True)
    if response.status_code == 400:
        assert _counts(xapi.client) == before


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(params=st.dictionaries(st.sampled_from(["agent", "verb", "activity", "registration", "since", "until", "limit", "format", "ascending", "related_agents", "statementId", "more", "zzz"]), st.text(max_size=30), max_size=4))
def test_statements_get_random_parameters_never_500(xapi: XapiClient, params: dict[str, str]) -> None:
    """Answer 200, 400 or 404 to arbitrary query parameters, never 500 (Communication 2.1.3)."""
    response = xapi.get(params)
    assert response.status_code in (200, 400, 404), response.get_data(as_text=True)
