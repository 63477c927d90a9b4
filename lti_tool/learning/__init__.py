"""The learner's course player, progress, completion rule, statements, scores, deep linking and rosters.

Layers: `rules` and `statements` are pure (R4, heartbeats, xAPI building); `models` and `service`
keep enrollments and progress; `views`, `entry` and `nrps` serve the player, the LTI landing pages
and the staff overview on one blueprint; `delivery` and `ags` are the outbox handlers, the only
modules that speak to an LRS and to platforms' gradebooks (`platform_client` for tokens and HTTP).
"""

from __future__ import annotations

from flask import Flask

from lrs.ui import csrf


def init_app(app: Flask) -> None:
    """Register this area's pages, API and hooks on the app."""
    # entry and nrps add their routes to views.bp when imported, so import them before registering it.
    from lti_tool.learning import delivery, entry, staff, views
    from lti_tool.learning import nrps as _nrps  # noqa: F401

    # Player pages authenticate with the signed token in their URL, not a cookie (see views).
    csrf.exempt(views.bp)
    app.register_blueprint(views.bp)
    delivery.register(app)
    entry.register_targets(app)
    staff.init_app(app)
