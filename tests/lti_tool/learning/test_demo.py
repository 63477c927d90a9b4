"""Test the learning area's demo data and command-line commands."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import func, select

from lrs.db import get_db
from lti_tool.catalog import demo as catalog_demo
from lti_tool.learning import demo
from lti_tool.learning.models import LearningQuestion


def test_demo_load_gives_each_tested_course_a_quiz_once(app: Flask) -> None:
    """Every published demo course with a test gets questions; loading again adds nothing."""
    catalog_demo.load_demo(app)
    first = demo.load_demo(app)
    with get_db(app).session() as session:
        count = session.scalar(select(func.count()).select_from(LearningQuestion))
        courses = set(session.scalars(select(LearningQuestion.course_code)))
        answers = set(session.scalars(select(LearningQuestion.answer)))
    assert "quiz questions for" in first[0]
    assert {"WB-CE", "DLAI-AI4E", "UPENN-ECD"} <= courses
    assert "TED-PAHLKA-2012" not in courses
    assert len(answers) > 1
    assert demo.load_demo(app) == ["Learning player: demo quiz questions already loaded."]
    with get_db(app).session() as session:
        assert session.scalar(select(func.count()).select_from(LearningQuestion)) == count
