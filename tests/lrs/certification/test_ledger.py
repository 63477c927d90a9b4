"""Test the ledger: evidence from LRS statements, idempotent recomputation, voiding, overrides (D3)."""

from __future__ import annotations

import datetime as dt
import gc
import json
import weakref
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from lrs.certification import ledger
from lrs.certification.models import AuditEntry, Course, Credit, Person
from tests.lrs.certification.conftest import TPE, completion, statement

Post = Callable[[list[dict[str, Any]]], list[str]]


def rows(db: Session) -> list[Credit]:
    db.expire_all()
    return list(db.scalars(select(Credit).order_by(Credit.year)))


def test_ledger_recompute_credits_completion_with_its_statements(app: Flask, db: Session, course: Course, person: Person, post: Post) -> None:
    """D3 / R4: a completion meeting the three conditions becomes a credited row pointing to its statements."""
    ids = post(completion(dt.datetime(2026, 3, 5, 10, tzinfo=TPE)))
    with app.app_context():
        report = ledger.recompute(db, [2026])
        db.commit()
    credit = rows(db)[0]
    assert (credit.status, credit.year, credit.digital_tenths, credit.score) == ("credited", 2026, 20, "80")
    assert sorted(json.loads(credit.statement_ids)) == sorted(ids)
    assert report.credited == 1


def test_ledger_recompute_is_idempotent(app: Flask, db: Session, course: Course, person: Person, post: Post) -> None:
    """D3: recomputing twice gives the same ledger and changes no row the second time."""
    post(completion(dt.datetime(2026, 3, 5, 10, tzinfo=TPE)))
    with app.app_context():
        ledger.recompute(db, [2026])
        db.commit()
        before = [(c.id, c.status, c.statement_ids, c.updated_at) for c in rows(db)]
        second = ledger.recompute(db, [2026])
        db.commit()
    assert [(c.id, c.status, c.statement_ids, c.updated_at) for c in rows(db)] == before
    assert second.inserted == 0 and second.updated == 0 and second.unchanged == 1


def test_ledger_hook_credits_as_statements_arrive(db: Session, course: Course, person: Person, post: Post) -> None:
    """D3: the stored-statement hook keeps the ledger current without a manual recompute."""
    post(completion(dt.datetime(2026, 3, 5, 10, tzinfo=TPE)))
    assert [c.status for c in rows(db)] == ["credited"]


def test_ledger_voiding_revokes_credit(app: Flask, db: Session, course: Course, person: Person, post: Post) -> None:
    """D3 / xAPI Data 2.3.2: voiding the completed statement revokes the credit it supported, saying which."""
    ids = post(completion(dt.datetime(2026, 3, 5, 10, tzinfo=TPE)))
    completed_id = ids[-1]
    post([{"actor": {"mbox": "mailto:admin@lb.test"}, "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
           "object": {"objectType": "StatementRef", "id": completed_id}}])
    credit = rows(db)[0]
    assert credit.status == "revoked"
    with app.app_context():
        ledger.recompute(db, [2026])
        db.commit()
    credit = rows(db)[0]
    assert credit.status == "revoked"
    assert completed_id in credit.explanation


def test_ledger_one_second_short_is_refused_with_reason(app: Flask, db: Session, course: Course, person: Person, post: Post) -> None:
    """R4: 7199 s of reading for a 2 h course earns nothing; the row says 1 s short."""
    post(completion(dt.datetime(2026, 3, 5, 10, tzinfo=TPE), seconds=7199))
    credit = rows(db)[0]
    assert credit.status == "refused" and "1 s short" in credit.explanation


def test_ledger_score_exactly_at_pass_mark_credits(db: Session, course: Course, person: Person, post: Post) -> None:
    """R4: a score exactly at the pass mark (60) passes."""
    post(completion(dt.datetime(2026, 3, 5, 10, tzinfo=TPE), score=60))
    assert rows(db)[0].status == "credited"


def test_ledger_december_31_2359_taipei_counts_that_year(db: Session, course: Course, person: Person, post: Post) -> None:
    """R8: a completion on 31 December 23:59 Taipei time (15:59 UTC) counts toward that year."""
    post(completion(dt.datetime(2025, 12, 31, 23, 59, tzinfo=TPE)))
    credit = rows(db)[0]
    assert (credit.year, credit.status) == (2025, "credited")


def test_ledger_cross_year_repeat_not_allowed(app: Flask, db: Session, course: Course, person: Person, post: Post) -> None:
    """R7: completed 2025 and again 2026 without cross-year repeats: only 2025 is credited."""
    post(completion(dt.datetime(2025, 5, 1, 10, tzinfo=TPE)))
    post(completion(dt.datetime(2026, 2, 1, 10, tzinfo=TPE), registration="22222222-2222-4222-8222-222222222222"))
    credits = rows(db)
    assert [(c.year, c.status) for c in credits] == [(2025, "credited"), (2026, "refused")]
    assert "Already credited in 2025" in credits[1].explanation


def test_ledger_cross_year_repeat_allowed(app: Flask, db: Session, course: Course, person: Person, post: Post) -> None:
    """R7: with cross-year repeats allowed, both years are credited."""
    course.cross_year_repeat = True
    db.commit()
    post(completion(dt.datetime(2025, 5, 1, 10, tzinfo=TPE)))
    post(completion(dt.datetime(2026, 2, 1, 10, tzinfo=TPE), registration="22222222-2222-4222-8222-222222222222"))
    assert [(c.year, c.status) for c in rows(db)] == [(2025, "credited"), (2026, "credited")]


def test_ledger_unmapped_actor_is_not_credited(db: Session, course: Course, person: Person, post: Post) -> None:
    """D6: statements of an actor mapped to nobody credit nobody."""
    post(completion(dt.datetime(2026, 3, 5, 10, tzinfo=TPE), account="stranger"))
    assert rows(db) == []


def test_ledger_mismatched_course_code_is_reported(app: Flask, db: Session, course: Course, person: Person, post: Post) -> None:
    """Bad input: a statement whose course-code extension names another course is reported and ignored."""
    post(completion(dt.datetime(2026, 3, 5, 10, tzinfo=TPE), course_code="OTHER"))
    with app.app_context():
        report = ledger.recompute(db, [2026])
    assert any("names course code 'OTHER'" in p for p in report.problems)
    assert rows(db) == []


def test_ledger_completed_without_duration_is_reported(app: Flask, db: Session, course: Course, person: Person, post: Post) -> None:
    """Bad input: a completed statement without result.duration is explained, not silently skipped."""
    at = dt.datetime(2026, 3, 5, 10, tzinfo=TPE)
    post([statement("completed", at, result={"completion": True})])
    with app.app_context():
        report = ledger.recompute(db, [2026])
        db.commit()
    assert any("no valid result.duration" in p for p in report.problems)
    assert rows(db)[0].status == "refused"


def test_ledger_manual_override_grant_and_revoke_are_audited(app: Flask, db: Session, course: Course, person: Person, post: Post) -> None:
    """D3: a manual credit needs a reason, is audited, and survives recomputation; a revocation wins over evidence."""
    with app.app_context():
        ledger.manual_override(db, person=person, course=course, year=2026, action="grant", reason="Paper certificate checked",
                               by="certifier", completed_on=dt.date(2026, 4, 1))
        db.commit()
        assert [(c.status, c.source) for c in rows(db)] == [("credited", "manual")]
        ledger.recompute(db, [2026])
        db.commit()
        assert [(c.status, c.source) for c in rows(db)] == [("credited", "manual")]
        ledger.manual_override(db, person=person, course=course, year=2026, action="revoke", reason="Duplicate of a classroom run",
                               by="certifier")
        db.commit()
    assert rows(db)[0].status == "revoked"
    actions = [a.action for a in db.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert "credit.grant" in actions and "credit.revoke" in actions


def test_ledger_manual_override_without_reason_refused(app: Flask, db: Session, course: Course, person: Person) -> None:
    """D3: an override without a reason is refused."""
    from lrs.errors import BadRequest

    with app.app_context(), pytest.raises(BadRequest, match="reason"):
        ledger.manual_override(db, person=person, course=course, year=2026, action="grant", reason="", by="x",
                               completed_on=dt.date(2026, 1, 2))


def test_ledger_manual_grant_counts_as_the_one_credit_r7(app: Flask, db: Session, course: Course, person: Person, post: Post) -> None:
    """R7: a manual credit in 2025 for a course without repeats makes a 2026 completion earn nothing, saying why."""
    with app.app_context():
        ledger.manual_override(db, person=person, course=course, year=2025, action="grant", reason="Classroom run attended",
                               by="certifier", completed_on=dt.date(2025, 6, 1))
        db.commit()
    post(completion(dt.datetime(2026, 3, 5, 10, tzinfo=TPE)))
    credits = rows(db)
    assert [(c.year, c.status, c.source) for c in credits] == [(2025, "credited", "manual"), (2026, "refused", "evidence")]
    assert "Already credited manually in 2025" in credits[1].explanation


def test_ledger_hook_failure_never_refuses_statements(db: Session, course: Course, person: Person, post: Post,
                                                      monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    """D3: if the ledger update fails inside the LRS transaction, the statements are still stored (savepoint) and it is logged."""
    from sqlalchemy.exc import OperationalError

    def broken(*_args: object, **_kwargs: object) -> None:
        raise OperationalError("SELECT 1", {}, Exception("simulated outage"))

    monkeypatch.setattr(ledger, "recompute_subjects", broken)
    ids = post(completion(dt.datetime(2026, 3, 5, 10, tzinfo=TPE)))
    assert len(ids) == 3 and rows(db) == []
    assert "certification ledger update failed" in caplog.text


def test_ledger_physical_only_course_needs_manual_credit(app: Flask, db: Session, course: Course, person: Person, post: Post) -> None:
    """R4 / R9: statements cannot prove classroom attendance; an all-physical course is refused with that reason."""
    course.digital_tenths, course.physical_tenths = 0, 30
    db.commit()
    post(completion(dt.datetime(2026, 3, 5, 10, tzinfo=TPE)))
    credit = rows(db)[0]
    assert credit.status == "refused" and "manual credit" in credit.explanation


def test_ledger_started_but_unfinished_is_in_progress(db: Session, course: Course, person: Person, post: Post) -> None:
    """D3: an attempt that has not completed yet is shown as in progress with what is missing, not as refused."""
    post(completion(dt.datetime(2026, 3, 5, 10, tzinfo=TPE))[:2])  # launched and passed, no completed yet
    credit = rows(db)[0]
    assert credit.status == "in_progress" and "survey" in credit.explanation


class _Node:
    peer: Any = None


def test_bulk_work_turns_the_collector_off_inside_and_restores_it_after() -> None:
    """D3: recomputation and export run with the cyclic collector off (nested too), and leave it as they found it."""
    assert gc.isenabled()
    with ledger.bulk_work():
        assert not gc.isenabled()
        with ledger.bulk_work():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the inner exit does not turn it back on
        cycle = _Node()
        cycle.peer = cycle
        alive = weakref.ref(cycle)
        del cycle
        assert alive() is not None  # garbage in a cycle waits for a batch boundary
        ledger.collect_garbage()
        assert alive() is None
    assert gc.isenabled() and gc.get_freeze_count() == 0
    gc.disable()
    try:
        with ledger.bulk_work():
            pass
        assert not gc.isenabled()  # a collector that was off stays off
    finally:
        gc.enable()
