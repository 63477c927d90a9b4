"""Parse the Statement resource's GET parameters, rejecting unknown or malformed ones.

xAPI 1.0.3 Communication 2.1.3 (GET Statements) lists the parameters; an LRS rejects a request
with a parameter it does not recognise (Communication 2.0, "LRS MUST reject ... any parameters
it does not recognize") and a `statementId`/`voidedStatementId` request with any parameter other
than `attachments` and `format`.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import orjson

from lrs.errors import BadRequest
from lrs.xapi import types, validation
from lrs.xapi.statements import agent_key

QUERY_PARAMS = frozenset(
    {
        "agent", "verb", "activity", "registration", "related_activities", "related_agents",
        "since", "until", "limit", "format", "attachments", "ascending",
    }
)
SINGLE_PARAMS = frozenset({"statementId", "voidedStatementId"})
SINGLE_COMPANIONS = frozenset({"attachments", "format"})
FORMATS = ("exact", "ids", "canonical")
MORE_PARAM = "more"


@dataclass(frozen=True)
class SingleQuery:
    """A GET of one statement by id (or voided id)."""

    statement_id: str
    voided: bool
    format: str = "exact"
    attachments: bool = False


@dataclass(frozen=True)
class StatementQuery:
    """A GET of many statements."""

    agent: str | None = None
    verb: str | None = None
    activity: str | None = None
    registration: str | None = None
    related_activities: bool = False
    related_agents: bool = False
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    limit: int = 0
    format: str = "exact"
    attachments: bool = False
    ascending: bool = False
    # Keyset cursor: the stored-order key of the last statement already returned.
    after: int | None = None
    # The highest stored-order key the first page could see, so later pages stay consistent.
    ceiling: int | None = None

    def next_page(self, last_key: int, ceiling: int | None) -> StatementQuery:
        """Return the query for the page after `last_key`."""
        return replace(self, after=last_key, ceiling=ceiling)


def _boolean(name: str, value: str) -> bool:
    # Case is forgiven: some clients (the Python tincan library) send "True" and "False".
    lowered = value.lower()
    if lowered == "true":
        return True
    if lowered == "false":
        return False
    raise BadRequest(f"Parameter {name} must be true or false, not {value!r}.")


def _timestamp(name: str, value: str) -> dt.datetime:
    # RFC 3339 5.6 allows a space for the "T"; Python clients send str(datetime) that way.
    moment = types.parse_timestamp(value.replace(" ", "T", 1) if len(value) > 10 and value[10] == " " else value)
    if moment is None:
        raise BadRequest(f"Parameter {name} must be an ISO 8601 timestamp such as 2024-05-01T08:30:00Z, not {value!r}.")
    return moment


def parse_agent_param(value: str, name: str = "agent") -> dict[str, Any]:
    """Parse an agent parameter: JSON of an Agent or identified Group (Communication 2.1.3)."""
    try:
        parsed = orjson.loads(value)
    except orjson.JSONDecodeError:
        raise BadRequest(f"Parameter {name} must be the JSON of an Agent, such as {{\"mbox\": \"mailto:a@example.com\"}}.") from None
    try:
        validation.actor(parsed, name)
    except validation.Invalid as err:
        raise BadRequest(f"Parameter {err.message}.") from None
    if agent_key(parsed) is None:
        raise BadRequest(f"Parameter {name} must identify an Agent or Group by mbox, mbox_sha1sum, openid or account.")
    return parsed  # type: ignore[no-any-return]


def _single(params: Mapping[str, str]) -> SingleQuery:
    if "statementId" in params and "voidedStatementId" in params:
        raise BadRequest("Send either statementId or voidedStatementId, not both.")
    extra = sorted(set(params) - SINGLE_PARAMS - SINGLE_COMPANIONS)
    if extra:
        raise BadRequest(
            f"Parameter {extra[0]} cannot be combined with statementId or voidedStatementId; only attachments and format can."
        )
    voided = "voidedStatementId" in params
    name = "voidedStatementId" if voided else "statementId"
    if not types.is_uuid(params[name]):
        raise BadRequest(f"Parameter {name} must be a UUID, not {params[name]!r}.")
    fmt = params.get("format", "exact")
    if fmt not in FORMATS:
        raise BadRequest(f"Parameter format must be one of {', '.join(FORMATS)}, not {fmt!r}.")
    attachments = _boolean("attachments", params["attachments"]) if "attachments" in params else False
    return SingleQuery(params[name].lower(), voided, fmt, attachments)


def parse_params(items: Sequence[tuple[str, str]], max_limit: int) -> SingleQuery | StatementQuery:
    """Parse the query parameters of a Statement GET."""
    params: dict[str, str] = {}
    for name, value in items:
        if name in params:
            raise BadRequest(f"Parameter {name} is given more than once.")
        params[name] = value
    if MORE_PARAM in params:
        if len(params) > 1:
            raise BadRequest("A 'more' link must be followed as given, without other parameters.")
        return decode_more(params[MORE_PARAM])
    if SINGLE_PARAMS & params.keys():
        return _single(params)
    unknown = sorted(set(params) - QUERY_PARAMS)
    if unknown:
        raise BadRequest(f"Parameter {unknown[0]!r} is not a Statement resource parameter; the LRS does not recognise it.")
    fields: dict[str, Any] = {}
    if "agent" in params:
        fields["agent"] = agent_key(parse_agent_param(params["agent"]))
    for name in ("verb", "activity"):
        if name in params:
            if not types.is_iri(params[name]):
                raise BadRequest(f"Parameter {name} must be an IRI, not {params[name]!r}.")
            fields[name] = params[name]
    if "registration" in params:
        if not types.is_uuid(params["registration"]):
            raise BadRequest(f"Parameter registration must be a UUID, not {params['registration']!r}.")
        fields["registration"] = params["registration"].lower()
    for name in ("related_activities", "related_agents", "attachments", "ascending"):
        if name in params:
            fields[name] = _boolean(name, params[name])
    for name in ("since", "until"):
        if name in params:
            fields[name] = _timestamp(name, params[name])
    if "limit" in params:
        raw = params["limit"]
        if not raw.isdigit():
            raise BadRequest(f"Parameter limit must be a whole number of 0 or more, not {raw!r}.")
        fields["limit"] = int(raw)
    if "format" in params:
        if params["format"] not in FORMATS:
            raise BadRequest(f"Parameter format must be one of {', '.join(FORMATS)}, not {params['format']!r}.")
        fields["format"] = params["format"]
    query = StatementQuery(**fields)
    # Communication 2.1.3: limit 0 means the server's maximum; larger values are capped.
    if query.limit == 0 or query.limit > max_limit:
        query = replace(query, limit=max_limit)
    return query


def encode_more(query: StatementQuery) -> str:
    """Encode a query and its cursor into the opaque token of a `more` link."""
    data = {
        key: (value.isoformat() if isinstance(value, dt.datetime) else value)
        for key, value in query.__dict__.items()
        if value not in (None, False)
    }
    return base64.urlsafe_b64encode(orjson.dumps(data)).decode().rstrip("=")


def decode_more(token: str) -> StatementQuery:
    """Decode a `more` token made by `encode_more`."""
    try:
        data = orjson.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        for key in ("since", "until"):
            if key in data:
                data[key] = dt.datetime.fromisoformat(data[key])
        query = StatementQuery(**data)
    except (binascii.Error, ValueError, TypeError, orjson.JSONDecodeError):
        raise BadRequest("The 'more' token is not one this LRS issued; start the query again.") from None
    if not _well_typed(query) or query.format not in FORMATS or query.limit < 1:
        raise BadRequest("The 'more' token is not one this LRS issued; start the query again.")
    return query


def _well_typed(query: StatementQuery) -> bool:
    """Tell whether every field of a decoded query has the type the query needs."""
    strings = (query.agent, query.verb, query.activity, query.registration)
    flags = (query.related_activities, query.related_agents, query.attachments, query.ascending)
    numbers = (query.after, query.ceiling)
    return (
        all(value is None or isinstance(value, str) for value in strings)
        and all(isinstance(value, bool) for value in flags)
        and all(value is None or (isinstance(value, int) and not isinstance(value, bool)) for value in numbers)
        and isinstance(query.limit, int)
        and not isinstance(query.limit, bool)
        and isinstance(query.format, str)
        and all(value is None or value.tzinfo is not None for value in (query.since, query.until))
    )
