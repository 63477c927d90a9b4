"""Define the domain exceptions and translate them to HTTP once, at the edge.

Every error a person can meet is an `AppError` subclass carrying a status and a message they can
act on. `init_app` installs one handler that renders JSON for API clients and an HTML page for
browsers, and turns every uncaught exception into a logged 500 that leaks nothing.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class AppError(Exception):
    """An error with an HTTP status and a message for the person concerned."""

    status = 500
    code = "internal_error"

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}


class BadRequest(AppError):
    """The request is malformed or breaks a rule."""

    status = 400
    code = "bad_request"


class Unauthorized(AppError):
    """Credentials are missing or wrong."""

    status = 401
    code = "unauthorized"


class Forbidden(AppError):
    """The caller is known but may not do this."""

    status = 403
    code = "forbidden"


class NotFound(AppError):
    """The thing asked for does not exist."""

    status = 404
    code = "not_found"


class MethodNotAllowed(AppError):
    """The resource does not support this method."""

    status = 405
    code = "method_not_allowed"


class Conflict(AppError):
    """The request conflicts with what is stored."""

    status = 409
    code = "conflict"


class PreconditionFailed(AppError):
    """A conditional request's precondition does not hold."""

    status = 412
    code = "precondition_failed"


class PayloadTooLarge(AppError):
    """The body is larger than the configured limit."""

    status = 413
    code = "payload_too_large"


class UnsupportedMediaType(AppError):
    """The body's content type is not one this resource accepts."""

    status = 415
    code = "unsupported_media_type"


class BadGateway(AppError):
    """An upstream server (platform, remote LRS) answered badly or not at all."""

    status = 502
    code = "bad_gateway"


class GatewayTimeout(AppError):
    """An upstream server did not answer in time."""

    status = 504
    code = "gateway_timeout"


class ServiceUnavailable(AppError):
    """The service cannot serve right now (database behind migrations, unreachable)."""

    status = 503
    code = "service_unavailable"


def wants_json() -> bool:
    """Tell whether the client should get a JSON error rather than a page."""
    if request.path.startswith(("/xapi", "/api", "/lti/jwks", "/.well-known", "/healthz")):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def error_response(status: int, code: str, message: str, details: dict[str, Any] | None = None) -> Response:
    """Render the one error shape: JSON for API clients, a page for people."""
    if wants_json():
        body: dict[str, Any] = {"error": {"code": code, "message": message}}
        if details:
            body["error"]["details"] = details
        response = jsonify(body)
    else:
        response = Response(render_template("error.html", status=status, message=message), mimetype="text/html")
    response.status_code = status
    return response


def init_app(app: Flask) -> None:
    """Install the error handlers."""

    @app.errorhandler(AppError)
    def handle_app_error(err: AppError) -> Response:
        return error_response(err.status, err.code, err.message, err.details)

    @app.errorhandler(HTTPException)
    def handle_http_error(err: HTTPException) -> Response:
        status = err.code or 500
        message = err.description or err.name
        response = error_response(status, err.name.lower().replace(" ", "_"), message)
        if status == 405 and isinstance(err.valid_methods, list | tuple | set):  # type: ignore[attr-defined]
            response.headers["Allow"] = ", ".join(sorted(err.valid_methods))  # type: ignore[attr-defined]
        return response

    @app.errorhandler(Exception)
    def handle_unexpected(err: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500, "internal_error", "Something went wrong on our side; it has been logged.")
