"""Administrator pages of the LRS (credentials)."""

from __future__ import annotations

from flask import Flask

from lrs.staff.models import Role
from lrs.staff.views import register_staff_link


def init_app(app: Flask) -> None:
    """Register the LRS administration pages and link them from the staff landing page."""
    from lrs.admin import views

    app.register_blueprint(views.bp)
    register_staff_link(app, "lrs_admin.credentials", "LRS credentials", Role.ADMINISTRATOR)
    register_staff_link(app, "lrs_admin.outbox", "Outbox and forwarding", Role.ADMINISTRATOR)
