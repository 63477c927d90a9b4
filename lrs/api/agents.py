"""Serve the Agents resource (xAPI 1.0.3 Communication 2.4)."""

from __future__ import annotations

import orjson
from flask import Response, g
from flask.typing import ResponseReturnValue

from lrs.api import auth
from lrs.api.blueprint import bp, dispatch
from lrs.errors import BadRequest
from lrs.xapi_documents import check_params, etag_of, parse_agent, person_for, quote_etag

_PARAMS = frozenset({"agent"})


def _get() -> Response:
    auth.require(auth.ACTIVITIES_READ, "read agents")
    check_params(g.xapi.params, _PARAMS, "The Agents Resource")
    values = g.xapi.params.getlist("agent")
    if len(values) > 1:
        raise BadRequest("The agent parameter was given more than once; give it once.")
    agent = parse_agent(values[0] if values else None)
    # Communication 2.4.s3.b3: this LRS links no personas, so the Person holds the requested agent only.
    body = orjson.dumps(person_for(agent))
    response = Response(body, status=200, content_type="application/json")
    response.headers["ETag"] = quote_etag(etag_of(body))
    return response


@bp.route("/agents", methods=["GET", "HEAD", "PUT", "POST", "DELETE"])
def agents() -> ResponseReturnValue:
    """Return the Person object for an agent (Communication 2.4.s2)."""
    return dispatch({"GET": _get})
