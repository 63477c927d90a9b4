"""Test import and export: row-by-row reports, all-or-nothing writes, limits, CLI and upload page (B4)."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from flask import Flask
from flask.testing import FlaskClient

from lrs.db import get_db
from lrs.errors import BadRequest, PayloadTooLarge
from lti_tool.catalog import importer, service
from lti_tool.catalog.cli import catalog_group
from lti_tool.catalog.domain import COURSE_FIELDS, Status
from tests.conftest import csrf_token_from
from tests.lti_tool.catalog.conftest import course_row


def to_csv(rows: list[dict[str, Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=[f for f in COURSE_FIELDS if f != "status"], extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def codes_in(app: Flask) -> list[str]:
    with app.app_context(), get_db(app).session() as session:
        return [course.code for course in service.all_courses(session)]


def run_import(app: Flask, content: bytes, name: str = "courses.csv", **options: Any) -> importer.ImportReport:
    rows = importer.parse_rows(content, name)
    with app.app_context(), get_db(app).session() as session:
        return importer.import_rows(session, rows, "tester", **options)


def test_catalog_import_creates_drafts_with_history(app: Flask) -> None:
    """B4: valid rows become draft courses, each with a history entry naming who imported it."""
    report = run_import(app, to_csv([course_row(code="IMP-1"), course_row(code="IMP-2", segments="202:6")]))
    assert report.written and report.created == ["IMP-1", "IMP-2"] and not report.refused
    with app.app_context(), get_db(app).session() as session:
        course = service.get_course(session, "IMP-2")
        assert course.status == Status.DRAFT.value
        assert [(h.actor, h.action, h.note) for h in service.history(session, course)] == [("tester", "create", "imported")]


@pytest.mark.parametrize(("overrides", "field", "message"), [
    ({"segments": "202:4; 12345:2"}, "segments", "Category code 12345 is not in the lifelong-learning portal's code table."),
    ({"hours": "-3", "segments": "202:-3"}, "hours", "Hours cannot be negative (got -3)."),
    ({"hours": "999", "segments": "202:999", "effort_hours": ""}, "hours",
     "999 hours is more than any single course carries (at most 300); check the figure."),
    ({"url": "www.example.org/course"}, "url",
     "www.example.org/course is not a web address: it must start with https:// or http://."),
    ({"url": "https://exa mple.org/"}, "url", "https://exa mple.org/ is not a valid web address: it contains spaces."),
    ({"segments": "202:4; 505:1"}, "segments",
     "The category-code segments add up to 5 h but the certified hours are 6 h; they must be equal."),
])
def test_catalog_import_refuses_bad_rows_precisely_and_writes_nothing(
    app: Flask, overrides: dict[str, Any], field: str, message: str,
) -> None:
    """Bad input: one bad row is reported with its row number, field and message, and no row is written."""
    rows = [course_row(code="GOOD-1"), course_row(code="BAD-1", **overrides), course_row(code="GOOD-2")]
    report = run_import(app, to_csv(rows))
    assert not report.written and report.created == []
    assert [(r.row, r.code) for r in report.refused] == [(2, "BAD-1")]
    assert {"field": field, "message": message} in report.refused[0].problems
    assert "nothing was imported" in report.message
    assert codes_in(app) == []


def test_catalog_import_refuses_duplicate_codes_in_the_file_and_the_catalog(app: Flask,
                                                                          add_course: Callable[..., str]) -> None:
    """Bad input: a code used twice in the file, or already in the catalog, is refused with both places named."""
    add_course(code="OLD-1")
    report = run_import(app, to_csv([course_row(code="NEW-1"), course_row(code="new-1"), course_row(code="OLD-1")]))
    problems = {r.row: r.problems[0]["message"] for r in report.refused}
    assert problems == {
        2: "The course code NEW-1 is also used on row 1; each row needs its own code.",
        3: "The course code OLD-1 is already in the catalog; import with updates allowed to change it.",
    }
    assert codes_in(app) == ["OLD-1"]


def test_catalog_import_partial_writes_only_the_valid_rows(app: Flask) -> None:
    """With partial imports allowed, valid rows are written and refused rows reported."""
    report = run_import(app, to_csv([course_row(code="OK-1"), course_row(code="KO-1", url="nope")]), partial=True)
    assert report.written and report.created == ["OK-1"] and [r.code for r in report.refused] == ["KO-1"]
    assert codes_in(app) == ["OK-1"]


def test_catalog_import_update_changes_existing_courses_with_history(app: Flask, add_course: Callable[..., str]) -> None:
    """With updates allowed, an existing code is updated and the change is in its history."""
    add_course(code="UPD-1")
    report = run_import(app, to_csv([course_row(code="UPD-1", title_en="Renamed")]), update_existing=True)
    assert report.updated == ["UPD-1"]
    with app.app_context(), get_db(app).session() as session:
        course = service.get_course(session, "UPD-1")
        assert course.title_en == "Renamed" and service.history(session, course)[0].action == "edit"


def test_catalog_import_rolls_back_everything_when_a_write_fails(app: Flask, add_course: Callable[..., str]) -> None:
    """Nothing half-imported: a conflict found while writing undoes the rows written before it."""
    rows = importer.parse_rows(to_csv([course_row(code="FIRST-1"), course_row(code="RACE-1")]), "x.csv")
    with app.app_context(), get_db(app).session() as session:
        report, accepted = importer.check_rows(session, rows)
    add_course(code="RACE-1")  # another curator creates the same code between the check and the write
    with pytest.raises(Exception, match="RACE-1 is already used"), app.app_context(), get_db(app).session() as session:
        importer.write_rows(session, report, accepted, "tester")
    assert codes_in(app) == ["RACE-1"]


@pytest.mark.parametrize(("content", "name", "error", "fragment"), [
    (b"", "x.csv", BadRequest, "The CSV's first line must name the columns"),
    (b"code,colour\nA,red\n", "x.csv", BadRequest, "unknown column 'colour'"),
    (b"\xff\xfe\x00bad", "x.csv", BadRequest, "not UTF-8 text"),
    (b"{not json", "x.json", BadRequest, "The JSON cannot be read"),
    (b'{"a": 1}', "x.json", BadRequest, 'Give a JSON list of courses'),
    (b"[]", "x.json", BadRequest, "no course rows"),
])
def test_catalog_import_refuses_unreadable_files(content: bytes, name: str, error: type[Exception],
                                                 fragment: str) -> None:
    """Bad input: an unreadable file is refused as a whole with a message saying what to fix."""
    with pytest.raises(error) as caught:
        importer.parse_rows(content, name)
    assert fragment in str(caught.value)


def test_catalog_import_refuses_oversized_files() -> None:
    """Bad input: files above the row or byte limits are refused before any row is checked."""
    content = to_csv([course_row(code=f"ROW-{n}") for n in range(12)])
    with pytest.raises(PayloadTooLarge, match="The file has 12 rows; an import may have at most 10 rows"):
        importer.parse_rows(content, "x.csv", max_rows=10)
    with pytest.raises(PayloadTooLarge, match=f"The file has {len(content)} bytes; an import may have at most 1000 bytes"):
        importer.parse_rows(content, "x.csv", max_bytes=1000)


def test_catalog_import_reads_json_and_reports_entries_that_are_not_objects(app: Flask) -> None:
    """B4: JSON imports take native values; a stray value is reported by its position."""
    body = orjson.dumps({"courses": [course_row(code="JS-1", segments=[{"code": "202", "hours": 6}]), 42]})
    report = run_import(app, body, "c.json")
    assert [(r.row, r.problems[0]["message"]) for r in report.refused] == [
        (2, "This entry is not a JSON object with course fields.")]
    assert run_import(app, orjson.dumps([course_row(code="JS-1")]), "c.json").created == ["JS-1"]


def test_catalog_export_round_trips_through_import(app: Flask, add_course: Callable[..., str], tmp_path: Path) -> None:
    """B4: an exported catalog imports back into an empty catalog with the same fields."""
    add_course(code="RT-1", title_zh="「引號」, 逗號", segments="202:4; 505:2", pass_mark="")
    with app.app_context(), get_db(app).session() as session:
        before = service.snapshot(service.get_course(session, "RT-1"))
        csv_text = importer.export_csv(session)
        json_body = importer.export_json(session)
        session.delete(service.get_course(session, "RT-1"))
    for content, name in ((csv_text.encode(), "c.csv"), (json_body, "c.json")):
        report = run_import(app, content, name)
        assert report.created == ["RT-1"], report.as_dict()
        with app.app_context(), get_db(app).session() as session:
            course = service.get_course(session, "RT-1")
            after = service.snapshot(course)
            session.delete(course)
        assert {k: v for k, v in after.items() if k != "status"} == {k: v for k, v in before.items() if k != "status"}


def test_catalog_import_cli_prints_each_refusal_and_exits_nonzero(app: Flask, tmp_path: Path) -> None:
    """`learning-bridge catalog import FILE` reports refused rows and exits 1 when nothing was imported."""
    bad = tmp_path / "bad.csv"
    bad.write_bytes(to_csv([course_row(code="CLI-1", segments="202:6"), course_row(code="CLI-2", hours="-1")]))
    checked = app.test_cli_runner().invoke(catalog_group, args=["import", "--check-only", str(bad)])
    assert checked.exit_code == 1
    assert "Checked 2 rows: 1 would be imported, 1 refused; nothing was written." in checked.output
    result = app.test_cli_runner().invoke(catalog_group, args=["import", str(bad)])
    assert result.exit_code == 1
    assert "row 2 CLI-2 hours: Hours cannot be negative (got -1)." in result.output
    assert "1 of 2 rows were refused, so nothing was imported" in result.output
    good = tmp_path / "good.csv"
    good.write_bytes(to_csv([course_row(code="CLI-1")]))
    ok = app.test_cli_runner().invoke(catalog_group, args=["import", str(good)])
    assert ok.exit_code == 0 and "Imported 1 new courses" in ok.output
    exported = app.test_cli_runner().invoke(catalog_group, args=["export", "--format", "json"])
    assert orjson.loads(exported.output)["courses"][0]["code"] == "CLI-1"


def test_catalog_import_page_post_shows_progress_then_the_report(app: Flask, curator: FlaskClient) -> None:
    """B4: an upload is checked in the background; its page shows progress, then what was refused and why."""
    rows = [course_row(code=f"UP-{n}") for n in range(120)] + [course_row(code="UP-BAD", segments="77777:6")]
    token = csrf_token_from(curator, "/catalog/manage/import")
    response = curator.post("/catalog/manage/import", data={
        "csrf_token": token, "file": (io.BytesIO(to_csv(rows)), "many.csv")}, content_type="multipart/form-data")
    assert response.status_code == 302
    job_url = response.headers["Location"]
    deadline = time.monotonic() + 60
    while True:
        body = curator.get(job_url + ".json").get_json()
        if body["state"] not in ("queued", "running") or time.monotonic() > deadline:
            break
        assert 'max="121"' in curator.get(job_url).get_data(as_text=True)
        time.sleep(0.1)
    assert body["state"] == "refused" and body["checked_rows"] == 121
    assert body["report"]["refused"] == [{"row": 121, "code": "UP-BAD", "problems": [
        {"field": "segments", "message": "Category code 77777 is not in the lifelong-learning portal's code table."}]}]
    page = curator.get(job_url + "?lang=en").get_data(as_text=True)
    assert "77777" in page and "nothing was imported" in page
    assert codes_in(app) == []


def test_catalog_import_page_post_refuses_an_oversized_upload(app: Flask, curator: FlaskClient) -> None:
    """Bad input: an upload above the byte limit is refused at once with the limit named."""
    app.config["CATALOG_IMPORT_MAX_BYTES"] = 2000
    token = csrf_token_from(curator, "/catalog/manage/import")
    content = to_csv([course_row(code=f"BIG-{n}") for n in range(10)])
    response = curator.post("/catalog/manage/import?lang=en", data={
        "csrf_token": token, "file": (io.BytesIO(content), "big.csv")}, content_type="multipart/form-data")
    assert response.status_code == 413
    assert "an import may have at most 2000 bytes" in response.get_data(as_text=True)
    assert codes_in(app) == []


def test_catalog_export_get_downloads_csv_and_json(curator: FlaskClient, add_course: Callable[..., str]) -> None:
    """B4: curators download the catalog as CSV (with a byte-order mark for spreadsheets) or JSON."""
    add_course(code="DL-1")
    csv_response = curator.get("/catalog/manage/export.csv")
    assert csv_response.mimetype == "text/csv" and "attachment" in csv_response.headers["Content-Disposition"]
    assert csv_response.get_data(as_text=True).startswith("\ufeffcode,kind,status")
    assert curator.get("/catalog/manage/export.json").get_json()["courses"][0]["code"] == "DL-1"


def test_catalog_export_csv_guards_cells_that_spreadsheets_would_run(app: Flask,
                                                                    add_course: Callable[..., str]) -> None:
    """Security: a title starting with = is exported as text ('=...) and imports back unchanged."""
    add_course(code="FX-1", title_en='=HYPERLINK("http://evil.example","click")', tags="@risk; +plus")
    with app.app_context(), get_db(app).session() as session:
        exported = importer.export_csv(session)
        session.delete(service.get_course(session, "FX-1"))
    row = next(csv.DictReader(io.StringIO(exported)))
    assert row["title_en"] == '\'=HYPERLINK("http://evil.example","click")' and row["tags"] == "'@risk;+plus"
    assert run_import(app, exported.encode()).created == ["FX-1"]
    with app.app_context(), get_db(app).session() as session:
        course = service.get_course(session, "FX-1")
        assert course.title_en.startswith("=HYPERLINK") and course.tags == ["@risk", "+plus"]
