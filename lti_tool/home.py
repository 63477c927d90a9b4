"""Serve the product's front page, which points each kind of user to where they start."""

from __future__ import annotations

from flask import Blueprint, Flask, current_app, render_template

from lrs.app import get_settings

bp = Blueprint("home", __name__, template_folder="templates")


@bp.route("/")
def index() -> str:
    """Show the front page."""
    settings = get_settings(current_app)
    return render_template("home.html", demo_mode=settings.demo_mode, lrs_remote=bool(settings.lrs_endpoint))


def init_app(app: Flask) -> None:
    """Register the front page."""
    app.register_blueprint(bp)
