"""Test people and actor mapping (D6), the hour registry with its history (D1), and evidence parsing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from lrs.certification import codes, evidence, people, registry, settings
from lrs.certification.models import AuditEntry, Course, CourseHistory, Person
from lrs.certification.rules import Segment
from lrs.errors import BadRequest, Conflict
from tests.lrs.certification.conftest import BASE, ID_NUMBER, ISSUER, course_input


def test_people_register_stores_only_cipher_hash_and_mask(app: Flask, db: Session, person: Person) -> None:
    """D6: the ID is stored encrypted, with a lookup hash and a mask; the audit trail holds the mask only."""
    row = db.scalar(select(Person))
    assert row is not None and ID_NUMBER not in row.id_cipher and row.id_masked == "A12****789"
    assert settings.get_vault(app).decrypt(row.id_cipher) == ID_NUMBER
    assert all(ID_NUMBER not in entry.details for entry in db.scalars(select(AuditEntry)))
    assert ID_NUMBER not in repr(row)


def test_people_link_actor_to_second_person_refused(app: Flask, db: Session, person: Person) -> None:
    """D6: an actor mapped to one person cannot be mapped to another; the same mapping again is a no-op."""
    other = people.register_person(db, settings.get_vault(app), name="李四", agency_code="379680000A", id_number="F222222222")
    assert people.link_actor(db, person, ISSUER, "learner-1").person_id == person.id
    with pytest.raises(Conflict, match="already mapped to person"):
        people.link_actor(db, other, ISSUER, "learner-1")


def test_people_register_same_id_twice_refused(app: Flask, db: Session, person: Person) -> None:
    """D6: the same ID number (in any spelling) is one person only."""
    with pytest.raises(Conflict, match="already belongs to person") as err:
        people.register_person(db, settings.get_vault(app), name="王小明", agency_code="379680000A", id_number="a123456789")
    assert ID_NUMBER not in str(err.value)


@pytest.mark.parametrize(("changes", "fragment"), [
    ({"agency_code": "123"}, "10 letters or digits"),
    ({"name": ""}, "name"),
    ({"category": "temp"}, "Staff category"),
    ({"id_number": "X1234567"}, "ID number refused"),
])
def test_people_register_bad_input_refused(app: Flask, db: Session, changes: dict[str, str], fragment: str) -> None:
    """D6: bad agency codes, names, categories and (where passports are not allowed) passport numbers are explained."""
    args = {"name": "王小明", "agency_code": "379680000A", "id_number": ID_NUMBER, "allow_passport": False, **changes}
    with pytest.raises(BadRequest, match=fragment):
        people.register_person(db, settings.get_vault(app), **args)  # type: ignore[arg-type]


def test_people_claim_actor_registers_then_links_existing(app: Flask, db: Session) -> None:
    """D6: an ID arriving from an LTI custom parameter registers the person once and links each LMS account."""
    vault = settings.get_vault(app)
    first = people.claim_actor(db, vault, home_page=ISSUER, account_name="u1", id_number=ID_NUMBER, name="王小明",
                               agency_code="379680000A")
    second = people.claim_actor(db, vault, home_page="https://moodle.example.gov.tw", account_name="77", id_number=ID_NUMBER,
                                name="王小明", agency_code="379680000A")
    assert first.id == second.id and len(people.actors_of(db, first)) == 2
    with pytest.raises(BadRequest, match="check digit"):
        people.claim_actor(db, vault, home_page=ISSUER, account_name="u2", id_number="A123456788", name="x", agency_code="379680000A")


def test_registry_save_course_keeps_history_and_skips_no_op(app: Flask, db: Session, course: Course) -> None:
    """D1: a change with a reason makes a new version with before/after; saving the same entry again changes nothing."""
    table = codes.code_table(db)
    registry.save_course(db, course_input(digital=Decimal(3)), table, by="staff", reason="provider added a module", base_url=BASE)
    registry.save_course(db, course_input(digital=Decimal(3)), table, by="staff", reason="again", base_url=BASE)
    history = registry.history(db, course)
    assert [h["version"] for h in history] == [2, 1]
    assert history[0]["before"]["digital"] == "2" and history[0]["after"]["digital"] == "3"
    assert len(list(db.scalars(select(CourseHistory)))) == 2


@pytest.mark.parametrize(("changes", "fragment"), [
    ({"primary_code": "99999"}, "not in the code list"),
    ({"class_start": dt.date(2027, 1, 1)}, "starts"),
    ({"pass_mark": Decimal(101)}, "0 to 100"),
    ({"segments": [Segment("386", Decimal(3), Decimal(0))]}, "more than the course"),
    ({"digital": Decimal(7), "provider_effort": Decimal(6)}, "exceed the provider"),
    ({"digital": Decimal("1.5")}, "whole number"),
    ({"city_code": "99"}, "上課縣市"),
    ({"has_test": False}, "cannot declare a pass mark"),
])
def test_registry_save_course_contradictory_entries_refused(app: Flask, db: Session, changes: dict[str, object], fragment: str) -> None:
    """D1 / R5 / R10 / R13: contradictory or invalid registry entries are refused with every problem named."""
    with pytest.raises(BadRequest, match=fragment):
        registry.save_course(db, course_input(**changes), codes.code_table(db), by="", base_url=BASE)


def test_registry_save_course_accepts_new_code_after_it_is_added(app: Flask, db: Session) -> None:
    """§2.4: a course under 539 is refused until staff add the code, then accepted."""
    with pytest.raises(BadRequest):
        registry.save_course(db, course_input(primary_code="539"), codes.code_table(db), by="", base_url=BASE)
    codes.add_code(db, "539", "人工智慧", by="staff")
    assert registry.save_course(db, course_input(primary_code="539"), codes.code_table(db), by="", base_url=BASE).primary_code == "539"


@pytest.mark.parametrize(("text", "seconds"), [("PT7200S", 7200), ("PT2H", 7200), ("PT1H59M59S", 7199), ("P1DT1S", 86401),
                                               ("PT0.5S", Decimal("0.5"))])
def test_evidence_duration_seconds_parses_iso_8601(text: str, seconds: int) -> None:
    """Parse result.duration as an ISO 8601 duration (xAPI 1.0.3 Data 4.6)."""
    assert evidence.duration_seconds(text) == seconds


@pytest.mark.parametrize("text", ["", "P", "PT", "7200", "P1M", "P1Y", "PTxS"])
def test_evidence_duration_seconds_refuses_unusable(text: str) -> None:
    """Durations that are malformed or of no fixed length (months, years) give no reading time."""
    assert evidence.duration_seconds(text) is None


@pytest.mark.parametrize(("score", "percent"), [
    ({"scaled": 0.6}, Decimal(60)), ({"raw": 6, "min": 0, "max": 10}, Decimal(60)),
    ({"raw": 60, "min": 0, "max": 100, "scaled": 0.5999}, Decimal(60)), ({"raw": 60}, None), ("x", None),
])
def test_evidence_score_percent(score: object, percent: Decimal | None) -> None:
    """R4: scores normalise to 0-100 from raw/min/max (exact) or scaled; 0.6 scaled is exactly 60."""
    assert evidence.score_percent(score) == percent


def test_registry_sync_from_catalog_splits_codes_and_refuses_bad_hours(app: Flask, db: Session) -> None:
    """D1 / R10 / R13: a catalog course split 268:4; 14:4 becomes main code 268 with a 14 segment; bad hours are refused."""
    args = dict(course_code="WB-F4D", title_zh="發展融資", title_en="Financing for Development", summary="",
                digital_tenths=80, physical_tenths=0, segments=[("268", 40), ("14", 40)], has_test=True, pass_mark=60,
                survey_required=True, cross_year_repeat=False, class_start=None, class_end=None, effort_tenths=None,
                active=True, base_url=BASE)
    course = registry.sync_from_catalog(db, codes.code_table(db), **args)  # type: ignore[arg-type]
    snap = registry.course_snapshot(course)
    assert snap["primary_code"] == "268" and snap["segments"] == [{"code": "14", "name": "", "digital": "4", "physical": "0"}]
    assert snap["activity_id"] == f"{BASE}/catalog/courses/WB-F4D"
    with pytest.raises(BadRequest, match="exceed the provider"):
        registry.sync_from_catalog(db, codes.code_table(db), **{**args, "course_code": "X", "effort_tenths": 60})  # type: ignore[arg-type]


def test_catalog_sync_keeps_what_staff_set_and_the_catalog_does_not_carry(app: Flask, db: Session) -> None:
    """D1: certification staff's class period, city, term and segment names survive the catalog's next edit."""
    args: dict[str, Any] = dict(course_code="WB-KEEP", title_zh="發展融資", title_en="Financing", summary="",
                                digital_tenths=80, physical_tenths=0, segments=[("268", 40), ("14", 40)], has_test=True, pass_mark=60,
                                survey_required=True, cross_year_repeat=False, class_start=None, class_end=None, effort_tenths=None,
                                active=True, base_url=BASE)
    table = codes.code_table(db)
    course = registry.sync_from_catalog(db, table, **args)
    assert registry.course_snapshot(course)["city_code"] == "10"
    edited = registry.CourseInput(
        course_code="WB-KEEP", title="發展融資", title_en="Financing", primary_code="268", digital=Decimal(8), physical=Decimal(0),
        class_start=dt.date(2025, 3, 1), class_end=dt.date(2027, 6, 30), pass_mark=Decimal(60), city_code="63", term="2",
        segments=[Segment("14", Decimal(4), Decimal(0), "Blended finance")],
    )
    registry.save_course(db, edited, table, by="certifier", reason="the provider's real class period", base_url=BASE)
    db.commit()

    course = registry.sync_from_catalog(db, table, **{**args, "title_zh": "發展融資（新版）"})
    db.commit()
    snap = registry.course_snapshot(course)
    assert snap["title"] == "發展融資（新版）"  # what the catalog carries follows the catalog
    assert (snap["class_start"], snap["class_end"], snap["city_code"], snap["term"]) == ("2025-03-01", "2027-06-30", "63", "2")
    assert snap["segments"] == [{"code": "14", "name": "Blended finance", "digital": "4", "physical": "0"}]

    moved = registry.sync_from_catalog(db, table, **{**args, "class_start": dt.date(2026, 1, 1), "class_end": dt.date(2026, 12, 31)})
    assert (registry.course_snapshot(moved)["class_start"], registry.course_snapshot(moved)["class_end"]) == ("2026-01-01", "2026-12-31")
