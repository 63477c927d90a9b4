"""Decide whether two statements are the same statement, for immutability and signed statements.

xAPI 1.0.3 Data 2.3.1 (Statement Comparison Requirements) and IEEE 9274.1.1 4.2 (Statement
Immutability): compare everything except `id`, `authority`, `stored`, `timestamp`, `version`,
attachments, Activity Definitions, the Verb's `display`, the order of Group members and
differences of case; a Duration is compared to 0.01 second precision.
"""

from __future__ import annotations

import re
from typing import Any

_IGNORED_TOP = frozenset({"id", "authority", "stored", "timestamp", "version", "attachments"})
_DURATION_SECONDS = re.compile(r"(\d+)[.,](\d+)S$")


def _canon(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _canon(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_canon(item) for item in value]
    if isinstance(value, str):
        return value.lower()
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float):
        return float(value)
    return value


def _group_members(actor: Any) -> Any:
    if isinstance(actor, dict) and isinstance(actor.get("member"), list):
        actor = dict(actor)
        actor["member"] = sorted(actor["member"], key=repr)
    return actor


def _duration(value: str) -> str:
    match = _DURATION_SECONDS.search(value)
    if match is None:
        return value
    whole, fraction = match.groups()
    hundredths = fraction[:2].ljust(2, "0").rstrip("0")
    seconds = f"{whole}.{hundredths}S" if hundredths else f"{whole}S"
    return value[: match.start()] + seconds


def _activity(value: dict[str, Any]) -> dict[str, Any]:
    return {key: item for key, item in value.items() if key != "definition" and not (key == "objectType" and item == "Activity")}


def _core(stmt: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in stmt.items():
        if key in _IGNORED_TOP:
            continue
        if key == "actor":
            out[key] = _group_members(value)
        elif key == "verb":
            out[key] = {"id": value.get("id")}
        elif key == "object":
            kind = value.get("objectType", "Activity")
            if kind == "Activity":
                out[key] = _activity(value)
            elif kind == "SubStatement":
                out[key] = _core(value)
            else:
                out[key] = _group_members(value)
        elif key == "context":
            context = dict(value)
            if "contextActivities" in context:
                context["contextActivities"] = {
                    name: [_activity(item) for item in (items if isinstance(items, list) else [items])]
                    for name, items in context["contextActivities"].items()
                }
            for name in ("instructor", "team"):
                if name in context:
                    context[name] = _group_members(context[name])
            out[key] = context
        elif key == "result" and isinstance(value, dict) and "duration" in value:
            result = dict(value)
            result["duration"] = _duration(str(result["duration"]))
            out[key] = result
        else:
            out[key] = value
    return out


def comparable(stmt: dict[str, Any]) -> Any:
    """Return the form of a statement that equivalence compares."""
    return _canon(_core(stmt))


def equivalent(first: dict[str, Any], second: dict[str, Any]) -> bool:
    """Tell whether two statements are equivalent under the comparison requirements."""
    return bool(comparable(first) == comparable(second))
