"""Hold the `/xapi` blueprint and what every xAPI resource shares.

Before each request: answer CORS preflights, normalise the request into `g.xapi` (version,
alternate syntax) and authenticate the caller into `g.xapi_caller`. After each request: send
`X-Experience-API-Version` (xAPI 1.0.3 Communication 3.3) and the CORS headers that let course
content running in a browser call the LRS.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, g, request
from flask.typing import ResponseReturnValue

from lrs.api import auth
from lrs.api.xapi_request import V1, build_request
from lrs.db import utcnow
from lrs.errors import MethodNotAllowed, Unauthorized
from lrs.xapi.types import format_timestamp

bp = Blueprint("xapi", __name__, url_prefix="/xapi")

# Endpoints that answer without credentials or a version header (About: Communication 2.8).
PUBLIC_ENDPOINTS = {"xapi.about"}
ALLOW_HEADERS = "Content-Type, Content-Length, Authorization, X-Experience-API-Version, If-Match, If-None-Match"
EXPOSE_HEADERS = "ETag, Last-Modified, X-Experience-API-Version, X-Experience-API-Consistent-Through, Content-Type"
# Longest a write transaction is expected to stay uncommitted after assigning `stored`.
DEFAULT_CONSISTENCY_MARGIN = 5.0
XAPI_METHODS = ["GET", "PUT", "POST", "DELETE"]
STATEMENTS_ENDPOINT = "xapi.statements"
Handlers = Mapping[str, Callable[[], ResponseReturnValue]]
# The xAPI methods an endpoint answers, recorded by `xapi_methods` and checked before credentials.
XAPI_ENDPOINT_METHODS: dict[str, frozenset[str]] = {}


@bp.before_request
def prepare_request() -> ResponseReturnValue | None:
    """Answer preflights; parse the request and authenticate the caller."""
    if request.method == "OPTIONS":
        return Response(status=204)
    if request.routing_exception is not None:
        # An unknown path or a method the resource lacks is told before credentials are asked for
        # (ADL's suite sends such requests without credentials and expects 404/405, H.Communication3.2).
        raise request.routing_exception
    public = request.endpoint in PUBLIC_ENDPOINTS
    g.xapi = build_request(
        request.method,
        request.headers,
        request.query_string,
        _raw_body(),
        version_required=not public,
    )
    allowed = XAPI_ENDPOINT_METHODS.get(request.endpoint or "")
    if allowed is not None and g.xapi.method not in allowed:
        raise _refuse_method(g.xapi.method, allowed)
    if not public:
        caller = auth.authenticate(g.xapi.headers.get("Authorization"))
        g.xapi_caller = caller
        _remember_version(caller.key, g.xapi.version)
    return None


# The version each credential last spoke, in this process: the answer to a request without a usable
# version header declares it (see `add_xapi_headers`). Bounded; a forgotten key falls back to the setting.
_SPOKEN: OrderedDict[str, str] = OrderedDict()
_SPOKEN_LOCK = threading.Lock()
_SPOKEN_SIZE = 4096


def _remember_version(key: str, version: str) -> None:
    if _SPOKEN.get(key) == version:
        return
    with _SPOKEN_LOCK:
        _SPOKEN[key] = version
        _SPOKEN.move_to_end(key)
        while len(_SPOKEN) > _SPOKEN_SIZE:
            _SPOKEN.popitem(last=False)


def _unversioned_answer_version() -> str:
    """Return the version to declare on an answer to a request whose version header was missing or unusable.

    The request says nothing of its version, so declare the one its credential spoke last: ADL's 1.0.3
    suite expects 1.0.3 there and its 2.0.0 suite 2.0.0 (H.Communication3.3, XAPI-00331), each run
    with one credential. A credential not seen yet gets LRS_UNVERSIONED_RESPONSE_VERSION.
    """
    try:
        key, _ = auth.parse_basic(request.headers.get("Authorization"))
    except Unauthorized:
        key = ""
    spoken = _SPOKEN.get(key) if key else None
    return spoken or str(current_app.config.get("LRS_UNVERSIONED_RESPONSE_VERSION", V1))


def _raw_body() -> bytes:
    """Return the request body, rebuilt from the parsed form if an earlier hook consumed it."""
    body = request.get_data(cache=True)
    if not body and request.mimetype == "application/x-www-form-urlencoded" and request.form:
        # An app-wide hook that reads request.form drains the stream; the alternate request
        # syntax (Communication 1.3) still needs its form, so encode it back.
        body = urlencode(list(request.form.items(multi=True))).encode("utf-8")
    return body


@bp.after_request
def add_xapi_headers(response: Response) -> Response:
    """Send the version header and CORS headers on every answer, errors included."""
    xapi = g.get("xapi")
    response.headers["X-Experience-API-Version"] = xapi.version if xapi is not None else _unversioned_answer_version()
    method = xapi.method if xapi is not None else request.method
    if request.endpoint == STATEMENTS_ENDPOINT and method in {"GET", "HEAD"}:
        # Communication 2.1.3.s2.b5: GET answers carry Consistent-Through whatever their status. An
        # answer that did not read the statements vouches only for "now minus the writers' margin".
        response.headers["X-Experience-API-Consistent-Through"] = g.get("lb_consistent_through") or _consistent_floor()
    origin = request.headers.get("Origin")
    response.headers["Access-Control-Allow-Origin"] = origin or "*"
    if origin:
        response.headers["Access-Control-Allow-Credentials"] = "true"
        response.vary.add("Origin")
    response.headers["Access-Control-Allow-Methods"] = "GET, HEAD, PUT, POST, DELETE, OPTIONS"
    response.headers["Access-Control-Allow-Headers"] = ALLOW_HEADERS
    response.headers["Access-Control-Expose-Headers"] = EXPOSE_HEADERS
    response.headers["Access-Control-Max-Age"] = "600"
    if response.status_code == 401:
        response.headers["WWW-Authenticate"] = 'Basic realm="xAPI"'
    return response


def consistency_margin() -> float:
    """Return the longest a statement writer may stay uncommitted after assigning `stored`, in seconds."""
    return float(current_app.config.get("LRS_CONSISTENCY_MARGIN_SECONDS", DEFAULT_CONSISTENCY_MARGIN))


def _consistent_floor() -> str:
    return format_timestamp(utcnow() - dt.timedelta(seconds=consistency_margin()))


def _allowed(handlers: Iterable[str]) -> frozenset[str]:
    methods = frozenset(handlers)
    return methods | {"HEAD"} if "GET" in methods else methods


def _refuse_method(method: str, allowed: frozenset[str]) -> MethodNotAllowed:
    return MethodNotAllowed(f"{request.path} does not support {method}; it supports {', '.join(sorted(allowed))}.")


def xapi_methods(endpoint: str, handlers: Handlers) -> Handlers:
    """Record the methods an endpoint's handlers answer, so another method is refused before credentials.

    A route takes every HTTP method (the alternate syntax can name any), so routing alone does not
    refuse them; ADL's suite sends such requests without credentials and expects 405 (H.Communication3.2).
    """
    XAPI_ENDPOINT_METHODS[endpoint] = _allowed(handlers)
    return handlers


def dispatch(handlers: Handlers) -> ResponseReturnValue:
    """Call the handler for the request's xAPI method (which the alternate syntax may override)."""
    method = g.xapi.method
    handler = handlers.get("GET" if method == "HEAD" else method)
    if handler is None:
        raise _refuse_method(method, _allowed(handlers))
    result = handler()
    if method == "HEAD" and g.xapi.alternate:
        response = current_app.make_response(result)
        response.set_data(b"")
        return response
    return result
