"""Read the lifelong-learning portal's course-category codes (課程類別代碼) as data, not code.

The table ships as `data/ecpa_category_codes.csv` (259 codes as of 2023-08). The list grows (e等公務園+
uses newer codes), so it is loaded from data and extended by staff or the CLI
(`learning-bridge certification codes add 539 --name ...`) into `certification_code`, without a code change.
"""

from __future__ import annotations

import csv
import functools
import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from lrs.errors import BadRequest

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


CODE_RE = re.compile(r"^\d{1,6}$")


def code_table(session: Session) -> dict[str, CategoryCode]:
    """Return the shipped table merged with the codes staff added since (additions win on names)."""
    from lrs.certification.models import CategoryCodeAddition

    table = dict(default_codes())
    for row in session.scalars(select(CategoryCodeAddition)):
        table[row.code] = CategoryCode(row.code, row.name, row.top_group, row.note)
    return table


def add_code(session: Session, code: str, name: str = "", top_group: str = "", note: str = "", by: str = "") -> CategoryCode:
    """Add (or rename) a code that the shipped table lacks, e.g. 539/540/541/546 used by e等公務園+ since 2026."""
    from lrs.certification.models import CategoryCodeAddition

    code = code.strip()
    if not CODE_RE.match(code):
        raise BadRequest(f"A category code is 1 to 6 digits, got {code!r}.")
    if len(name) > 200 or len(top_group) > 200 or len(note) > 500:
        raise BadRequest("Keep the name and group under 200 characters and the note under 500.")
    row = session.get(CategoryCodeAddition, code)
    if row is None:
        row = CategoryCodeAddition(code=code)
        session.add(row)
    row.name, row.top_group, row.note, row.added_by = name.strip(), top_group.strip(), note.strip(), by
    session.flush()
    from lrs.certification.people import audit

    audit(session, by, "code.add", code, name=row.name, top_group=row.top_group)
    return CategoryCode(code, row.name, row.top_group, row.note)
