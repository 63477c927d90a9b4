"""Replace every value of rich statements with a value of every JSON type: each answer is a 400 or an acceptance.

Communication 3.2 (Error Codes): a malformed statement is a 400 Bad Request, never a server error.
A validator that looks a value up in a set before checking its type (an object as `interactionType`)
raises TypeError, which the API would turn into a 500. The property-based test samples mutations;
this sweep tries them all, so such a gap cannot hide.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest

from lrs.errors import BadRequest
from lrs.xapi.validation import validate_statement
from tests.lrs.xapi.test_validation import V1, V2, full_statement

Path = tuple[str | int, ...]

REPLACEMENTS: list[Any] = [
    None, True, 0, 1.5, -1, 10**30, "", "x", "http://example.com/x", "mailto:a@example.com",
    [], [1], [{}], [[]], {}, {"a": 1}, {"objectType": "Agent"},
]


def _statements() -> dict[str, dict[str, Any]]:
    """Return a full statement, one whose object is a SubStatement with a full Activity, and an authority Group."""
    full = full_statement()
    sub = full_statement()
    inner = {key: copy.deepcopy(full[key]) for key in ("actor", "verb", "object", "result", "context", "timestamp")}
    sub["object"] = {"objectType": "SubStatement", **inner}
    sub["context"].pop("revision")
    sub["context"].pop("platform")
    authority = full_statement()
    authority["authority"] = {
        "objectType": "Group",
        "member": [{"mbox": "mailto:app@example.com"}, {"account": {"homePage": "https://lrs.example.com", "name": "app"}}],
    }
    return {"full": full, "substatement": sub, "authority": authority}


def _paths(node: Any, prefix: Path = ()) -> Iterator[Path]:
    if prefix:
        yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _paths(value, (*prefix, index))


def _parent(document: Any, path: Path) -> Any:
    for step in path[:-1]:
        document = document[step]
    return document


@pytest.mark.parametrize("version", [V1, V2])
@pytest.mark.parametrize("name", ["full", "substatement", "authority"])
def test_every_replaced_value_is_refused_cleanly_or_accepted(name: str, version: str) -> None:
    """Validate each statement with each node replaced by each JSON type, or removed; only 400s may be raised."""
    base = _statements()[name]
    assert validate_statement(copy.deepcopy(base), version)
    crashes: list[str] = []
    refused = 0
    for path in _paths(base):
        variants: list[Any] = [*REPLACEMENTS, "<removed>"]
        for value in variants:
            document = copy.deepcopy(base)
            parent = _parent(document, path)
            if value == "<removed>":
                if not isinstance(parent, dict):
                    continue
                del parent[path[-1]]
            else:
                parent[path[-1]] = copy.deepcopy(value)
            try:
                validate_statement(document, version)
            except BadRequest:
                refused += 1
            except Exception as error:  # the point: anything but a 400 is a crash
                crashes.append(f"{'.'.join(map(str, path))} = {value!r}: {type(error).__name__}: {error}")
    assert crashes == []
    # The sweep must exercise the validator, not only accept everything.
    assert refused > 500
