"""Shape returned statements for `format=exact|ids|canonical` (xAPI 1.0.3 Communication 2.1.3).

`ids` keeps only what identifies Agents, Groups, Activities and Verbs; `canonical` replaces each
Activity's definition with the LRS's canonical one and keeps one language per language map,
chosen by the request's Accept-Language (Communication 2.1.3 "canonical", Data 4.1).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from lrs.xapi.validation import IFI_KEYS

DefinitionLookup = Callable[[str], dict[str, Any] | None]


def _agent_ids(agent: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "objectType" in agent:
        out["objectType"] = agent["objectType"]
    for key in IFI_KEYS:
        if key in agent:
            out[key] = agent[key]
            break
    else:
        if "member" in agent:
            out["member"] = [_agent_ids(member) for member in agent["member"]]
    return out


def _activity_ids(activity: dict[str, Any]) -> dict[str, Any]:
    # ADL's conformance suite (XAPI-00171) expects an Activity in `ids` format to be its id alone.
    return {"id": activity["id"]}


def _walk(stmt: dict[str, Any], on_agent: Callable[[dict[str, Any]], dict[str, Any]],
          on_activity: Callable[[dict[str, Any]], dict[str, Any]],
          on_verb: Callable[[dict[str, Any]], dict[str, Any]]) -> dict[str, Any]:
    out = dict(stmt)
    out["actor"] = on_agent(stmt["actor"])
    out["verb"] = on_verb(stmt["verb"])
    obj = stmt["object"]
    kind = obj.get("objectType", "Activity")
    if kind == "Activity":
        out["object"] = on_activity(obj)
    elif kind in ("Agent", "Group"):
        out["object"] = on_agent(obj)
    elif kind == "SubStatement":
        out["object"] = _walk(obj, on_agent, on_activity, on_verb)
    if "authority" in stmt:
        out["authority"] = on_agent(stmt["authority"])
    context = stmt.get("context")
    if context:
        context = dict(context)
        for name in ("instructor", "team"):
            if name in context:
                context[name] = on_agent(context[name])
        if "contextActivities" in context:
            context["contextActivities"] = {
                name: [on_activity(item) for item in items] for name, items in context["contextActivities"].items()
            }
        if "contextAgents" in context:
            context["contextAgents"] = [{**item, "agent": on_agent(item["agent"])} for item in context["contextAgents"]]
        if "contextGroups" in context:
            context["contextGroups"] = [{**item, "group": on_agent(item["group"])} for item in context["contextGroups"]]
        out["context"] = context
    return out


def to_ids(stmt: dict[str, Any]) -> dict[str, Any]:
    """Return the statement in `ids` format."""
    return _walk(stmt, _agent_ids, _activity_ids, lambda verb: {"id": verb["id"]})


def pick_language(mapping: dict[str, str], languages: Sequence[str]) -> dict[str, str]:
    """Keep the one entry of a language map that best matches the preferred languages."""
    if not mapping:
        return mapping
    lowered = {key.lower(): key for key in mapping}
    for wanted in languages:
        wanted = wanted.lower()
        if wanted == "*":
            break
        if wanted in lowered:
            key = lowered[wanted]
            return {key: mapping[key]}
        for low, key in lowered.items():
            if low.split("-")[0] == wanted.split("-")[0]:
                return {key: mapping[key]}
    key = next(iter(mapping))
    return {key: mapping[key]}


def _filter_definition(definition: dict[str, Any], languages: Sequence[str]) -> dict[str, Any]:
    out = dict(definition)
    for key in ("name", "description"):
        if isinstance(out.get(key), dict):
            out[key] = pick_language(out[key], languages)
    for key in ("choices", "scale", "source", "target", "steps"):
        if isinstance(out.get(key), list):
            out[key] = [
                {**item, "description": pick_language(item["description"], languages)} if "description" in item else item
                for item in out[key]
            ]
    return out


def to_canonical(stmt: dict[str, Any], lookup: DefinitionLookup, languages: Sequence[str]) -> dict[str, Any]:
    """Return the statement in `canonical` format."""

    def activity(item: dict[str, Any]) -> dict[str, Any]:
        definition = lookup(str(item["id"]))
        if definition is None:
            definition = item.get("definition")
        out = {key: value for key, value in item.items() if key != "definition"}
        if definition:
            out["definition"] = _filter_definition(definition, languages)
        return out

    def verb(item: dict[str, Any]) -> dict[str, Any]:
        if isinstance(item.get("display"), dict):
            return {**item, "display": pick_language(item["display"], languages)}
        return item

    return _walk(stmt, lambda agent: agent, activity, verb)


def activity_ids(stmt: dict[str, Any]) -> set[str]:
    """Return every Activity id in a statement (object, context activities, SubStatement)."""
    found: set[str] = set()

    def collect(item: dict[str, Any]) -> dict[str, Any]:
        found.add(str(item["id"]))
        return item

    _walk(stmt, lambda agent: agent, collect, lambda verb: verb)
    return found
