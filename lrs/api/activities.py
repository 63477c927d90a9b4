"""Serve the Activities resource (xAPI 1.0.3 Communication 2.5)."""

from __future__ import annotations

from typing import Any

import orjson
from flask import Response, g
from flask.typing import ResponseReturnValue

from lrs.api import auth
from lrs.api.blueprint import bp, dispatch, xapi_methods
from lrs.db import get_session
from lrs.errors import BadRequest
from lrs.storage import statements as repo
from lrs.xapi_documents import check_params, etag_of, quote_etag, require_iri

_PARAMS = frozenset({"activityId"})


def _canonical_definition(activity_id: str) -> dict[str, Any] | None:
    """Return the definition merged from the statements that mentioned the activity, if any."""
    return repo.get_activity_definition(get_session(), activity_id)


def activity_object(activity_id: str, definition: dict[str, Any] | None) -> dict[str, Any]:
    """Build the Activity Object, with its canonical definition when one is known (Data 2.4.4.1)."""
    activity: dict[str, Any] = {"objectType": "Activity", "id": activity_id}
    if definition:
        activity["definition"] = definition
    return activity


def _get() -> Response:
    auth.require(auth.ACTIVITIES_READ, "read activities")
    check_params(g.xapi.params, _PARAMS, "The Activities Resource")
    values = g.xapi.params.getlist("activityId")
    if len(values) > 1:
        raise BadRequest("The activityId parameter was given more than once; give it once.")
    activity_id = require_iri(values[0] if values else None, "activityId")
    # Communication 2.5.s2.b1: an Activity Object even when the LRS has no definition of it.
    body = orjson.dumps(activity_object(activity_id, _canonical_definition(activity_id)))
    response = Response(body, status=200, content_type="application/json")
    response.headers["ETag"] = quote_etag(etag_of(body))
    return response


_HANDLERS = xapi_methods("xapi.activities", {"GET": _get})


@bp.route("/activities", methods=["GET", "HEAD", "PUT", "POST", "DELETE"])
def activities() -> ResponseReturnValue:
    """Return the full Activity Object for an activityId (Communication 2.5.s1)."""
    return dispatch(_HANDLERS)
