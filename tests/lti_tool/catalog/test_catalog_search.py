"""Test search and filters in Chinese and English on every backend, and the JSON API (B2)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from lrs.db import get_db
from lti_tool.catalog import service
from lti_tool.catalog.domain import Status
from lti_tool.catalog.service import CourseQuery


@pytest.fixture
def catalog(add_course: Callable[..., str]) -> None:
    """Store a small catalog: three published courses, a draft and a retired course."""
    add_course(code="WB-CE", title_zh="公民參與", title_en="Citizen Engagement", provider_key="world-bank",
               provider_name_en="World Bank Group", provider_name_zh="世界銀行", provider_country="US",
               provider_type="international_organisation", hours="4", segments="505:4", effort_hours="",
               topics="公民參與 Civic participation", languages="en", subtitle_languages="",
               description_zh="讓民眾參與公共決策。", description_en="Involving people in public decisions.", tags="")
    add_course(code="UPENN-ECD", title_zh="職涯發展英語", title_en="English for Career Development",
               provider_key="upenn", provider_name_en="University of Pennsylvania", provider_name_zh="美國賓州大學",
               provider_country="US", hours="20", segments="202:20", effort_hours="39", topics="英語 English",
               subtitle_languages="zh-Hant")
    add_course(code="TED-TALK", title_zh="用程式碼打造更好的政府", title_en="Coding a better government", format="talk",
               hours="0", segments="124:0", has_test="no", pass_mark="", effort_hours="", topics="數位治理",
               subtitle_languages="", description_zh="以數位科技改善政府。", description_en="100% about civic tech_and government", tags="")
    add_course(Status.DRAFT, code="DRAFT-1", title_zh="公民草稿", title_en="Citizen draft")
    add_course(Status.RETIRED, code="OLD-1", title_zh="公民舊課", title_en="Citizen old")


def codes(app: Flask, **query: Any) -> list[str]:
    with app.app_context(), get_db(app).session() as session:
        page = service.find_published(session, CourseQuery(**query))
        return sorted(course.code for course in page.items)


@pytest.mark.usefixtures("catalog")
@pytest.mark.parametrize(("q", "expected"), [
    ("公民", ["WB-CE"]),               # two Chinese characters inside a longer run
    ("參與", ["WB-CE"]),
    ("英語", ["UPENN-ECD"]),
    ("世界銀行", ["WB-CE"]),           # provider name in Chinese
    ("citizen", ["WB-CE"]),
    ("CITIZEN engagement", ["WB-CE"]),  # case-insensitive, every term must match
    ("ｃｉｔｉｚｅｎ", ["WB-CE"]),          # full-width letters
    ("world bank", ["WB-CE"]),
    ("career 英語", ["UPENN-ECD"]),     # mixed languages
    ("505", ["WB-CE"]),                # category code
    ("英文", ["UPENN-ECD"]),           # category code name (202 英文)
    ("government", ["TED-TALK"]),
    ("%", ["TED-TALK"]),               # LIKE wildcards are searched literally
    ("_and", ["TED-TALK"]),
    ("不存在的字", []),
])
def test_course_search_finds_chinese_and_english_on_every_backend(app: Flask, q: str, expected: list[str]) -> None:
    """B2: a query in either language (two Chinese characters included) finds published courses only."""
    assert codes(app, q=q) == expected


@pytest.mark.usefixtures("catalog")
@pytest.mark.parametrize(("query", "expected"), [
    ({"topic": "英語 English"}, ["UPENN-ECD"]),
    ({"language": "zh-Hant"}, ["UPENN-ECD"]),
    ({"provider": "world-bank"}, ["WB-CE"]),
    ({"format": "talk"}, ["TED-TALK"]),
    ({"category_code": "202"}, ["UPENN-ECD"]),
    ({"category_code": "505"}, ["WB-CE"]),
    ({"min_hours": 4}, ["UPENN-ECD", "WB-CE"]),
    ({"max_hours": 4}, ["TED-TALK", "WB-CE"]),
    ({"min_hours": 1, "max_hours": 10}, ["WB-CE"]),
    ({"q": "公民", "format": "mooc"}, ["WB-CE"]),
    ({"q": "公民", "format": "talk"}, []),
])
def test_course_search_filters_by_topic_language_provider_format_code_hours(app: Flask, query: dict[str, Any],
                                                                           expected: list[str]) -> None:
    """B2: each browse filter narrows the published courses."""
    assert codes(app, **query) == expected


@pytest.mark.usefixtures("catalog")
def test_course_search_pages_results(app: Flask) -> None:
    """B2: results come in pages with the total."""
    with app.app_context(), get_db(app).session() as session:
        first = service.find_published(session, CourseQuery(per_page=2, sort="title"))
        second = service.find_published(session, CourseQuery(per_page=2, page=2, sort="title"))
    assert first.total == 3 and first.pages == 2 and first.has_next and not second.has_next
    assert [c.code for c in first.items] + [c.code for c in second.items] == ["WB-CE", "TED-TALK", "UPENN-ECD"]


@pytest.mark.usefixtures("catalog")
def test_catalog_page_get_searches_and_filters(client: FlaskClient) -> None:
    """B2: the browse page searches in Chinese and offers every filter with a label."""
    page = client.get("/catalog?q=公民").get_data(as_text=True)
    assert "公民參與" in page and "公民草稿" not in page and "公民舊課" not in page
    assert "1 門課程" in page or "1 course found" in page
    for name in ("q", "topic", "language", "provider", "format", "category_code", "min_hours", "max_hours"):
        assert f'<label for="{name}">' in page
    english = client.get("/catalog?lang=en&q=career").get_data(as_text=True)
    assert "English for Career Development" in english and "1 course found" in english
    bad = client.get("/catalog?min_hours=abc")
    assert bad.status_code == 200 and "min_hours must be a number" in bad.get_data(as_text=True)


@pytest.mark.usefixtures("catalog")
def test_course_page_get_shows_published_course_and_hides_others(client: FlaskClient) -> None:
    """B2: a published course has a page; drafts and retired courses are not shown to the public."""
    page = client.get("/catalog/UPENN-ECD?lang=en")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "English for Career Development" in text and "202 英文" in text and "University of Pennsylvania" in text
    assert client.get("/catalog/upenn-ecd").status_code == 301
    assert client.get("/catalog/DRAFT-1").status_code == 404
    assert client.get("/catalog/OLD-1").status_code == 404


@pytest.mark.usefixtures("catalog")
def test_courses_api_get_lists_with_paging_and_filters(client: FlaskClient) -> None:
    """B2: /api/courses gives the same search as JSON, with paging links."""
    body = client.get("/api/courses?per_page=2&sort=title").get_json()
    assert body["total"] == 3 and body["pages"] == 2 and len(body["items"]) == 2
    assert body["next"].endswith("per_page=2&sort=title&page=2") or "page=2" in body["next"]
    last = client.get("/api/courses?per_page=2&sort=title&page=2").get_json()
    assert [item["code"] for item in last["items"]] == ["UPENN-ECD"] and last["next"] is None
    found = client.get("/api/courses?q=公民").get_json()
    assert [item["code"] for item in found["items"]] == ["WB-CE"]
    item = found["items"][0]
    assert item["title"] == {"zh-Hant": "公民參與", "en": "Citizen Engagement"}
    assert item["segments"] == [{"code": "505", "name": "公民參與", "hours": 4.0}]
    assert item["provider"]["country"] == "US"


@pytest.mark.usefixtures("catalog")
def test_courses_api_get_one_describes_a_published_course(client: FlaskClient) -> None:
    """B1: one course's JSON carries hours, pass mark, licence and class period; drafts are 404."""
    body = client.get("/api/courses/UPENN-ECD").get_json()
    assert body["hours"] == 20.0 and body["pass_mark"] == 80 and body["survey_required"] is True
    assert body["learning_nature"] == 1 and body["digital_hours"] == 20.0
    assert body["licence"]["holder"] == "All civil servants"
    missing = client.get("/api/courses/DRAFT-1")
    assert missing.status_code == 404 and "DRAFT-1" in missing.get_json()["error"]["message"]


@pytest.mark.parametrize(("query", "fragment"), [
    ("colour=red", "Unknown query parameter 'colour'"),
    ("per_page=1000", "per_page must be a whole number from 1 to 100"),
    ("page=0", "page must be a whole number from 1 to 10000"),
    ("format=podcast", "Unknown format 'podcast'"),
    ("category_code=99999", "Category code '99999' is not in"),
    ("min_hours=-1", "min_hours must be a number of hours of 0 or more"),
    ("sort=random", "Unknown sort 'random'"),
])
def test_courses_api_get_refuses_bad_parameters(client: FlaskClient, query: str, fragment: str) -> None:
    """Bad query parameters get 400 with a message saying what to use."""
    response = client.get(f"/api/courses?{query}")
    assert response.status_code == 400
    assert fragment in response.get_json()["error"]["message"]


@pytest.mark.usefixtures("catalog")
def test_new_and_updated_get_lists_recent_changes(app: Flask, client: FlaskClient) -> None:
    """B5: the new-and-updated list shows published courses, the latest change first."""
    with app.app_context(), get_db(app).session() as session:
        course = service.get_course(session, "WB-CE")
        row = service.snapshot(course)
        row["title_en"] = "Citizen Engagement (updated)"
        service.update_course(session, course, service.validate(row), "tester")
    with app.app_context(), get_db(app).session() as session:
        listed = [c.code for c in service.new_and_updated(session)]
    assert listed[0] == "WB-CE" and "DRAFT-1" not in listed and "OLD-1" not in listed
    page = client.get("/catalog/new?lang=en").get_data(as_text=True)
    assert "Citizen Engagement (updated)" in page and "Updated" in page
