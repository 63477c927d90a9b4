"""LTI 1.3 adapter: the only package that imports pylti1p3.

Registrations, keys, hardened logins and launches, cookie-free launch sessions, Dynamic
Registration, the tool's configuration for LMS administrators, and the demo platform. Other
packages use `lti_tool.lti.launch.current_launch()` and `launch_url_for()`.
"""

from __future__ import annotations

from flask import Flask

from lrs.app import get_settings
from lrs.ui import csrf
from lti_tool import keys


def init_app(app: Flask) -> None:
    """Register this area's pages, API and hooks on the app."""
    from lrs.staff import Role
    from lrs.staff.views import register_staff_link
    from lti_tool.lti import admin, launch, views

    keys.init_app(app)
    launch.init_app(app)
    for name in views.CSRF_EXEMPT:
        csrf.exempt(f"{views.__name__}.{name}")
    app.register_blueprint(views.bp)
    app.register_blueprint(views.well_known)
    app.register_blueprint(admin.bp)
    register_staff_link(app, "lti_admin.platforms", "LMS platforms (LTI)", Role.ADMINISTRATOR)
    if get_settings(app).demo_mode:
        from lti_tool.lti import demo_platform

        # The tool's page posts deep-linking responses here; the JWT's signature protects it.
        csrf.exempt(f"{demo_platform.__name__}.deep_link_return")
        app.register_blueprint(demo_platform.bp)
