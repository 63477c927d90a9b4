"""Test the curation workflow and its permissions through the curators' pages (B3)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from lrs.db import get_db
from lrs.staff.models import Role
from lti_tool.catalog import service
from lti_tool.catalog.domain import CHECKLIST, Status
from tests.conftest import csrf_token_from
from tests.lti_tool.catalog.conftest import course_row


def form_of(**overrides: Any) -> dict[str, Any]:
    """Return a course form as a browser posts it (unticked boxes are absent)."""
    row = course_row(**overrides)
    for name in ("has_test", "survey_required", "cross_year_repeat"):
        if row.get(name) != "yes":
            row.pop(name, None)
    return row


def post(client: FlaskClient, url: str, data: dict[str, Any], page: str | None = None) -> Any:
    """Post a form with the CSRF token of the page it comes from."""
    return client.post(url, data={**data, "csrf_token": csrf_token_from(client, page or url)})


def status_of(app: Flask, code: str) -> str:
    with app.app_context(), get_db(app).session() as session:
        return service.get_course(session, code).status


def test_curation_create_edit_submit_review_publish_retire_keeps_history(app: Flask, curator: FlaskClient) -> None:
    """B3: a curator builds a course from draft to published to retired; every step is in the history."""
    created = post(curator, "/catalog/manage/new", form_of())
    assert created.status_code == 302 and created.headers["Location"].endswith("/catalog/manage/TEST-101")
    assert status_of(app, "TEST-101") == "draft"

    edit_page = "/catalog/manage/TEST-101/edit"
    version = 1
    edited = post(curator, edit_page, {**form_of(title_en="Presenting Policy in English"), "version": version})
    assert edited.status_code == 302

    detail = "/catalog/manage/TEST-101"
    assert post(curator, detail + "/action", {"action": "submit"}, detail).status_code == 302
    assert status_of(app, "TEST-101") == "in_review"

    # Publishing before a reviewer approved against the checklist is refused.
    refused = post(curator, detail + "/action", {"action": "publish"}, detail)
    assert refused.status_code == 302 and status_of(app, "TEST-101") == "in_review"
    partial = post(curator, detail + "/review", {"decision": "approve", "checklist": ["link", "licence"]})
    assert partial.status_code == 409 and "missing: provider" in partial.get_data(as_text=True)
    every = [key for key, _ in CHECKLIST]
    assert post(curator, detail + "/review", {"decision": "approve", "checklist": every}).status_code == 302
    assert post(curator, detail + "/action", {"action": "publish"}, detail).status_code == 302
    assert status_of(app, "TEST-101") == "published"
    assert "Presenting Policy in English" in curator.get("/catalog?lang=en").get_data(as_text=True)

    assert post(curator, detail + "/action", {"action": "retire"}, detail).status_code == 302
    assert status_of(app, "TEST-101") == "retired"
    assert curator.get("/catalog/TEST-101").status_code == 404

    with app.app_context(), get_db(app).session() as session:
        entries = service.history(session, service.get_course(session, "TEST-101"))
        steps = [(entry.actor, entry.action) for entry in reversed(entries)]
        edit = next(entry for entry in entries if entry.action == "edit")
        approval = next(entry for entry in entries if entry.action == "approve")
    assert steps == [("cura", "create"), ("cura", "edit"), ("cura", "submit"), ("cura", "approve"),
                     ("cura", "publish"), ("cura", "retire")]
    assert edit.changes["title_en"] == ["Presenting Public Policy in English", "Presenting Policy in English"]
    assert approval.changes["checklist"] == sorted(every)
    history_page = curator.get(detail + "?lang=en").get_data(as_text=True)
    assert "Presenting Public Policy in English → Presenting Policy in English" in history_page


def test_curation_review_return_needs_a_note_and_goes_back_to_draft(app: Flask, curator: FlaskClient,
                                                                    add_course: Callable[..., str]) -> None:
    """B3: a reviewer returns a course with a note saying what to change."""
    code = add_course(Status.IN_REVIEW)
    page = f"/catalog/manage/{code}/review"
    assert post(curator, page, {"decision": "return", "note": ""}).status_code == 400
    assert status_of(app, code) == "in_review"
    assert post(curator, page, {"decision": "return", "note": "Check the licence end date."}).status_code == 302
    assert status_of(app, code) == "draft"


def test_curation_edit_after_approval_withdraws_the_approval(app: Flask, curator: FlaskClient,
                                                             add_course: Callable[..., str]) -> None:
    """B3: an approval covers what the reviewer saw; an edit afterwards needs a new approval."""
    code = add_course(Status.IN_REVIEW)
    every = [key for key, _ in CHECKLIST]
    post(curator, f"/catalog/manage/{code}/review", {"decision": "approve", "checklist": every})
    post(curator, f"/catalog/manage/{code}/edit", {**form_of(hours="5", segments="202:5"), "version": 3})
    detail = f"/catalog/manage/{code}"
    post(curator, detail + "/action", {"action": "publish"}, detail)
    assert status_of(app, code) == "in_review"


def test_curation_edit_refuses_a_stale_form(app: Flask, curator: FlaskClient, add_course: Callable[..., str]) -> None:
    """Two curators editing at once: the second save is refused rather than silently overwriting."""
    code = add_course(Status.DRAFT)
    response = post(curator, f"/catalog/manage/{code}/edit?lang=en", {**form_of(title_en="Late edit"), "version": 0},
                    f"/catalog/manage/{code}/edit")
    assert response.status_code == 409 and "reload the page" in response.get_data(as_text=True)
    with app.app_context(), get_db(app).session() as session:
        assert service.get_course(session, code).title_en == "Presenting Public Policy in English"


def test_curation_create_shows_each_problem_beside_its_field(app: Flask, curator: FlaskClient) -> None:
    """Bad input on the form is refused with the precise message next to the field, and nothing is stored."""
    response = post(curator, "/catalog/manage/new?lang=en",
                    form_of(segments="99999:6", url="notaurl", hours="-1"), "/catalog/manage/new")
    text = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Category code 99999 is not in" in text and "Hours cannot be negative" in text
    assert 'aria-invalid="true"' in text
    with app.app_context(), get_db(app).session() as session:
        assert service.all_courses(session) == []


def test_curation_create_refuses_a_duplicate_code(curator: FlaskClient, add_course: Callable[..., str]) -> None:
    """Course codes are unique."""
    add_course(Status.DRAFT)
    response = post(curator, "/catalog/manage/new?lang=en", form_of(), "/catalog/manage/new")
    assert response.status_code == 409 and "TEST-101 is already used" in response.get_data(as_text=True)


def test_curation_pages_get_need_a_curator_login(client: FlaskClient) -> None:
    """Anonymous visitors are sent to the staff login; API-style callers get 401."""
    page = client.get("/catalog/manage")
    assert page.status_code == 302 and "/staff/login" in page.headers["Location"]
    assert client.get("/catalog/manage/export.json", headers={"Accept": "application/json"}).status_code in (302, 401)


@pytest.mark.parametrize(("method", "url"), [
    ("get", "/catalog/manage"),
    ("get", "/catalog/manage/new"),
    ("post", "/catalog/manage/new"),
    ("post", "/catalog/manage/TEST-101/edit"),
    ("post", "/catalog/manage/TEST-101/action"),
    ("post", "/catalog/manage/TEST-101/review"),
    ("get", "/catalog/manage/export.csv"),
    ("post", "/catalog/manage/import"),
    ("post", "/catalog/manage/reviews"),
])
def test_curation_pages_refuse_staff_without_the_curator_role(
    app: Flask, client: FlaskClient, make_staff: Callable[..., tuple[str, str]], login: Callable[[str, str], None],
    add_course: Callable[..., str], method: str, url: str,
) -> None:
    """B3: certification staff are logged in but may not curate (403), and nothing changes."""
    add_course(Status.DRAFT)
    login(*make_staff("certifier", Role.CERTIFICATION))
    token = csrf_token_from(client, "/staff/login")
    data = {**form_of(title_en="Hijacked"), "action": "submit", "csrf_token": token, "version": 1}
    response = client.get(url) if method == "get" else client.post(url, data=data)
    assert response.status_code == 403
    assert "curator" in response.get_data(as_text=True)
    with app.app_context(), get_db(app).session() as session:
        course = service.get_course(session, "TEST-101")
        assert (course.status, course.title_en) == ("draft", "Presenting Public Policy in English")


def test_curation_action_post_without_csrf_token_is_refused(curator: FlaskClient, add_course: Callable[..., str],
                                                            app: Flask) -> None:
    """Every curator form carries a CSRF token; a forged post changes nothing."""
    code = add_course(Status.DRAFT)
    response = curator.post(f"/catalog/manage/{code}/action", data={"action": "submit"})
    assert response.status_code == 400
    assert status_of(app, code) == "draft"


def test_curation_dashboard_get_flags_dead_links_licences_and_pass_marks(
    app: Flask, curator: FlaskClient, add_course: Callable[..., str],
) -> None:
    """B5: the dashboard lists dead links, licences ending soon and assumed pass marks (R5)."""
    import datetime as dt

    soon = (dt.date.today() + dt.timedelta(days=10)).isoformat()
    add_course(code="LIC-1", licence_until=soon)
    add_course(code="FAR-1", licence_until=(dt.date.today() + dt.timedelta(days=400)).isoformat())
    add_course(code="PASS-1", pass_mark="")
    with app.app_context(), get_db(app).session() as session:
        course = service.get_course(session, "FAR-1")
        course.link_status, course.link_detail = "dead", "HTTP 404"
    page = curator.get("/catalog/manage?lang=en").get_data(as_text=True)
    dead = page.split('id="dead-links"')[1].split("</section>")[0]
    licences = page.split('id="licences"')[1].split("</section>")[0]
    assert "FAR-1" in dead and "HTTP 404" in dead and "LIC-1" not in dead
    assert "LIC-1" in licences and soon in licences and "FAR-1" not in licences
    assert "PASS-1" in page.split("Pass mark assumed, to confirm")[1].split("</section>")[0]


def test_staff_home_get_links_the_curation_area(curator: FlaskClient) -> None:
    """The staff landing page links curators to the zone's curation dashboard."""
    assert "/catalog/manage" in curator.get("/staff/").get_data(as_text=True)


def test_curation_courses_get_lists_every_status_with_search(curator: FlaskClient,
                                                             add_course: Callable[..., str]) -> None:
    """B3: curators find any course, in any status, by search and status filter."""
    add_course(Status.DRAFT, code="D-1", title_zh="草稿甲課")
    add_course(Status.PUBLISHED, code="P-1", title_zh="上架甲課")
    add_course(Status.RETIRED, code="R-1", title_zh="下架乙課")
    listing = curator.get("/catalog/manage/courses?q=甲課").get_data(as_text=True)
    assert "D-1" in listing and "P-1" in listing and "R-1" not in listing
    retired = curator.get("/catalog/manage/courses?status=retired").get_data(as_text=True)
    assert "R-1" in retired and "D-1" not in retired
    public = curator.get("/catalog/P-1").get_data(as_text=True)
    assert 'href="/catalog/manage/P-1"' in public


def test_curation_review_with_four_eyes_needs_another_curator(
    app: Flask, client: FlaskClient, make_staff: Callable[..., tuple[str, str]], login: Callable[[str, str], None],
) -> None:
    """B3: with CATALOG_FOUR_EYES on, the author cannot approve their own course; a second curator can."""
    app.config["CATALOG_FOUR_EYES"] = True
    login(*make_staff("author", Role.CURATOR))
    post(client, "/catalog/manage/new", form_of())
    detail = "/catalog/manage/TEST-101"
    post(client, detail + "/action", {"action": "submit"}, detail)
    every = [key for key, _ in CHECKLIST]
    own = post(client, detail + "/review?lang=en", {"decision": "approve", "checklist": every}, detail + "/review")
    assert own.status_code == 409 and "another curator must review it" in own.get_data(as_text=True)
    post(client, "/staff/logout", {}, "/catalog/manage")
    login(*make_staff("reviewer", Role.CURATOR))
    assert post(client, detail + "/review", {"decision": "approve", "checklist": every}).status_code == 302
    with app.app_context(), get_db(app).session() as session:
        assert service.get_course(session, "TEST-101").approved_by == "reviewer"
