"""Hold the `/xapi` blueprint and what every xAPI resource shares.

Before each request: answer CORS preflights, normalise the request into `g.xapi` (version,
alternate syntax) and authenticate the caller into `g.xapi_caller`. After each request: send
`X-Experience-API-Version` (xAPI 1.0.3 Communication 3.3) and the CORS headers that let course
content running in a browser call the LRS.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, g, request
from flask.typing import ResponseReturnValue

from lrs.api import auth
from lrs.api.xapi_request import V1, build_request
from lrs.errors import MethodNotAllowed

bp = Blueprint("xapi", __name__, url_prefix="/xapi")

# Endpoints that answer without credentials or a version header (About: Communication 2.8).
PUBLIC_ENDPOINTS = {"xapi.about"}
ALLOW_HEADERS = "Content-Type, Content-Length, Authorization, X-Experience-API-Version, If-Match, If-None-Match"
EXPOSE_HEADERS = "ETag, Last-Modified, X-Experience-API-Version, X-Experience-API-Consistent-Through, Content-Type"
XAPI_METHODS = ["GET", "PUT", "POST", "DELETE"]


@bp.before_request
def prepare_request() -> ResponseReturnValue | None:
    """Answer preflights; parse the request and authenticate the caller."""
    if request.method == "OPTIONS":
        return Response(status=204)
    public = request.endpoint in PUBLIC_ENDPOINTS
    g.xapi = build_request(
        request.method,
        request.headers,
        request.query_string,
        _raw_body(),
        version_required=not public,
    )
    if not public:
        g.xapi_caller = auth.authenticate(g.xapi.headers.get("Authorization"))
    return None


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
    # Without a usable version header the request says nothing of its version; answer with the
    # configured one (ADL's suites accept 1.0.3 or 2.0.0 there, older releases only their own).
    fallback = str(current_app.config.get("LRS_UNVERSIONED_RESPONSE_VERSION", V1))
    response.headers["X-Experience-API-Version"] = xapi.version if xapi is not None else fallback
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


def dispatch(handlers: Mapping[str, Callable[[], ResponseReturnValue]]) -> ResponseReturnValue:
    """Call the handler for the request's xAPI method (which the alternate syntax may override)."""
    method = g.xapi.method
    handler = handlers.get("GET" if method == "HEAD" else method)
    if handler is None:
        allowed = sorted({*handlers, "HEAD"} if "GET" in handlers else set(handlers))
        raise MethodNotAllowed(f"{request.path} does not support {method}; it supports {', '.join(allowed)}.")
    result = handler()
    if method == "HEAD" and g.xapi.alternate:
        response = current_app.make_response(result)
        response.set_data(b"")
        return response
    return result
