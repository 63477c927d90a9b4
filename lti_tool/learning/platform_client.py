"""Call a platform's LTI Advantage services: access tokens, and bounded JSON requests with paging links.

An adapter written with pyjwt and requests (only `lti_tool/lti` may import pylti1p3). Access tokens
come from the platform's token endpoint by the client-credentials grant with a JWT assertion signed
by the tool's current key (LTI Security Framework 1.0 §4.1, RFC 7523), and are cached in the
shared cache until shortly before they expire. Every request is bounded in time and size and
refuses non-public addresses unless `ALLOW_PRIVATE_OUTBOUND` is set.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

import jwt
import requests
from flask import Flask
from sqlalchemy.orm import Session

from lrs.app import get_settings
from lrs.cache import get_cache
from lti_tool.keys import get_keyring

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
USER_AGENT = "InternationalLearningBridge-LTI/1.0"
TOKEN_PREFIX = "learning:token:"  # noqa: S105  (a cache key prefix, not a secret)


class PlatformError(Exception):
    """A platform service call failed; `retry` tells whether trying later may succeed."""

    def __init__(self, message: str, *, status: int | None = None, retry: bool = True) -> None:
        super().__init__(message)
        self.status = status
        self.retry = retry


@dataclass(frozen=True)
class PlatformAnswer:
    """A platform's answer: status, headers and parsed JSON body (or None)."""

    status: int
    headers: dict[str, str]
    body: Any


@dataclass(frozen=True)
class Credentials:
    """Where and as whom the tool asks a platform for access tokens."""

    issuer: str
    client_id: str
    token_url: str
    audience: str


def credentials_for(session: Session, issuer: str, client_id: str) -> Credentials:
    """Read the registration's token endpoint, or explain that the platform gave none."""
    from lti_tool.lti import registry

    row = registry.find(session, issuer, client_id)
    if row is None:
        raise PlatformError(f"The platform {issuer} (client {client_id}) is no longer registered.", retry=False)
    if not row.auth_token_url:
        raise PlatformError(f"The registration of {issuer} has no token endpoint; an administrator must add it.",
                            retry=True)
    return Credentials(row.issuer, row.client_id, row.auth_token_url, row.auth_audience or row.auth_token_url)


def _limits(app: Flask) -> tuple[float, int, bool]:
    settings = get_settings(app)
    return settings.outbound_timeout_seconds, settings.outbound_max_bytes, settings.allow_private_outbound


def request_json(app: Flask, method: str, url: str, *, token: str | None = None, accept: str = "application/json",
                 content_type: str | None = None, body: Any = None, form: dict[str, str] | None = None) -> PlatformAnswer:
    """Send one bounded request and return the status, headers and JSON body."""
    from lti_tool.lti.outbound import OutboundError, check_url

    timeout, max_bytes, allow_private = _limits(app)
    try:
        check_url(url, allow_private)
    except OutboundError as err:
        raise PlatformError(f"The platform address {url[:200]} cannot be used: {err}", retry=False) from None
    headers = {"Accept": accept, "User-Agent": USER_AGENT}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data: bytes | dict[str, str] | None = form
    if body is not None:
        headers["Content-Type"] = content_type or "application/json"
        data = json.dumps(body).encode()
    deadline = time.monotonic() + timeout
    try:
        with requests.request(method, url, headers=headers, data=data, timeout=timeout, allow_redirects=False,
                              stream=True) as response:
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_content(chunk_size=16384):
                size += len(chunk)
                if size > max_bytes:
                    raise PlatformError(f"The platform's answer is larger than {max_bytes} bytes.", retry=False)
                if time.monotonic() > deadline:
                    raise PlatformError(f"The platform did not answer within {timeout:g} s.")
                chunks.append(chunk)
            status = response.status_code
            answer_headers = {k.lower(): v for k, v in response.headers.items()}
    except requests.Timeout:
        raise PlatformError(f"The platform did not answer within {timeout:g} s.") from None
    except requests.RequestException as err:
        raise PlatformError(f"The platform could not be reached ({type(err).__name__}).") from None
    raw = b"".join(chunks)
    parsed: Any = None
    if raw.strip():
        try:
            parsed = json.loads(raw)
        except ValueError:
            parsed = None
    return PlatformAnswer(status, answer_headers, parsed)


def _cache_key(credentials: Credentials, scopes: tuple[str, ...]) -> str:
    digest = hashlib.sha256("|".join((credentials.issuer, credentials.client_id, *sorted(scopes))).encode()).hexdigest()
    return TOKEN_PREFIX + digest[:40]


def client_assertion(app: Flask, credentials: Credentials) -> str:
    """Sign the JWT the tool authenticates with at the token endpoint (LTI Security Framework §4.1.1)."""
    key = get_keyring(app).signing_key()
    now = int(time.time())
    claims = {
        "iss": credentials.client_id,
        "sub": credentials.client_id,
        "aud": credentials.audience,
        "iat": now,
        "exp": now + 300,
        "jti": secrets.token_urlsafe(16),
    }
    return jwt.encode(claims, key.private_pem, algorithm="RS256", headers={"kid": key.kid})


def access_token(app: Flask, credentials: Credentials, scopes: tuple[str, ...], *, fresh: bool = False) -> str:
    """Return a cached access token for the scopes, or obtain one by the client-credentials grant."""
    cache = get_cache(app)
    key = _cache_key(credentials, scopes)
    if not fresh:
        cached = cache.get(key)
        if cached:
            return cached
    answer = request_json(app, "POST", credentials.token_url, form={
        "grant_type": "client_credentials",
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": client_assertion(app, credentials),
        "scope": " ".join(scopes),
    })
    body = answer.body if isinstance(answer.body, dict) else {}
    token = body.get("access_token")
    if answer.status != 200 or not isinstance(token, str) or not token:
        error = str(body.get("error") or "no token in the answer")[:100]
        raise PlatformError(f"The platform refused an access token (HTTP {answer.status}: {error}).", status=answer.status,
                            retry=answer.status >= 500 or answer.status in (401, 429))
    expires_in = body.get("expires_in", 3600)
    ttl = int(expires_in) - 60 if isinstance(expires_in, int | float) and expires_in > 120 else 60
    cache.set(key, token, ttl)
    return token


def forget_token(app: Flask, credentials: Credentials, scopes: tuple[str, ...]) -> None:
    """Drop a cached token the platform no longer accepts."""
    get_cache(app).delete(_cache_key(credentials, scopes))


def next_link(headers: dict[str, str]) -> str | None:
    """Return the URL of the Link header's rel="next" (RFC 8288), as NRPS 2.0 §2.4.1 pages use it."""
    for part in headers.get("link", "").split(","):
        section = part.strip()
        if not section.startswith("<") or ">" not in section:
            continue
        url, _, params = section[1:].partition(">")
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "rel" and "next" in value.strip().strip('"').split():
                return url.strip()
    return None
