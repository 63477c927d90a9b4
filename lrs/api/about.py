"""Serve the About resource (xAPI 1.0.3 Communication 2.8)."""

from __future__ import annotations

from flask import Response, jsonify

from lrs.api.blueprint import bp
from lrs.api.xapi_request import V1, V2


@bp.route("/about", methods=["GET"])
def about() -> Response:
    """Return the xAPI versions this LRS speaks."""
    return jsonify({"version": [V1, V2], "extensions": {}})
