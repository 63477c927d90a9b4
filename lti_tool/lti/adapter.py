"""Adapt pylti1p3 2.0.0 to this tool: database registrations, shared launch state, hardened checks.

This module and its neighbours in `lti_tool/lti/` are the only code that imports pylti1p3. Policy
lives in subclass overrides of pylti1p3's small validation steps, never in monkeypatches:

- the OIDC login (LTI Security Framework 1.0 §5.1.1) keeps each state with its own nonce in the
  shared cache and binds it to the browser by a cookie or the platform's storage;
- a launch (§5.1.3) consumes its state at once, accepts RS256 only, requires `exp` and `iat` with a
  small leeway, checks `aud`/`azp`, consumes its nonce once (an atomic set-if-absent), and refuses
  unknown issuers, clients and deployments with a 403 instead of pylti1p3's bare exception;
- the platform's JWKS is cached in the shared cache and refetched (rate-limited) on an unknown kid.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import jwt
from flask import redirect
from pylti1p3.cookie import CookieService
from pylti1p3.deployment import Deployment
from pylti1p3.exception import LtiException
from pylti1p3.launch_data_storage.base import LaunchDataStorage
from pylti1p3.message_launch import MessageLaunch
from pylti1p3.oidc_login import OIDCLogin
from pylti1p3.redirect import Redirect
from pylti1p3.registration import Registration
from pylti1p3.request import Request
from pylti1p3.session import SessionService
from pylti1p3.tool_config.abstract import ToolConfAbstract
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from lrs.cache import Cache
from lti_tool.keys import KeyRing
from lti_tool.lti import claims as c
from lti_tool.lti import outbound, platform_keys, registry
from lti_tool.lti.errors import CookieBlocked, LaunchBadRequest, LaunchStateError, PlatformNotRegistered, TokenRejected
from lti_tool.lti.models import LtiRegistration

log = logging.getLogger(__name__)

STATE_TTL = 600  # seconds between login and launch
STATE_PREFIX = "lti:state:"
NONCE_PREFIX = "lti:nonce:"
DEFAULT_LEEWAY = 60
LOGIN_PARAMS = ("iss", "login_hint", "target_link_uri", "lti_message_hint", "lti_deployment_id", "client_id")


# --- plumbing: request, cookies, storage ------------------------------------------------------------


class ToolRequest(Request):
    """A framework-neutral view of one HTTP request's parameters and cookies."""

    def __init__(self, params: Mapping[str, str], cookies: Mapping[str, str], secure: bool) -> None:
        self._params = params
        self._cookies = cookies
        self._secure = secure

    @property
    def session(self) -> dict[str, Any]:
        """Return no server session: state lives in the shared cache."""
        return {}

    def is_secure(self) -> bool:
        """Tell whether the tool is served over https."""
        return self._secure

    def get_param(self, key: str) -> str:
        """Return a request parameter, or an empty string."""
        return str(self._params.get(key) or "")

    def get_cookie(self, key: str) -> str | None:
        """Return a cookie's value."""
        return self._cookies.get(key)


class ToolCookieService(CookieService):
    """Read and queue the short-lived state cookies (SameSite=None; Secure over https)."""

    def __init__(self, request: ToolRequest) -> None:
        self._request = request
        self.to_set: dict[str, tuple[str, int | None]] = {}

    def _key(self, name: str) -> str:
        return f"{self._cookie_prefix}-{name}"

    def get_cookie(self, name: str) -> str | None:
        """Return one of our cookies."""
        return self._request.get_cookie(self._key(name))

    def set_cookie(self, name: str, value: str | int, exp: int | None = 3600) -> None:
        """Queue a cookie for the response."""
        self.to_set[self._key(name)] = (str(value), exp)

    @property
    def secure(self) -> bool:
        """Tell whether cookies are Secure (and so may be SameSite=None)."""
        return self._request.is_secure()

    def apply(self, response: Response) -> Response:
        """Write the queued cookies to the response."""
        secure = self._request.is_secure()
        for key, (value, exp) in self.to_set.items():
            # Cross-site form posts from the LMS carry only SameSite=None cookies, which need Secure.
            response.set_cookie(key, value, max_age=exp, path="/lti", secure=secure, httponly=True,
                                samesite="None" if secure else "Lax")
        return response


class CacheLaunchDataStorage(LaunchDataStorage[Any]):
    """Keep pylti1p3's launch data in the shared cache (never process memory), as JSON."""

    def __init__(self, cache: Cache, default_ttl: int = 8 * 3600) -> None:
        super().__init__()
        self.cache = cache
        self.default_ttl = default_ttl
        self._prefix = "lti:pl:"

    def get_session_cookie_name(self) -> str | None:
        """Use no session cookie: keys are unguessable and state is bound separately."""
        return None

    def can_set_keys_expiration(self) -> bool:
        """Allow pylti1p3 to set lifetimes."""
        return True

    def get_value(self, key: str) -> Any:
        """Return a stored value."""
        raw = self.cache.get(self._prepare_key(key))
        return None if raw is None else json.loads(raw)

    def set_value(self, key: str, value: Any, exp: int | None = None) -> None:
        """Store a value."""
        self.cache.set(self._prepare_key(key), json.dumps(value), exp or self.default_ttl)

    def check_value(self, key: str) -> bool:
        """Tell whether a value is stored."""
        return self.cache.get(self._prepare_key(key)) is not None


def session_service(request: ToolRequest, storage: CacheLaunchDataStorage) -> SessionService:
    """Return pylti1p3's session service over the shared cache."""
    service = SessionService(request)
    service.set_data_storage(storage)
    return service


# --- tool configuration from the database -----------------------------------------------------------


class DatabaseToolConf(ToolConfAbstract[ToolRequest]):
    """pylti1p3's tool configuration, read from the registrations table and the keyring."""

    def __init__(self, session: Session, keyring: KeyRing) -> None:
        self.session = session
        self.keyring = keyring

    def check_iss_has_one_client(self, iss: str) -> bool:
        """Treat every issuer as possibly holding several client ids."""
        return False

    def check_iss_has_many_clients(self, iss: str) -> bool:
        """Treat every issuer as possibly holding several client ids."""
        return True

    def to_pylti(self, row: LtiRegistration) -> Registration:
        """Build pylti1p3's registration, with the tool's current signing key."""
        signing = self.keyring.signing_key()
        registration = (
            Registration().set_issuer(row.issuer).set_client_id(row.client_id)
            .set_auth_login_url(row.auth_login_url).set_auth_token_url(row.auth_token_url)
            .set_key_set_url(row.jwks_url or None)
            .set_key_set(json.loads(row.platform_jwks) if row.platform_jwks else None)
            .set_tool_private_key(signing.private_pem)
            .set_tool_public_key(self.keyring.public_pem(signing.kid))
        )
        if row.auth_audience:
            registration.set_auth_audience(row.auth_audience)
        return registration

    def find_registration_by_issuer(self, iss: str, *args: Any, **kwargs: Any) -> Registration:
        """Return the issuer's only active registration."""
        rows = [row for row in registry.for_issuer(self.session, iss) if row.is_active]
        if len(rows) != 1:
            raise PlatformNotRegistered(f"The platform {iss} has {len(rows)} active registrations; it must send client_id.")
        return self.to_pylti(rows[0])

    def find_registration_by_params(self, iss: str, client_id: str, *args: Any, **kwargs: Any) -> Registration:
        """Return the active registration of an issuer and client id."""
        row = registry.find(self.session, iss, client_id)
        if row is None or not row.is_active:
            raise PlatformNotRegistered(f"The platform {iss} with client id {client_id} is not registered and active.")
        return self.to_pylti(row)

    def find_deployment(self, iss: str, deployment_id: str) -> Deployment | None:
        """Return a deployment of the issuer's only active registration."""
        rows = [row for row in registry.for_issuer(self.session, iss) if row.is_active]
        if len(rows) == 1 and deployment_id in rows[0].deployment_ids:
            return Deployment().set_deployment_id(deployment_id)
        return None

    def find_deployment_by_params(self, iss: str, deployment_id: str, client_id: str,
                                  *args: Any, **kwargs: Any) -> Deployment | None:
        """Return a deployment of an active registration."""
        row = registry.find(self.session, iss, client_id)
        if row is not None and row.is_active and deployment_id in row.deployment_ids:
            return Deployment().set_deployment_id(deployment_id)
        return None

    def get_jwks(self, iss: str | None = None, client_id: str | None = None, **kwargs: Any) -> dict[str, Any]:
        """Return the tool's public JWKS (every registration shares the tool's keys)."""
        return self.keyring.jwks()


# --- OIDC login ---------------------------------------------------------------------------------------


class FlaskRedirect(Redirect[Response]):
    """A plain 302 redirect."""

    def __init__(self, location: str) -> None:
        self._location = location

    def do_redirect(self) -> Response:
        """Answer with a redirect."""
        return redirect(self._location, code=302)

    def do_js_redirect(self) -> Response:
        """Answer with a redirect (no script needed)."""
        return self.do_redirect()

    def set_redirect_url(self, location: str) -> None:
        """Change the target."""
        self._location = location

    def get_redirect_url(self) -> str:
        """Return the target."""
        return self._location


@dataclass(frozen=True)
class StateRecord:
    """What the login remembers for its launch: the platform, the nonce, how state is bound."""

    iss: str
    client_id: str
    registration_id: int
    nonce: str
    target_link_uri: str
    storage_target: str
    auth_origin: str
    login_params: dict[str, str]

    def to_json(self) -> str:
        """Serialise."""
        return json.dumps(self.__dict__)

    @classmethod
    def from_json(cls, raw: str) -> StateRecord:
        """Deserialise."""
        return cls(**json.loads(raw))


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


class ToolOIDCLogin(OIDCLogin[ToolRequest, DatabaseToolConf, SessionService, ToolCookieService, Response]):
    """Answer a third-party-initiated login (LTI Security Framework 1.0 §5.1.1) with precise refusals."""

    def __init__(self, request: ToolRequest, tool_config: DatabaseToolConf, cache: Cache,
                 storage: CacheLaunchDataStorage, tool_base_url: str) -> None:
        super().__init__(request, tool_config, session_service(request, storage), ToolCookieService(request))
        self.cache = cache
        self.tool_base_url = tool_base_url
        self.row: LtiRegistration | None = None
        self.state = ""
        self.record: StateRecord | None = None
        self.auth_params: dict[str, str] = {}

    def get_redirect(self, url: str) -> Redirect[Response]:
        """Return a redirect to the platform's authorization endpoint."""
        return FlaskRedirect(url)

    def validate_oidc_login(self) -> Registration:
        """Check the login parameters and find the active registration they name."""
        iss = self._get_request_param("iss")
        if not iss:
            raise LaunchBadRequest("The login request lacks the platform's issuer (iss); launch again from the LMS.")
        if not self._get_request_param("login_hint"):
            raise LaunchBadRequest("The login request lacks login_hint (LTI Security Framework §5.1.1.1); check the platform's configuration.")
        target = self._get_request_param("target_link_uri")
        if not target:
            raise LaunchBadRequest("The login request lacks target_link_uri; check the platform's configuration.")
        if _origin(target) != _origin(self.tool_base_url):
            raise LaunchBadRequest(f"The target_link_uri {target[:200]!r} is not on this tool ({self.tool_base_url}); "
                                   "fix the tool's launch URL in the platform.")
        client_id = self._get_request_param("client_id")
        session = self._tool_config.session
        if client_id:
            row = registry.find(session, iss, client_id)
            if row is None:
                raise PlatformNotRegistered(f"No registration for the platform {iss} with client id {client_id}: "
                                            "register the platform with this tool first (see /lti/config).")
        else:
            rows = registry.for_issuer(session, iss)
            if not rows:
                raise PlatformNotRegistered(f"The platform {iss} is not registered with this tool: register it first (see /lti/config).")
            if len(rows) > 1:
                raise LaunchBadRequest(f"The platform {iss} has several registrations here, and the login did not say "
                                       "which (client_id); configure the platform to send client_id.")
            row = rows[0]
        deployment_id = self._get_request_param("lti_deployment_id")
        if deployment_id and deployment_id not in row.deployment_ids:
            registry.note_deployment_request(self.cache, row.id, deployment_id, verified=False)
        if not row.is_active:
            raise PlatformNotRegistered(f"The registration of {row.name or iss} is {row.status}; an administrator "
                                        "of this tool must activate it.")
        if deployment_id and deployment_id not in row.deployment_ids:
            raise PlatformNotRegistered(f"The deployment {deployment_id[:255]!r} of {row.name or iss} is not registered; "
                                        "add it on the LMS platforms admin page or with `learning-bridge platforms status ID active --add-deployment ID`.")
        self.row = row
        return self._tool_config.to_pylti(row)

    def _prepare_redirect_url(self, launch_url: str) -> str:
        """Remember a fresh state with its own nonce, bind it to the browser, and build the auth URL."""
        registration = self.validate_oidc_login()
        assert self.row is not None
        state = secrets.token_urlsafe(32)
        nonce = secrets.token_urlsafe(32)
        auth_login_url = registration.get_auth_login_url() or ""
        record = StateRecord(
            iss=self.row.issuer, client_id=self.row.client_id, registration_id=self.row.id, nonce=nonce,
            target_link_uri=self._get_request_param("target_link_uri"),
            storage_target=self._get_request_param("lti_storage_target")[:100],
            auth_origin=_origin(auth_login_url),
            login_params={k: self._get_request_param(k) for k in LOGIN_PARAMS if self._get_request_param(k)},
        )
        self.cache.set(STATE_PREFIX + state, record.to_json(), STATE_TTL)
        self._cookie_service.set_cookie(state, state, STATE_TTL)
        self.state, self.record = state, record
        params = {
            "scope": "openid", "response_type": "id_token", "response_mode": "form_post", "prompt": "none",
            "client_id": self.row.client_id, "redirect_uri": launch_url, "state": state, "nonce": nonce,
            "login_hint": self._get_request_param("login_hint"),
        }
        hint = self._get_request_param("lti_message_hint")
        if hint:
            params["lti_message_hint"] = hint
        self.auth_params = params
        separator = "&" if urlsplit(auth_login_url).query else "?"
        return auth_login_url + separator + urlencode(params)

    def cookies(self) -> ToolCookieService:
        """Return the cookie service, to write the state cookie to the response."""
        return self._cookie_service


# --- the hardened message launch ----------------------------------------------------------------------


@dataclass(frozen=True)
class LaunchPolicy:
    """The knobs of launch validation."""

    limits: outbound.Limits
    leeway: int = DEFAULT_LEEWAY


class HardenedMessageLaunch(MessageLaunch[ToolRequest, DatabaseToolConf, SessionService, ToolCookieService]):
    """Validate a launch (LTI Security Framework 1.0 §5.1.3, LTI Core 1.3 §5) with every check this tool adds."""

    def __init__(self, request: ToolRequest, tool_config: DatabaseToolConf, cache: Cache,
                 storage: CacheLaunchDataStorage, policy: LaunchPolicy) -> None:
        super().__init__(request, tool_config, session_service=session_service(request, storage),
                         cookie_service=ToolCookieService(request),
                         requests_session=outbound.BoundedSession(policy.limits))
        self.cache = cache
        self.policy = policy
        self.record: StateRecord | None = None
        self.row: LtiRegistration | None = None
        self.state = ""
        self.browser_bound = False

    def _get_request_param(self, key: str) -> str:
        return self._request.get_param(key)

    def validate(self) -> HardenedMessageLaunch:
        """Run every check, cheapest and most decisive first; store nothing unless all pass."""
        if self._restored:
            raise LaunchBadRequest("A restored launch cannot be validated again.")
        self._validated = True
        try:
            self.validate_state()
            self.validate_jwt_format()
            self.validate_registration()
            self.validate_jwt_signature()
            self.validate_nonce()
            self.validate_deployment()
            self.validate_message()
            self.validate_browser()
            self.save_launch_data()
        except LtiException as err:
            self._validated = False
            raise LaunchBadRequest(f"The launch message is invalid: {err}.") from None
        except Exception:
            self._validated = False
            raise
        return self

    def validate_state(self) -> HardenedMessageLaunch:
        """Consume the login's state (single use) and note whether this browser holds its cookie."""
        if not self._get_request_param("id_token"):
            error = self._get_request_param("error")[:100]
            if error:
                # OIDC Core §3.2.2.6: the platform answered the authentication request with an error.
                detail = self._get_request_param("error_description")[:300]
                raise LaunchBadRequest(f"Your LMS refused the login ({error}{': ' + detail if detail else ''}); "
                                       "open the activity again from the LMS, in a new window if this repeats.")
            raise LaunchBadRequest("The launch lacks its id_token; launch again from the LMS.")
        state = self._get_request_param("state")
        if not state:
            raise LaunchStateError("The launch lacks its state; launch again from the LMS.")
        if len(state) > 200:
            raise LaunchStateError("The launch's state is not one this tool issued; launch again from the LMS.")
        raw = self.cache.pop(STATE_PREFIX + state)
        if raw is None:
            raise LaunchStateError("The launch's state is unknown, expired or already used; launch again from the LMS.")
        self.record = StateRecord.from_json(raw)
        self.state = state
        self.browser_bound = self._cookie_service.get_cookie(state) == state
        return self

    def validate_browser(self) -> HardenedMessageLaunch:
        """Require the state cookie, unless the platform's storage can prove the browser instead."""
        assert self.record is not None
        if not self.browser_bound and not self.record.storage_target:
            raise CookieBlocked(
                "Your browser did not send back this launch's cookie (browsers often block cookies inside an LMS's "
                "frame). Open the tool in a new window to continue.", self.record.login_params,
            )
        return self

    def validate_jwt_format(self) -> HardenedMessageLaunch:
        """Decode the token's parts and accept only RS256 with a key id."""
        try:
            super().validate_jwt_format()
        except LtiException:
            raise LaunchBadRequest("The id_token is not a well-formed JWT; the platform must send a signed JWT.") from None
        header = self._jwt.get("header")
        body = self._jwt.get("body")
        if not isinstance(header, dict) or not isinstance(body, dict):
            raise LaunchBadRequest("The id_token's header and payload must be JSON objects.")
        alg = header.get("alg")
        if alg != "RS256":
            raise TokenRejected(f"The id_token is signed with {str(alg)[:20]!r}; this tool accepts RS256 only "
                                "(LTI Security Framework §5.1.3).")
        if not header.get("kid"):
            raise LaunchBadRequest("The id_token's header has no kid; the platform must name its signing key.")
        return self

    def validate_registration(self) -> HardenedMessageLaunch:
        """Check that the token comes from the platform and client the login was for (iss, aud, azp)."""
        assert self.record is not None
        body: dict[str, Any] = dict(self._jwt["body"])
        if body.get("iss") != self.record.iss:
            raise TokenRejected("The id_token's issuer differs from the platform that started this login.")
        aud = body.get("aud")
        audiences = aud if isinstance(aud, list) else [aud]
        if self.record.client_id not in audiences:
            raise TokenRejected("The id_token's audience (aud) is not this tool's client id for the platform.")
        azp = body.get("azp")
        if (len(audiences) > 1 or azp is not None) and azp != self.record.client_id:
            raise TokenRejected("The id_token's authorized party (azp) is not this tool's client id.")
        row = registry.find(self._tool_config.session, self.record.iss, self.record.client_id)
        if row is None or not row.is_active:
            raise PlatformNotRegistered("The platform's registration was removed or deactivated during the launch.")
        self.row = row
        self._registration = self._tool_config.to_pylti(row)
        return self

    def validate_jwt_signature(self) -> HardenedMessageLaunch:
        """Verify the RS256 signature and the time, issuer and audience claims, exp and iat required."""
        assert self.row is not None and self.record is not None
        kid = str(self._jwt["header"].get("kid"))[:200]
        key = platform_keys.platform_key(self.row, kid, self.cache, self.policy.limits)
        try:
            verified = jwt.decode(
                self._get_id_token(), key, algorithms=["RS256"], audience=self.record.client_id,
                issuer=self.record.iss, leeway=self.policy.leeway,
                options={"require": ["exp", "iat", "iss", "aud", "nonce"]},
            )
        except jwt.ExpiredSignatureError:
            raise TokenRejected("The id_token has expired; launch again (if this repeats, check the platform's clock).") from None
        except jwt.ImmatureSignatureError:
            raise TokenRejected("The id_token is issued in the future (iat); check the platform's clock.") from None
        except jwt.MissingRequiredClaimError as err:
            raise TokenRejected(f"The id_token lacks the required {err.claim!r} claim.") from None
        except jwt.InvalidAudienceError:
            raise TokenRejected("The id_token's audience (aud) is not this tool's client id for the platform.") from None
        except jwt.InvalidIssuerError:
            raise TokenRejected("The id_token's issuer differs from the platform that started this login.") from None
        except jwt.InvalidSignatureError:
            raise TokenRejected("The id_token's signature does not verify with the platform's key.") from None
        except jwt.InvalidTokenError as err:
            raise TokenRejected(f"The id_token is invalid ({type(err).__name__}).") from None
        self._jwt["body"] = verified  # type: ignore[typeddict-item]
        return self

    def validate_nonce(self) -> HardenedMessageLaunch:
        """Accept the nonce only if it is this login's and was never used before (atomic, all workers)."""
        assert self.record is not None
        nonce = self._jwt["body"].get("nonce")
        if not isinstance(nonce, str) or not secrets.compare_digest(nonce, self.record.nonce):
            raise TokenRejected("The id_token's nonce is not the one this login issued.")
        exp_claim: Any = self._jwt["body"].get("exp", 0)
        exp = int(exp_claim)
        ttl = max(exp - int(time.time()) + self.policy.leeway, 60)
        digest = hashlib.sha256(f"{self.record.iss}\n{nonce}".encode()).hexdigest()
        if not self.cache.add(NONCE_PREFIX + digest, "1", ttl):
            raise TokenRejected("The id_token's nonce was already used: this launch is a replay.")
        return self

    def validate_deployment(self) -> HardenedMessageLaunch:
        """Require a registered deployment id (LTI Core 1.3 §5.3.3)."""
        assert self.row is not None
        deployment_id = self._jwt["body"].get(c.DEPLOYMENT_ID)
        if not isinstance(deployment_id, str) or not deployment_id or len(deployment_id) > 255:
            raise LaunchBadRequest("The launch lacks a valid deployment_id claim (LTI Core 1.3 §5.3.3).")
        if deployment_id not in self.row.deployment_ids:
            registry.note_deployment_request(self.cache, self.row.id, deployment_id, verified=True)
            raise PlatformNotRegistered(f"The deployment {deployment_id!r} of {self.row.name or self.row.issuer} is not "
                                        "registered with this tool; an administrator must add it.")
        return self

    def validate_message(self) -> HardenedMessageLaunch:
        """Require a supported message type, version 1.3.0, and the claims each message needs (Core §5.3)."""
        body: dict[str, Any] = dict(self._jwt["body"])
        message_type = body.get(c.MESSAGE_TYPE)
        if not message_type:
            raise LaunchBadRequest("The launch lacks its message_type claim (LTI Core 1.3 §5.3.1).")
        if body.get(c.VERSION) is None:
            raise LaunchBadRequest("The launch lacks its version claim (LTI Core 1.3 §5.3.2).")
        if body.get(c.VERSION) != "1.3.0":
            raise LaunchBadRequest(f"The launch's LTI version {str(body.get(c.VERSION))[:20]!r} is not 1.3.0.")
        if message_type not in c.SUPPORTED_MESSAGES:
            raise LaunchBadRequest(f"This tool does not handle {str(message_type)[:60]!r} messages; it handles "
                                   + " and ".join(c.SUPPORTED_MESSAGES) + ".")
        if not body.get(c.TARGET_LINK_URI):
            raise LaunchBadRequest("The launch lacks its target_link_uri claim (LTI Core 1.3 §5.3.4).")
        if not isinstance(body.get(c.ROLES), list):
            raise LaunchBadRequest("The launch's roles claim must be a list, empty if need be (LTI Core 1.3 §5.3.7).")
        for claim in (c.RESOURCE_LINK, c.DEEP_LINKING_SETTINGS, c.CONTEXT, c.CUSTOM, c.LAUNCH_PRESENTATION):
            if claim in body and not isinstance(body[claim], dict):
                raise LaunchBadRequest(f"The launch's {claim.rsplit('/', 1)[-1]} claim must be a JSON object.")
        try:
            super().validate_message()
        except (LtiException, AttributeError, TypeError) as err:
            raise LaunchBadRequest(f"The {message_type} is incomplete: {err}.") from None
        return self

    def save_launch_data(self) -> HardenedMessageLaunch:
        """Keep the verified claims for AGS, NRPS and Deep Linking (state was consumed, so no state marker)."""
        self._session_service.save_launch_data(self._launch_id, self._jwt["body"])
        return self

    def claims(self) -> dict[str, Any]:
        """Return the verified claims."""
        return dict(self._jwt["body"])
