"""Test that the catalog keeps the hour registry in step (issue #8 D1) and honours staff-added category codes."""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from lrs.certification import codes, registry
from lrs.certification.models import Course
from lrs.db import get_db
from lrs.errors import BadRequest
from lti_tool.catalog import importer, service
from lti_tool.catalog.domain import CHECKLIST, Action, Status, ValidationFailed
from tests.conftest import csrf_token_from
from tests.lti_tool.catalog.conftest import course_row

UNKNOWN_CODE_MESSAGE = "Category code 99999 is not in the lifelong-learning portal's code table."


def entry_of(app: Flask, code: str) -> dict[str, Any] | None:
    """Return the registry entry of a course code as JSON-ready data, or None."""
    with app.app_context(), get_db(app).session() as session:
        course = session.scalar(select(Course).where(Course.course_code == code))
        return None if course is None else registry.course_snapshot(course)


def history_reasons(app: Flask, code: str) -> list[str]:
    """Return the reasons in a registry entry's history, newest first."""
    with app.app_context(), get_db(app).session() as session:
        return [h["reason"] for h in registry.history(session, registry.get_course(session, code))]


def add_code_539(app: Flask) -> None:
    """Add code 539 as certification staff do (`certification codes add 539`)."""
    with app.app_context(), get_db(app).session() as session:
        codes.add_code(session, "539", name="人工智慧基礎認知", by="certifier")


def form_of(**overrides: Any) -> dict[str, Any]:
    """Return a course form as a browser posts it (unticked boxes are absent)."""
    row = course_row(**overrides)
    for name in ("has_test", "survey_required", "cross_year_repeat"):
        if row.get(name) != "yes":
            row.pop(name, None)
    return row


def test_catalog_publish_creates_an_active_registry_entry(app: Flask, add_course: Callable[..., str]) -> None:
    """Issue #8 D1: publishing a course registers its hours, codes (R10 split), pass mark and activity id."""
    add_course(Status.IN_REVIEW, code="REG-1")
    assert entry_of(app, "REG-1") is None  # not certifiable before it is published
    with app.app_context(), get_db(app).session() as session:
        course = service.get_course(session, "REG-1")
        service.apply_action(session, course, Action.APPROVE, "rev", checklist=[k for k, _ in CHECKLIST])
        service.apply_action(session, course, Action.PUBLISH, "rev")
    entry = entry_of(app, "REG-1")
    assert entry is not None
    assert entry["active"] is True
    assert entry["activity_id"] == "http://lb.test/catalog/courses/REG-1"
    assert (entry["primary_code"], entry["digital"], entry["physical"]) == ("202", "6", "0")
    assert [(s["code"], s["digital"]) for s in entry["segments"]] == [("505", "2")]
    assert (entry["has_test"], entry["pass_mark"], entry["survey_required"]) == (True, "80", True)
    assert entry["title"] == "公共政策英語簡報" and entry["title_en"] == "Presenting Public Policy in English"


def test_catalog_edit_of_a_published_course_updates_the_registry_with_history(app: Flask,
                                                                             add_course: Callable[..., str]) -> None:
    """Issue #8 D1: an edit of a published course changes its registry entry, kept in the entry's history."""
    add_course(code="REG-2")
    with app.app_context(), get_db(app).session() as session:
        course = service.get_course(session, "REG-2")
        row = service.snapshot(course)
        row.update(pass_mark="70", segments="202:6", hours="6")
        service.update_course(session, course, service.validate(row, service.category_codes(session)), "editor")
    entry = entry_of(app, "REG-2")
    assert entry is not None and entry["pass_mark"] == "70" and entry["segments"] == []
    assert entry["version"] == 2
    assert history_reasons(app, "REG-2") == ["synchronised from the catalog"] * 2


def test_catalog_retire_deactivates_the_registry_entry(app: Flask, add_course: Callable[..., str]) -> None:
    """Issue #8 D1: retiring a course leaves its entry (and past credits) but marks it inactive."""
    add_course(code="REG-3")
    assert entry_of(app, "REG-3")["active"] is True  # type: ignore[index]
    with app.app_context(), get_db(app).session() as session:
        service.apply_action(session, service.get_course(session, "REG-3"), Action.RETIRE, "curator")
    assert entry_of(app, "REG-3")["active"] is False  # type: ignore[index]


def test_catalog_publish_refused_by_the_registry_changes_nothing(app: Flask, add_course: Callable[..., str]) -> None:
    """R13 / bad input: a foreign course with fractional certified hours cannot be published; it stays in review."""
    add_course(Status.IN_REVIEW, code="REG-4", hours="1.5", segments="202:1.5")
    with app.app_context(), get_db(app).session() as session:
        course = service.get_course(session, "REG-4")
        service.apply_action(session, course, Action.APPROVE, "rev", checklist=[k for k, _ in CHECKLIST])
        session.commit()
        with pytest.raises(BadRequest, match=r"must be a whole number, got 1.5 \(R13\)"):
            service.apply_action(session, course, Action.PUBLISH, "rev")
        session.rollback()
    assert entry_of(app, "REG-4") is None
    with app.app_context(), get_db(app).session() as session:
        assert service.get_course(session, "REG-4").status == Status.IN_REVIEW.value


def test_curation_action_post_publish_syncs_through_the_page(app: Flask, curator: FlaskClient,
                                                             add_course: Callable[..., str]) -> None:
    """Issue #8 D1: a curator's Publish button on the course page registers the course in the same request."""
    add_course(Status.IN_REVIEW, code="REG-5")
    detail = "/catalog/manage/REG-5"
    every = [key for key, _ in CHECKLIST]
    approve = {"decision": "approve", "checklist": every, "csrf_token": csrf_token_from(curator, detail + "/review")}
    assert curator.post(detail + "/review", data=approve).status_code == 302
    published = curator.post(detail + "/action", data={"action": "publish", "csrf_token": csrf_token_from(curator, detail)})
    assert published.status_code == 302
    entry = entry_of(app, "REG-5")
    assert entry is not None and entry["active"] is True


def test_catalog_validate_accepts_a_staff_added_code(app: Flask) -> None:
    """Issue #6 bad input / #8: code 539, added by certification staff, is valid; an unknown code is not."""
    with app.app_context(), get_db(app).session() as session:
        with pytest.raises(ValidationFailed) as refused:
            service.validate(course_row(segments="202:4; 539:2"), service.category_codes(session))
        assert [p.text() for p in refused.value.problems] == ["Category code 539 is not in the lifelong-learning portal's code table."]
    add_code_539(app)
    with app.app_context(), get_db(app).session() as session:
        data = service.validate(course_row(segments="202:4; 539:2"), service.category_codes(session))
        assert [s.code for s in data.segments] == ["202", "539"]
        with pytest.raises(ValidationFailed) as unknown:
            service.validate(course_row(segments="202:4; 99999:2"), service.category_codes(session))
        assert [p.text() for p in unknown.value.problems] == [UNKNOWN_CODE_MESSAGE]


def test_curation_create_post_accepts_a_staff_added_code_and_refuses_an_unknown_one(app: Flask,
                                                                                   curator: FlaskClient) -> None:
    """Issue #6 bad input: the course editor takes code 539 once staff added it, and names an unknown code precisely."""
    add_code_539(app)
    page = "/catalog/manage/new"
    created = curator.post(page, data={**form_of(code="AI-539", segments="202:4; 539:2"),
                                       "csrf_token": csrf_token_from(curator, page)})
    assert created.status_code == 302
    refused = curator.post(page + "?lang=en", data={**form_of(code="AI-X", segments="202:4; 99999:2"),
                                                    "csrf_token": csrf_token_from(curator, page)})
    assert refused.status_code == 400 and UNKNOWN_CODE_MESSAGE in html.unescape(refused.get_data(as_text=True))
    codes_page = curator.get("/catalog/manage/codes").get_data(as_text=True)
    assert "539" in codes_page and "人工智慧基礎認知" in codes_page


def test_catalog_import_accepts_a_staff_added_code_and_refuses_an_unknown_one(app: Flask) -> None:
    """Issue #6 B4: an import row with code 539 passes once staff added it; an unknown code is refused by row."""
    add_code_539(app)
    rows = [course_row(code="IMP-539", segments="202:4; 539:2"), course_row(code="IMP-X", segments="202:4; 99999:2")]
    with app.app_context(), get_db(app).session() as session:
        report = importer.import_rows(session, rows, "tester")
    assert not report.written
    assert [(r.row, r.code, r.problems) for r in report.refused] == [
        (2, "IMP-X", [{"field": "segments", "message": UNKNOWN_CODE_MESSAGE}])]


def test_courses_api_get_filters_by_a_staff_added_code(app: Flask, client: FlaskClient,
                                                       add_course: Callable[..., str]) -> None:
    """Issue #6 B2: /api/courses?category_code=539 works once staff added 539; an unknown code is a 400."""
    assert client.get("/api/courses?category_code=539").status_code == 400
    add_code_539(app)
    add_course(code="AI-1", segments="202:4; 539:2")
    listed = client.get("/api/courses?category_code=539")
    assert listed.status_code == 200 and [c["code"] for c in listed.get_json()["items"]] == ["AI-1"]
    unknown = client.get("/api/courses?category_code=99999")
    assert unknown.status_code == 400
    assert unknown.get_json()["error"]["message"] == "Category code '99999' is not in the lifelong-learning portal's code table."


def test_catalog_demo_registers_every_published_course_beside_the_certification_demo(app: Flask) -> None:
    """Issue #8 D1, `make run`: both demos leave every published course registered, and the people loaded."""
    from lrs.certification import demo as certification_demo
    from lrs.certification.models import Person
    from lti_tool.catalog import demo as catalog_demo

    catalog_demo.load_demo(app)
    lines = certification_demo.load_demo(app)
    assert "already loaded" not in lines[0]
    with app.app_context(), get_db(app).session() as session:
        published = {c.code for c in service.all_courses(session, (Status.PUBLISHED,))}
        entries = {c.course_code: c.active for c in session.scalars(select(Course))}
        assert published and all(entries.get(code) is True for code in published), published - set(entries)
        assert session.scalar(select(Person.id).limit(1)) is not None


def test_curation_action_post_publish_refused_by_the_registry_says_why(app: Flask, curator: FlaskClient,
                                                                       add_course: Callable[..., str]) -> None:
    """R13 bad input on the page: the curator sees the registry's reason and the course stays in review."""
    add_course(Status.IN_REVIEW, code="REG-6", hours="1.5", segments="202:1.5")
    detail = "/catalog/manage/REG-6"
    every = [key for key, _ in CHECKLIST]
    approve = {"decision": "approve", "checklist": every, "csrf_token": csrf_token_from(curator, detail + "/review")}
    assert curator.post(detail + "/review", data=approve).status_code == 302
    refused = curator.post(detail + "/action", data={"action": "publish", "csrf_token": csrf_token_from(curator, detail)},
                           follow_redirects=True)
    assert "must be a whole number, got 1.5 (R13)" in html.unescape(refused.get_data(as_text=True))
    assert entry_of(app, "REG-6") is None
    with app.app_context(), get_db(app).session() as session:
        assert service.get_course(session, "REG-6").status == Status.IN_REVIEW.value
