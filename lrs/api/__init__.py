"""The LRS's HTTP layer: parse, authorise and answer; xAPI rules live in lrs.xapi."""

from __future__ import annotations

from flask import Flask

# Each module registers its routes on the blueprint when imported.
from lrs.api import about, activities, agents, documents, statements  # noqa: F401
from lrs.api.blueprint import bp


def init_app(app: Flask) -> None:
    """Mount the xAPI resources under /xapi and exempt them from CSRF (they use credentials)."""
    from lrs.ui import csrf

    csrf.exempt(bp)
    app.register_blueprint(bp)
