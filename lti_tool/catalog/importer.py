"""Import and export the catalog as CSV or JSON, checking every row and writing all or nothing (B4).

An import first checks every row (fields, category codes, hours, addresses, duplicate codes in the
file and in the catalog) and collects a report of what was refused and why. Only when no row is
refused (or, with `partial=True`, for the rows that passed) are the courses written, in one
transaction: a failure half-way rolls everything back, so nothing is ever half-imported.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from lrs.errors import BadRequest, PayloadTooLarge
from lti_tool.catalog import service
from lti_tool.catalog.domain import COURSE_FIELDS, CourseData, ValidationFailed
from lti_tool.catalog.models import CatalogCourse

DEFAULT_MAX_ROWS = 5000
DEFAULT_MAX_BYTES = 5 * 1024 * 1024
LIST_FIELDS = ("languages", "subtitle_languages", "topics", "tags")
# Spreadsheet programs run cells starting with these as formulas ("CSV injection"): the export
# prefixes such cells with an apostrophe, and the import removes it again.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class RowReport:
    """What happened to one row: its number (1 = first data row), its code and its problems."""

    row: int
    code: str
    problems: list[dict[str, str]] = field(default_factory=list)


@dataclass
class ImportReport:
    """The outcome of an import: rows read, courses created or updated, rows refused and why."""

    total: int = 0
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    refused: list[RowReport] = field(default_factory=list)
    written: bool = False
    message: str = ""

    def as_dict(self) -> dict[str, Any]:
        """Return the report as JSON-ready data."""
        return {
            "total": self.total, "created": self.created, "updated": self.updated, "written": self.written,
            "message": self.message,
            "refused": [{"row": r.row, "code": r.code, "problems": r.problems} for r in self.refused],
        }


def parse_rows(content: bytes, filename: str, *, max_rows: int = DEFAULT_MAX_ROWS,
               max_bytes: int = DEFAULT_MAX_BYTES) -> list[dict[str, Any]]:
    """Read a CSV or JSON file into row dicts, refusing oversized or unreadable files as a whole."""
    if len(content) > max_bytes:
        raise PayloadTooLarge(f"The file has {len(content)} bytes; an import may have at most {max_bytes} bytes. "
                              "Split it into smaller files.")
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise BadRequest(f"The file is not UTF-8 text (byte {err.start} cannot be read); save it as UTF-8 and try again.") from None
    if filename.lower().endswith(".json") or text.lstrip().startswith(("[", "{")):
        rows = _json_rows(text)
    else:
        rows = _csv_rows(text)
    if len(rows) > max_rows:
        raise PayloadTooLarge(f"The file has {len(rows)} rows; an import may have at most {max_rows} rows. "
                              "Split it into smaller files.")
    if not rows:
        raise BadRequest("The file has no course rows.")
    return rows


def _json_rows(text: str) -> list[dict[str, Any]]:
    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError as err:
        raise BadRequest(f"The JSON cannot be read: {err}.") from None
    if isinstance(data, dict) and isinstance(data.get("courses"), list):
        data = data["courses"]
    if not isinstance(data, list):
        raise BadRequest('Give a JSON list of courses, or an object with a "courses" list.')
    rows: list[dict[str, Any]] = []
    for number, item in enumerate(data, start=1):
        rows.append(item if isinstance(item, dict) else {"__not_object__": number})
    return rows


def _csv_rows(text: str) -> list[dict[str, Any]]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [name.strip() for name in (reader.fieldnames or [])]
    if "code" not in header:
        raise BadRequest("The CSV's first line must name the columns, including code; export the catalog for an example.")
    unknown = [name for name in header if name and name not in COURSE_FIELDS]
    if unknown:
        raise BadRequest(f"The CSV has an unknown column {unknown[0]!r}; the columns are: {', '.join(COURSE_FIELDS)}.")
    reader.fieldnames = header
    rows: list[dict[str, Any]] = []
    try:
        for row in reader:
            if None in row:
                rows.append({"__extra_cells__": True, **{k: v for k, v in row.items() if k is not None}})
            else:
                rows.append({name: _unguard(value) for name, value in row.items()})
    except csv.Error as err:
        raise BadRequest(f"The CSV cannot be read near line {reader.line_num}: {err}.") from None
    return rows


def check_rows(session: Session, rows: list[dict[str, Any]], *, update_existing: bool = False,
               progress: Callable[[int, int], None] | None = None) -> tuple[ImportReport, list[CourseData]]:
    """Check every row without writing; return the report so far and the rows that passed."""
    report = ImportReport(total=len(rows))
    existing = set(session.scalars(select(CatalogCourse.code)))
    codes = service.category_codes(session)
    seen: dict[str, int] = {}
    accepted: list[CourseData] = []
    for number, raw in enumerate(rows, start=1):
        code = str(raw.get("code") or "").strip().upper()[:40]
        row = RowReport(number, code)
        if "__not_object__" in raw:
            row.problems.append({"field": "", "message": "This entry is not a JSON object with course fields."})
        elif raw.get("__extra_cells__"):
            row.problems.append({"field": "", "message": "This row has more cells than the header has columns."})
        else:
            unknown = sorted(set(raw) - set(COURSE_FIELDS))
            if unknown:
                row.problems.append({"field": unknown[0], "message": f"Unknown field {unknown[0]!r}."})
            try:
                data = service.validate(raw, codes)
            except ValidationFailed as err:
                row.problems.extend({"field": p.field, "message": p.text()} for p in err.problems)
            else:
                if data.code in seen:
                    row.problems.append({"field": "code", "message":
                                         f"The course code {data.code} is also used on row {seen[data.code]}; each row needs its own code."})
                elif data.code in existing and not update_existing:
                    row.problems.append({"field": "code", "message":
                                         f"The course code {data.code} is already in the catalog; import with updates allowed to change it."})
                else:
                    seen[data.code] = number
                    if not row.problems:
                        accepted.append(data)
        if row.problems:
            report.refused.append(row)
        if progress and (number % 50 == 0 or number == len(rows)):
            progress(number, len(rows))
    return report, accepted


def write_rows(session: Session, report: ImportReport, accepted: list[CourseData], actor: str, *,
               update_existing: bool = False, partial: bool = False) -> ImportReport:
    """Write the accepted courses in the caller's transaction, unless a refused row stops the import."""
    if report.refused and not partial:
        report.message = (f"{len(report.refused)} of {report.total} rows were refused, so nothing was imported; "
                          "correct them and import the file again.")
        return report
    existing = set(session.scalars(select(CatalogCourse.code)))
    with session.begin_nested():
        for data in accepted:
            if data.code in existing and update_existing:
                course = service.get_course(session, data.code)
                if service.update_course(session, course, data, actor):
                    report.updated.append(data.code)
            else:
                service.create_course(session, data, actor, note="imported")
                report.created.append(data.code)
    report.written = True
    report.message = (f"Imported {len(report.created)} new courses as drafts and updated {len(report.updated)}"
                      + (f"; {len(report.refused)} rows were refused and skipped." if report.refused else "."))
    return report


def import_rows(session: Session, rows: list[dict[str, Any]], actor: str, *, update_existing: bool = False,
                partial: bool = False, progress: Callable[[int, int], None] | None = None) -> ImportReport:
    """Check every row, then write the accepted courses in the caller's transaction, or none of them."""
    report, accepted = check_rows(session, rows, update_existing=update_existing, progress=progress)
    return write_rows(session, report, accepted, actor, update_existing=update_existing, partial=partial)


# ---- export -------------------------------------------------------------------------------------

def _guard(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA_START) else text


def _unguard(text: Any) -> Any:
    if isinstance(text, str) and text.startswith("'") and text[1:].startswith(_FORMULA_START):
        return text[1:]
    return text


def _flat(value: Any, name: str) -> str:
    if name == "segments":
        return ";".join(f"{s['code']}:{s['hours']}" for s in value)
    if name in LIST_FIELDS:
        return ";".join(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "" if value is None else str(value)


def export_rows(session: Session) -> list[dict[str, Any]]:
    """Return every course as a row of plain values, in the import's field names."""
    return [service.snapshot(course) for course in service.all_courses(session)]


def export_csv(session: Session) -> str:
    """Write the catalog as CSV text that `import` reads back."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(COURSE_FIELDS), lineterminator="\n")
    writer.writeheader()
    for row in export_rows(session):
        writer.writerow({name: _guard(_flat(row.get(name), name)) for name in COURSE_FIELDS})
    return out.getvalue()


def export_json(session: Session) -> bytes:
    """Write the catalog as JSON that `import` reads back."""
    return orjson.dumps({"courses": export_rows(session)}, option=orjson.OPT_INDENT_2)

