"""Read the lifelong-learning portal's course-category codes (課程類別代碼) as data, not code.

The table ships as `data/ecpa_category_codes.csv` (259 codes as of 2023-08). The list grows (e等公務園+
uses newer codes), so it is loaded from data and can be extended without a code change.
"""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from pathlib import Path

DATA_FILE = Path(__file__).parent / "data" / "ecpa_category_codes.csv"


@dataclass(frozen=True)
class CategoryCode:
    """One course-category code with its name and top-level group."""

    code: str
    name: str
    top_group: str
    note: str = ""


def read_codes(path: Path = DATA_FILE) -> dict[str, CategoryCode]:
    """Read a code table CSV (columns code,name,top_group,note) into a dict keyed by code."""
    with path.open(encoding="utf-8", newline="") as handle:
        rows = csv.DictReader(handle)
        table: dict[str, CategoryCode] = {}
        for row in rows:
            code = (row.get("code") or "").strip()
            if not code:
                continue
            table[code] = CategoryCode(code, (row.get("name") or "").strip(), (row.get("top_group") or "").strip(),
                                       (row.get("note") or "").strip())
    return table


@functools.cache
def default_codes() -> dict[str, CategoryCode]:
    """Return the shipped code table, read once per process."""
    return read_codes()


def is_valid_code(code: str) -> bool:
    """Tell whether a code is in the shipped table."""
    return code.strip() in default_codes()
