"""Test the About resource (xAPI 1.0.3 Communication 2.8)."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.lrs.documents import fixtures

xclient = fixtures.xclient


def test_about_get_lists_versions_without_credentials(xclient: FlaskClient) -> None:
    """Answer unauthenticated with the latest version per major version and nothing else (Communication 2.8.s5)."""
    response = xclient.get("/xapi/about")
    assert response.status_code == 200
    body = response.get_json()
    assert body == {"version": ["1.0.3", "2.0.0"], "extensions": {}}
    assert response.headers["X-Experience-API-Version"] == "1.0.3"


def test_about_ignores_unsupported_version_header(xclient: FlaskClient) -> None:
    """Never refuse About for its version header (Communication 2.8.s5.b4)."""
    response = xclient.get("/xapi/about", headers={"X-Experience-API-Version": "0.9"})
    assert response.status_code == 200
    assert "1.0.3" in response.get_json()["version"]


def test_about_head_has_no_body(xclient: FlaskClient) -> None:
    """Answer HEAD like GET without a body (Communication 1.1.s3.b1)."""
    response = xclient.head("/xapi/about")
    assert response.status_code == 200
    assert response.data == b""


def test_about_post_is_405(xclient: FlaskClient) -> None:
    """Refuse methods other than GET and HEAD on About (Communication 2.8.s4)."""
    response = xclient.post("/xapi/about", json={})
    assert response.status_code == 405
