"""Serve the certification staff pages at /certification and the JSON API at /api/certification."""

from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("certification", __name__, url_prefix="/certification", template_folder="templates")
api = Blueprint("certification_api", __name__, url_prefix="/api/certification")


def init_app(app: Flask) -> None:
    """Register the staff pages and the JSON API."""
    app.register_blueprint(bp)
    app.register_blueprint(api)
