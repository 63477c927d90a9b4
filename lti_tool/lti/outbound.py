"""Make outgoing HTTP requests to platforms, bounded in time and size, refusing internal addresses.

Every fetch of a platform's JWKS, OpenID configuration or registration endpoint goes through
`fetch_json`. It refuses loopback, private, link-local and other non-public addresses unless
`ALLOW_PRIVATE_OUTBOUND` is set, both when the name is resolved and again on the address actually
connected to, before anything is sent (so a name that resolves differently the second time, DNS
rebinding, gets nothing); it follows no redirects, stops reading past `OUTBOUND_MAX_BYTES`,
and gives up after `OUTBOUND_TIMEOUT_SECONDS` in total (not per read), so a slow-dripping server
cannot hold a worker.
"""

from __future__ import annotations

import ipaddress
import json
import socket
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from flask import Flask, current_app
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from lrs.app import get_settings

USER_AGENT = "InternationalLearningBridge-LTI/1.0"


class OutboundError(Exception):
    """An outgoing request failed; `kind` says how."""

    kind = "error"


class AddressRefused(OutboundError):
    """The URL is not http(s) or points at a non-public address."""

    kind = "refused"


class Unreachable(OutboundError):
    """The server could not be reached."""

    kind = "unreachable"


class TimedOut(OutboundError):
    """The server did not answer completely in time."""

    kind = "timeout"


class TooLarge(OutboundError):
    """The answer is larger than allowed."""

    kind = "too_large"


class NotJson(OutboundError):
    """The answer is not a JSON object."""

    kind = "not_json"


@dataclass(frozen=True)
class JsonAnswer:
    """A server's status and JSON object body."""

    status: int
    body: dict[str, Any]


@dataclass(frozen=True)
class Limits:
    """Bounds of an outgoing request."""

    timeout: float
    max_bytes: int
    allow_private: bool

    @classmethod
    def of(cls, app: Flask | None = None) -> Limits:
        """Read the bounds from the app's settings."""
        settings = get_settings(app or current_app)
        return cls(settings.outbound_timeout_seconds, settings.outbound_max_bytes, settings.allow_private_outbound)


def is_public(address: str) -> bool:
    """Tell whether an address is public (global unicast; an IPv4-mapped IPv6 address is judged as its IPv4 address)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def _check_peer(sock: Any, host: str) -> None:
    peer = str(sock.getpeername()[0]) if sock is not None else ""
    if not peer or not is_public(peer):
        if sock is not None:
            sock.close()
        raise AddressRefused(f"{host} connected to the non-public address {peer}; set ALLOW_PRIVATE_OUTBOUND=1 to allow internal addresses")


class _GuardedHTTPConnection(HTTPConnection):
    """An HTTP connection that refuses to talk to a non-public peer."""

    def connect(self) -> None:
        """Connect, then check the peer before anything is sent."""
        super().connect()
        _check_peer(self.sock, self.host)


class _GuardedHTTPSConnection(HTTPSConnection):
    """An HTTPS connection that refuses to talk to a non-public peer."""

    def connect(self) -> None:
        """Connect, then check the peer before anything is sent."""
        super().connect()
        _check_peer(self.sock, self.host)


class _GuardedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class GuardedAdapter(HTTPAdapter):
    """A requests adapter whose connections only reach public addresses (AddressRefused otherwise)."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        """Build the pool manager with guarded connection pools."""
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _GuardedHTTPPool, "https": _GuardedHTTPSPool}


def guard(http: requests.Session, allow_private: bool) -> requests.Session:
    """Mount the guarded adapter on a session unless internal addresses are allowed; return the session."""
    if not allow_private:
        http.mount("http://", GuardedAdapter())
        http.mount("https://", GuardedAdapter())
    return http


def check_url(url: str, allow_private: bool) -> None:
    """Refuse URLs that are not http(s) or whose host resolves to a non-public address."""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise AddressRefused(f"{url!r} is not an http(s) URL")
    if allow_private:
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80),
                                   type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as err:
        raise Unreachable(f"the host {parts.hostname} cannot be resolved ({err})") from None
    for info in infos:
        if not is_public(str(info[4][0])):
            raise AddressRefused(f"{parts.hostname} resolves to a non-public address")


def fetch_json(url: str, limits: Limits, *, method: str = "GET", json_body: Any = None,
               bearer: str | None = None) -> JsonAnswer:
    """Request a URL and return its status and JSON object body, within the limits."""
    check_url(url, limits.allow_private)
    headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
    if bearer:
        headers["Authorization"] = f"Bearer {bearer}"
    deadline = time.monotonic() + limits.timeout
    try:
        with guard(requests.Session(), limits.allow_private) as http, http.request(
                method, url, headers=headers, json=json_body, timeout=limits.timeout, allow_redirects=False, stream=True) as response:
            declared = response.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > limits.max_bytes:
                raise TooLarge(f"the answer declares {declared} bytes, more than the {limits.max_bytes} allowed")
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_content(chunk_size=16384):
                size += len(chunk)
                if size > limits.max_bytes:
                    raise TooLarge(f"the answer is larger than the {limits.max_bytes} bytes allowed")
                if time.monotonic() > deadline:
                    raise TimedOut(f"no complete answer within {limits.timeout:g} seconds")
                chunks.append(chunk)
            status = response.status_code
    except requests.Timeout:
        raise TimedOut(f"no answer within {limits.timeout:g} seconds") from None
    except requests.RequestException as err:
        raise Unreachable(f"connection failed ({type(err).__name__})") from None
    raw = b"".join(chunks)
    if not raw and status >= 300:
        return JsonAnswer(status, {})
    try:
        body = json.loads(raw)
    except ValueError:
        if status >= 300:
            return JsonAnswer(status, {})
        raise NotJson("the answer is not JSON") from None
    if not isinstance(body, dict):
        if status >= 300:
            return JsonAnswer(status, {})
        raise NotJson("the answer is not a JSON object")
    return JsonAnswer(status, body)


class BoundedSession(requests.Session):
    """A requests session for pylti1p3's AGS and NRPS calls: refused addresses, a timeout, no redirects."""

    def __init__(self, limits: Limits) -> None:
        super().__init__()
        self.limits = limits
        self.headers["User-Agent"] = USER_AGENT
        self.max_redirects = 0
        guard(self, limits.allow_private)

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        """Check the address, then send with the configured timeout unless one is given."""
        check_url(url.decode() if isinstance(url, bytes) else url, self.limits.allow_private)
        kwargs.setdefault("timeout", self.limits.timeout)
        kwargs.setdefault("allow_redirects", False)
        return super().request(method, url, *args, **kwargs)
