"""Authenticate xAPI clients with HTTP Basic credentials and enforce their scopes."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

import orjson
from flask import g

from lrs.db import get_session
from lrs.errors import Forbidden, Unauthorized
from lrs.storage.credentials import check_credential

# Which scopes let a caller do what (xAPI 1.0.3 Communication 4.2 scope table).
READ_STATEMENTS = frozenset({"statements/read", "all/read", "all"})
READ_MINE = frozenset({"statements/read/mine"})
WRITE_STATEMENTS = frozenset({"statements/write", "all"})
STATE = frozenset({"state", "all"})
STATE_READ = frozenset({"state", "all/read", "all"})
PROFILE = frozenset({"profile", "all"})
PROFILE_READ = frozenset({"profile", "all/read", "all"})
DEFINE = frozenset({"define", "all"})
ACTIVITIES_READ = frozenset({"all/read", "all", "profile", "state", "statements/read", "define"})


@dataclass(frozen=True)
class Caller:
    """The authenticated xAPI client."""

    key: str
    name: str
    scopes: frozenset[str]
    authority: dict[str, Any]

    def may(self, allowed: frozenset[str]) -> bool:
        """Tell whether any of the caller's scopes is in the allowed set."""
        return bool(self.scopes & allowed)


def parse_basic(header: str | None) -> tuple[str, str]:
    """Parse an HTTP Basic Authorization header into key and secret."""
    if not header:
        raise Unauthorized("Send HTTP Basic credentials (the LRS key and secret) in the Authorization header.")
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "basic" or not token:
        raise Unauthorized("Only HTTP Basic authorization is supported: send 'Authorization: Basic base64(key:secret)'.")
    try:
        decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise Unauthorized("The Basic credentials are not valid base64 of 'key:secret'.") from None
    key, sep, secret = decoded.partition(":")
    if not sep:
        raise Unauthorized("The Basic credentials must be 'key:secret'.")
    return key, secret


def authenticate(header: str | None) -> Caller:
    """Return the caller for the Authorization header, or raise 401."""
    key, secret = parse_basic(header)
    credential = check_credential(get_session(), key, secret)
    if credential is None:
        raise Unauthorized("The LRS key and secret are wrong, or the credential was revoked.")
    return Caller(key, credential.name, credential.scopes, orjson.loads(credential.authority_json))


def require(allowed: frozenset[str], what: str) -> Caller:
    """Return the current caller if one of its scopes allows the action, or raise 403."""
    caller: Caller = g.xapi_caller
    if not caller.may(allowed):
        raise Forbidden(f"This credential may not {what}; it needs one of the scopes: {', '.join(sorted(allowed))}.")
    return caller
