"""The international learning zone: the curated catalog of international courses (B1-B6).

Other areas use `service.find_published`, `service.get_published_course` (deep-linking picker,
learner player) and `service.record_learning_activity` (ranking signals from launches and completions).
"""

from __future__ import annotations

from flask import Flask

from lrs.staff.models import Role
from lrs.staff.views import register_staff_link


def init_app(app: Flask) -> None:
    """Register this area's pages, API and hooks on the app."""
    from lti_tool.catalog import curation, views

    app.register_blueprint(views.bp)
    app.register_blueprint(views.api_bp)
    app.register_blueprint(curation.bp)
    app.context_processor(views.template_helpers)
    register_staff_link(app, "catalog_manage.dashboard", "International learning zone: curation", Role.CURATOR)
