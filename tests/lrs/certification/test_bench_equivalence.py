"""Test that the fast recomputation and export give exactly the ledger and files of the reference implementation (D3, D5)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import zipfile
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from lrs.certification import bench, idno, ledger, parallel, reports
from lrs.certification.models import Course, Credit, Person
from lrs.storage.models import Statement

# Digests of the ledger and of the files that the reference (per-row ORM) implementation produced on
# this generated data set, before the speed work; any change of output changes them.
LEDGER_DIGEST = "1edc82c6c43d8e8bb20774d729064e9204c857e988ad62186f46b79a515544ef"
FILES_DIGEST = "ecaecff7dd2cc68285839b5e88df2c2a54ca44f7e90dd5fd868506291561b4c0"
REPORT = "5ee9e620b74629c4521b2ce5e83cf1edc617d8191e190dc49a86ae662ac9f830"  # counts and problems reported


def _ledger_digest(db: Session) -> str:
    db.expire_all()
    digest = hashlib.sha256()
    for c in db.scalars(select(Credit).order_by(Credit.person_id, Credit.course_id, Credit.year)):
        row = [c.person_id, c.course_id, c.year, c.status, c.source, c.digital_tenths, c.physical_tenths, c.score,
               c.started_at.isoformat() if c.started_at else None, c.completed_at.isoformat() if c.completed_at else None,
               json.loads(c.statement_ids), json.loads(c.explanation)]
        digest.update(json.dumps(row, ensure_ascii=False).encode())
    return digest.hexdigest()


def _files_digest(run: reports.ExportRun) -> str:
    digest = hashlib.sha256()
    for name, data in run.result.files:
        digest.update(name.encode() + b"\0" + data + b"\0")
    digest.update(json.dumps([r.as_dict() for r in run.result.refused], ensure_ascii=False).encode())
    return digest.hexdigest()


def test_ledger_recompute_matches_reference_on_generated_edge_cases(app: Flask, db: Session, tmp_path: Path) -> None:
    """D3, D5, R4-R11: recomputation (twice, then after voiding) and export equal the reference byte for byte."""
    vault = idno.IdVault(b"k" * 32)
    with app.app_context():
        bench.populate(db, vault, 150, 9, 2026, edge_cases=True)
        someone, course = db.get(Person, 5), db.scalars(select(Course).order_by(Course.id)).first()
        assert someone is not None and course is not None
        ledger.manual_override(db, person=someone, course=course, year=2026, action="revoke", reason="test revocation", by="test")
        first = ledger.recompute(db, [2025, 2026, 2027], batch_size=40)
        db.commit()
        second = ledger.recompute(db, [2025, 2026, 2027], batch_size=40)
        db.commit()
        assert (second.inserted, second.updated, second.revoked) == (0, 0, 0)
        target = db.scalars(select(Statement.statement_id).where(Statement.actor_key.like("%|u10")).order_by(Statement.pk)).first()
        db.execute(update(Statement).where(Statement.statement_id == target).values(voided=True))
        third = ledger.recompute(db, None, batch_size=40)
        db.commit()
        run = reports.run_export(db, vault, year=2026, agency=None, folder=tmp_path, by="test", export_day=dt.date(2027, 1, 5),
                                 max_rows=500, in_memory=True)
        db.commit()
        assert (first.credited, first.refused, third.revoked, run.result.portal_rows, len(run.result.refused)) == (1228, 61, 1, 1320, 16)
        summary = [first.as_dict(), third.revoked, run.result.portal_rows, run.result.env_rows, len(run.result.refused)]
        got = (_ledger_digest(db), _files_digest(run), hashlib.sha256(json.dumps(summary, ensure_ascii=False).encode()).hexdigest())
        assert got == (LEDGER_DIGEST, FILES_DIGEST, REPORT)


def test_ledger_recompute_by_ranges_of_people_equals_one_run(app: Flask, db: Session) -> None:
    """D3: recomputing in ranges of people (as parallel workers do) gives the ledger of one whole run."""
    vault = idno.IdVault(b"r" * 32)
    with app.app_context():
        bench.populate(db, vault, 60, 6, 2026, edge_cases=True)
        whole = ledger.recompute(db, [2025, 2026, 2027], batch_size=25)
        db.commit()
        expected = _ledger_digest(db)
        db.execute(Credit.__table__.delete())
        db.commit()
        low = ledger.recompute(db, [2025, 2026, 2027], batch_size=25, id_range=(1, 31))
        high = ledger.recompute(db, [2025, 2026, 2027], batch_size=25, id_range=(31, 61))
        db.commit()
        assert (low.people, high.people) == (30, 30)
        assert low.credited + high.credited == whole.credited > 0
        assert _ledger_digest(db) == expected


def _written(run: reports.ExportRun) -> list[tuple[str, bytes]]:
    """Return every file an export wrote (a zip's members by name), with its bytes."""
    found = []
    for path in run.paths:
        if path.suffix == ".zip":
            with zipfile.ZipFile(path) as archive:
                found.extend((f"{path.name}/{name}", archive.read(name)) for name in archive.namelist())
        else:
            found.append((path.name, path.read_bytes()))
    return found


def test_parallel_recompute_and_export_equal_one_process(app: Flask, db: Session, tmp_path: Path) -> None:
    """D3, D5: worker processes by ranges of people write the ledger, files and refusal report of one process."""
    keys = tmp_path / "keys"
    vault = idno.IdVault(idno.load_secret(keys))
    with app.app_context():
        bench.populate(db, vault, 90, 7, 2026, edge_cases=True)
        db.commit()
        single = ledger.recompute(db, [2026], batch_size=20)
        db.commit()
        expected_ledger = _ledger_digest(db)
        one = reports.run_export(db, vault, year=2026, agency=None, folder=tmp_path / "one", by="test",
                                 export_day=dt.date(2027, 1, 5), max_rows=100)
        db.execute(Credit.__table__.delete())
        db.commit()

        job = parallel.Job.for_session(db, keys, None, 3)
        assert job is not None and job.workers == 3
        merged = parallel.recompute(db, job, [2026])
        db.expire_all()
        assert _ledger_digest(db) == expected_ledger
        assert (merged.people, merged.credited, merged.refused, merged.problem_count) == (
            single.people, single.credited, single.refused, single.problem_count)
        assert sorted(merged.problems) == sorted(single.problems) != []  # grouped by batch, so in another order
        many = reports.run_export(db, vault, year=2026, agency=None, folder=tmp_path / "many", by="test",
                                  export_day=dt.date(2027, 1, 5), max_rows=100, job=job)

    assert many.result.portal_rows == one.result.portal_rows > 300  # several files of 100 rows: cut across the workers' parts
    # The ledger was rebuilt between the two runs, so the credits' row numbers (refs) differ; nothing else may.
    assert [(r.masked_id, r.course_code, r.reasons) for r in many.result.refused] == [
        (r.masked_id, r.course_code, r.reasons) for r in one.result.refused] != []
    refused_report = [name for name, _ in _written(one) if name.endswith("_refused.json")]
    assert [item for item in _written(many) if item[0] not in refused_report] == [
        item for item in _written(one) if item[0] not in refused_report]
    assert not list((tmp_path / "many").glob(".parts-*"))  # the workers' parts (IDs in clear) are gone


def test_parallel_job_is_refused_for_an_in_memory_database(tmp_path: Path) -> None:
    """D3: workers cannot share an in-memory SQLite database, so no job is offered for one (the work stays in-process)."""
    from sqlalchemy import create_engine

    engine = create_engine("sqlite://")
    try:
        with Session(engine) as session:
            assert parallel.Job.for_session(session, tmp_path, None, 2) is None
    finally:
        engine.dispose()


def test_parallel_export_worker_failure_is_reported_and_leaves_no_parts(app: Flask, db: Session, tmp_path: Path) -> None:
    """D5: a worker that cannot decrypt the IDs (another key) fails the export with the reason; no part file stays behind."""
    vault = idno.IdVault(idno.load_secret(tmp_path / "keys"))
    with app.app_context():
        bench.populate(db, vault, 12, 3, 2026)
        db.commit()
        ledger.recompute(db, [2026])
        db.commit()
        wrong = parallel.Job.for_session(db, tmp_path / "other-keys", None, 2)
        assert wrong is not None
        with pytest.raises(parallel.WorkerFailed, match="cannot be decrypted with this key"):
            reports.run_export(db, vault, year=2026, agency=None, folder=tmp_path / "out", by="test", job=wrong)
    assert not list((tmp_path / "out").glob(".parts-*")) and not list((tmp_path / "out").glob("*.csv"))


def test_recompute_and_export_read_credits_through_the_person_key_on_sqlite(app: Flask, db: Session) -> None:
    """D3, D5: a batch's credits are read through the (person, course, year) key, never by scanning the year.

    Without statistics, SQLite chose the (year, status) index for `year IN (...)`: each recomputation batch
    read every credit of the year (quadratic over a year), and each export worker read and sorted them all.
    """
    if db.get_bind().dialect.name != "sqlite":
        pytest.skip("SQLite's query planner; PostgreSQL plans by its statistics")
    vault = idno.IdVault(b"k" * 32)
    with app.app_context():
        bench.populate(db, vault, 30, 3, 2026)
        ledger.recompute(db, [2026], batch_size=10)
        db.commit()
        driver = db.connection().connection.driver_connection
        assert driver is not None
        executed: list[str] = []
        driver.set_trace_callback(executed.append)
        try:
            ledger.recompute(db, [2026], batch_size=10)
            credits = list(reports.export_credits(db, vault, 2026, None, id_range=(1, 31)))
            agency = db.scalars(select(Person.agency_code).order_by(Person.id)).first()
            assert agency is not None
            of_agency = list(reports.export_credits(db, vault, 2026, agency))
        finally:
            driver.set_trace_callback(None)
    assert len(credits) > 30 and 0 < len(of_agency) <= len(credits)
    reads = [sql for sql in executed if sql.lstrip().upper().startswith("SELECT") and "certification_credit" in sql]
    assert len(reads) >= 5  # three recomputation batches and the two exports
    for sql in reads:
        plan = " | ".join(row[3] for row in driver.execute("EXPLAIN QUERY PLAN " + sql))
        assert "(person_id=?" in plan and "year_status" not in plan and "TEMP B-TREE" not in plan, (sql, plan)
