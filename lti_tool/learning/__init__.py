"""The learner's course player, progress, completion rule and statement delivery."""

from __future__ import annotations

from flask import Flask

from lrs.ui import csrf


def init_app(app: Flask) -> None:
    """Register this area's pages, API and hooks on the app."""
    from lti_tool.learning import delivery, entry, nrps, staff, views

    # Player pages authenticate with the signed token in their URL, not a cookie (see views).
    csrf.exempt(views.bp)
    app.register_blueprint(views.bp)
    delivery.register(app)
    entry.register_targets(app)
    staff.init_app(app)
    del nrps  # imported for its routes on the blueprint
