"""Serve the About resource (xAPI 1.0.3 Communication 2.8)."""

from __future__ import annotations

from flask import Response, jsonify
from flask.typing import ResponseReturnValue

from lrs.api.blueprint import bp, dispatch
from lrs.api.xapi_request import V1, V2

# Communication 2.8.s5.b1: the latest minor and patch version for each major version we conform to.
VERSIONS = [V1, V2]


def _about() -> Response:
    # Communication 2.8.s5.b2: nothing outside "version" and "extensions".
    return jsonify({"version": VERSIONS, "extensions": {}})


@bp.route("/about", methods=["GET", "HEAD", "PUT", "POST", "DELETE"])
def about() -> ResponseReturnValue:
    """Return the xAPI versions this LRS speaks, to anyone, whatever their version header (Communication 2.8.s5)."""
    return dispatch({"GET": _about})
