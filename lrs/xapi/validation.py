"""Validate xAPI statements for 1.0.3 and 2.0.0, naming the path and the rule of the first failure.

xAPI 1.0.3 Data 2.2 (Formatting Requirements) and IEEE 9274.1.1 4.2.1 (Table Guidelines): the LRS
rejects statements with unknown properties, null values outside extensions, wrong types, badly
formatted IRIs/UUIDs/timestamps/language tags, and keys or enumerated values in the wrong case.

A hand-written validator was chosen over a JSON schema because most rules are not expressible in
a schema (revision/platform only with an Activity object, score ranges, SubStatement nesting,
voiding) and because each failure must name its path and rule in one message. `learning-bridge
bench lrs` prints its cost per statement next to the HTTP throughput.
"""

from __future__ import annotations

from typing import Any

from lrs.errors import BadRequest
from lrs.xapi import types

VOIDED_VERB = "http://adlnet.gov/expapi/verbs/voided"
SIGNATURE_USAGE = "http://adlnet.gov/expapi/attachments/signature"
IFI_KEYS = ("mbox", "mbox_sha1sum", "openid", "account")
INTERACTION_TYPES = frozenset(
    {"true-false", "choice", "fill-in", "long-fill-in", "matching", "performance", "sequencing", "likert", "numeric", "other"}
)
COMPONENT_LISTS = ("choices", "scale", "source", "target", "steps")
CONTEXT_ACTIVITY_KEYS = frozenset({"parent", "grouping", "category", "other"})

_STATEMENT_KEYS = frozenset(
    {"id", "actor", "verb", "object", "result", "context", "timestamp", "stored", "authority", "version", "attachments"}
)
_SUBSTATEMENT_KEYS = frozenset({"objectType", "actor", "verb", "object", "result", "context", "timestamp", "attachments"})
_AGENT_KEYS = frozenset({"objectType", "name", *IFI_KEYS})
_GROUP_KEYS = frozenset({"objectType", "name", "member", *IFI_KEYS})
_ACCOUNT_KEYS = frozenset({"homePage", "name"})
_VERB_KEYS = frozenset({"id", "display"})
_ACTIVITY_KEYS = frozenset({"objectType", "id", "definition"})
_DEFINITION_KEYS = frozenset(
    {"name", "description", "type", "moreInfo", "interactionType", "correctResponsesPattern", "extensions", *COMPONENT_LISTS}
)
_COMPONENT_KEYS = frozenset({"id", "description"})
_STATEMENT_REF_KEYS = frozenset({"objectType", "id"})
_RESULT_KEYS = frozenset({"score", "success", "completion", "response", "duration", "extensions"})
_SCORE_KEYS = frozenset({"scaled", "raw", "min", "max"})
_CONTEXT_KEYS_V1 = frozenset(
    {"registration", "instructor", "team", "contextActivities", "revision", "platform", "language", "statement", "extensions"}
)
_CONTEXT_KEYS_V2 = _CONTEXT_KEYS_V1 | {"contextAgents", "contextGroups"}
_CONTEXT_AGENT_KEYS = frozenset({"objectType", "agent", "relevantTypes"})
_CONTEXT_GROUP_KEYS = frozenset({"objectType", "group", "relevantTypes"})
_ATTACHMENT_KEYS = frozenset({"usageType", "display", "description", "contentType", "length", "sha2", "fileUrl"})


class Invalid(BadRequest):
    """A statement breaks a rule of the xAPI data model."""

    def __init__(self, path: str, rule: str) -> None:
        super().__init__(f"{path} {rule}", details={"path": path, "rule": rule})
        self.path = path
        self.rule = rule


def _fail(path: str, rule: str) -> Invalid:
    return Invalid(path, rule)


def _object(value: Any, path: str) -> dict[str, Any]:
    if type(value) is not dict:
        raise _fail(path, f"must be a JSON object, not {_json_type(value)}")
    return value


def _keys(value: dict[str, Any], allowed: frozenset[str], path: str) -> None:
    for key, item in value.items():
        if key not in allowed:
            raise _fail(f"{path}.{key}", "is not a property allowed here (check its spelling and case)")
        if item is None:
            raise _fail(f"{path}.{key}", "must not be null (null is only allowed inside extensions)")


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _string(value: Any, path: str) -> str:
    if type(value) is not str:
        raise _fail(path, f"must be a string, not {_json_type(value)}")
    return value


def _number(value: Any, path: str) -> float:
    if type(value) not in (int, float):
        raise _fail(path, f"must be a number, not {_json_type(value)}")
    return float(value)


def _boolean(value: Any, path: str) -> None:
    if type(value) is not bool:
        raise _fail(path, f"must be true or false, not {_json_type(value)}")


def _iri(value: Any, path: str) -> None:
    if not types.is_iri(value):
        raise _fail(path, "must be an IRI with a scheme (for example https://example.com/id)")


def _uuid(value: Any, path: str) -> None:
    if not types.is_uuid(value):
        raise _fail(path, "must be a UUID in its standard string form (8-4-4-4-12 hex digits)")


def _timestamp(value: Any, path: str) -> None:
    if types.parse_timestamp(value) is None:
        raise _fail(path, "must be an ISO 8601 timestamp such as 2024-05-01T08:30:00.000Z")


def language_map(value: Any, path: str) -> None:
    """Check a language map: RFC 5646 keys and string values (Data 4.1 Language Maps).

    An empty map is refused: ADL's conformance suite (configs/languages.js, "has at least 1
    entry") requires 400 for one, in every place a language map appears; leave the property out instead.
    """
    mapping = _object(value, path)
    if not mapping:
        raise _fail(path, "is an empty language map: give at least one language tag and text, or leave it out")
    for key, text in mapping.items():
        if not types.is_language_tag(key):
            raise _fail(f"{path}.{key}", "is not an RFC 5646 language tag")
        if type(text) is not str:
            raise _fail(f"{path}.{key}", f"must be a string, not {_json_type(text)}")


def extensions(value: Any, path: str) -> None:
    """Check an extensions map: IRI keys, any values (Data 4.3 Extensions)."""
    mapping = _object(value, path)
    for key in mapping:
        if not types.is_iri(key):
            raise _fail(f"{path}.{key}", "extension keys must be IRIs")


def _account(value: Any, path: str) -> None:
    account = _object(value, path)
    _keys(account, _ACCOUNT_KEYS, path)
    if "homePage" not in account:
        raise _fail(f"{path}.homePage", "is required in an account")
    if "name" not in account:
        raise _fail(f"{path}.name", "is required in an account")
    _iri(account["homePage"], f"{path}.homePage")
    _string(account["name"], f"{path}.name")


def _ifis(value: dict[str, Any], path: str, *, required: bool) -> None:
    present = [key for key in IFI_KEYS if key in value]
    if len(present) > 1:
        raise _fail(path, f"must have exactly one inverse functional identifier, but has {', '.join(present)}")
    if not present:
        if required:
            raise _fail(path, "must have exactly one inverse functional identifier (mbox, mbox_sha1sum, openid or account)")
        return
    key = present[0]
    item = value[key]
    if key == "mbox":
        if not types.is_mailto(item):
            raise _fail(f"{path}.mbox", "must be a mailto IRI such as mailto:learner@example.com")
    elif key == "mbox_sha1sum":
        if not types.is_sha1(item):
            raise _fail(f"{path}.mbox_sha1sum", "must be the hex-encoded SHA-1 of a mailto IRI")
    elif key == "openid":
        _iri(item, f"{path}.openid")
    else:
        _account(item, f"{path}.account")


def agent(value: Any, path: str, *, object_type_required: bool = False) -> None:
    """Check an Agent (Data 2.4.2.1)."""
    obj = _object(value, path)
    _keys(obj, _AGENT_KEYS, path)
    kind = obj.get("objectType")
    if kind is None:
        if object_type_required:
            raise _fail(f"{path}.objectType", "is required when an Agent is the object")
    elif kind != "Agent":
        raise _fail(f"{path}.objectType", "must be 'Agent' here")
    if "name" in obj:
        _string(obj["name"], f"{path}.name")
    _ifis(obj, path, required=True)


def group(value: Any, path: str) -> None:
    """Check a Group, anonymous or identified (Data 2.4.2.2)."""
    obj = _object(value, path)
    _keys(obj, _GROUP_KEYS, path)
    if obj.get("objectType") != "Group":
        raise _fail(f"{path}.objectType", "must be 'Group' for a Group")
    if "name" in obj:
        _string(obj["name"], f"{path}.name")
    identified = any(key in obj for key in IFI_KEYS)
    _ifis(obj, path, required=False)
    if "member" in obj:
        members = obj["member"]
        if type(members) is not list:
            raise _fail(f"{path}.member", f"must be an array of Agents, not {_json_type(members)}")
        for index, member in enumerate(members):
            member_path = f"{path}.member[{index}]"
            if type(member) is dict and member.get("objectType") == "Group":
                raise _fail(f"{member_path}.objectType", "a Group's members must be Agents, not Groups")
            agent(member, member_path)
    elif not identified:
        raise _fail(f"{path}.member", "is required in an anonymous Group (one without an identifier)")


def actor(value: Any, path: str) -> None:
    """Check an Agent or Group used as an actor."""
    if type(value) is dict and value.get("objectType") == "Group":
        group(value, path)
    else:
        agent(value, path)


def _verb(value: Any, path: str) -> str:
    verb = _object(value, path)
    _keys(verb, _VERB_KEYS, path)
    if "id" not in verb:
        raise _fail(f"{path}.id", "is required")
    _iri(verb["id"], f"{path}.id")
    if "display" in verb:
        language_map(verb["display"], f"{path}.display")
    return str(verb["id"])


def _components(value: Any, path: str) -> None:
    if type(value) is not list:
        raise _fail(path, f"must be an array of interaction components, not {_json_type(value)}")
    seen: set[str] = set()
    for index, item in enumerate(value):
        item_path = f"{path}[{index}]"
        component = _object(item, item_path)
        _keys(component, _COMPONENT_KEYS, item_path)
        if "id" not in component:
            raise _fail(f"{item_path}.id", "is required in an interaction component")
        ident = _string(component["id"], f"{item_path}.id")
        if ident in seen:
            raise _fail(f"{item_path}.id", f"repeats the id {ident!r}; ids within a component list must be unique")
        seen.add(ident)
        if "description" in component:
            language_map(component["description"], f"{item_path}.description")


def definition(value: Any, path: str) -> None:
    """Check an Activity Definition (Data 2.4.4.1)."""
    obj = _object(value, path)
    _keys(obj, _DEFINITION_KEYS, path)
    for key in ("name", "description"):
        if key in obj:
            language_map(obj[key], f"{path}.{key}")
    if "type" in obj:
        _iri(obj["type"], f"{path}.type")
    if "moreInfo" in obj:
        _iri(obj["moreInfo"], f"{path}.moreInfo")
    if "extensions" in obj:
        extensions(obj["extensions"], f"{path}.extensions")
    interaction = "interactionType" in obj
    if interaction and _string(obj["interactionType"], f"{path}.interactionType") not in INTERACTION_TYPES:
        raise _fail(f"{path}.interactionType", f"must be one of {', '.join(sorted(INTERACTION_TYPES))}")
    if "correctResponsesPattern" in obj:
        if not interaction:
            raise _fail(f"{path}.correctResponsesPattern", "is only allowed with an interactionType")
        patterns = obj["correctResponsesPattern"]
        if type(patterns) is not list:
            raise _fail(f"{path}.correctResponsesPattern", f"must be an array of strings, not {_json_type(patterns)}")
        for index, pattern in enumerate(patterns):
            _string(pattern, f"{path}.correctResponsesPattern[{index}]")
    for key in COMPONENT_LISTS:
        if key in obj:
            if not interaction:
                raise _fail(f"{path}.{key}", "is only allowed with an interactionType")
            _components(obj[key], f"{path}.{key}")


def activity(value: Any, path: str) -> None:
    """Check an Activity (Data 2.4.4.1)."""
    obj = _object(value, path)
    _keys(obj, _ACTIVITY_KEYS, path)
    if "objectType" in obj and obj["objectType"] != "Activity":
        raise _fail(f"{path}.objectType", "must be 'Activity' here")
    if "id" not in obj:
        raise _fail(f"{path}.id", "is required in an Activity")
    _iri(obj["id"], f"{path}.id")
    if "definition" in obj:
        definition(obj["definition"], f"{path}.definition")


def _statement_ref(value: dict[str, Any], path: str) -> None:
    _keys(value, _STATEMENT_REF_KEYS, path)
    if "id" not in value:
        raise _fail(f"{path}.id", "is required in a StatementRef")
    _uuid(value["id"], f"{path}.id")


def _object_property(value: Any, path: str, version: str, *, in_substatement: bool) -> str:
    obj = _object(value, path)
    kind = obj.get("objectType", "Activity")
    if kind == "Activity":
        activity(obj, path)
    elif kind == "Agent":
        agent(obj, path, object_type_required=True)
    elif kind == "Group":
        group(obj, path)
    elif kind == "StatementRef":
        _statement_ref(obj, path)
    elif kind == "SubStatement":
        if in_substatement:
            raise _fail(f"{path}.objectType", "a SubStatement must not contain another SubStatement")
        _substatement(obj, path, version)
    else:
        raise _fail(f"{path}.objectType", "must be one of Activity, Agent, Group, StatementRef, SubStatement")
    return str(kind)


def _score(value: Any, path: str) -> None:
    score = _object(value, path)
    _keys(score, _SCORE_KEYS, path)
    numbers = {key: _number(score[key], f"{path}.{key}") for key in _SCORE_KEYS if key in score}
    if "scaled" in numbers and not -1 <= numbers["scaled"] <= 1:
        raise _fail(f"{path}.scaled", "must be between -1 and 1")
    low, high = numbers.get("min"), numbers.get("max")
    if low is not None and high is not None and not low < high:
        raise _fail(f"{path}.min", "must be less than score.max")
    if "raw" in numbers:
        raw = numbers["raw"]
        if (low is not None and raw < low) or (high is not None and raw > high):
            raise _fail(f"{path}.raw", "must be between score.min and score.max")


def _result(value: Any, path: str) -> None:
    result = _object(value, path)
    _keys(result, _RESULT_KEYS, path)
    if "score" in result:
        _score(result["score"], f"{path}.score")
    for key in ("success", "completion"):
        if key in result:
            _boolean(result[key], f"{path}.{key}")
    if "response" in result:
        _string(result["response"], f"{path}.response")
    if "duration" in result and not types.is_duration(result["duration"]):
        raise _fail(f"{path}.duration", "must be an ISO 8601 duration such as PT1H30M")
    if "extensions" in result:
        extensions(result["extensions"], f"{path}.extensions")


def _context_activities(value: Any, path: str) -> None:
    mapping = _object(value, path)
    if not mapping:
        # ADL's conformance requirement XAPI-00095 (suite configs/contexts.js) refuses an empty one.
        raise _fail(path, "must hold at least one of parent, grouping, category or other; leave it out instead of sending it empty")
    for key, item in mapping.items():
        if key not in CONTEXT_ACTIVITY_KEYS:
            raise _fail(f"{path}.{key}", "is not allowed: use parent, grouping, category or other")
        if item is None:
            raise _fail(f"{path}.{key}", "must not be null")
        if type(item) is list:
            for index, entry in enumerate(item):
                activity(entry, f"{path}.{key}[{index}]")
        else:
            activity(item, f"{path}.{key}")


def _relevant_types(value: Any, path: str) -> None:
    if type(value) is not list or not value:
        raise _fail(path, "must be a non-empty array of IRIs")
    for index, item in enumerate(value):
        _iri(item, f"{path}[{index}]")


def _context(value: Any, path: str, version: str, object_kind: str) -> None:
    context = _object(value, path)
    _keys(context, _CONTEXT_KEYS_V2 if version.startswith("2.") else _CONTEXT_KEYS_V1, path)
    if "registration" in context:
        _uuid(context["registration"], f"{path}.registration")
    if "instructor" in context:
        actor(context["instructor"], f"{path}.instructor")
    if "team" in context:
        group(context["team"], f"{path}.team")
    if "contextActivities" in context:
        _context_activities(context["contextActivities"], f"{path}.contextActivities")
    for key in ("revision", "platform"):
        if key in context:
            if object_kind != "Activity":
                raise _fail(f"{path}.{key}", "is only allowed when the object is an Activity")
            _string(context[key], f"{path}.{key}")
    if "language" in context and not types.is_language_tag(context["language"]):
        raise _fail(f"{path}.language", "must be an RFC 5646 language tag")
    if "statement" in context:
        ref = _object(context["statement"], f"{path}.statement")
        if ref.get("objectType") != "StatementRef":
            raise _fail(f"{path}.statement.objectType", "must be 'StatementRef'")
        _statement_ref(ref, f"{path}.statement")
    if "extensions" in context:
        extensions(context["extensions"], f"{path}.extensions")
    if "contextAgents" in context:
        _context_agents(context["contextAgents"], f"{path}.contextAgents")
    if "contextGroups" in context:
        _context_groups(context["contextGroups"], f"{path}.contextGroups")


def _context_agents(value: Any, path: str) -> None:
    if type(value) is not list:
        raise _fail(path, f"must be an array of contextAgent objects, not {_json_type(value)}")
    for index, item in enumerate(value):
        item_path = f"{path}[{index}]"
        obj = _object(item, item_path)
        _keys(obj, _CONTEXT_AGENT_KEYS, item_path)
        if obj.get("objectType") != "contextAgent":
            raise _fail(f"{item_path}.objectType", "must be 'contextAgent'")
        if "agent" not in obj:
            raise _fail(f"{item_path}.agent", "is required")
        agent(obj["agent"], f"{item_path}.agent")
        if "relevantTypes" in obj:
            _relevant_types(obj["relevantTypes"], f"{item_path}.relevantTypes")


def _context_groups(value: Any, path: str) -> None:
    if type(value) is not list:
        raise _fail(path, f"must be an array of contextGroup objects, not {_json_type(value)}")
    for index, item in enumerate(value):
        item_path = f"{path}[{index}]"
        obj = _object(item, item_path)
        _keys(obj, _CONTEXT_GROUP_KEYS, item_path)
        if obj.get("objectType") != "contextGroup":
            raise _fail(f"{item_path}.objectType", "must be 'contextGroup'")
        if "group" not in obj:
            raise _fail(f"{item_path}.group", "is required")
        group(obj["group"], f"{item_path}.group")
        if "relevantTypes" in obj:
            _relevant_types(obj["relevantTypes"], f"{item_path}.relevantTypes")


def attachments(value: Any, path: str) -> None:
    """Check attachment metadata (Data 2.4.11)."""
    if type(value) is not list:
        raise _fail(path, f"must be an array of attachment objects, not {_json_type(value)}")
    for index, item in enumerate(value):
        item_path = f"{path}[{index}]"
        obj = _object(item, item_path)
        _keys(obj, _ATTACHMENT_KEYS, item_path)
        for key in ("usageType", "display", "contentType", "length", "sha2"):
            if key not in obj:
                raise _fail(f"{item_path}.{key}", "is required in an attachment")
        _iri(obj["usageType"], f"{item_path}.usageType")
        language_map(obj["display"], f"{item_path}.display")
        if "description" in obj:
            language_map(obj["description"], f"{item_path}.description")
        if not types.is_media_type(obj["contentType"]):
            raise _fail(f"{item_path}.contentType", "must be an Internet media type such as application/pdf")
        length = obj["length"]
        if type(length) is not int or length < 0:
            raise _fail(f"{item_path}.length", "must be a whole number of octets")
        if not types.is_sha2(obj["sha2"]):
            raise _fail(f"{item_path}.sha2", "must be the hex-encoded SHA-2 of the attachment's data")
        if "fileUrl" in obj:
            _iri(obj["fileUrl"], f"{item_path}.fileUrl")


def _core(stmt: dict[str, Any], path: str, version: str, *, in_substatement: bool) -> None:
    for key in ("actor", "verb", "object"):
        if key not in stmt:
            raise _fail(f"{path}.{key}", "is required in a statement")
    actor(stmt["actor"], f"{path}.actor")
    verb_id = _verb(stmt["verb"], f"{path}.verb")
    kind = _object_property(stmt["object"], f"{path}.object", version, in_substatement=in_substatement)
    if verb_id == VOIDED_VERB and not in_substatement and kind != "StatementRef":
        # Data 2.3.2 (Voiding): the object of a voiding statement is a StatementRef.
        raise _fail(f"{path}.object.objectType", "must be 'StatementRef' when the verb is voided")
    if "result" in stmt:
        _result(stmt["result"], f"{path}.result")
    if "context" in stmt:
        _context(stmt["context"], f"{path}.context", version, kind)
    if "timestamp" in stmt:
        _timestamp(stmt["timestamp"], f"{path}.timestamp")
    if "attachments" in stmt:
        attachments(stmt["attachments"], f"{path}.attachments")


def _substatement(value: dict[str, Any], path: str, version: str) -> None:
    for key in ("id", "stored", "version", "authority"):
        if key in value:
            raise _fail(f"{path}.{key}", "is not allowed in a SubStatement")
    _keys(value, _SUBSTATEMENT_KEYS, path)
    _core(value, path, version, in_substatement=True)


def _statement_version(value: Any, path: str, version: str) -> None:
    text = _string(value, path)
    parts = text.split(".")
    ok = len(parts) in (2, 3) and all(part.isdigit() for part in parts) and parts[0] in {"1", "2"} and parts[1] == "0"
    if ok and parts[0] == "2" and not version.startswith("2."):
        ok = False
    if not ok:
        allowed = "1.0.x or 2.0.x" if version.startswith("2.") else "1.0.x"
        raise _fail(path, f"must be an xAPI version {allowed}")


def validate_statement(value: Any, version: str, path: str = "statement") -> dict[str, Any]:
    """Check one statement against the xAPI version's data model and return it, or raise `Invalid`."""
    stmt = _object(value, path)
    _keys(stmt, _STATEMENT_KEYS, path)
    if "id" in stmt:
        _uuid(stmt["id"], f"{path}.id")
    _core(stmt, path, version, in_substatement=False)
    if "stored" in stmt:
        _timestamp(stmt["stored"], f"{path}.stored")
    if "authority" in stmt:
        _authority(stmt["authority"], f"{path}.authority")
    if "version" in stmt:
        _statement_version(stmt["version"], f"{path}.version", version)
    return stmt


def _authority(value: Any, path: str) -> None:
    # Data 2.4.9: an Agent, or a Group of exactly two Agents for OAuth 3-legged credentials.
    obj = _object(value, path)
    if obj.get("objectType") == "Group":
        group(obj, path)
        members = obj.get("member")
        if type(members) is not list or len(members) != 2:
            raise _fail(f"{path}.member", "an authority Group must have exactly two Agents")
        named = [key for key in IFI_KEYS if key in obj]
        if named:
            # Data 2.4.9.s3.b3: the OAuth pair is an anonymous Group, identified by its two members only.
            raise _fail(f"{path}.{named[0]}", "an authority Group must be anonymous: it cannot have an mbox, mbox_sha1sum, openid or account")
    else:
        agent(obj, path)
