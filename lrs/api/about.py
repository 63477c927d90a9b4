"""Serve the About resource (xAPI 1.0.3 Communication 2.8)."""

from __future__ import annotations

from flask import Response, g, jsonify
from flask.typing import ResponseReturnValue

from lrs.api.blueprint import bp, dispatch
from lrs.api.xapi_request import V1, V2

# Communication 2.8.s5.b1: the latest minor and patch version for each major version we conform to.
VERSIONS = [V1, V2]


def _about() -> Response:
    # Communication 2.8.s5.b2: nothing outside "version" and "extensions".
    return jsonify({"version": versions_for(g.xapi.headers.get("X-Experience-API-Version")), "extensions": {}})


def versions_for(header: str | None) -> list[str]:
    """Return the versions to list for a request's version header.

    xAPI 1.0.3 Communication 2.8 allows only 0.9, 0.95, 1.0.0 and 1.0.x in the list, and ADL's 1.0.3
    suite checks that (XAPI-00316), so a 1.0.x client is told of 1.0.3 alone. A 2.0.0 client, or a
    request that names no version, hears of both.
    """
    if header is not None and header.strip().startswith("1."):
        return [V1]
    return list(VERSIONS)


@bp.route("/about", methods=["GET", "HEAD", "PUT", "POST", "DELETE"])
def about() -> ResponseReturnValue:
    """Return the xAPI versions this LRS speaks, to anyone, whatever their version header (Communication 2.8.s5)."""
    return dispatch({"GET": _about})
