"""Read and write statement JSON strictly and without loss.

Reading: IEEE 9274.1.1 4.2.1 rejects a property used twice, which ordinary parsers silently
collapse, and JSON has no NaN or Infinity. Writing: orjson is fast but writes at most 254 levels
of nesting and 64-bit integers, while extension values may hold more (4.2.7: never reject a
statement for its extension values), so the standard library encodes what orjson cannot.
"""

from __future__ import annotations

import json
import math
from typing import Any

import orjson

from lrs.errors import BadRequest


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    mapping = dict(pairs)
    if len(mapping) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise BadRequest(f"The property {key!r} appears more than once in one JSON object.")
            seen.add(key)
    return mapping


def _no_constants(name: str) -> Any:
    raise BadRequest(f"The request body is not valid JSON ({name} is not a JSON number).")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise BadRequest(f"The number {text[:40]} is too large to store as a JSON number.")
    return value


def parse_json(raw: bytes) -> Any:
    """Parse a JSON body strictly: no repeated properties, no NaN, Infinity or overflowing numbers."""
    try:
        return json.loads(raw, object_pairs_hook=_unique_keys, parse_constant=_no_constants, parse_float=_finite)
    except json.JSONDecodeError as err:
        raise BadRequest(f"The request body is not valid JSON ({err.msg} at position {err.pos}).") from None
    except (UnicodeDecodeError, RecursionError):
        raise BadRequest("The request body is not valid UTF-8 JSON, or nests too deeply.") from None


def dumps(value: Any) -> bytes:
    """Encode JSON compactly, with orjson when it can and the standard library when it cannot."""
    try:
        return orjson.dumps(value)
    except orjson.JSONEncodeError:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
