"""Test the demo platform at /demo: a complete launch as learner and instructor, only in demo mode."""

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
from lti_tool.lti import registry
from lti_tool.lti.demo import load_demo
from tests.conftest import app_config
from tests.lti_tool.lti.conftest import auth_redirect


@pytest.fixture
def demo_app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    """Give the product in demo mode."""
    application = lti_tool.create_app(app_config(database_url, tmp_path, DEMO_MODE=True))
    yield application
    get_db(application).dispose()


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + ("?" + parts.query if parts.query else "")


def _run_demo_launch(client: FlaskClient, **query: str) -> str:
    """Click through the demo platform and the tool as a browser would; return the landing page."""
    login = client.get("/demo/start", query_string=query)
    assert login.status_code == 302 and "/lti/login?" in login.location
    login_page = client.get(_path(login.location))
    auth_url = auth_redirect(login_page)
    if query.get("storage") != "0":  # platform storage offered: the page stores state, then goes on
        config = re.search(r'id="lti-storage-config">(.*?)</script>', login_page.get_data(as_text=True), re.S)
        assert config and json.loads(config.group(1))["target"] == "_parent"
    auth = client.get(_path(auth_url))
    assert auth.status_code == 200
    html = auth.get_data(as_text=True)
    token = re.search(r'name="id_token" value="([^"]+)"', html)
    state = re.search(r'name="state" value="([^"]+)"', html)
    assert token and state
    launched = client.post("/lti/launch", data={"id_token": token.group(1), "state": state.group(1)})
    assert launched.status_code == 303, launched.get_data(as_text=True)
    # Later packages choose where a launch lands; the tool's own summary page stays available.
    launch_token = parse_qs(urlsplit(launched.location).query)["lt"][0]
    endpoint = "/lti/deep-link" if query.get("message") == "deep_linking" else "/lti/launched"
    return client.get(endpoint, query_string={"lt": launch_token, "lang": "en"}).get_data(as_text=True)


@pytest.mark.parametrize("storage", ["1", "0"])
def test_demo_launch_as_learner_shows_landing(demo_app: Flask, storage: str) -> None:
    """Launch from the demo LMS as a learner, with and without platform storage, and land on the tool's page."""
    client = demo_app.test_client()
    assert client.get("/demo/").status_code == 200
    page = _run_demo_launch(client, role="learner", course="ted-001", storage=storage)
    assert "Learner" in page and "ted-001" in page and "Demo LMS" in page


def test_demo_launch_as_instructor_and_deep_linking(demo_app: Flask) -> None:
    """Launch as an instructor, and start deep linking from the demo LMS."""
    client = demo_app.test_client()
    assert "Instructor" in _run_demo_launch(client, role="instructor", storage="0")
    assert "Add international courses" in _run_demo_launch(client, role="instructor", message="deep_linking", storage="0")


def test_demo_load_is_idempotent(demo_app: Flask) -> None:
    """Register the demo platform once however often the demo data is loaded."""
    first = load_demo(demo_app)
    second = load_demo(demo_app)
    assert "registered" in first[0] and "already registered" in second[0]
    with get_db(demo_app).session() as session:
        assert [r.source for r in registry.list_all(session)] == ["demo"]


def test_demo_auth_refuses_foreign_requests(demo_app: Flask) -> None:
    """Refuse authentication requests that are not this tool's or carry a forged login hint."""
    client = demo_app.test_client()
    bad = client.get("/demo/auth", query_string={"client_id": "x", "redirect_uri": "http://evil/"},
                     headers={"Accept": "application/json"})
    assert bad.status_code == 400
    forged = client.get("/demo/auth", query_string={
        "client_id": "demo-client", "redirect_uri": "http://lb.test/lti/launch", "response_type": "id_token",
        "scope": "openid", "nonce": "n", "login_hint": "forged"}, headers={"Accept": "application/json"})
    assert forged.status_code == 400


def test_demo_absent_without_demo_mode(client: FlaskClient) -> None:
    """Serve no demo platform unless DEMO_MODE is on."""
    assert client.get("/demo/").status_code == 404
    assert client.get("/demo/auth").status_code == 404


def test_demo_deep_link_return_adds_verified_links(demo_app: Flask) -> None:
    """Add the links of a deep-linking response signed by the tool, and refuse unsigned ones (Deep Linking 2.0 §4.5)."""
    from pylti1p3.deep_link_resource import DeepLinkResource

    from lti_tool.lti.launch import current_launch, message_launch

    client = demo_app.test_client()
    _run_demo_launch(client, role="instructor", message="deep_linking", storage="0")
    token = client.get("/demo/start", query_string={"role": "instructor", "message": "deep_linking", "storage": "0"})
    assert token.status_code == 302
    login_page = client.get(_path(token.location))
    auth = client.get(_path(auth_redirect(login_page)))
    html = auth.get_data(as_text=True)
    id_token = re.search(r'name="id_token" value="([^"]+)"', html)
    state = re.search(r'name="state" value="([^"]+)"', html)
    assert id_token and state
    launched = client.post("/lti/launch", data={"id_token": id_token.group(1), "state": state.group(1)})
    launch_token = parse_qs(urlsplit(launched.location).query)["lt"][0]
    with demo_app.test_request_context("/", query_string={"lt": launch_token}):
        demo_app.preprocess_request()
        context = current_launch()
        assert context is not None
        resource = DeepLinkResource().set_url("http://lb.test/lti/launch").set_title("Global Health").set_custom_params(
            {"catalog_course": "GH-1"})
        response_jwt = message_launch(context).get_deep_link().get_response_jwt([resource])
    returned = client.post("/demo/deep-link-return", data={"JWT": response_jwt})
    assert returned.status_code == 200 and "Global Health" in returned.get_data(as_text=True)
    home = client.get("/demo/").get_data(as_text=True)
    assert "Global Health" in home and "link=demo-link-1" in home
    page = _run_demo_launch(client, role="learner", link="demo-link-1", storage="0")
    assert "GH-1" in page
    forged = client.post("/demo/deep-link-return", data={"JWT": "a.b.c"}, headers={"Accept": "application/json"})
    assert forged.status_code == 400
