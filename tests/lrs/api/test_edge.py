"""Test what every xAPI resource shares: version header, credentials, alternate syntax, CORS."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.datastructures import Headers

from lrs.api.xapi_request import V1, V2, build_request, negotiate_version
from lrs.errors import BadRequest
from lrs.staff.models import Role


def test_about_get_lists_both_versions_without_credentials(lrs_app: Flask) -> None:
    """Answer About without credentials or version header (Communication 2.8)."""
    response = lrs_app.test_client().get("/xapi/about")
    assert response.status_code == 200
    assert set(response.get_json()["version"]) == {"1.0.3", "2.0.0"}
    assert response.headers["X-Experience-API-Version"] == "1.0.3"


@pytest.mark.parametrize(("header", "listed"), [("1.0.3", ["1.0.3"]), ("1.0", ["1.0.3"]), ("2.0.0", ["1.0.3", "2.0.0"])])
def test_about_lists_versions_for_the_request_version(lrs_app: Flask, header: str, listed: list[str]) -> None:
    """List only 1.0.x to a 1.0.x client (1.0.3 Communication 2.8.s5.b1.b1; ADL suite XAPI-00316), both to 2.0.0."""
    response = lrs_app.test_client().get("/xapi/about", headers={"X-Experience-API-Version": header})
    assert response.status_code == 200
    assert response.get_json()["version"] == listed


@pytest.mark.parametrize(
    ("given", "expected"),
    [("1.0", V1), ("1.0.0", V1), ("1.0.3", V1), ("1.0.9", V1), ("2.0", V2), ("2.0.0", V2), ("2.0.1", V2)],
)
def test_version_header_accepted_versions(given: str, expected: str) -> None:
    """Accept 1.0.x, "1.0" and 2.0.x and answer with the latest patch (Communication 3.3.s3.b3)."""
    assert negotiate_version(given) == expected


@pytest.mark.parametrize("given", ["0.95", "0.9", "1.1.0", "3.0.0", "1", "abc", "1.0.0.1", "1.0.x"])
def test_version_header_other_versions_rejected(given: str) -> None:
    """Reject versions other than 1.0.x and 2.0.x with 400 (Communication 3.3)."""
    with pytest.raises(BadRequest, match="not supported"):
        negotiate_version(given)


def test_alternate_syntax_moves_form_headers_and_params() -> None:
    """Treat listed form parameters as headers and the rest as query parameters (Communication 1.3)."""
    body = (
        b"X-Experience-API-Version=1.0.3&Authorization=Basic%20abc&Content-Type=application%2Fjson"
        b"&content=%7B%22a%22%3A1%7D&activityId=http%3A%2F%2Fex.org%2Fa&stateId=s1"
    )
    headers = Headers({"Content-Type": "application/x-www-form-urlencoded"})
    xreq = build_request("POST", headers, b"method=PUT", body)
    assert xreq.alternate is True
    assert xreq.method == "PUT"
    assert xreq.headers["Authorization"] == "Basic abc"
    assert xreq.mimetype == "application/json"
    assert xreq.body == b'{"a":1}'
    assert xreq.params.to_dict() == {"activityId": "http://ex.org/a", "stateId": "s1"}


def test_alternate_syntax_other_query_parameters_rejected() -> None:
    """Reject other query string parameters beside method (Communication 1.3.s3.b3)."""
    headers = Headers({"Content-Type": "application/x-www-form-urlencoded"})
    with pytest.raises(BadRequest, match="only 'method' may be in the query string"):
        build_request("POST", headers, b"method=GET&limit=1", b"X-Experience-API-Version=1.0.3")


def test_alternate_syntax_refused_in_xapi_2() -> None:
    """Refuse the alternate request syntax for xAPI 2.0.0, which removed it."""
    headers = Headers({"Content-Type": "application/x-www-form-urlencoded"})
    with pytest.raises(BadRequest, match=r"2\.0\.0 has no alternate request syntax"):
        build_request("POST", headers, b"method=GET", b"X-Experience-API-Version=2.0.0")


def test_xapi_requests_ignore_staff_sessions(app: Flask, make_staff: Callable[..., tuple[str, str]],
                                             login: Callable[[str, str], None], client: FlaskClient) -> None:
    """Give xAPI requests no cookie session: a staff login never authorises or slows an xAPI call."""
    login(*make_staff("olga", Role.ADMINISTRATOR))
    response = client.get("/xapi/statements", headers={"X-Experience-API-Version": "1.0.3"})
    assert response.status_code == 401
    assert "Set-Cookie" not in response.headers
    assert client.get("/staff/").status_code == 200  # the staff session itself is untouched


def test_xapi_responses_never_set_the_language_cookie(client: FlaskClient, xapi_headers: dict[str, str]) -> None:
    """`lang` is no xAPI parameter, so a 400 names it (Communication 3.2.s3.b7); unlike pages, the xAPI sets no cookie."""
    response = client.get("/xapi/statements?lang=en", headers=xapi_headers)
    assert response.status_code == 400 and "lang" in response.get_data(as_text=True)
    assert "Set-Cookie" not in response.headers
    page = client.get("/staff/login?lang=en")
    assert "lang=en" in page.headers.get("Set-Cookie", "")  # pages still remember the chosen language
