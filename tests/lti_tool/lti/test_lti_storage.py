"""Test cookie-free launches: LTI Client Side postMessages storage, and SameSite=None cookies over https."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

import lti_tool
from lrs.db import get_db
from tests.conftest import app_config
from tests.lti_tool.lti.conftest import TestPlatform, cache_keys


def _storage_login(client: FlaskClient, platform: TestPlatform) -> dict[str, str]:
    page = client.get("/lti/login", query_string=platform.login_params(lti_storage_target="post_message_forwarding"))
    assert page.status_code == 200
    match = re.search(r'id="lti-storage-config">(.*?)</script>', page.get_data(as_text=True), re.S)
    assert match
    config: dict[str, str] = json.loads(match.group(1))
    return config


def test_login_with_storage_target_stores_state_in_platform_page(lti_client: FlaskClient, platform: TestPlatform) -> None:
    """Answer a login offering lti_storage_target with a page that puts state and nonce into the platform's storage."""
    config = _storage_login(lti_client, platform)
    assert config["target"] == "post_message_forwarding" and config["origin"] == platform.issuer
    query = parse_qs(urlsplit(config["redirect"]).query)
    assert query["state"] == [config["state"]] and query["nonce"] == [config["nonce"]]
    script = lti_client.get("/lti/static/lti-storage.js")
    text = script.get_data(as_text=True)
    script.close()
    assert "lti.put_data" in text and "lti.get_data" in text


def test_launch_without_cookie_verifies_through_platform_storage(lti_app: Flask, platform: TestPlatform) -> None:
    """Finish a launch whose cookie was blocked once the platform's storage returns state and nonce."""
    config = _storage_login(lti_app.test_client(), platform)
    framed = FlaskClient(lti_app)  # the LMS's iframe: no cookies reach the tool
    token = platform.sign(platform.claims(config["nonce"]))
    page = framed.post("/lti/launch", data={"id_token": token, "state": config["state"]})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    pending = re.search(r'name="pending" value="([^"]+)"', html)
    assert pending and "lti_state_" in html and token not in html
    assert not cache_keys(lti_app, "lti:session:")
    done = framed.post("/lti/launch/verify",
                       data={"pending": pending.group(1), "state": config["state"], "nonce": config["nonce"]})
    assert done.status_code == 303 and "lt=" in done.location
    launch_token = parse_qs(urlsplit(done.location).query)["lt"][0]
    landing = framed.get("/lti/launched", query_string={"lt": launch_token})
    assert landing.status_code == 200
    again = framed.post("/lti/launch/verify",
                        data={"pending": pending.group(1), "state": config["state"], "nonce": config["nonce"]},
                        headers={"Accept": "application/json"})
    assert again.status_code == 400


def test_launch_verify_refuses_values_not_from_platform_storage(lti_app: Flask, platform: TestPlatform) -> None:
    """Refuse to finish when the browser cannot give back this login's state (it started elsewhere)."""
    config = _storage_login(lti_app.test_client(), platform)
    framed = FlaskClient(lti_app)
    page = framed.post("/lti/launch", data={"id_token": platform.sign(platform.claims(config["nonce"])),
                                            "state": config["state"]})
    pending = re.search(r'name="pending" value="([^"]+)"', page.get_data(as_text=True))
    assert pending
    refused = framed.post("/lti/launch/verify", data={"pending": pending.group(1), "state": "", "nonce": ""},
                          headers={"Accept": "application/json"})
    assert refused.status_code == 400 and "did not start in this browser" in refused.get_json()["error"]["message"]
    assert not cache_keys(lti_app, "lti:session:")


@pytest.fixture
def https_app(database_url: str, tmp_path: Path, platform: TestPlatform) -> Iterator[Flask]:
    """Give the product served at an https base URL."""
    application = lti_tool.create_app(app_config(database_url, tmp_path, PUBLIC_BASE_URL="https://lb.test"))
    platform.register(application)
    yield application
    get_db(application).dispose()


def test_login_over_https_sets_samesite_none_secure_cookie(https_app: Flask, platform: TestPlatform) -> None:
    """Set the state cookie SameSite=None; Secure over https, so the platform's cross-site form post carries it."""
    response = https_app.test_client().get("/lti/login", query_string=platform.login_params(
        target_link_uri="https://lb.test/lti/launch", lti1p3_new_window="1"))
    assert response.status_code == 302
    cookie = response.headers["Set-Cookie"]
    assert "SameSite=None" in cookie and "Secure" in cookie and "HttpOnly" in cookie
    assert "redirect_uri=https%3A%2F%2Flb.test%2Flti%2Flaunch" in response.location
