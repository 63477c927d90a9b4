"""Check that course addresses still answer, safely: bounded in time, size and concurrency (B5).

Each hop of a redirect chain is resolved first and refused when any address it resolves to is
loopback, private, link-local, multicast or reserved, unless ALLOW_PRIVATE_OUTBOUND is on, so a
catalog entry cannot make the server probe its own network. The address actually connected to is
checked again before the request is sent, so a host name that resolves differently the second time
(DNS rebinding) is refused too. Bodies are streamed and abandoned after
`OUTBOUND_MAX_BYTES`; every request has a total deadline of `OUTBOUND_TIMEOUT_SECONDS`, not just a
per-read timeout, so a server that drips bytes cannot hold a worker.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import requests
from flask import Flask
from sqlalchemy.orm import Session

from lrs.app import get_settings
from lrs.db import get_db, utcnow
from lti_tool.catalog.domain import Status
from lti_tool.catalog.models import CatalogCourse, CatalogLinkCheck
from lti_tool.catalog.service import DEAD_OUTCOMES, all_courses
from lti_tool.lti.outbound import AddressRefused, GuardedAdapter, is_public

MAX_REDIRECTS = 5
USER_AGENT = "InternationalLearningBridge-LinkCheck/1.0"


@dataclass(frozen=True)
class LinkPolicy:
    """The bounds every check runs under."""

    timeout_seconds: float
    max_bytes: int
    allow_private: bool
    concurrency: int = 4


@dataclass(frozen=True)
class LinkResult:
    """What one check found: ok, redirected, dead, timeout, refused or error."""

    url: str
    outcome: str
    http_status: int | None = None
    final_url: str = ""
    detail: str = ""
    elapsed_ms: int = 0


_Refused = AddressRefused  # the address is not one we may fetch (also raised by the guarded adapter)


def policy_for(app: Flask) -> LinkPolicy:
    """Build the link-check policy from the app's settings."""
    settings = get_settings(app)
    concurrency = int(app.config.get("CATALOG_LINK_CHECK_CONCURRENCY", 4))
    return LinkPolicy(settings.outbound_timeout_seconds, settings.outbound_max_bytes,
                      settings.allow_private_outbound, max(1, min(concurrency, 32)))


def _check_address(url: str, allow_private: bool) -> None:
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise _Refused(f"not an http(s) address: {url[:80]}")
    if allow_private:
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80),
                                   type=socket.SOCK_STREAM)
    except socket.gaierror as err:
        raise LookupError(f"host name {parts.hostname} does not resolve ({err.strerror})") from None
    for info in infos:
        address = str(info[4][0])
        if not is_public(address):
            raise _Refused(f"{parts.hostname} resolves to the non-public address {address}; "
                           "set ALLOW_PRIVATE_OUTBOUND=1 to check internal links")


def check_url(url: str, policy: LinkPolicy) -> LinkResult:
    """Fetch one address within the policy's bounds and classify the answer."""
    started = time.monotonic()
    deadline = started + policy.timeout_seconds

    def result(outcome: str, status: int | None = None, final: str = "", detail: str = "") -> LinkResult:
        return LinkResult(url, outcome, status, final, detail[:300], int((time.monotonic() - started) * 1000))

    current = url
    with requests.Session() as http:
        http.headers["User-Agent"] = USER_AGENT
        http.trust_env = False  # never route checks through a proxy from the environment
        if not policy.allow_private:
            http.mount("http://", GuardedAdapter())
            http.mount("https://", GuardedAdapter())
        for hop in range(MAX_REDIRECTS + 1):
            try:
                _check_address(current, policy.allow_private)
            except _Refused as err:
                return result("refused", final=current, detail=str(err))
            except LookupError as err:
                return result("dead", final=current, detail=str(err))
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return result("timeout", final=current, detail=f"no answer within {policy.timeout_seconds:g} s")
            try:
                response = http.get(current, stream=True, allow_redirects=False, timeout=(remaining, remaining))
            except _Refused as err:
                return result("refused", final=current, detail=str(err))
            except requests.Timeout:
                return result("timeout", final=current, detail=f"no answer within {policy.timeout_seconds:g} s")
            except requests.RequestException as err:
                return result("dead", final=current, detail=f"could not connect: {type(err).__name__}")
            with response:
                if response.is_redirect:
                    location = response.headers.get("Location", "")
                    if hop == MAX_REDIRECTS:
                        return result("dead", response.status_code, current, f"more than {MAX_REDIRECTS} redirects")
                    current = urljoin(current, location)
                    continue
                status = response.status_code
                _read, detail = _drain(response, deadline, policy.max_bytes)
                if detail == "timeout":
                    return result("timeout", status, current, f"the answer took longer than {policy.timeout_seconds:g} s")
                if status >= 400:
                    return result("dead", status, current, f"HTTP {status}")
                outcome = "redirected" if current != url else "ok"
                note = f"HTTP {status}" + (f"; {detail}" if detail else "")
                return result(outcome, status, current, note)
    return result("error", detail="unreachable")  # pragma: no cover (the loop always returns)


def _drain(response: requests.Response, deadline: float, max_bytes: int) -> tuple[int, str]:
    """Read at most max_bytes of the body before the deadline; say why reading stopped early."""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        return 0, f"body of {declared} bytes not read (limit {max_bytes})"
    read = 0
    try:
        for chunk in response.iter_content(8192):
            read += len(chunk)
            if time.monotonic() > deadline:
                return read, "timeout"
            if read > max_bytes:
                return read, f"stopped reading after {max_bytes} bytes"
    except requests.RequestException:
        if time.monotonic() > deadline:
            return read, "timeout"
        return read, "the connection broke while reading"
    return read, ""


def check_many(urls: Sequence[str], policy: LinkPolicy) -> list[LinkResult]:
    """Check several addresses with at most `policy.concurrency` at a time, in the given order."""
    if not urls:
        return []
    with ThreadPoolExecutor(max_workers=min(policy.concurrency, len(urls))) as pool:
        return list(pool.map(lambda u: check_url(u, policy), urls))


def record(session: Session, course: CatalogCourse, found: LinkResult) -> None:
    """Store a check's result on the course and in its check history."""
    now = utcnow()
    session.add(CatalogLinkCheck(course_id=course.id, checked_at=now, url=found.url, outcome=found.outcome,
                                 http_status=found.http_status, final_url=found.final_url[:2000],
                                 detail=found.detail, elapsed_ms=found.elapsed_ms))
    course.link_status = found.outcome
    course.link_checked_at = now
    course.link_http_status = found.http_status
    course.link_detail = found.detail
    course.link_failures = course.link_failures + 1 if found.outcome in DEAD_OUTCOMES else 0


def check_catalog_links(app: Flask, *, codes: Sequence[str] = (),
                        progress: Callable[[CatalogCourse, LinkResult], None] | None = None) -> dict[str, int]:
    """Check every non-retired course's address (the scheduled job); return counts per outcome."""
    policy = policy_for(app)
    database = get_db(app)
    with database.session() as session:
        courses = [c for c in all_courses(session, (Status.DRAFT, Status.IN_REVIEW, Status.PUBLISHED))
                   if not codes or c.code in codes]
        targets = [(c.id, c.url) for c in courses]
    # No database session is held open while the network is slow.
    results = check_many([url for _id, url in targets], policy)
    counts: dict[str, int] = {}
    with database.session() as session:
        for (course_id, _url), found in zip(targets, results, strict=True):
            course = session.get(CatalogCourse, course_id)
            if course is None:
                continue
            record(session, course, found)
            counts[found.outcome] = counts.get(found.outcome, 0) + 1
            if progress:
                progress(course, found)
    return counts
