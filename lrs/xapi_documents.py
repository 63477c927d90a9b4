"""Pure rules of the xAPI document resources: parameters, agents, JSON merge and preconditions.

Nothing here touches Flask or the database, so each rule is tested on its own. Sections cited are
xAPI 1.0.3 (Communication, Data); xAPI 2.0.0 (IEEE 9274.1.1) is noted where it differs.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from lrs.errors import BadRequest, Conflict, PreconditionFailed

# Data 4.3 (IRIs): an absolute IRI has a scheme; we check its form, not that it resolves.
_IRI_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s<>\"{}|\\^`]+$")
_UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_SHA1_RE = re.compile(r"^[0-9a-fA-F]{40}$")
_IFIS = ("mbox", "mbox_sha1sum", "openid", "account")
_AGENT_KEYS = frozenset({"objectType", "name", *_IFIS})

STATE = "state"
ACTIVITY_PROFILE = "activity_profile"
AGENT_PROFILE = "agent_profile"


@dataclass(frozen=True)
class Agent:
    """An Agent given as a request parameter, with the one identifier it is keyed by."""

    data: dict[str, Any]
    ifi: str
    value: Any

    @property
    def key(self) -> str:
        """Return the canonical identifier the LRS stores documents under (Data 2.4.2.3)."""
        if self.ifi == "account":
            return f"account|{self.value['homePage']}|{self.value['name']}"
        if self.ifi == "mbox_sha1sum":
            return f"mbox_sha1sum|{str(self.value).lower()}"  # hexadecimal: case carries no meaning
        return f"{self.ifi}|{self.value}"


def is_iri(value: str) -> bool:
    """Tell whether a string has the form of an absolute IRI (Data 4.3)."""
    return bool(_IRI_RE.match(value)) and len(value) <= 4096


def require_iri(value: str | None, name: str) -> str:
    """Return the parameter if it is an absolute IRI, or raise 400 naming it."""
    if value is None or value == "":
        raise BadRequest(f"The {name} parameter is required: give an IRI such as http://example.com/activities/1.")
    if not is_iri(value):
        raise BadRequest(f"The {name} parameter {value[:200]!r} is not an IRI: it needs a scheme, e.g. http://example.com/activities/1.")
    return value


def parse_registration(value: str | None) -> str | None:
    """Return the registration as a lowercase UUID, None when absent, or raise 400 (Data 4.4)."""
    if value is None:
        return None
    if not _UUID_RE.match(value):
        raise BadRequest(f"The registration parameter {value[:100]!r} is not a UUID such as 0b1c5f3e-6a3b-4c55-9c5e-2f8d4e3b7a10.")
    return value.lower()


def require_text(value: str | None, name: str) -> str:
    """Return a required string parameter such as stateId or profileId, or raise 400."""
    if value is None or value == "":
        raise BadRequest(f"The {name} parameter is required.")
    if len(value) > 2000:
        raise BadRequest(f"The {name} parameter is longer than 2000 characters.")
    return value


def parse_agent(raw: str | None, name: str = "agent", *, allow_group: bool = False) -> Agent:
    """Parse and validate the JSON Agent parameter (Communication 2.3.s3, 2.6.s3; Data 2.4.2.1).

    The parameter is an Agent with exactly one inverse functional identifier: mbox, mbox_sha1sum,
    openid or account. The document resources also take an Identified Group (`allow_group`):
    xAPI 2.0.0 names "Agent or Identified Group" there, and 1.0.3 (Communication 2.6 note) has
    clients store group data under the group's identifier; it is keyed by that identifier.
    """
    if raw is None or raw == "":
        raise BadRequest(f"The {name} parameter is required: give a JSON Agent such as {{\"mbox\": \"mailto:learner@example.com\"}}.")
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise BadRequest(f"The {name} parameter is not valid JSON: give a JSON Agent object.") from None
    if not isinstance(data, dict):
        raise BadRequest(f"The {name} parameter must be a JSON object (an Agent), not {type(data).__name__}.")
    object_type = data.get("objectType", "Agent")
    allowed_types = ("Agent", "Group") if allow_group else ("Agent",)
    if object_type not in allowed_types:
        what = "an Agent or an Identified Group" if allow_group else "an Agent"
        raise BadRequest(f"The {name} parameter must be {what}: objectType {object_type!r} is not allowed here.")
    keys = _AGENT_KEYS | {"member"} if object_type == "Group" else _AGENT_KEYS
    if object_type == "Group" and not isinstance(data.get("member", []), list):
        raise BadRequest(f"The {name} parameter's member must be an array of Agents.")
    unknown = sorted(set(data) - keys)
    if unknown:
        raise BadRequest(f"The {name} parameter has a property an Agent does not have: {unknown[0]!r}.")
    if "name" in data and not isinstance(data["name"], str):
        raise BadRequest(f"The {name} parameter's name must be a string.")
    present = [ifi for ifi in _IFIS if ifi in data]
    if len(present) != 1:
        raise BadRequest(
            f"The {name} parameter must have exactly one of mbox, mbox_sha1sum, openid or account; it has {len(present)}."
        )
    ifi = present[0]
    value = data[ifi]
    _check_ifi(name, ifi, value)
    return Agent(data, ifi, value)


def _check_ifi(name: str, ifi: str, value: Any) -> None:
    if ifi == "mbox":
        if not isinstance(value, str) or not value.startswith("mailto:") or "@" not in value:
            raise BadRequest(f"The {name} parameter's mbox must be a mailto IRI such as mailto:learner@example.com.")
    elif ifi == "mbox_sha1sum":
        if not isinstance(value, str) or not _SHA1_RE.match(value):
            raise BadRequest(f"The {name} parameter's mbox_sha1sum must be 40 hexadecimal characters.")
    elif ifi == "openid":
        if not isinstance(value, str) or not is_iri(value):
            raise BadRequest(f"The {name} parameter's openid must be an IRI.")
    else:
        if not isinstance(value, dict) or set(value) != {"homePage", "name"}:
            raise BadRequest(f"The {name} parameter's account must have exactly homePage and name.")
        if not isinstance(value["homePage"], str) or not is_iri(value["homePage"]):
            raise BadRequest(f"The {name} parameter's account homePage must be an IRI.")
        if not isinstance(value["name"], str) or not value["name"]:
            raise BadRequest(f"The {name} parameter's account name must be a non-empty string.")


def person_for(agent: Agent, names_seen: list[str] | None = None) -> dict[str, Any]:
    """Return the Person object for an agent: its identifier, and every name given or seen (Communication 2.4.s3-s6)."""
    person: dict[str, Any] = {"objectType": "Person"}
    names = [agent.data["name"]] if "name" in agent.data else []
    names += [name for name in names_seen or [] if name not in names]
    if names:
        person["name"] = names
    person[agent.ifi] = [agent.value]
    return person


def parse_since(value: str | None) -> dt.datetime | None:
    """Parse the `since` parameter: an ISO 8601 timestamp (Data 4.5), or an HTTP date; None when absent."""
    if value is None:
        return None
    text = value.strip()
    # A '+' in an unencoded query string arrives as a space: put the offset sign back.
    candidate = re.sub(r"(\d) (\d{2}:?\d{2})$", r"\1+\2", text)
    try:
        parsed = dt.datetime.fromisoformat(candidate)
    except ValueError:
        try:
            parsed = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError):
            raise BadRequest(f"The since parameter {value[:100]!r} is not a timestamp such as 2024-01-31T08:00:00Z.") from None
    if "T" not in candidate and not re.search(r"\d{2}:\d{2}", text):
        raise BadRequest(f"The since parameter {value[:100]!r} is not a timestamp such as 2024-01-31T08:00:00Z.")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


def check_params(params: Mapping[str, Any], allowed: frozenset[str], resource: str) -> None:
    """Reject parameters the resource does not recognise (Communication 3.2.s3.b7)."""
    unknown = sorted(set(params) - allowed)
    if unknown:
        raise BadRequest(f"{resource} does not take the parameter {unknown[0]!r}; it takes {', '.join(sorted(allowed))}.")


def etag_of(content: bytes) -> str:
    """Return a document's ETag: the lowercase hex SHA-1 of its contents (Communication 3.1.s4.b2)."""
    return hashlib.sha1(content, usedforsecurity=False).hexdigest()


def quote_etag(etag: str) -> str:
    """Enclose an ETag in quotes for the ETag header (Communication 3.1.s4.b4)."""
    return f'"{etag}"'


def _etag_set(header: str) -> set[str]:
    tags = set()
    for part in header.split(","):
        tag = part.strip()
        if tag.startswith("W/"):
            tag = tag[2:]
        tags.add(tag.strip('"').lower())
    return tags


@dataclass(frozen=True)
class Preconditions:
    """The If-Match and If-None-Match headers of a write."""

    if_match: str | None = None
    if_none_match: str | None = None

    @property
    def given(self) -> bool:
        """Tell whether the client sent either header."""
        return self.if_match is not None or self.if_none_match is not None

    def check(self, current: str | None) -> None:
        """Raise 412 unless the headers hold against the current ETag, None when absent (RFC 7232 3.1, 3.2).

        Communication 3.1.s4.b5-b12: If-Match with an ETag detects changes since the client read the
        document; If-None-Match "*" detects a document the client does not know of.
        """
        if self.if_match is not None:
            wanted = self.if_match.strip()
            if current is None:
                raise PreconditionFailed("If-Match was sent but the document does not exist: it was deleted or never stored.")
            if wanted != "*" and current not in _etag_set(wanted):
                raise PreconditionFailed(
                    "If-Match does not match the document's current ETag: it changed since you read it; GET it again and retry."
                )
        if self.if_none_match is not None:
            wanted = self.if_none_match.strip()
            if current is not None and (wanted == "*" or current in _etag_set(wanted)):
                raise PreconditionFailed(
                    "If-None-Match forbids overwriting, and the document exists: GET it and send If-Match with its ETag."
                )


def require_precondition_for_put(
    kind: str, preconditions: Preconditions, exists: bool, *, v2: bool, unconditional_create: bool = False
) -> None:
    """Refuse a PUT that carries neither If-Match nor If-None-Match where the version forbids it.

    Over an existing document: 409 (Communication 3.1.s4.b13-b15). xAPI 1.0.3 exempts the State
    Resource (3.1.s3); xAPI 2.0.0 does not, and ADL's 2.0.0 suite (4.1.4-Concurrency) holds State to
    the same rule as the profiles.

    Creating an agent or activity profile: a client "MUST include the If-Match header or the
    If-None-Match header" on a profile PUT (1.0.3 Communication 3.1.s3.b1), and ADL's suite refuses
    one without either with 400 (XAPI-00273, XAPI-00287 in the 1.0.3 files and in the 2.0.0
    folder's H.Communication2.6). The State Resource is not bound by it.
    `unconditional_create` (LRS_ALLOW_UNCONDITIONAL_PROFILE_CREATE) lets clients that never send the
    headers, such as TinCanPython, create profiles.
    """
    if preconditions.given or (kind == STATE and not v2):
        return
    if exists:
        raise Conflict(
            "The document already exists and the PUT had neither If-Match nor If-None-Match: check the current "
            "state of the document (GET it), then send If-Match with its ETag to replace it."
        )
    if kind != STATE and not unconditional_create:
        raise BadRequest(
            "A PUT to a profile needs If-None-Match: * to create the document, or If-Match with its ETag to "
            "replace it (xAPI Communication 3.1, Concurrency); it had neither."
        )


def merge_json(existing: bytes, posted: bytes) -> bytes:
    """Merge a POSTed JSON object into the stored one, top-level properties only (Communication 2.2.s7).

    Raise 400 when either document is not a JSON object (Communication 2.2.s8.b1).
    """
    stored = _json_object(existing, "The stored document")
    update = _json_object(posted, "The posted document")
    stored.update(update)
    return orjson.dumps(stored)


def _json_object(content: bytes, what: str) -> dict[str, Any]:
    try:
        value = orjson.loads(content)
    except orjson.JSONDecodeError:
        raise BadRequest(f"{what} is not valid JSON, so it cannot be merged: use PUT to replace the document.") from None
    if not isinstance(value, dict):
        raise BadRequest(f"{what} is JSON but not an object, so it cannot be merged: use PUT to replace the document.")
    return value


def check_json_body(content: bytes, mimetype: str) -> None:
    """Reject a body declared as JSON that does not parse (Communication 3.2.s3.b6)."""
    if mimetype == "application/json":
        try:
            orjson.loads(content)
        except orjson.JSONDecodeError:
            raise BadRequest("The body is declared application/json but is not valid JSON.") from None


def is_json(mimetype: str) -> bool:
    """Tell whether a content type is application/json (parameters such as charset ignored)."""
    return mimetype.split(";", 1)[0].strip().lower() == "application/json"


def http_date(moment: dt.datetime) -> str:
    """Format a time as an HTTP date for Last-Modified (RFC 7231 7.1.1.1)."""
    return email.utils.format_datetime(moment.astimezone(dt.UTC), usegmt=True)
