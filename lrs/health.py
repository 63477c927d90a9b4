"""Answer `/healthz` with the database's reachability and migration state."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from lrs.db import get_db

bp = Blueprint("health", __name__)


@bp.route("/healthz")
def healthz() -> tuple[Response, int]:
    """Report whether this node can serve: database reachable and at the code's migration head."""
    state = get_db().migration_state()
    problem = state.problem()
    body = {
        "status": "ok" if problem is None else "unavailable",
        "database": {
            "reachable": state.reachable,
            "revision": state.current,
            "head": state.head,
            "up_to_date": state.up_to_date,
        },
    }
    if problem:
        body["problem"] = problem
    return jsonify(body), 200 if problem is None else 503
