"""Fixtures for the document, activity, agent and about tests: the standalone LRS and its credentials."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from lrs.db import get_db
from lrs.storage import credentials as creds
from tests.conftest import basic_auth


@pytest.fixture
def xclient(lrs_app: Flask) -> FlaskClient:
    """Give a test client of the standalone LRS."""
    return lrs_app.test_client()


@pytest.fixture
def credential_for(lrs_app: Flask) -> Callable[..., dict[str, str]]:
    """Give a factory of xAPI 1.0.3 request headers for a new credential with the given scopes."""

    def make(*scopes: str, version: str = "1.0.3") -> dict[str, str]:
        with get_db(lrs_app).session() as session:
            issued = creds.create_credential(session, "document tests", list(scopes) or ["all"], "http://lb.test")
            key, secret = issued.credential.key, issued.secret
        return {"Authorization": basic_auth(key, secret), "X-Experience-API-Version": version}

    return make


@pytest.fixture(params=["1.0.3", "2.0.0"])
def headers(request: pytest.FixtureRequest, credential_for: Callable[..., dict[str, str]]) -> dict[str, str]:
    """Give full-scope request headers, once for xAPI 1.0.3 and once for 2.0.0."""
    return credential_for("all", version=request.param)
