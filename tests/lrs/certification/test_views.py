"""Test the certification staff pages and JSON API: permissions, masking, explorer, transcript, compliance, export (D4)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from lrs.certification import exports
from lrs.certification.models import Course, Person
from lrs.staff import Role
from tests.conftest import csrf_token_from
from tests.lrs.certification.conftest import ID_NUMBER, TPE, completion

Post = Callable[[list[dict[str, Any]]], list[str]]
PAGES = ["/certification/", "/certification/statements", "/certification/people", "/certification/compliance",
         "/certification/shortfalls", "/certification/registry", "/certification/codes", "/certification/export"]
APIS = ["/api/certification/statements", "/api/certification/compliance", "/api/certification/shortfalls", "/api/certification/credits",
        "/api/certification/registry"]


@pytest.fixture
def certifier(make_staff: Callable[..., tuple[str, str]], login: Callable[[str, str], None]) -> None:
    """Log the client in as certification staff."""
    login(*make_staff("certifier", Role.CERTIFICATION))


@pytest.mark.parametrize("path", PAGES)
def test_certification_pages_get_anonymous_redirected_to_login(client: FlaskClient, path: str) -> None:
    """D4: an anonymous visitor is sent to the staff login."""
    response = client.get(path)
    assert response.status_code == 302 and "/staff/login" in response.headers["Location"]


@pytest.mark.parametrize("path", APIS)
def test_certification_api_get_anonymous_unauthorized(client: FlaskClient, path: str) -> None:
    """D4: the JSON API answers 401 without a staff session."""
    assert client.get(path).status_code == 401


@pytest.mark.parametrize("path", PAGES + APIS)
def test_certification_pages_get_curator_forbidden(client: FlaskClient, make_staff: Callable[..., tuple[str, str]],
                                                   login: Callable[[str, str], None], path: str) -> None:
    """D4: a curator (staff without the certification role) gets 403."""
    login(*make_staff("curator", Role.CURATOR))
    assert client.get(path).status_code == 403


def test_certification_pages_get_learner_with_lrs_credential_cannot_read(client: FlaskClient, xapi_headers: dict[str, str],
                                                                          person: Person) -> None:
    """D6: a learner-side LRS credential does not open staff pages or IDs."""
    response = client.get(f"/api/certification/people/{person.id}/transcript", headers=xapi_headers)
    assert response.status_code == 401
    assert ID_NUMBER not in response.get_data(as_text=True)


@pytest.mark.parametrize("path", PAGES)
def test_certification_pages_get_certifier_ok(client: FlaskClient, certifier: None, path: str) -> None:
    """D4: certification staff see every page, in Traditional Chinese by default."""
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"


def test_certification_person_page_masks_id(client: FlaskClient, certifier: None, course: Course, person: Person, post: Post) -> None:
    """D6: the transcript shows A12****789, never the number, with quota progress and the credit's reason."""
    post(completion(dt.datetime(2026, 3, 5, 10, tzinfo=TPE)))
    page = client.get(f"/certification/people/{person.id}?year=2026&lang=en").get_data(as_text=True)
    assert "A12****789" in page and ID_NUMBER not in page
    assert "Credited to 2026" in page and "progressbar" in page
    title = page.split("<title>", 1)[1].split("</title>", 1)[0]
    assert "<form" not in title and "csrf_token" not in title  # the page title is the person's name, nothing else
    assert page.count('action="/certification/people/' + str(person.id) + '/edit"') == 1
    data = client.get(f"/api/certification/people/{person.id}/transcript?year=2026").get_json()
    assert data["person"]["id_number"] == "A12****789"
    assert data["credits"][0]["status"] == "credited"
    env = next(o for o in data["compliance"]["outcomes"] if o["key"] == "total")
    assert env["earned"] == "2" and env["shortfall"] == "18"


def test_certification_statements_explorer_filters_and_pages(client: FlaskClient, certifier: None, course: Course, person: Person,
                                                             post: Post) -> None:
    """D4: the explorer filters by person, course and verb and pages with `before`."""
    ids = post(completion(dt.datetime(2026, 3, 5, 10, tzinfo=TPE)))
    data = client.get(f"/api/certification/statements?person={person.id}&course=INT-AI-01&limit=2").get_json()
    assert [s["id"] for s in data["statements"]] == [ids[2], ids[1]]
    assert data["statements"][0]["person"]["id_number"] == "A12****789"
    older = client.get(f"/api/certification/statements?person={person.id}&limit=2&before={data['next_before']}").get_json()
    assert [s["id"] for s in older["statements"]] == [ids[0]] and older["next_before"] is None
    completed = client.get("/api/certification/statements?verb=completed").get_json()
    assert [s["id"] for s in completed["statements"]] == [ids[2]]
    assert client.get("/api/certification/statements?verb=bogus").status_code == 400
    assert client.get("/api/certification/statements?from=2026-13-01").status_code == 400
    page = client.get(f"/certification/statements?person={person.id}").get_data(as_text=True)
    assert ids[2] in page and ID_NUMBER not in page


def test_certification_compliance_shows_charts_and_shortfalls(client: FlaskClient, certifier: None, course: Course, person: Person,
                                                              post: Post) -> None:
    """D4 / R15: the compliance page draws inline SVG charts and the shortfall list names the quota and cut-off."""
    post(completion(dt.datetime(2026, 3, 5, 10, tzinfo=TPE)))
    page = client.get("/certification/compliance?year=2026&agency=379680000A").get_data(as_text=True)
    assert page.count("<svg") == 3 and "cdn" not in page.lower()
    data = client.get("/api/certification/shortfalls?year=2099").get_json()
    assert data["warnings"][0]["cutoff"] == "2099-11-30"
    assert any(s["key"] == "env" for s in data["warnings"][0]["shortfalls"])
    assert client.get("/api/certification/compliance?agency=bad").status_code == 400


def test_certification_export_post_downloads_big5_file(client: FlaskClient, certifier: None, course: Course, person: Person,
                                                       post: Post) -> None:
    """D5: the export page checks and downloads the portal file; decoded from Big5 it has the header and the row."""
    post(completion(dt.datetime(2026, 3, 5, 10, tzinfo=TPE)))
    token = csrf_token_from(client, "/certification/export")
    response = client.post("/certification/export", data={"csrf_token": token, "year": "2026", "agency": "379680000A",
                                                           "recompute": "1", "download": "1"})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = exports.parse_portal_file(response.data)
    assert rows[0] == exports.PORTAL_HEADER.split(",")
    assert rows[1][0] == ID_NUMBER and rows[1][8] == "202" and rows[1][24] == "10:00:00"


def test_certification_export_post_without_csrf_refused(client: FlaskClient, certifier: None) -> None:
    """Forms need the CSRF token."""
    assert client.post("/certification/export", data={"year": "2026"}).status_code == 400


def test_certification_people_post_registers_and_refuses_duplicates(client: FlaskClient, certifier: None) -> None:
    """D6: staff register a person; the same ID again is refused with an explanation, not a 500."""
    token = csrf_token_from(client, "/certification/people")
    form = {"csrf_token": token, "name": "林小華", "id_number": ID_NUMBER, "agency_code": "379680000A",
            "category": "permanent", "security_role": "general", "home_page": "https://lms.example.gov.tw", "account_name": "u9"}
    assert client.post("/certification/people", data=form).status_code == 302
    again = client.post("/certification/people", data={**form, "account_name": "u10"}, headers={"Accept": "application/json"})
    assert again.status_code == 409 and "already belongs to person" in again.get_json()["error"]["message"]
    assert ID_NUMBER not in again.get_data(as_text=True)
    bad = client.post("/certification/people", data={**form, "id_number": "A123456788"}, headers={"Accept": "application/json"})
    assert bad.status_code == 400 and "check digit" in bad.get_json()["error"]["message"]


def test_certification_registry_post_saves_with_history(client: FlaskClient, certifier: None) -> None:
    """D1: staff create and change a registry entry; the change needs a reason and is kept in the history."""
    token = csrf_token_from(client, "/certification/registry")
    form = {"csrf_token": token, "course_code": "WB-CE-01", "title": "公民參與", "primary_code": "505", "digital": "4",
            "physical": "0", "pass_mark": "80", "class_start": "2026-01-01", "class_end": "2026-12-31", "provider_effort": "6",
            "has_test": "1", "survey_required": "1", "foreign": "1", "active": "1"}
    assert client.post("/certification/registry", data=form).status_code == 302
    no_reason = client.post("/certification/registry", data={**form, "digital": "3"}, headers={"Accept": "application/json"})
    assert no_reason.status_code == 400
    assert client.post("/certification/registry", data={**form, "digital": "3", "reason": "provider shortened it"}).status_code == 302
    history = client.get("/api/certification/registry/WB-CE-01/history").get_json()
    assert [h["version"] for h in history] == [2, 1] and history[0]["reason"] == "provider shortened it"
    bad = client.post("/certification/registry", data={**form, "course_code": "X2", "primary_code": "99999"},
                      headers={"Accept": "application/json"})
    assert bad.status_code == 400 and "not in the code list" in bad.get_json()["error"]["message"]


def test_certification_registry_post_refused_shows_reasons_in_page_language_and_keeps_form(client: FlaskClient, certifier: None) -> None:
    """D1, A10: a refused entry comes back as a 400 page with every reason in Chinese (or English) and the form as typed."""
    token = csrf_token_from(client, "/certification/registry")
    form = {"csrf_token": token, "course_code": "WB-BAD-01", "title": "氣候財務", "primary_code": "99999", "digital": "2",
            "physical": "0", "class_start": "2026-05-01", "class_end": "2026-01-01", "city_code": "99", "term": "3",
            "has_test": "1", "foreign": "1", "active": "1"}
    page = client.post("/certification/registry", data=form)
    text = page.get_data(as_text=True)
    assert page.status_code == 400
    assert "時數登錄項目未儲存" in text
    assert "課程類別代碼 &#39;99999&#39; 不在代碼表中" in text and "上課期間的開始日（2026-05-01）晚於結束日（2026-01-01）" in text
    assert "上課縣市代碼 &#39;99&#39; 不正確" in text and "not in the code list" not in text
    assert 'value="WB-BAD-01"' in text and 'value="氣候財務"' in text and 'value="2026-05-01"' in text and 'name="term" value="3"' in text
    assert client.get("/api/certification/registry").get_json() == []  # nothing stored

    english = client.post("/certification/registry?lang=en", data=form).get_data(as_text=True)
    assert "The registry entry was not saved" in english and "is not in the code list" in english


def test_certification_codes_post_adds_newer_code(client: FlaskClient, certifier: None) -> None:
    """D1 / §2.4: staff add 539, which the 2023 table lacks, and it becomes usable in the registry."""
    token = csrf_token_from(client, "/certification/codes")
    assert client.post("/certification/codes", data={"csrf_token": token, "code": "539", "name": "人工智慧基礎認知"}).status_code == 302
    assert "人工智慧基礎認知" in client.get("/certification/codes").get_data(as_text=True)


def test_certification_pages_get_chinese_by_default_english_on_request(client: FlaskClient, certifier: None) -> None:
    """A10: pages are in Traditional Chinese by default and in English with ?lang=en."""
    assert "時數認證" in client.get("/certification/").get_data(as_text=True)
    assert "時數認證" in client.get("/staff/").get_data(as_text=True)
    assert "Hour certification" in client.get("/certification/?lang=en").get_data(as_text=True)


def test_certification_api_credits_lists_ledger_masked_and_paged(client: FlaskClient, certifier: None, course: Course,
                                                                 person: Person, post: Post) -> None:
    """D4: the ledger as JSON, IDs masked, filtered by status and paged."""
    post(completion(dt.datetime(2026, 3, 5, 10, tzinfo=TPE)))
    data = client.get("/api/certification/credits?year=2026&agency=379680000A&status=credited&limit=1").get_json()
    assert [c["status"] for c in data["credits"]] == ["credited"] and data["next_after"] is None
    assert data["credits"][0]["person"]["id_number"] == "A12****789" and data["credits"][0]["digital"] == "2"
    assert client.get("/api/certification/credits?status=bogus").status_code == 400


def test_certification_person_edit_and_unlink(client: FlaskClient, certifier: None, course: Course, person: Person, post: Post) -> None:
    """D6: staff change a person's 資安 role and unlink an account; the ledger follows and the audit trail records it."""
    post(completion(dt.datetime(2026, 3, 5, 10, tzinfo=TPE)))
    token = csrf_token_from(client, f"/certification/people/{person.id}")
    assert client.post(f"/certification/people/{person.id}/edit", data={"csrf_token": token, "name": "王小明", "agency_code": "379680000A",
                                                                        "category": "permanent", "security_role": "dedicated"}).status_code == 302
    data = client.get(f"/api/certification/people/{person.id}/transcript?year=2026").get_json()
    assert data["person"]["security_role"] == "dedicated"
    assert any(o["key"] == "security_professional" for o in data["compliance"]["outcomes"])
    assert client.post(f"/certification/people/{person.id}/actors/remove", data={
        "csrf_token": token, "home_page": "https://lms.example.gov.tw", "account_name": "learner-1"}).status_code == 302
    data = client.get(f"/api/certification/people/{person.id}/transcript?year=2026").get_json()
    assert data["person"]["actors"] == [] and data["credits"][0]["status"] == "revoked"


def test_certification_person_page_explains_in_chinese(client: FlaskClient, certifier: None, course: Course, person: Person,
                                                       post: Post) -> None:
    """A10 / R4: on the Chinese page the one-second-short reason reads in Chinese; the JSON keeps the English text."""
    post(completion(dt.datetime(2026, 3, 5, 10, tzinfo=TPE), seconds=7199))
    page = client.get(f"/certification/people/{person.id}?year=2026&lang=zh-TW").get_data(as_text=True)
    assert "尚差 1 秒" in page
    data = client.get(f"/api/certification/people/{person.id}/transcript?year=2026").get_json()
    assert "1 s short" in data["credits"][0]["explanation"][0]


def test_certification_compliance_year_before_any_profile_is_400(client: FlaskClient, certifier: None, person: Person) -> None:
    """R2: a year no profile covers (2005) is answered with a 400 that says so, not a 500."""
    response = client.get("/api/certification/compliance?year=2005")
    assert response.status_code == 400 and "No certification profile covers 2005" in response.get_json()["error"]["message"]
    assert client.get(f"/certification/people/{person.id}?year=2005").status_code == 400


def test_certification_statements_explorer_by_agency_and_dates(client: FlaskClient, certifier: None, course: Course, person: Person,
                                                               post: Post) -> None:
    """D4: the explorer filters by agency (a subquery) and by a Taipei date range."""
    ids = post(completion(dt.datetime(2026, 3, 5, 10, tzinfo=TPE)))
    data = client.get("/api/certification/statements?agency=379680000A").get_json()
    assert sorted(s["id"] for s in data["statements"]) == sorted(ids)
    assert client.get("/api/certification/statements?agency=360000000G").get_json()["statements"] == []
    that_day = client.get("/api/certification/statements?from=2026-03-05&to=2026-03-05").get_json()
    assert sorted(s["id"] for s in that_day["statements"]) == sorted(ids)
    assert client.get("/api/certification/statements?from=2026-03-06").get_json()["statements"] == []
    assert client.get("/api/certification/statements?to=2026-03-04").get_json()["statements"] == []
