"""Build the Flask app core that both the standalone LRS and the whole product share."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from typing import Any

from flask import Flask, Request, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix

from lrs import db, errors, health, ui
from lrs.config import Settings, load_settings, prepare_instance
from lrs.staff import views as staff_views

SETTINGS_KEY = "lb.settings"
# Paths that must answer even when the database is behind its migrations.
_ALWAYS_SERVED = ("/healthz", "/static/")


class SessionInterface(SecureCookieSessionInterface):
    """Sign sessions into a cookie, but give xAPI requests none: they authenticate with credentials."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        """Skip the cookie on /xapi/ (decoding it costs a share of every statement POST)."""
        if request.path.startswith("/xapi/"):
            return self.null_session_class()
        return super().open_session(app, request)


def get_settings(app: Flask) -> Settings:
    """Return the app's settings."""
    return app.extensions[SETTINGS_KEY]  # type: ignore[no-any-return]


def build_core(import_name: str, test_config: Mapping[str, Any] | None = None) -> Flask:
    """Create a Flask app with configuration, database, errors, pages, staff login and health."""
    settings = prepare_instance(load_settings(overrides=test_config))
    app = Flask(import_name, instance_path=str(settings.instance_path))
    app.extensions[SETTINGS_KEY] = settings
    app.session_interface = SessionInterface()
    app.config.update(
        SECRET_KEY=settings.secret_key,
        TESTING=settings.testing,
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
        PERMANENT_SESSION_LIFETIME=dt.timedelta(minutes=settings.session_lifetime_minutes),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.uses_https,
        SESSION_COOKIE_NAME="lb_session",
        PREFERRED_URL_SCHEME="https" if settings.uses_https else "http",
        JSON_SORT_KEYS=False,
    )
    app.config.update({k: v for k, v in settings.extra.items() if k.isupper()})
    if settings.proxy_count:
        # Behind a TLS proxy, trust exactly that many hops of X-Forwarded-* so URLs come out https.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=settings.proxy_count, x_proto=settings.proxy_count,
            x_host=settings.proxy_count, x_port=settings.proxy_count,
        )
    logging.getLogger("lrs").setLevel(logging.INFO)
    database = db.init_app(app, settings.database_url)

    @app.before_request
    def refuse_unmigrated_database() -> None:
        # Registered first so that no other hook touches a database that is not ready.
        if request.path.startswith(_ALWAYS_SERVED):
            return
        problem = database.check_ready()
        if problem:
            raise errors.ServiceUnavailable(problem)

    errors.init_app(app)
    ui.init_app(app)
    staff_views.init_app(app)
    app.register_blueprint(health.bp)
    return app
