"""Register the tool with a platform by LTI Dynamic Registration 1.0.

§3.3-§3.4: the platform opens `/lti/register?openid_configuration=...&registration_token=...`; the tool
fetches the platform's OpenID configuration (bounded, internal addresses refused), checks it (§3.5.1:
the issuer's host must be the configuration URL's host), shows the administrator what will be
registered, then POSTs its client registration with the token as a bearer credential, stores the
answer (active, or pending when the platform names no deployment yet), and closes the dialog with
the `org.imsglobal.lti.close` postMessage (§3.6). Between the two steps the fetched configuration
waits in the shared cache under an unguessable, single-use id: no cookie is needed inside the LMS.
"""

from __future__ import annotations

import json
import logging
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask import current_app

from lrs.app import get_settings
from lrs.cache import get_cache
from lrs.db import get_session
from lrs.errors import BadRequest
from lti_tool.lti import outbound, registry, toolconfig
from lti_tool.lti.errors import PlatformAnswerInvalid, PlatformTimeout, PlatformUnreachable
from lti_tool.lti.models import LtiRegistration, RegistrationSource, RegistrationStatus

log = logging.getLogger(__name__)

PENDING_PREFIX = "lti:dr:"
PENDING_TTL = 1800
# Canvas Cloud serves every tenant's configuration from the tenant's own host (school.instructure.com)
# while all tenants share one issuer; only configuration URLs on Instructure's hosts may claim it.
SHARED_ISSUERS = {
    "https://canvas.instructure.com": ".instructure.com",
    "https://canvas.beta.instructure.com": ".instructure.com",
    "https://canvas.test.instructure.com": ".instructure.com",
}
REQUIRED_ENDPOINTS = ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri", "registration_endpoint")


class RegistrationRefused(BadRequest):
    """The platform refused the tool's registration request."""

    code = "lti_registration_refused"


@dataclass(frozen=True)
class PendingRegistration:
    """A fetched and checked platform configuration, waiting for the administrator's confirmation."""

    id: str
    openid_configuration: str
    registration_token: str
    config: dict[str, Any]

    @property
    def platform(self) -> dict[str, Any]:
        """Return the LTI platform configuration object (Dynamic Registration §3.4.1)."""
        value = self.config.get(toolconfig.PLATFORM_CONFIGURATION)
        return value if isinstance(value, dict) else {}


def _call(url: str, what: str, **kwargs: Any) -> outbound.JsonAnswer:
    try:
        return outbound.fetch_json(url, outbound.Limits.of(), **kwargs)
    except outbound.TimedOut as err:
        raise PlatformTimeout(f"The platform's {what} at {url} did not answer in time ({err}); try again.") from None
    except outbound.Unreachable as err:
        raise PlatformUnreachable(f"The platform's {what} at {url} cannot be reached ({err}).") from None
    except outbound.AddressRefused as err:
        raise PlatformAnswerInvalid(f"The platform's {what} URL is refused: {err}. Use a public https URL, or set "
                                    "ALLOW_PRIVATE_OUTBOUND for a platform on an internal network.") from None
    except outbound.OutboundError as err:
        raise PlatformAnswerInvalid(f"The platform's {what} at {url} is unusable: {err}.") from None


def check_configuration(config: dict[str, Any], openid_configuration: str) -> None:
    """Check a platform's OpenID configuration (LTI Dynamic Registration 1.0 §3.4.1, §3.5.1)."""
    missing = [name for name in REQUIRED_ENDPOINTS if not isinstance(config.get(name), str) or not config.get(name)]
    if missing:
        raise PlatformAnswerInvalid("The platform's OpenID configuration lacks " + ", ".join(missing) + ".")
    issuer_host = urlsplit(config["issuer"]).hostname
    config_host = urlsplit(openid_configuration).hostname or ""
    shared_suffix = SHARED_ISSUERS.get(config["issuer"].rstrip("/"))
    same_host = bool(issuer_host) and issuer_host == config_host
    shared = shared_suffix is not None and config_host.endswith(shared_suffix)
    if not (same_host or shared):
        raise PlatformAnswerInvalid(
            f"The platform's issuer {config['issuer'][:200]!r} is not on the host of its configuration URL "
            f"{openid_configuration[:200]!r}; refusing to register (LTI Dynamic Registration §3.5.1)."
        )
    algs = config.get("id_token_signing_alg_values_supported")
    if isinstance(algs, list) and "RS256" not in algs:
        raise PlatformAnswerInvalid("The platform does not sign id_tokens with RS256, the only algorithm this tool accepts.")


def start(openid_configuration: str, registration_token: str) -> PendingRegistration:
    """Fetch and check the platform's configuration, and keep it for the confirmation step."""
    if not openid_configuration:
        raise BadRequest("The registration request lacks openid_configuration; start the registration from your LMS.")
    if urlsplit(openid_configuration).scheme not in {"http", "https"} or len(openid_configuration) > 1000:
        raise BadRequest("openid_configuration must be an http(s) URL.")
    answer = _call(openid_configuration, "OpenID configuration", bearer=registration_token or None)
    if answer.status != 200:
        raise PlatformUnreachable(f"The platform's OpenID configuration answered HTTP {answer.status}; "
                                  "start the registration again from your LMS.")
    check_configuration(answer.body, openid_configuration)
    pending = PendingRegistration(secrets.token_urlsafe(24), openid_configuration, registration_token, answer.body)
    get_cache().set(PENDING_PREFIX + pending.id, json.dumps(pending.__dict__), PENDING_TTL)
    return pending


def load(pending_id: str) -> PendingRegistration:
    """Take a waiting registration (single use)."""
    raw = get_cache().pop(PENDING_PREFIX + pending_id) if pending_id and len(pending_id) < 100 else None
    if raw is None:
        raise BadRequest("This registration is unknown, expired or already done; start it again from your LMS.")
    return PendingRegistration(**json.loads(raw))


def _deployment_id(answer: dict[str, Any]) -> str:
    config = answer.get(toolconfig.TOOL_CONFIGURATION)
    value = config.get("deployment_id") if isinstance(config, dict) else None
    return value if isinstance(value, str) else ""


def finish(pending: PendingRegistration) -> LtiRegistration:
    """Send the registration to the platform and store what it answers (Dynamic Registration §3.5)."""
    config = pending.config
    body = toolconfig.registration_request(config)
    answer = _call(config["registration_endpoint"], "registration endpoint", method="POST", json_body=body,
                   bearer=pending.registration_token or None)
    if answer.status in (401, 403):
        raise RegistrationRefused(f"The platform refused the registration (HTTP {answer.status}): the registration "
                                  "token may have expired or been used. Start the registration again from your LMS.")
    if 400 <= answer.status < 500:
        detail = str(answer.body.get("error_description") or answer.body.get("error") or "")[:300]
        raise RegistrationRefused(f"The platform refused the registration (HTTP {answer.status}) {detail}".strip() + ".")
    if answer.status not in (200, 201, 202):
        raise PlatformUnreachable(f"The platform's registration endpoint answered HTTP {answer.status}; try again later.")
    client_id = answer.body.get("client_id")
    if not isinstance(client_id, str) or not client_id:
        raise PlatformAnswerInvalid("The platform's registration answer has no client_id.")
    deployment_id = _deployment_id(answer.body)
    platform = config.get(toolconfig.PLATFORM_CONFIGURATION)
    family = str(platform.get("product_family_code", "")) if isinstance(platform, dict) else ""
    require_approval = bool(current_app.config.get("LTI_DYNAMIC_REGISTRATION_REQUIRES_APPROVAL", False))
    status = (RegistrationStatus.PENDING if require_approval or not deployment_id or answer.status == 202
              else RegistrationStatus.ACTIVE)
    session = get_session()
    row = registry.find(session, config["issuer"], client_id)
    if row is None:
        row = registry.create(session, registry.RegistrationInput(
            issuer=config["issuer"], client_id=client_id, auth_login_url=config["authorization_endpoint"],
            jwks_url=config["jwks_uri"], auth_token_url=config["token_endpoint"],
            auth_audience=str(config.get("authorization_server") or ""),
            name=f"{family or 'LMS'} ({urlsplit(config['issuer']).hostname})", product_family=family,
            deployment_ids=[deployment_id] if deployment_id else [], status=status, source=RegistrationSource.DYNAMIC,
        ), allow_http=get_settings(current_app).allow_private_outbound)
    else:
        row.auth_login_url = config["authorization_endpoint"]
        row.jwks_url = config["jwks_uri"]
        row.auth_token_url = config["token_endpoint"]
        if deployment_id:
            registry.add_deployments(row, [deployment_id])
        # Re-registration never re-enables what an administrator disabled, nor suspends a working one.
        if row.status == RegistrationStatus.PENDING.value and row.deployment_ids and not require_approval:
            row.status = RegistrationStatus.ACTIVE.value
    row.platform_response = json.dumps(answer.body)[:20000]
    session.commit()
    log.info("dynamic registration stored: %s client %s (%s)", row.issuer, row.client_id, row.status)
    return row
