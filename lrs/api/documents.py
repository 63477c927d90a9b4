"""Serve the State, Activity Profile and Agent Profile resources (xAPI 1.0.3 Communication 2.2-2.7, 3.1).

Each route parses its parameters into a `Scope` and a document id, checks the caller's scope, then
runs one of four operations shared by the three resources. A write evaluates If-Match and
If-None-Match against the stored ETag and writes only if that ETag is still current, in the same
SQL statement; when another writer got in between, it evaluates again against what is now stored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import orjson
from flask import Response, current_app, g
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session

from lrs.api import auth
from lrs.api.blueprint import bp, dispatch
from lrs.db import get_session
from lrs.errors import BadRequest, Conflict, NotFound, PayloadTooLarge
from lrs.storage import documents as store
from lrs.xapi_documents import (
    ACTIVITY_PROFILE,
    AGENT_PROFILE,
    STATE,
    Preconditions,
    check_json_body,
    check_params,
    etag_of,
    http_date,
    is_json,
    merge_json,
    parse_agent,
    parse_registration,
    parse_since,
    quote_etag,
    require_iri,
    require_precondition_for_put,
    require_text,
)

DEFAULT_MAX_DOCUMENT_BYTES = 8 * 1024 * 1024
# How often a write re-evaluates its preconditions when other writers keep changing the document.
_WRITE_ATTEMPTS = 8

_STATE_PARAMS = frozenset({"activityId", "agent", "registration", "stateId", "since"})
_ACTIVITY_PROFILE_PARAMS = frozenset({"activityId", "profileId", "since"})
_AGENT_PROFILE_PARAMS = frozenset({"agent", "profileId", "since"})


@dataclass(frozen=True)
class Target:
    """What a document request addresses: a scope and, for single-document requests, an id."""

    scope: store.Scope
    document_id: str | None
    resource: str


def _param(name: str) -> str | None:
    values = g.xapi.params.getlist(name)
    if len(values) > 1:
        raise BadRequest(f"The {name} parameter was given {len(values)} times; give it once.")
    return values[0] if values else None


def _check_since_usage(method: str) -> None:
    # `since` belongs to the ids listing (GET) only (Communication 2.3.s4, 2.6.s4, 2.7.s4).
    if method != "GET" and _param("since") is not None:
        raise BadRequest(f"The since parameter is only for GET of document ids, not for {method}.")


def _state_target(method: str) -> Target:
    check_params(g.xapi.params, _STATE_PARAMS, "The State Resource")
    _check_since_usage(method)
    activity_id = require_iri(_param("activityId"), "activityId")
    agent = parse_agent(_param("agent"), allow_group=True)
    registration = parse_registration(_param("registration"))
    state_id = _param("stateId")
    if method in {"PUT", "POST"} or state_id is not None:
        state_id = require_text(state_id, "stateId")
    scope = store.Scope(STATE, activity_id, agent.key, registration)
    return Target(scope, state_id, "State")


def _activity_profile_target(method: str) -> Target:
    check_params(g.xapi.params, _ACTIVITY_PROFILE_PARAMS, "The Activity Profile Resource")
    _check_since_usage(method)
    activity_id = require_iri(_param("activityId"), "activityId")
    profile_id = _param("profileId")
    if method != "GET" or profile_id is not None:
        profile_id = require_text(profile_id, "profileId")
    return Target(store.Scope(ACTIVITY_PROFILE, activity_id=activity_id), profile_id, "Activity Profile")


def _agent_profile_target(method: str) -> Target:
    check_params(g.xapi.params, _AGENT_PROFILE_PARAMS, "The Agent Profile Resource")
    _check_since_usage(method)
    agent = parse_agent(_param("agent"), allow_group=True)
    profile_id = _param("profileId")
    if method != "GET" or profile_id is not None:
        profile_id = require_text(profile_id, "profileId")
    return Target(store.Scope(AGENT_PROFILE, agent_key=agent.key), profile_id, "Agent Profile")


def _preconditions() -> Preconditions:
    headers = g.xapi.headers
    return Preconditions(headers.get("If-Match"), headers.get("If-None-Match"))


def _body() -> tuple[bytes, str]:
    body: bytes = g.xapi.body
    limit = int(current_app.config.get("LRS_DOCUMENT_MAX_BYTES", DEFAULT_MAX_DOCUMENT_BYTES))
    if len(body) > limit:
        raise PayloadTooLarge(f"The document is {len(body)} bytes; this LRS stores documents of at most {limit} bytes.")
    content_type = (g.xapi.content_type or "application/octet-stream").strip()
    if len(content_type) > 255:
        raise BadRequest("The Content-Type header is longer than 255 characters.")
    check_json_body(body, g.xapi.mimetype)
    return body, content_type


def _no_content() -> Response:
    return Response(status=204)


def _get(target: Target) -> Response:
    """Return one document byte for byte, or the ids in the scope (Communication 2.3.s3-s4, 2.2.s6, 3.1.s4.b1)."""
    session = get_session()
    since = parse_since(_param("since"))  # refused with 400 when malformed, even where a single document ignores it
    if target.document_id is None:
        ids, latest = store.list_ids(session, target.scope, since)
        body = orjson.dumps(ids)
        response = Response(body, status=200, content_type="application/json")
        response.headers["ETag"] = quote_etag(etag_of(body))
        if latest is not None:
            response.headers["Last-Modified"] = http_date(latest)
        return response
    document = store.get_document(session, target.scope, target.document_id)
    if document is None:
        raise NotFound(f"No {target.resource} document has that id in this context.")
    response = Response(document.content, status=200)
    response.headers["Content-Type"] = document.content_type
    response.headers["ETag"] = quote_etag(document.etag)
    response.headers["Last-Modified"] = http_date(document.updated)
    return response


def _write(target: Target, attempt: Callable[[Session, store.Document | None], bool]) -> Response:
    """Run a check-and-write until it lands on the document it checked, then commit (Communication 3.1)."""
    assert target.document_id is not None
    session = get_session()
    for _ in range(_WRITE_ATTEMPTS):
        current = store.get_document(session, target.scope, target.document_id)
        if attempt(session, current):
            session.commit()
            return _no_content()
        session.rollback()
    raise Conflict("The document kept changing while this request tried to write it; read it again and retry.")


def _put(target: Target) -> Response:
    """Store or replace a document (Communication 2.3.s3, 3.1.s4.b5-b6, b9-b15)."""
    body, content_type = _body()
    preconditions = _preconditions()
    doc_id = target.document_id
    assert doc_id is not None

    def attempt(session: Session, current: store.Document | None) -> bool:
        preconditions.check(current.etag if current else None)
        require_precondition_for_put(
            target.scope.kind, preconditions, current is not None, v2=g.xapi.is_v2,
            unconditional_create=bool(current_app.config.get("LRS_ALLOW_UNCONDITIONAL_PROFILE_CREATE", False)),
        )
        if current is None:
            return store.insert_document(session, target.scope, doc_id, body, content_type)
        return store.replace_document(session, target.scope, doc_id, body, content_type, current.etag)

    return _write(target, attempt)


def _post(target: Target) -> Response:
    """Store a new document, or merge JSON objects into the stored one (Communication 2.2.s7-s8)."""
    body, content_type = _body()
    preconditions = _preconditions()
    doc_id = target.document_id
    assert doc_id is not None

    def attempt(session: Session, current: store.Document | None) -> bool:
        preconditions.check(current.etag if current else None)
        if current is None:
            return store.insert_document(session, target.scope, doc_id, body, content_type)
        if not is_json(content_type) or not is_json(current.content_type):
            raise BadRequest(
                "POST merges JSON objects, so both the stored and the posted document must be application/json: "
                f"the stored one is {current.content_type!r}, the posted one {content_type!r}. Use PUT to replace it."
            )
        merged = merge_json(current.content, body)
        return store.replace_document(session, target.scope, doc_id, merged, "application/json", current.etag)

    return _write(target, attempt)


def _delete(target: Target) -> Response:
    """Delete one document, or every state document of the context (Communication 2.3.s3, 2.3.s5, 3.1.s4.b7)."""
    session = get_session()
    if target.document_id is None:
        store.delete_scope(session, target.scope)
        session.commit()
        return _no_content()
    preconditions = _preconditions()
    doc_id = target.document_id

    def attempt(session: Session, current: store.Document | None) -> bool:
        preconditions.check(current.etag if current else None)
        if current is None:
            return True  # nothing to delete: the outcome the client asked for
        return store.delete_document(session, target.scope, doc_id, current.etag)

    return _write(target, attempt)


def _serve(
    build: Callable[[str], Target], write_scopes: frozenset[str], read_scopes: frozenset[str], what: str
) -> ResponseReturnValue:
    """Dispatch a document request on its xAPI method after checking the caller's scopes."""
    def read() -> Response:
        auth.require(read_scopes, f"read {what}")
        return _get(build("GET"))

    def writer(operation: Callable[[Target], Response], verb: str) -> Callable[[], Response]:
        def run() -> Response:
            auth.require(write_scopes, f"write {what}")
            return operation(build(verb))

        return run

    return dispatch({"GET": read, "PUT": writer(_put, "PUT"), "POST": writer(_post, "POST"), "DELETE": writer(_delete, "DELETE")})


@bp.route("/activities/state", methods=["GET", "HEAD", "PUT", "POST", "DELETE", "OPTIONS"])
def state() -> ResponseReturnValue:
    """Serve the State Resource (Communication 2.3)."""
    return _serve(_state_target, auth.STATE, auth.STATE_READ, "state documents")


@bp.route("/activities/profile", methods=["GET", "HEAD", "PUT", "POST", "DELETE", "OPTIONS"])
def activity_profile() -> ResponseReturnValue:
    """Serve the Activity Profile Resource (Communication 2.7)."""
    return _serve(_activity_profile_target, auth.PROFILE, auth.PROFILE_READ, "activity profiles")


@bp.route("/agents/profile", methods=["GET", "HEAD", "PUT", "POST", "DELETE", "OPTIONS"])
def agent_profile() -> ResponseReturnValue:
    """Serve the Agent Profile Resource (Communication 2.6)."""
    return _serve(_agent_profile_target, auth.PROFILE, auth.PROFILE_READ, "agent profiles")

