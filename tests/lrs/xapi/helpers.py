"""Build statements and talk to the Statement resource in tests."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.conftest import basic_auth

COMPLETED = "http://adlnet.gov/expapi/verbs/completed"
ATTEMPTED = "http://adlnet.gov/expapi/verbs/attempted"
VOIDED = "http://adlnet.gov/expapi/verbs/voided"
COURSE = "http://example.com/courses/intl-101"


def statement(**overrides: Any) -> dict[str, Any]:
    """Return a valid statement; keyword arguments replace its top-level properties."""
    base: dict[str, Any] = {
        "actor": {"objectType": "Agent", "name": "Learner", "mbox": "mailto:learner@example.com"},
        "verb": {"id": COMPLETED, "display": {"en-US": "completed", "zh-TW": "完成"}},
        "object": {
            "objectType": "Activity",
            "id": COURSE,
            "definition": {"name": {"en-US": "International 101"}, "type": "http://adlnet.gov/expapi/activities/course"},
        },
    }
    base.update(overrides)
    return {key: value for key, value in base.items() if value is not None}


def voiding(target: str, **overrides: Any) -> dict[str, Any]:
    """Return a statement that voids `target`."""
    return statement(verb={"id": VOIDED}, object={"objectType": "StatementRef", "id": target}, **overrides)


class XapiClient:
    """A test client that sends xAPI headers and credentials."""

    def __init__(self, client: FlaskClient, auth: str, version: str = "1.0.3") -> None:
        self.client = client
        self.auth = auth
        self.version = version

    def headers(self, **extra: str) -> dict[str, str]:
        """Return the request headers."""
        return {"Authorization": self.auth, "X-Experience-API-Version": self.version, **extra}

    def post(self, body: Any, **extra: str) -> TestResponse:
        """POST JSON to /xapi/statements."""
        return self.client.post("/xapi/statements", json=body, headers=self.headers(**extra))

    def put(self, statement_id: str, body: Any, **extra: str) -> TestResponse:
        """PUT JSON to /xapi/statements?statementId=..."""
        return self.client.put(
            "/xapi/statements", query_string={"statementId": statement_id}, json=body, headers=self.headers(**extra)
        )

    def get(self, params: dict[str, str] | str | None = None, **extra: str) -> TestResponse:
        """GET /xapi/statements with query parameters."""
        if isinstance(params, str):
            return self.client.get(params, headers=self.headers(**extra))
        return self.client.get("/xapi/statements", query_string=params or {}, headers=self.headers(**extra))

    def store(self, *statements: dict[str, Any]) -> list[str]:
        """POST statements, assert success and return their ids."""
        response = self.post(list(statements))
        assert response.status_code == 200, response.get_data(as_text=True)
        ids: list[str] = response.get_json()
        return ids

    def ids(self, params: dict[str, str] | None = None) -> list[str]:
        """GET a query and return the ids of the statements of its first page."""
        response = self.get(params)
        assert response.status_code == 200, response.get_data(as_text=True)
        return [item["id"] for item in response.get_json()["statements"]]


def client_for(
    client: FlaskClient, make_credential: Callable[..., tuple[str, str]], *scopes: str, version: str = "1.0.3", name: str = "test client"
) -> XapiClient:
    """Return an xAPI client with a new credential of the given scopes."""
    return XapiClient(client, basic_auth(*make_credential(*(scopes or ("all",)), name=name)), version)


def new_id() -> str:
    """Return a fresh statement id."""
    return str(uuid.uuid4())


def app_of(client: FlaskClient) -> Flask:
    """Return the app behind a test client."""
    application: Flask = client.application
    return application
