"""LTI 1.3 adapter: the only package that imports pylti1p3.

Registrations, keys, hardened logins and launches, cookie-free launch sessions, Dynamic
Registration, the tool's configuration for LMS administrators, and the demo platform.

What other packages use (all in `lti_tool.lti.launch`):
- `current_launch()` -> `LaunchContext` (who, where, role, custom parameters) from the `lt` token;
- `launch_required` (view decorator), `launch_url_for(endpoint, ...)`, `launch_token_field()` (also
  Jinja globals) to keep the launch in the tool's own pages without third-party cookies; views that
  accept forms under a launch should be CSRF-exempt, the unguessable `lt` token being their proof;
- `register_launch_target(app, message_type, endpoint)` to choose where a launch lands;
- `message_launch(context)` -> pylti1p3's launch (Deep Linking responses, AGS, NRPS) and
  `tool_conf()`; `lti_tool.keys.get_keyring()` for the tool's signing key and JWKS.
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
