"""Run logins and launches, and keep each launch as a session usable inside the LMS's iframe.

Browsers block third-party cookies in iframes, so the tool's pages after a launch do not rely on
cookies: a successful launch stores its `LaunchContext` in the shared cache under a random id and
hands the browser a signed launch token (`lt`) that the tool's pages carry in their URLs and forms
(`launch_url_for`, `launch_token_field`). `current_launch()` is what other packages call.
"""

from __future__ import annotations

import functools
import json
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from flask import Flask, current_app, g, request, url_for
from itsdangerous import BadSignature, URLSafeSerializer
from markupsafe import Markup, escape
from werkzeug.wrappers import Response

from lrs.app import get_settings
from lrs.cache import get_cache
from lrs.db import get_session
from lrs.errors import Unauthorized
from lti_tool.keys import get_keyring
from lti_tool.lti import adapter, outbound, registry
from lti_tool.lti.claims import DEEP_LINKING_REQUEST, RESOURCE_LINK_REQUEST, LaunchContext, context_from_claims
from lti_tool.lti.errors import LaunchStateError

log = logging.getLogger(__name__)

TOKEN_PARAM = "lt"  # noqa: S105  (a parameter name, not a secret)
TOKEN_HEADER = "X-LTI-Launch"  # noqa: S105  (a header name, not a secret)
SESSION_PREFIX = "lti:session:"
PENDING_PREFIX = "lti:pending:"
PENDING_TTL = 120
DEFAULT_SESSION_HOURS = 8
TARGETS_KEY = "lb.lti_launch_targets"

F = TypeVar("F", bound=Callable[..., Any])


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="lti-launch-session")


def session_ttl() -> int:
    """Return how long a launch session lives, in seconds."""
    return int(float(current_app.config.get("LTI_LAUNCH_SESSION_HOURS", DEFAULT_SESSION_HOURS)) * 3600)


def tool_base_url() -> str:
    """Return the tool's public base URL."""
    return get_settings(current_app).public_base_url


def launch_endpoint_url() -> str:
    """Return the launch (redirect) URL platforms post id_tokens to."""
    return tool_base_url() + "/lti/launch"


def _request_parts() -> adapter.ToolRequest:
    params: dict[str, str] = dict(request.args.items())
    if request.method == "POST":
        params.update(request.form.items())
    return adapter.ToolRequest(params, request.cookies, get_settings(current_app).uses_https)


def _storage() -> adapter.CacheLaunchDataStorage:
    return adapter.CacheLaunchDataStorage(get_cache(), session_ttl())


def tool_conf() -> adapter.DatabaseToolConf:
    """Return pylti1p3's tool configuration over the database and keyring (for Deep Linking, AGS, NRPS)."""
    return adapter.DatabaseToolConf(get_session(), get_keyring())


def policy() -> adapter.LaunchPolicy:
    """Return the launch validation policy from the settings."""
    leeway = int(current_app.config.get("LTI_CLOCK_LEEWAY_SECONDS", adapter.DEFAULT_LEEWAY))
    return adapter.LaunchPolicy(leeway=leeway, limits=outbound.Limits.of())


# --- login ---------------------------------------------------------------------------------------------


@dataclass
class LoginAnswer:
    """Either a redirect to the platform, or a page that first stores state in the platform."""

    redirect_url: str
    login: adapter.ToolOIDCLogin

    @property
    def uses_platform_storage(self) -> bool:
        """Tell whether the platform offered its storage (LTI Client Side postMessages)."""
        return bool(self.login.record and self.login.record.storage_target)


def begin_login() -> LoginAnswer:
    """Validate a third-party-initiated login and prepare the authentication request."""
    login = adapter.ToolOIDCLogin(_request_parts(), tool_conf(), get_cache(), _storage(), tool_base_url())
    url = login.get_redirect_object(launch_endpoint_url()).get_redirect_url()
    return LoginAnswer(url, login)


# --- launch --------------------------------------------------------------------------------------------


@dataclass
class LaunchOutcome:
    """A verified launch: complete with its session, or waiting for the platform-storage check."""

    context: LaunchContext | None
    token: str = ""
    pending_id: str = ""
    state: str = ""
    nonce: str = ""
    auth_origin: str = ""
    storage_target: str = ""
    login_params: dict[str, str] | None = None


def _start_session(message: adapter.HardenedMessageLaunch) -> tuple[LaunchContext, str]:
    assert message.row is not None
    session_id = secrets.token_urlsafe(24)
    context = context_from_claims(
        message.claims(), registration_id=message.row.id, platform_name=message.row.name or message.row.issuer,
        client_id=message.row.client_id, pylti_launch_id=message.get_launch_id(), session_id=session_id,
    )
    get_cache().set(SESSION_PREFIX + session_id, json.dumps(context.to_json()), session_ttl())
    log.info("LTI launch accepted: %s from %s (deployment %s, role %s)", context.message_type, context.issuer,
             context.deployment_id, context.role.value)
    return context, _serializer().dumps(session_id)


def complete_launch() -> LaunchOutcome:
    """Validate the launch POST; start its session, or park it until the browser proves it holds the state."""
    message = adapter.HardenedMessageLaunch(_request_parts(), tool_conf(), get_cache(), _storage(), policy())
    message.validate()
    record = message.record
    assert record is not None
    if message.browser_bound:
        context, token = _start_session(message)
        return LaunchOutcome(context, token, state=message.state)
    # LTI Client Side postMessages: the browser must read state and nonce back from the platform's storage.
    pending_id = secrets.token_urlsafe(24)
    get_cache().set(PENDING_PREFIX + pending_id, json.dumps({
        "state": message.state, "nonce": record.nonce, "claims": message.claims(),
        "registration_id": message.row.id if message.row else 0, "launch_id": message.get_launch_id(),
    }), PENDING_TTL)
    return LaunchOutcome(None, pending_id=pending_id, state=message.state, nonce=record.nonce,
                         auth_origin=record.auth_origin, storage_target=record.storage_target,
                         login_params=record.login_params)


def finish_storage_launch(pending_id: str, state: str, nonce: str) -> tuple[LaunchContext, str]:
    """Start the session of a parked launch once the platform's storage gave back its state and nonce."""
    raw = get_cache().pop(PENDING_PREFIX + pending_id) if pending_id and len(pending_id) < 100 else None
    if raw is None:
        raise LaunchStateError("This launch is unknown, expired or already finished; launch again from the LMS.")
    pending = json.loads(raw)
    if not (secrets.compare_digest(state, pending["state"]) and secrets.compare_digest(nonce, pending["nonce"])):
        raise LaunchStateError("The platform's storage does not hold this launch's state: the launch did not start "
                               "in this browser. Launch again from the LMS.")
    row = registry.get(get_session(), int(pending["registration_id"]))
    session_id = secrets.token_urlsafe(24)
    context = context_from_claims(pending["claims"], registration_id=row.id, platform_name=row.name or row.issuer,
                                  client_id=row.client_id, pylti_launch_id=pending["launch_id"], session_id=session_id)
    get_cache().set(SESSION_PREFIX + session_id, json.dumps(context.to_json()), session_ttl())
    return context, _serializer().dumps(session_id)


# --- the launch session inside the iframe --------------------------------------------------------------


def _token_from_request() -> str | None:
    if request.path.startswith("/xapi/"):
        # xAPI clients authenticate with LRS credentials; reading request.form here would drain
        # an alternate-syntax body before the LRS parses it.
        return None
    return request.args.get(TOKEN_PARAM) or request.form.get(TOKEN_PARAM) or request.headers.get(TOKEN_HEADER)


def load_launch(token: str) -> LaunchContext | None:
    """Return the launch context a launch token names, or None when it is invalid or expired."""
    try:
        session_id = _serializer().loads(token)
    except BadSignature:
        return None
    if not isinstance(session_id, str):
        return None
    raw = get_cache().get(SESSION_PREFIX + session_id)
    return LaunchContext.from_json(json.loads(raw)) if raw else None


def _load_for_request() -> None:
    token = _token_from_request()
    if not token:
        return
    context = load_launch(token)
    if context is not None:
        g.lti_launch = context
        g.lti_launch_token = token
        if context.locale:
            g.lti_locale = context.locale


def current_launch(required: bool = True) -> LaunchContext | None:
    """Return this request's launch context (from its `lt` token), or raise 401 when required and absent."""
    context: LaunchContext | None = g.get("lti_launch")
    if context is None and required:
        raise Unauthorized("This page needs an LTI launch, and yours is missing or has expired: open the "
                           "activity again from your LMS.")
    return context


def launch_required(view: F) -> F:
    """Require a launch session for a view (carried by the `lt` token, not a cookie)."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        current_launch(required=True)
        return view(*args, **kwargs)

    return cast(F, wrapped)


def launch_url_for(endpoint: str, **values: Any) -> str:
    """Build a URL that carries this request's launch token."""
    token = g.get("lti_launch_token")
    if token:
        values[TOKEN_PARAM] = token
    return url_for(endpoint, **values)


def launch_token_field() -> Markup:
    """Return a hidden form field carrying this request's launch token."""
    token = g.get("lti_launch_token") or ""
    return Markup(f'<input type="hidden" name="{TOKEN_PARAM}" value="{escape(token)}">')  # noqa: S704


def register_launch_target(app: Flask, message_type: str, endpoint: str) -> None:
    """Choose the page a message type lands on after launch (later packages replace the placeholders)."""
    app.extensions.setdefault(TARGETS_KEY, {})[message_type] = endpoint


def landing_url(context: LaunchContext, token: str) -> str:
    """Return where a launch lands, with its token."""
    targets: dict[str, str] = current_app.extensions.get(TARGETS_KEY, {})
    default = "lti.deep_link_placeholder" if context.message_type == DEEP_LINKING_REQUEST else "lti.launched"
    endpoint = targets.get(context.message_type, default)
    values: dict[str, Any] = {TOKEN_PARAM: token}
    return url_for(endpoint, **values)


def message_launch(context: LaunchContext) -> adapter.HardenedMessageLaunch:
    """Restore pylti1p3's launch object (for Deep Linking responses, AGS and NRPS calls)."""
    storage = _storage()
    request_parts = adapter.ToolRequest({}, {}, get_settings(current_app).uses_https)
    restored = adapter.HardenedMessageLaunch(request_parts, tool_conf(), get_cache(), storage, policy())
    claims = storage.get_value(context.pylti_launch_id)
    if not claims:
        raise Unauthorized("This launch's data has expired: open the activity again from your LMS.")
    row = registry.get(get_session(), context.registration_id)
    restored.row = row
    restored.set_launch_id(context.pylti_launch_id).set_auto_validation(enable=False)
    restored.set_jwt({"body": claims}).set_restored()
    restored._registration = restored._tool_config.to_pylti(row)
    restored._validated = True
    return restored


def init_app(app: Flask) -> None:
    """Load launch sessions from `lt` tokens before each request and offer template helpers."""
    app.before_request(_load_for_request)
    app.jinja_env.globals.update(launch_url_for=launch_url_for, launch_token_field=launch_token_field)
    app.extensions.setdefault(TARGETS_KEY, {}).update({
        RESOURCE_LINK_REQUEST: app.extensions.get(TARGETS_KEY, {}).get(RESOURCE_LINK_REQUEST, "lti.launched"),
        DEEP_LINKING_REQUEST: app.extensions.get(TARGETS_KEY, {}).get(DEEP_LINKING_REQUEST, "lti.deep_link_placeholder"),
    })


def respond_with_cookies(response: Response, login: adapter.ToolOIDCLogin) -> Response:
    """Write the login's state cookie to a response."""
    return login.cookies().apply(response)
