"""Find a platform's public key by `kid`, from its JWKS cached in the shared cache.

LTI Security Framework 1.0 §6.3: platforms publish their keys as a JWKS and may rotate them (D2L
does hourly), so an unknown `kid` triggers one refetch of the JWKS, at most once per
`LTI_JWKS_REFETCH_SECONDS` per URL across all workers (a set-if-absent in the shared cache is the
rate limiter). A known key costs no request: a launch waits on the platform only when the cached
JWKS is missing or lacks the token's key.
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import current_app

from lrs.cache import Cache
from lti_tool.lti import outbound
from lti_tool.lti.errors import PlatformAnswerInvalid, PlatformTimeout, PlatformUnreachable, TokenRejected
from lti_tool.lti.models import LtiRegistration

log = logging.getLogger(__name__)

DEFAULT_JWKS_TTL = 3600
DEFAULT_REFETCH_SECONDS = 60


def _setting(name: str, default: int) -> int:
    return int(current_app.config.get(name, default))


def _cache_key(url: str) -> str:
    return "lti:jwks:" + hashlib.sha256(url.encode()).hexdigest()[:40]


def fetch_jwks(url: str, limits: outbound.Limits) -> dict[str, Any]:
    """Fetch a platform's JWKS, turning each failure into a refusal an administrator can act on."""
    try:
        answer = outbound.fetch_json(url, limits)
    except outbound.TimedOut as err:
        raise PlatformTimeout(f"The platform's key set at {url} did not answer in time ({err}); try again, "
                              "or ask the platform's administrator to check it.") from None
    except outbound.Unreachable as err:
        raise PlatformUnreachable(f"The platform's key set at {url} cannot be reached ({err}); "
                                  "check the registration's JWKS URL.") from None
    except outbound.AddressRefused as err:
        raise PlatformAnswerInvalid(f"The platform's key set URL is refused: {err}. Use a public https URL, "
                                    "or set ALLOW_PRIVATE_OUTBOUND for a platform on an internal network.") from None
    except outbound.OutboundError as err:
        raise PlatformAnswerInvalid(f"The platform's key set at {url} is unusable: {err}.") from None
    if answer.status != 200:
        raise PlatformUnreachable(f"The platform's key set at {url} answered HTTP {answer.status}; "
                                  "check the registration's JWKS URL.")
    keys = answer.body.get("keys")
    if not isinstance(keys, list):
        raise PlatformAnswerInvalid(f"The platform's key set at {url} has no \"keys\" list (RFC 7517 §5).")
    return answer.body


def _find(jwks: dict[str, Any], kid: str) -> rsa.RSAPublicKey | None:
    for candidate in jwks.get("keys", []):
        if not isinstance(candidate, dict) or candidate.get("kid") != kid:
            continue
        if candidate.get("kty") != "RSA" or candidate.get("alg", "RS256") != "RS256":
            continue
        if candidate.get("use", "sig") != "sig":
            continue
        try:
            key = jwt.PyJWK(candidate, algorithm="RS256").key
        except (jwt.PyJWKError, ValueError, TypeError):
            continue
        if isinstance(key, rsa.RSAPublicKey):
            return key
    return None


def platform_key(registration: LtiRegistration, kid: str, cache: Cache, limits: outbound.Limits) -> rsa.RSAPublicKey:
    """Return the platform's RS256 public key with this `kid`, refetching its JWKS once if unknown."""
    if registration.platform_jwks:
        try:
            key = _find(json.loads(registration.platform_jwks), kid)
        except ValueError:
            key = None
        if key is None:
            raise TokenRejected(f"The token's key {kid!r} is not in the key set registered for {registration.name or registration.issuer}.")
        return key
    url = registration.jwks_url
    if not url:
        raise PlatformAnswerInvalid("The registration has no JWKS URL: add the platform's key set URL.")
    cache_key = _cache_key(url)
    ttl = _setting("LTI_PLATFORM_JWKS_TTL_SECONDS", DEFAULT_JWKS_TTL)
    interval = _setting("LTI_JWKS_REFETCH_SECONDS", DEFAULT_REFETCH_SECONDS)
    refetch_key = "lti:jwks-refetch:" + cache_key.rsplit(":", 1)[1]
    cached = cache.get(cache_key)
    jwks = json.loads(cached) if cached else None
    if jwks is not None:
        key = _find(jwks, kid)
        if key is not None:
            return key
        # Unknown kid: the platform may have rotated. Refetch, but only once per interval for everyone.
        if not cache.add(refetch_key, "1", interval):
            raise TokenRejected(f"The token's key {kid!r} is not in the platform's key set; it was refreshed "
                                "moments ago, so this token was not signed by the platform.")
    jwks = fetch_jwks(url, limits)
    cache.set(cache_key, json.dumps(jwks), ttl)
    log.info("fetched platform JWKS %s (%d keys)", url, len(jwks["keys"]))
    key = _find(jwks, kid)
    if key is None:
        raise TokenRejected(f"The token's key {kid!r} is not in the platform's key set at {url}.")
    return key
