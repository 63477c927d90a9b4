"""Test the link checker against a live server on 127.0.0.1: dead, redirected, slow and huge answers (B5)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

import lti_tool
from lrs.db import get_db
from lti_tool.catalog import linkcheck, service
from lti_tool.catalog.cli import catalog_group
from lti_tool.catalog.linkcheck import LinkPolicy, check_many, check_url
from tests.conftest import app_config, csrf_token_from
from tests.support import LiveServer

MAX_BYTES = 64 * 1024


class Upstream:
    """A small WSGI site with every kind of answer a course address can give."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.in_flight = 0
        self.most_in_flight = 0

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        """Answer one request according to its path."""
        path = environ["PATH_INFO"]
        if path == "/ok":
            start_response("200 OK", [("Content-Type", "text/html")])
            return [b"<h1>course</h1>"]
        if path == "/moved":
            start_response("301 Moved Permanently", [("Location", "/ok")])
            return [b""]
        if path == "/loop":
            start_response("302 Found", [("Location", "/loop")])
            return [b""]
        if path == "/gone":
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"gone"]
        if path == "/broken":
            start_response("500 Internal Server Error", [("Content-Type", "text/plain")])
            return [b"oops"]
        if path == "/slow":
            time.sleep(3)
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b"late"]
        if path == "/drip":
            start_response("200 OK", [("Content-Type", "text/plain")])
            return self._drip()
        if path == "/huge":
            start_response("200 OK", [("Content-Type", "application/octet-stream")])
            return (b"x" * 65536 for _ in range(2000))  # 128 MiB if anyone read it all
        if path == "/huge-declared":
            start_response("200 OK", [("Content-Type", "application/octet-stream"), ("Content-Length", str(10**9))])
            return [b"x" * 1024]
        if path.startswith("/busy"):
            with self.lock:
                self.in_flight += 1
                self.most_in_flight = max(self.most_in_flight, self.in_flight)
            time.sleep(0.2)
            with self.lock:
                self.in_flight -= 1
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b"ok"]
        start_response("404 Not Found", [])
        return [b""]

    def _drip(self) -> Iterator[bytes]:
        for _ in range(40):
            time.sleep(0.25)
            yield b"."


@pytest.fixture
def upstream() -> Iterator[tuple[str, Upstream]]:
    """Serve the upstream site on 127.0.0.1 with an OS-chosen port."""
    site = Upstream()
    with LiveServer(site) as server:
        yield server.url, site


POLICY = LinkPolicy(timeout_seconds=1.0, max_bytes=MAX_BYTES, allow_private=True, concurrency=3)


@pytest.mark.parametrize(("path", "outcome", "status", "fragment"), [
    ("/ok", "ok", 200, "HTTP 200"),
    ("/moved", "redirected", 200, "HTTP 200"),
    ("/loop", "dead", 302, "more than 5 redirects"),
    ("/gone", "dead", 404, "HTTP 404"),
    ("/broken", "dead", 500, "HTTP 500"),
    ("/slow", "timeout", None, "no answer within 1 s"),
    ("/drip", "timeout", 200, "longer than 1 s"),
    ("/huge", "ok", 200, f"stopped reading after {MAX_BYTES} bytes"),
    ("/huge-declared", "ok", 200, f"body of {10**9} bytes not read (limit {MAX_BYTES})"),
])
def test_link_check_classifies_each_answer(upstream: tuple[str, Upstream], path: str, outcome: str,
                                           status: int | None, fragment: str) -> None:
    """B5: each answer is classified, within the time and size bounds."""
    base, _site = upstream
    started = time.monotonic()
    found = check_url(base + path, POLICY)
    elapsed = time.monotonic() - started
    assert (found.outcome, found.http_status) == (outcome, status), found
    assert fragment in found.detail
    assert elapsed < 2.5  # one second of budget plus scheduling slack; never the 3 s or 10 s the server wants
    if outcome == "redirected":
        assert found.final_url == base + "/ok"


def test_link_check_refuses_connection_to_a_closed_port() -> None:
    """B5: an address where nothing listens is dead, not an error page."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    found = check_url(f"http://127.0.0.1:{port}/", POLICY)
    assert found.outcome == "dead" and "could not connect" in found.detail


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:9/", "http://localhost/", "http://10.0.0.8/", "http://192.168.1.1/admin",
    "http://169.254.169.254/latest/meta-data/", "http://[::1]/", "http://0.0.0.0/",
])
def test_link_check_refuses_private_addresses_unless_allowed(url: str) -> None:
    """Security: loopback, private and link-local addresses are refused when ALLOW_PRIVATE_OUTBOUND is off."""
    found = check_url(url, LinkPolicy(1.0, MAX_BYTES, allow_private=False))
    assert found.outcome == "refused"
    assert "ALLOW_PRIVATE_OUTBOUND" in found.detail


def test_link_check_many_bounds_concurrency(upstream: tuple[str, Upstream]) -> None:
    """B5: no more than the configured number of checks run at once, and results keep their order."""
    base, site = upstream
    urls = [f"{base}/busy/{n}" for n in range(9)]
    results = check_many(urls, POLICY)
    assert [r.url for r in results] == urls and {r.outcome for r in results} == {"ok"}
    assert 1 <= site.most_in_flight <= POLICY.concurrency


@pytest.fixture
def bounded_app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    """Give the product with a one-second outbound timeout and a 64 KiB size limit."""
    application = lti_tool.create_app(app_config(database_url, tmp_path, OUTBOUND_TIMEOUT_SECONDS=1.0,
                                                 OUTBOUND_MAX_BYTES=MAX_BYTES))
    yield application
    get_db(application).dispose()


def test_check_catalog_links_records_results_and_flags_dead_links(bounded_app: Flask,
                                                                  upstream: tuple[str, Upstream]) -> None:
    """B5: the job checks every non-retired course, stores each result, and counts failures in a row."""
    from tests.lti_tool.catalog.conftest import course_row

    base, _site = upstream
    with get_db(bounded_app).session() as session:
        for code, path in (("LIVE-1", "/ok"), ("DEAD-1", "/gone"), ("SLOW-1", "/slow")):
            service.create_course(session, service.validate(course_row(code=code, url=base + path)), "t")
    result = bounded_app.test_cli_runner().invoke(catalog_group, args=["check-links"])
    assert result.exit_code == 0, result.output
    assert "1 dead, 1 ok, 1 timeout" in result.output and "2 dead links are flagged" in result.output
    linkcheck.check_catalog_links(bounded_app, codes=["DEAD-1"])
    with get_db(bounded_app).session() as session:
        live, dead, slow = (service.get_course(session, c) for c in ("LIVE-1", "DEAD-1", "SLOW-1"))
        assert (live.link_status, live.link_failures) == ("ok", 0)
        assert (dead.link_status, dead.link_http_status, dead.link_failures) == ("dead", 404, 2)
        assert slow.link_status == "timeout"
        board = service.dashboard(session)
        assert [c.code for c in board["dead_links"]] == ["DEAD-1", "SLOW-1"]


def test_check_catalog_links_refuses_private_addresses_when_not_allowed(database_url: str, tmp_path: Path,
                                                                        upstream: tuple[str, Upstream]) -> None:
    """Security: with ALLOW_PRIVATE_OUTBOUND off, a course pointing at 127.0.0.1 is never fetched."""
    from tests.lti_tool.catalog.conftest import course_row

    base, site = upstream
    application = lti_tool.create_app(app_config(database_url, tmp_path, ALLOW_PRIVATE_OUTBOUND=False))
    try:
        with get_db(application).session() as session:
            service.create_course(session, service.validate(course_row(code="INT-1", url=base + "/busy/x")), "t")
        counts = linkcheck.check_catalog_links(application)
        assert counts == {"refused": 1} and site.most_in_flight == 0
        with get_db(application).session() as session:
            assert "non-public address 127.0.0.1" in service.get_course(session, "INT-1").link_detail
    finally:
        get_db(application).dispose()


def test_check_link_post_checks_one_course_from_its_page(app: Flask, curator: FlaskClient,
                                                         add_course: Callable[..., str],
                                                         upstream: tuple[str, Upstream]) -> None:
    """B5: a curator checks one course's link from its page and sees the result in its history of checks."""
    base, _site = upstream
    code = add_course(url=base + "/gone")
    page = f"/catalog/manage/{code}"
    response = curator.post(page + "/check-link", data={"csrf_token": csrf_token_from(curator, page)})
    assert response.status_code == 302
    text = curator.get(page + "?lang=en").get_data(as_text=True)
    assert "Recent link checks" in text and "HTTP 404" in text


def test_link_check_guarded_adapter_refuses_a_private_peer_before_sending(upstream: tuple[str, Upstream]) -> None:
    """Security: even when a name passed the first look-up (DNS rebinding), a private peer gets no request."""
    import requests

    base, site = upstream
    with requests.Session() as http:
        http.mount("http://", linkcheck.GuardedAdapter())
        with pytest.raises(linkcheck._Refused, match=r"connected to the non-public address 127\.0\.0\.1"):
            http.get(base + "/busy/rebound", timeout=2)
    time.sleep(0.3)
    assert site.most_in_flight == 0
