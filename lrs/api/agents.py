"""Serve the Agents resource (xAPI 1.0.3 Communication 2.4)."""

from __future__ import annotations

from typing import Any

import orjson
from flask import Response, g
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from lrs.api import auth
from lrs.api.blueprint import bp, dispatch, xapi_methods
from lrs.db import get_session
from lrs.errors import BadRequest
from lrs.storage.models import Statement
from lrs.xapi.statements import agent_key
from lrs.xapi_documents import check_params, etag_of, parse_agent, person_for, quote_etag

_PARAMS = frozenset({"agent"})
_NAMES_SCANNED = 50


def _names_seen(agent: dict[str, Any]) -> list[str]:
    """Return the names the most recent statements by this agent gave it, newest first."""
    key = agent_key(agent)
    if key is None:
        return []
    query = (
        select(Statement.body)
        .where(Statement.actor_key == key, Statement.voided.is_(False))
        .order_by(Statement.pk.desc())
        .limit(_NAMES_SCANNED)
    )
    names: list[str] = []
    for body in get_session().scalars(query):
        name = (orjson.loads(body).get("actor") or {}).get("name")
        if isinstance(name, str) and name and name not in names:
            names.append(name)
    return names


def _get() -> Response:
    auth.require(auth.ACTIVITIES_READ, "read agents")
    check_params(g.xapi.params, _PARAMS, "The Agents Resource")
    values = g.xapi.params.getlist("agent")
    if len(values) > 1:
        raise BadRequest("The agent parameter was given more than once; give it once.")
    agent = parse_agent(values[0] if values else None)
    # Communication 2.4.s3.b3: this LRS links no personas, so the Person holds the requested agent's
    # identifier, with the names statements gave that agent.
    body = orjson.dumps(person_for(agent, _names_seen(agent.data)))
    response = Response(body, status=200, content_type="application/json")
    response.headers["ETag"] = quote_etag(etag_of(body))
    return response


_HANDLERS = xapi_methods("xapi.agents", {"GET": _get})


@bp.route("/agents", methods=["GET", "HEAD", "PUT", "POST", "DELETE"])
def agents() -> ResponseReturnValue:
    """Return the Person object for an agent (Communication 2.4.s2)."""
    return dispatch(_HANDLERS)
