"""Create, find, list, change and remove platform registrations (manual, dynamic and demo)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from lrs.errors import BadRequest, Conflict, NotFound
from lti_tool.lti.models import LtiDeployment, LtiRegistration, RegistrationSource, RegistrationStatus


@dataclass
class RegistrationInput:
    """What an administrator or a platform gives to register a platform."""

    issuer: str
    client_id: str
    auth_login_url: str
    jwks_url: str = ""
    auth_token_url: str = ""
    auth_audience: str = ""
    name: str = ""
    product_family: str = ""
    deployment_ids: list[str] = field(default_factory=list)
    platform_jwks: dict[str, Any] | None = None
    status: RegistrationStatus = RegistrationStatus.ACTIVE
    source: RegistrationSource = RegistrationSource.MANUAL


def _check_url(value: str, what: str, *, required: bool, allow_http: bool) -> None:
    if not value:
        if required:
            raise BadRequest(f"Give the platform's {what}.")
        return
    parts = urlsplit(value)
    schemes = {"https", "http"} if allow_http else {"https"}
    if parts.scheme not in schemes or not parts.netloc or len(value) > 1000:
        raise BadRequest(f"The {what} must be an {'http(s)' if allow_http else 'https'} URL of at most 1000 characters, got {value[:200]!r}.")


def validate_input(data: RegistrationInput, *, allow_http: bool) -> None:
    """Check a registration's fields, with messages an LMS administrator can act on."""
    if not data.issuer or len(data.issuer) > 255:
        raise BadRequest("Give the platform's issuer (its `iss`, a URL of at most 255 characters).")
    _check_url(data.issuer, "issuer", required=True, allow_http=allow_http)
    if not data.client_id or len(data.client_id) > 255:
        raise BadRequest("Give the client id the platform assigned to this tool (at most 255 characters).")
    _check_url(data.auth_login_url, "authorization (OIDC auth) endpoint", required=True, allow_http=allow_http)
    _check_url(data.auth_token_url, "access token endpoint", required=False, allow_http=allow_http)
    if not data.jwks_url and not data.platform_jwks:
        raise BadRequest("Give the platform's public key set URL (JWKS URL).")
    _check_url(data.jwks_url, "public key set (JWKS) URL", required=False, allow_http=allow_http)
    if data.platform_jwks is not None and not isinstance(data.platform_jwks.get("keys"), list):
        raise BadRequest("A pasted key set must be a JWKS: a JSON object with a \"keys\" list.")
    for deployment_id in data.deployment_ids:
        if not deployment_id or len(deployment_id) > 255:
            raise BadRequest("Each deployment id has 1 to 255 characters (LTI Core 1.3 §5.3.3).")


def find(session: Session, issuer: str, client_id: str) -> LtiRegistration | None:
    """Return the registration of an issuer and client id, whatever its status."""
    return session.scalar(
        select(LtiRegistration).where(LtiRegistration.issuer == issuer, LtiRegistration.client_id == client_id)
    )


def for_issuer(session: Session, issuer: str) -> list[LtiRegistration]:
    """Return every registration of an issuer."""
    return list(session.scalars(select(LtiRegistration).where(LtiRegistration.issuer == issuer)
                                .order_by(LtiRegistration.id)))


def get(session: Session, registration_id: int) -> LtiRegistration:
    """Return a registration by id."""
    registration = session.get(LtiRegistration, registration_id)
    if registration is None:
        raise NotFound(f"No platform registration has id {registration_id}.")
    return registration


def list_all(session: Session) -> list[LtiRegistration]:
    """List every registration by issuer and client id."""
    return list(session.scalars(select(LtiRegistration).order_by(LtiRegistration.issuer, LtiRegistration.client_id)))


def create(session: Session, data: RegistrationInput, *, allow_http: bool) -> LtiRegistration:
    """Store a new registration with its deployments."""
    validate_input(data, allow_http=allow_http)
    if find(session, data.issuer, data.client_id) is not None:
        raise Conflict(f"The platform {data.issuer} with client id {data.client_id} is already registered; "
                       "remove it first or change it.")
    registration = LtiRegistration(
        issuer=data.issuer, client_id=data.client_id, name=data.name[:200], product_family=data.product_family[:100],
        auth_login_url=data.auth_login_url, auth_token_url=data.auth_token_url, auth_audience=data.auth_audience,
        jwks_url=data.jwks_url, platform_jwks=json.dumps(data.platform_jwks) if data.platform_jwks else "",
        status=data.status.value, source=data.source.value,
    )
    registration.deployments = [LtiDeployment(deployment_id=d) for d in dict.fromkeys(data.deployment_ids)]
    session.add(registration)
    session.flush()
    return registration


def add_deployments(registration: LtiRegistration, deployment_ids: Iterable[str]) -> None:
    """Add deployment ids a registration does not hold yet."""
    known = set(registration.deployment_ids)
    for deployment_id in deployment_ids:
        if not deployment_id or len(deployment_id) > 255:
            raise BadRequest("Each deployment id has 1 to 255 characters (LTI Core 1.3 §5.3.3).")
        if deployment_id not in known:
            registration.deployments.append(LtiDeployment(deployment_id=deployment_id))
            known.add(deployment_id)


def set_status(registration: LtiRegistration, status: str) -> None:
    """Activate, suspend (pending) or disable a registration."""
    try:
        registration.status = RegistrationStatus(status).value
    except ValueError:
        raise BadRequest(f"Unknown status {status!r}: use active, pending or disabled.") from None


def remove(session: Session, registration: LtiRegistration) -> None:
    """Delete a registration and its deployments."""
    session.delete(registration)
    session.flush()


# Deployment ids that tried to launch from a known platform but are not registered, so that an
# administrator can add the right one in a click (platforms such as Canvas create deployments after
# dynamic registration). Kept in the shared cache, at most a few per registration.
DEPLOYMENT_REQUESTS_PREFIX = "lti:deployment-requests:"
DEPLOYMENT_REQUESTS_TTL = 30 * 24 * 3600
MAX_DEPLOYMENT_REQUESTS = 10


def note_deployment_request(cache: Any, registration_id: int, deployment_id: str, *, verified: bool) -> None:
    """Remember that an unregistered deployment tried to launch (verified: its id_token's signature held)."""
    if not deployment_id or len(deployment_id) > 255:
        return
    key = DEPLOYMENT_REQUESTS_PREFIX + str(registration_id)
    raw = cache.get(key)
    seen: list[dict[str, Any]] = json.loads(raw) if raw else []
    previous = next((item for item in seen if item["id"] == deployment_id), None)
    seen = [item for item in seen if item["id"] != deployment_id]
    seen.append({"id": deployment_id, "verified": verified or bool(previous and previous["verified"])})
    cache.set(key, json.dumps(seen[-MAX_DEPLOYMENT_REQUESTS:]), DEPLOYMENT_REQUESTS_TTL)


def deployment_requests(cache: Any, registration: LtiRegistration) -> list[dict[str, Any]]:
    """Return unregistered deployment ids that tried to launch from a registration, newest last."""
    raw = cache.get(DEPLOYMENT_REQUESTS_PREFIX + str(registration.id))
    seen: list[dict[str, Any]] = json.loads(raw) if raw else []
    return [item for item in seen if item["id"] not in registration.deployment_ids]
