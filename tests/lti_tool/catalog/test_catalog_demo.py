"""Test the demo catalog: the real courses and talks of domain/certification.md section 5."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from lrs.certification.codes import is_valid_code
from lrs.db import get_db
from lti_tool.catalog import demo, service
from lti_tool.catalog.domain import Status, url_problem


def test_catalog_demo_loads_published_courses_once(app: Flask, client: FlaskClient) -> None:
    """The demo loads every course of the section 5 table as published, and a second run adds nothing."""
    first = demo.load_demo(app)
    second = demo.load_demo(app)
    assert first == ["Catalog: 14 published international courses and talks (14 added) at /catalog"]
    assert second == ["Catalog: 14 published international courses and talks (0 added) at /catalog"]
    with app.app_context(), get_db(app).session() as session:
        courses = service.all_courses(session)
        assert {c.status for c in courses} == {Status.PUBLISHED.value}
        for course in courses:
            assert url_problem(course.url) is None and course.title_zh and course.title_en
            assert all(is_valid_code(s.category_code) for s in course.segments)
            assert course.provider.country in {"US", "TW"}
        ecd = service.get_course(session, "UPENN-ECD")
        assert (ecd.hours, ecd.effort_hours, [s.category_code for s in ecd.segments]) == (20, 39, ["202"])
        talk = service.get_course(session, "TED-PAHLKA-2012")
        assert talk.hours == 0 and not talk.has_test and talk.format == "talk"
        nacs = service.get_course(session, "NACS-GMTD")
        assert nacs.learning_nature == 3 and nacs.pass_mark_defaulted
        assert len(service.recommendations(session, service.get_course(session, "WB-CE"))) == 1
    page = client.get("/catalog?q=世界銀行").get_data(as_text=True)
    assert "公民參與" in page and "發展融資" in page
