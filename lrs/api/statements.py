"""Serve the Statement resource (xAPI 1.0.3 Communication 2.1; IEEE 9274.1.1 for 2.0.0).

PUT stores one statement under `statementId` (204); POST stores one or many (200, their ids);
GET returns one (`statementId`, `voidedStatementId`) or a page of many with a `more` link and
`X-Experience-API-Consistent-Through`. Bodies may be application/json or multipart/mixed with
attachments. Parsing and rules live in `lrs.xapi`; rows in `lrs.storage.statements`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Response, current_app, g, request
from flask.typing import ResponseReturnValue

from lrs.api import auth
from lrs.api.blueprint import STATEMENTS_ENDPOINT, bp, consistency_margin, dispatch, xapi_methods
from lrs.db import get_session, utc_from_driver
from lrs.errors import BadRequest, NotFound
from lrs.storage import statements as repo
from lrs.storage.hooks import run_stored_hooks
from lrs.xapi import attachments as xatt
from lrs.xapi import formats, jsonio, query, signature, types, validation
from lrs.xapi.statements import agent_key, attachment_hashes
from lrs.xapi.types import format_timestamp

DEFAULT_MAX_LIMIT = 250
JSON_TYPE = "application/json"
ACTIVITY_CACHE_KEY = "lb.lrs_activity_cache"


@bp.route("/statements", methods=["GET", "PUT", "POST", "DELETE", "HEAD"])
def statements() -> ResponseReturnValue:
    """Dispatch the Statement resource by (possibly alternate-syntax) method."""
    return dispatch(_HANDLERS)


def _parse_body() -> tuple[Any, dict[str, xatt.AttachmentData]]:
    """Return the JSON document and attachment parts of a PUT/POST body (Communication 1.5.2)."""
    xapi = g.xapi
    mimetype = xapi.mimetype
    raw = xapi.body
    data: dict[str, xatt.AttachmentData] = {}
    if mimetype == "multipart/mixed":
        parts = xatt.parse_multipart(raw, xapi.mimetype_params.get("boundary", ""))
        if parts[0].content_type != JSON_TYPE:
            raise BadRequest("The first part of a multipart/mixed statement request must be application/json.")
        raw = parts[0].body
        data = xatt.collect_attachment_parts(parts)
    elif mimetype != JSON_TYPE:
        raise BadRequest(
            f"Send statements as application/json or multipart/mixed, not {xapi.content_type or 'without a Content-Type'}."
        )
    if not raw.strip():
        raise BadRequest("The request body is empty: send a statement or an array of statements as JSON.")
    return jsonio.parse_json(raw), data


def _check_params(allowed: set[str]) -> None:
    unknown = sorted(set(g.xapi.params) - allowed)
    if unknown:
        raise BadRequest(f"Parameter {unknown[0]!r} is not allowed on {g.xapi.method} /statements.")


def _store(documents: list[Any], data: dict[str, xatt.AttachmentData]) -> repo.StoreResult:
    """Validate and store statements in one transaction; run the stored hooks before committing."""
    caller: auth.Caller = g.xapi_caller
    version = g.xapi.version
    seen: set[str] = set()
    for index, document in enumerate(documents):
        path = "statement" if len(documents) == 1 else f"statements[{index}]"
        validation.validate_statement(document, version, path)
        if "id" in document:
            ident = str(document["id"]).lower()
            if ident in seen:
                # Communication 2.1.1.s2.b4: two statements with one id in a batch are refused.
                raise BadRequest(f"{path}.id {ident} appears more than once in this batch.")
            seen.add(ident)
    metadata = [item for document in documents for item in attachment_hashes(document)]
    xatt.match_attachments(metadata, data)
    for document in documents:
        signature.verify_signed(document, data)
    session = get_session()
    try:
        cache = _activity_cache()
        result = repo.store_batch(
            session, documents, authority=caller.authority, version=version, attachments=data, activity_cache=cache
        )
        if result.stored:
            run_stored_hooks(current_app._get_current_object(), session, result.stored)  # type: ignore[attr-defined]
        session.commit()
    except BaseException:
        session.rollback()
        raise
    cache.remember(result.activities)
    return result


def _activity_cache() -> repo.ActivityCache:
    """Return this worker's cache of canonical Activity definitions."""
    cache: repo.ActivityCache | None = current_app.extensions.get(ACTIVITY_CACHE_KEY)
    if cache is None:
        cache = current_app.extensions.setdefault(ACTIVITY_CACHE_KEY, repo.ActivityCache())
    return cache


def put_statement() -> ResponseReturnValue:
    """Store one statement under the given statementId (Communication 2.1.1)."""
    auth.require(auth.WRITE_STATEMENTS, "write statements")
    _check_params({"statementId"})
    statement_id = g.xapi.params.get("statementId")
    if not statement_id:
        raise BadRequest("PUT /statements needs the statementId parameter.")
    if not types.is_uuid(statement_id):
        raise BadRequest(f"Parameter statementId must be a UUID, not {statement_id!r}.")
    document, data = _parse_body()
    if not isinstance(document, dict):
        raise BadRequest("PUT /statements takes one statement (a JSON object); POST an array instead.")
    if "id" in document and str(document["id"]).lower() != statement_id.lower():
        raise BadRequest("statement.id must match the statementId parameter.")
    document = {**document, "id": statement_id} if "id" not in document else document
    _store([document], data)
    return Response(status=204)


def post_statements() -> ResponseReturnValue:
    """Store a statement or an array of statements and return their ids (Communication 2.1.2)."""
    auth.require(auth.WRITE_STATEMENTS, "write statements")
    _check_params(set())
    document, data = _parse_body()
    documents = document if isinstance(document, list) else [document]
    if not documents:
        return _json([])
    result = _store(documents, data)
    if not result.stored:
        # Every statement was already stored, unchanged, so nothing was written. Communication 2.1.1
        # lets the LRS answer such a repeat with 204 (or 409), and ADL's suite requires one of the
        # two for a repeated POST ("should return 409 or 204 when statement ID already exists").
        return Response(status=204)
    return _json(result.ids)


def _json(value: Any, status: int = 200) -> Response:
    return Response(jsonio.dumps(value), status=status, mimetype=JSON_TYPE)


def _languages() -> list[str]:
    header = g.xapi.headers.get("Accept-Language", "")
    ranked: list[tuple[float, int, str]] = []
    for index, item in enumerate(header.split(",")):
        tag, _, params = item.strip().partition(";")
        if not tag:
            continue
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                weight = 0.0
        ranked.append((-weight, index, tag.strip()))
    return [tag for _, _, tag in sorted(ranked)]


def _shape(found: list[dict[str, Any]], fmt: str) -> list[dict[str, Any]]:
    if fmt == "ids":
        return [formats.to_ids(stmt) for stmt in found]
    if fmt == "canonical":
        wanted = set().union(*(formats.activity_ids(stmt) for stmt in found)) if found else set()
        definitions = repo.get_activity_definitions(get_session(), wanted)
        languages = _languages()
        return [formats.to_canonical(stmt, definitions.get, languages) for stmt in found]
    return found


def _reader() -> str | None:
    """Authorise a read and return the authority key a statements/read/mine caller is limited to."""
    caller: auth.Caller = g.xapi_caller
    if caller.may(auth.READ_STATEMENTS):
        return None
    if caller.may(auth.READ_MINE):
        return agent_key(caller.authority) or ""
    auth.require(auth.READ_STATEMENTS | auth.READ_MINE, "read statements")
    return None


def _answer(body: bytes, found: list[repo.Found], with_attachments: bool) -> Response:
    """Answer with the JSON body (or multipart with attachments) and the Statement GET headers."""
    if not with_attachments:
        response = Response(body, mimetype=JSON_TYPE)
    else:
        hashes = [str(item["sha2"]) for each in found for item in attachment_hashes(each.statement)]
        stored = repo.get_attachments(get_session(), hashes)
        multipart, content_type = xatt.build_multipart(body, [stored[key] for key in sorted(stored)])
        response = Response(multipart, content_type=content_type)
    # X-Experience-API-Consistent-Through: `blueprint.add_xapi_headers` sends g.lb_consistent_through.
    if found:
        # Last-Modified: the newest `stored` among the statements returned.
        latest = utc_from_driver(max(each.stored for each in found))
        if latest is not None:
            response.last_modified = latest
    return response


def _page_body(found: list[repo.Found], fmt: str, more: str) -> bytes:
    """Encode a StatementResult (Communication 2.1.3, Data 2.5).

    In `exact` format each statement is returned as stored, and the stored JSON text (written
    once by `jsonio.dumps`) is that statement, so the texts are spliced in unchanged: parsing and
    re-encoding a hundred statements cost more than the query, and orjson would turn extension
    integers beyond 64 bits into floats on the way.
    """
    if fmt == "exact":
        statements_json = b",".join(each.body for each in found)
        return b'{"statements":[' + statements_json + b'],"more":' + jsonio.dumps(more) + b"}"
    return jsonio.dumps({"statements": _shape([each.statement for each in found], fmt), "more": more})


def get_statements() -> ResponseReturnValue:
    """Return one statement, or a page of statements matching the query (Communication 2.1.3)."""
    limit = int(current_app.config.get("LRS_STATEMENTS_MAX_LIMIT", DEFAULT_MAX_LIMIT))
    parsed = query.parse_params(list(g.xapi.params.items(multi=True)), limit)
    authority = _reader()
    session = get_session()
    # Taken before reading, so the read sees at least everything this instant vouches for.
    g.lb_consistent_through = format_timestamp(repo.consistent_through(session, consistency_margin()))
    if isinstance(parsed, query.SingleQuery):
        found = repo.get_statement(session, parsed.statement_id, voided=parsed.voided, authority_key=authority)
        if found is None:
            which = "voided statement" if parsed.voided else "statement"
            raise NotFound(f"No {which} has the id {parsed.statement_id}.")
        body = found.body if parsed.format == "exact" else jsonio.dumps(_shape([found.statement], parsed.format)[0])
        return _answer(body, [found], parsed.attachments)
    rows = repo.query_statements(session, parsed, authority_key=authority)
    page = rows[: parsed.limit]
    more = ""
    if len(rows) > parsed.limit:
        token = query.encode_more(parsed.next_page(page[-1].pk, parsed.ceiling))
        more = f"{request.script_root}{bp.url_prefix}/statements?{urlencode({query.MORE_PARAM: token})}"
    return _answer(_page_body(page, parsed.format, more), page, parsed.attachments)


_HANDLERS = xapi_methods(STATEMENTS_ENDPOINT, {"GET": get_statements, "PUT": put_statement, "POST": post_statements})
