"""Turn a validated statement into the statement as stored, and into the keys the queries filter on.

xAPI 1.0.3 Data 2.4 (LRS-assigned properties): the LRS sets `id` when absent, overwrites
`stored`, sets `timestamp` to `stored` when absent, records the credential's `authority` and sets
`version` ("1.0.0" under 1.0.3, "2.0.0" under 2.0.0) when absent; it returns every
contextActivities value as an array (Data 2.4.6.2). Nothing here touches HTTP or SQL.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from lrs.xapi.types import canonical_timestamp, format_timestamp
from lrs.xapi.validation import IFI_KEYS, SIGNATURE_USAGE, VOIDED_VERB

# Which kind of key a row of the statement index holds (see lrs.storage.models.StatementKey).
KEY_VERB = "v"
KEY_AGENT = "a"  # actor, or Agent/Group object: the `agent` filter
KEY_AGENT_RELATED = "A"  # every agent anywhere: `related_agents=true`
KEY_ACTIVITY = "o"  # the object Activity: the `activity` filter
KEY_ACTIVITY_RELATED = "O"  # every activity anywhere: `related_activities=true`
KEY_REGISTRATION = "r"


def agent_key(agent: dict[str, Any]) -> str | None:
    """Return one string naming an Agent's or identified Group's inverse functional identifier."""
    for name in IFI_KEYS:
        value = agent.get(name)
        if value is None:
            continue
        if name == "account":
            return f"account:{value.get('homePage', '')}|{value.get('name', '')}"
        if name == "mbox_sha1sum":
            return f"mbox_sha1sum:{str(value).lower()}"
        return f"{name}:{value}"
    return None


@dataclass
class StatementKeys:
    """What a stored statement is found by."""

    verb_id: str
    actor_key: str | None
    object_type: str
    object_activity_id: str | None
    object_ref_id: str | None
    registration: str | None
    voiding_target: str | None
    keys: set[tuple[str, str]] = field(default_factory=set)


def _agents_in(actor: dict[str, Any]) -> Iterator[str]:
    key = agent_key(actor)
    if key:
        yield key
    for member in actor.get("member") or ():
        member_key = agent_key(member)
        if member_key:
            yield member_key


def _context_activity_ids(context: dict[str, Any]) -> Iterator[str]:
    for items in (context.get("contextActivities") or {}).values():
        for item in items if isinstance(items, list) else [items]:
            yield str(item["id"])


def _related(stmt: dict[str, Any], keys: set[tuple[str, str]]) -> None:
    # Communication 2.1.3 related_agents / related_activities: actor, object, authority, instructor,
    # team, context activities (and contextAgents/contextGroups in 2.0), also inside a SubStatement.
    for key in _agents_in(stmt["actor"]):
        keys.add((KEY_AGENT_RELATED, key))
    obj = stmt["object"]
    kind = obj.get("objectType", "Activity")
    if kind == "Activity":
        keys.add((KEY_ACTIVITY_RELATED, str(obj["id"])))
    elif kind in ("Agent", "Group"):
        for key in _agents_in(obj):
            keys.add((KEY_AGENT_RELATED, key))
    elif kind == "SubStatement":
        _related(obj, keys)
    if stmt.get("authority"):
        for key in _agents_in(stmt["authority"]):
            keys.add((KEY_AGENT_RELATED, key))
    context = stmt.get("context")
    if context:
        for name in ("instructor", "team"):
            if name in context:
                for key in _agents_in(context[name]):
                    keys.add((KEY_AGENT_RELATED, key))
        for item in context.get("contextAgents") or ():
            for key in _agents_in(item["agent"]):
                keys.add((KEY_AGENT_RELATED, key))
        for item in context.get("contextGroups") or ():
            for key in _agents_in(item["group"]):
                keys.add((KEY_AGENT_RELATED, key))
        for activity_id in _context_activity_ids(context):
            keys.add((KEY_ACTIVITY_RELATED, activity_id))


def statement_keys(stmt: dict[str, Any]) -> StatementKeys:
    """Extract the indexed columns and index keys of a prepared statement."""
    obj = stmt["object"]
    kind = str(obj.get("objectType", "Activity"))
    verb_id = str(stmt["verb"]["id"])
    keys: set[tuple[str, str]] = {(KEY_VERB, verb_id)}
    actor_key = agent_key(stmt["actor"])
    if actor_key:
        keys.add((KEY_AGENT, actor_key))
    activity_id = str(obj["id"]) if kind == "Activity" else None
    if activity_id:
        keys.add((KEY_ACTIVITY, activity_id))
    if kind in ("Agent", "Group"):
        object_key = agent_key(obj)
        if object_key:
            keys.add((KEY_AGENT, object_key))
    registration = (stmt.get("context") or {}).get("registration")
    if registration:
        registration = str(registration).lower()
        keys.add((KEY_REGISTRATION, registration))
    _related(stmt, keys)
    ref_id = str(obj["id"]).lower() if kind == "StatementRef" else None
    return StatementKeys(
        verb_id=verb_id,
        actor_key=actor_key,
        object_type=kind,
        object_activity_id=activity_id,
        object_ref_id=ref_id,
        registration=registration,
        voiding_target=ref_id if verb_id == VOIDED_VERB else None,
        keys=keys,
    )


def _normalise_context_activities(stmt: dict[str, Any]) -> None:
    context = stmt.get("context")
    if context and "contextActivities" in context:
        context["contextActivities"] = {
            name: value if isinstance(value, list) else [value] for name, value in context["contextActivities"].items()
        }
    obj = stmt.get("object")
    if isinstance(obj, dict) and obj.get("objectType") == "SubStatement":
        _normalise_context_activities(obj)


def prepare(
    stmt: dict[str, Any], *, stored: dt.datetime, authority: dict[str, Any], version: str
) -> dict[str, Any]:
    """Fill in the LRS-assigned properties and return the statement as it will be stored."""
    prepared = dict(stmt)
    # The id keeps the case it was sent in (the LRS returns what it received); the index lowercases it.
    prepared["id"] = str(stmt["id"]) if "id" in stmt else str(uuid.uuid4())
    stored_text = format_timestamp(stored)
    prepared["stored"] = stored_text
    prepared["timestamp"] = canonical_timestamp(stmt["timestamp"]) if "timestamp" in stmt else stored_text
    # Data 2.4.9: the LRS overwrites authority with the credential's (no trust relationship here).
    prepared["authority"] = authority
    prepared.setdefault("version", "2.0.0" if version.startswith("2.") else "1.0.0")
    if "context" in prepared:
        prepared["context"] = dict(prepared["context"])
    if isinstance(prepared.get("object"), dict) and prepared["object"].get("objectType") == "SubStatement":
        prepared["object"] = dict(prepared["object"])
        if "context" in prepared["object"]:
            prepared["object"]["context"] = dict(prepared["object"]["context"])
    _normalise_context_activities(prepared)
    return prepared


def activities_with_definitions(stmt: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Yield every Activity object in a statement (object, context activities, SubStatement)."""
    obj = stmt["object"]
    kind = obj.get("objectType", "Activity")
    if kind == "Activity":
        yield obj
    elif kind == "SubStatement":
        yield from activities_with_definitions(obj)
    for items in ((stmt.get("context") or {}).get("contextActivities") or {}).values():
        yield from items if isinstance(items, list) else [items]


def attachment_hashes(stmt: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the statement's attachment metadata (SubStatement attachments included)."""
    found = list(stmt.get("attachments") or [])
    obj = stmt.get("object") or {}
    if obj.get("objectType") == "SubStatement":
        found.extend(obj.get("attachments") or [])
    return found


def signature_attachments(stmt: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the statement's signature attachments (Data 2.6 Signed Statements)."""
    return [item for item in stmt.get("attachments") or [] if item.get("usageType") == SIGNATURE_USAGE]
