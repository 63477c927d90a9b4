"""Test the demo loader and the `learning-bridge certification` commands, including the export byte for byte (D5)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from lrs.certification import demo, exports
from lrs.certification.cli import certification_group
from lrs.certification.models import Course, Credit, Person
from lrs.certification.rules import TAIPEI
from tests.lrs.certification.conftest import ID_NUMBER, TPE, completion

HEADER = exports.PORTAL_HEADER


def test_certification_demo_load_is_idempotent(app: Flask, db: Session) -> None:
    """The demo loads registry entries, people and credits once; a second run changes nothing."""
    first = demo.load_demo(app)
    second = demo.load_demo(app)
    assert "registry entries" in first[0] and "already loaded" in second[0]
    db.expire_all()
    assert len(list(db.scalars(select(Course)))) == len(demo.DEMO_REGISTRY)
    assert len(list(db.scalars(select(Person)))) == len(demo.DEMO_PEOPLE)
    statuses = [c.status for c in db.scalars(select(Credit))]
    assert statuses.count("credited") == sum(len(p[5]) for p in demo.DEMO_PEOPLE)


def test_certification_export_command_writes_big5_file_byte_for_byte(app: Flask, course: Course, person: Person, post: Any,
                                                                    tmp_path: Path) -> None:
    """D5 / §2.1: `certification export --year --agency` writes the file exactly, decodable from Big5 (both backends)."""
    post(completion(dt.datetime(2026, 3, 5, 10, tzinfo=TPE)))
    runner = app.test_cli_runner()
    result = runner.invoke(certification_group, args=["export", "--year", "2026", "--agency", "379680000A", "--out", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    assert "1 portal rows, 0 環教 rows, 0 credits refused" in result.output
    day = dt.datetime.now(TAIPEI).date().isoformat()
    data = (tmp_path / f"{day}_(1~1).csv").read_bytes()
    expected = (HEADER + "\n" + f'"{ID_NUMBER}","AI 素養入門","114-01-01","00:00:00","115-12-31","23:59:00","王小明","6","202",'
                '"10","1","2","1","80","","","","1","2","0","INT-AI-01","115-03-05","07:00:00","115-03-05","10:00:00"\n')
    assert data == expected.encode("big5")
    assert exports.decode_big5(data) == expected
    json_text = (tmp_path / f"{day}_2026_379680000A.json").read_text(encoding="utf-8")
    assert "A12****789" in json_text and ID_NUMBER not in json_text
    assert ID_NUMBER not in result.output


def test_certification_export_command_reports_refused_credit(app: Flask, db: Session, course: Course, person: Person, post: Any,
                                                             tmp_path: Path) -> None:
    """D5: a credit that would be rejected (unencodable name) is refused and reported, and nothing of it is written."""
    post(completion(dt.datetime(2026, 3, 5, 10, tzinfo=TPE)))
    person.name = "王😀明"
    db.commit()
    result = app.test_cli_runner().invoke(certification_group, args=["export", "--year", "2026", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "0 portal rows" in result.output and "1 credits refused" in result.output and "Big5 cannot encode" in result.output
    assert "A12****789" in result.output and ID_NUMBER not in result.output
    assert not list(tmp_path.glob("*_(1~*.csv"))


def test_certification_codes_add_command_extends_list(app: Flask, db: Session) -> None:
    """§2.4: `certification codes add 546` makes a code the 2023 table lacks valid."""
    runner = app.test_cli_runner()
    assert runner.invoke(certification_group, args=["codes", "add", "546", "--name", "AI 應用"]).exit_code == 0
    listed = runner.invoke(certification_group, args=["codes", "list", "--search", "AI 應用"])
    assert "546" in listed.output
    bad = runner.invoke(certification_group, args=["codes", "add", "54x"])
    assert bad.exit_code != 0 and "1 to 6 digits" in bad.output


def test_certification_people_import_command_refuses_bad_and_duplicate(app: Flask, db: Session, tmp_path: Path) -> None:
    """D6: the CSV import registers people, refuses a bad check digit and never prints an ID in clear."""
    path = tmp_path / "people.csv"
    path.write_text("id_number,name,agency_code,home_page,account_name\n"
                    f"{ID_NUMBER},王小明,379680000A,https://lms.example.gov.tw,u1\n"
                    "A123456788,李四,379680000A,,\n"
                    f"{ID_NUMBER},王小明,379680000A,https://lms.example.gov.tw,u2\n", encoding="utf-8")
    result = app.test_cli_runner().invoke(certification_group, args=["people", "import", str(path)])
    assert "2 imported, 1 refused" in result.output, result.output
    assert "check digit" in result.output and "A123456788" not in result.output
    assert len(list(db.scalars(select(Person)))) == 1


def test_certification_registry_import_command(app: Flask, db: Session, tmp_path: Path) -> None:
    """D1: registry entries import from JSON; an overlapping activity id is refused with an explanation."""
    path = tmp_path / "registry.json"
    path.write_text('[{"course_code": "A1", "title": "甲", "primary_code": "202", "digital": 2, "class_start": "2026-01-01",'
                    ' "class_end": "2026-12-31", "pass_mark": 60},'
                    ' {"course_code": "A2", "title": "乙", "primary_code": "202", "digital": 2, "class_start": "2026-01-01",'
                    ' "class_end": "2026-12-31", "activity_id": "http://lb.test/catalog/courses/A1"}]', encoding="utf-8")
    result = app.test_cli_runner().invoke(certification_group, args=["registry", "import", str(path)])
    assert "1 saved, 1 refused" in result.output and "already registered as course A1" in result.output


def test_certification_export_command_zips_several_files(app: Flask, db: Session, tmp_path: Path) -> None:
    """§2.1: when the rows need several files (here 2 rows a file), they are written as one zip, each file intact."""
    import zipfile

    demo.load_demo(app)
    year = str(dt.datetime.now(TAIPEI).year)
    result = app.test_cli_runner().invoke(certification_group, args=["export", "--year", year, "--out", str(tmp_path),
                                                                      "--max-rows", "2", "--no-recompute"])
    assert result.exit_code == 0, result.output
    archives = list(tmp_path.glob("*.zip"))
    assert len(archives) == 1 and not list(tmp_path.glob("*.csv"))
    with zipfile.ZipFile(archives[0]) as archive:
        names = archive.namelist()
        assert names[0].endswith("_(1~2).csv") and any(n.startswith("env") for n in names)
        for name in names:
            rows = exports.parse_portal_file(archive.read(name))
            assert 2 <= len(rows) <= 3
            assert rows[0] == (exports.ENV_HEADER if name.startswith("env") else HEADER).split(",")


def test_certification_check_file_command(app: Flask, course: Course, person: Person, post: Any, tmp_path: Path) -> None:
    """§2.1: `certification check-file` passes the file we export and fails a tampered one with the reason."""
    post(completion(dt.datetime(2026, 3, 5, 10, tzinfo=TPE)))
    runner = app.test_cli_runner()
    assert runner.invoke(certification_group, args=["export", "--year", "2026", "--out", str(tmp_path)]).exit_code == 0
    (csv_path,) = tmp_path.glob("*_(1~1).csv")
    ok = runner.invoke(certification_group, args=["check-file", str(csv_path)])
    assert ok.exit_code == 0 and ": ok" in ok.output
    csv_path.write_bytes(csv_path.read_bytes().replace(b'"202"', b'"999"'))
    bad = runner.invoke(certification_group, args=["check-file", str(csv_path)])
    assert bad.exit_code == 1 and "category code '999'" in bad.output


def test_certification_export_files_are_owner_only(app: Flask, course: Course, person: Person, post: Any, tmp_path: Path) -> None:
    """D6: export files hold ID numbers, so the folder is 0700 and every file 0600."""
    post(completion(dt.datetime(2026, 3, 5, 10, tzinfo=TPE)))
    out = tmp_path / "exports"
    result = app.test_cli_runner().invoke(certification_group, args=["export", "--year", "2026", "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    assert out.stat().st_mode & 0o777 == 0o700
    assert all(path.stat().st_mode & 0o777 == 0o600 for path in out.iterdir())


def test_certification_evaluate_commands_apply_the_rules(app: Flask) -> None:
    """R1/R3/R4/R8/R12: `certification evaluate` gives the document's examples with their explanations."""
    runner = app.test_cli_runner()
    ok = runner.invoke(certification_group, args=["evaluate", "annual", "--year", "2026", "501:1", "337:4", "386:1", "502:2", "503:2", "202:10"])
    assert ok.exit_code == 0 and "compliant: yes" in ok.output
    short = runner.invoke(certification_group, args=["evaluate", "annual", "--year", "2026", "--security-role", "general",
                                                     "501:1", "337:3", "386:1", "502:2", "503:2", "202:10", "523:6"])
    assert "compliant: no" in short.output and "short by 1 h" in short.output and "(522, general)" in short.output
    assert "0 h of 3 h required; short by 3 h" in short.output
    one_short = runner.invoke(certification_group, args=["evaluate", "completion", "--hours", "2", "--pass-mark", "60",
                                                         "--read-seconds", "7199", "--score", "60",
                                                         "--completed-at", "2025-12-31T23:59:00+08:00"])
    assert "credited hours: 0" in one_short.output and "1 s short" in one_short.output and "year (R8): 2025" in one_short.output
    exact = runner.invoke(certification_group, args=["evaluate", "completion", "--hours", "2", "--pass-mark", "60",
                                                     "--read-seconds", "7200", "--score", "60"])
    assert "credited hours: 2" in exact.output
    late = runner.invoke(certification_group, args=["evaluate", "mooc", "--published", "2026-03-01", "--applied", "2026-03-16"])
    assert late.output.startswith("rejected")
    bad = runner.invoke(certification_group, args=["evaluate", "annual", "--year", "2026", "501"])
    assert bad.exit_code != 0


def test_certification_holidays_setting_shifts_working_days(database_url: str, tmp_path: Path) -> None:
    """R12: CERTIFICATION_HOLIDAYS are skipped when counting the 4 working days to upload; a bad list stops start-up."""
    import pytest

    import lti_tool
    from lrs.config import ConfigError
    from lrs.db import get_db
    from tests.conftest import app_config

    app = lti_tool.create_app(app_config(database_url, tmp_path, CERTIFICATION_HOLIDAYS="2026-03-16, 2026-03-17"))
    try:
        result = app.test_cli_runner().invoke(certification_group, args=["evaluate", "mooc", "--published", "2026-03-01",
                                                                          "--applied", "2026-03-13"])
        assert "upload by 2026-03-21" not in result.output and "upload by 2026-03-23" in result.output, result.output
    finally:
        get_db(app).dispose()
    with pytest.raises(ConfigError, match="CERTIFICATION_HOLIDAYS"):
        lti_tool.create_app(app_config(database_url, tmp_path, CERTIFICATION_HOLIDAYS="next tuesday"))


def test_certification_compliance_command_lists_shortfalls_masked(app: Flask, db: Session) -> None:
    """R15: `certification compliance` lists people short before the cut-off, with masked IDs only."""
    demo.load_demo(app)
    year = dt.datetime.now(TAIPEI).year
    result = app.test_cli_runner().invoke(certification_group, args=["compliance", "--year", str(year), "--agency", "379680000A",
                                                                      "--today", f"{year}-10-01"])
    assert result.exit_code == 0, result.output
    assert "of 3 people compliant" in result.output and "A12****789" in result.output and "A123456789" not in result.output
    assert "The counting cut-off is" in result.output


def test_certification_export_command_json_ids_only_on_request(app: Flask, course: Course, person: Person, post: Any,
                                                               tmp_path: Path) -> None:
    """D6: `--json-ids` puts full ID numbers in the JSON (for a system that needs them); the audit trail says so."""
    from lrs.certification.models import AuditEntry

    post(completion(dt.datetime(2026, 3, 5, 10, tzinfo=TPE)))
    result = app.test_cli_runner().invoke(certification_group, args=["export", "--year", "2026", "--out", str(tmp_path), "--json",
                                                                      "--json-ids"])
    assert result.exit_code == 0, result.output
    (json_path,) = tmp_path.glob("*_2026_all.json")
    assert ID_NUMBER in json_path.read_text(encoding="utf-8")
    with app.app_context():
        from lrs.db import get_db

        with get_db(app).session() as session:
            entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "export")).one()
            assert '"ids_in_json": true' in entry.details and ID_NUMBER not in entry.details


def test_certification_export_command_with_workers_writes_the_same_files(app: Flask, db: Session, tmp_path: Path) -> None:
    """D3, D5: `--workers 2` recomputes and exports in two processes and writes the files one process writes."""
    import zipfile

    demo.load_demo(app)
    year = str(dt.datetime.now(TAIPEI).year)
    runner = app.test_cli_runner()
    written = {}
    for workers in ("1", "2"):
        out = tmp_path / workers
        result = runner.invoke(certification_group, args=["export", "--year", year, "--out", str(out), "--max-rows", "2",
                                                          "--workers", workers])
        assert result.exit_code == 0, result.output
        assert "recomputed" in result.output
        (archive_path,) = out.glob("*.zip")
        with zipfile.ZipFile(archive_path) as archive:
            written[workers] = [(name, archive.read(name)) for name in archive.namelist()]
    assert written["2"] == written["1"] and len(written["1"]) > 1
