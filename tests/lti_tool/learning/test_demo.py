"""Test the learning area's demo data and command-line commands."""

from __future__ import annotations

import json
from pathlib import Path

from flask import Flask
from sqlalchemy import func, select

from lrs.db import get_db
from lti_tool.catalog import demo as catalog_demo
from lti_tool.learning import demo
from lti_tool.learning.cli import learning_group
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


def test_cli_questions_import_replaces_bank_and_refuses_bad_files(app: Flask, tmp_path: Path) -> None:
    """`learning questions-import` loads a valid bank and refuses an invalid one with a precise message."""
    good = tmp_path / "bank.json"
    good.write_text(json.dumps({"c1": [{"key": "q1", "prompt_en": "Why?", "prompt_zh": "為何？", "answer": "b",
                                        "choices": [{"key": "a", "en": "No", "zh": "否"}, {"key": "b", "en": "Yes", "zh": "是"}]}]}))
    runner = app.test_cli_runner()
    result = runner.invoke(learning_group, ["questions-import", str(good)])
    assert result.exit_code == 0, result.output
    assert "C1: 1 questions" in result.output
    listed = runner.invoke(learning_group, ["questions-list", "c1"])
    assert "q1: Why? [answer b]" in listed.output
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"C1": [{"key": "q1", "prompt_en": "Why?", "prompt_zh": "為何？", "answer": "z",
                                       "choices": [{"key": "a", "en": "No", "zh": "否"}, {"key": "b", "en": "Yes", "zh": "是"}]}]}))
    refused = runner.invoke(learning_group, ["questions-import", str(bad)])
    assert refused.exit_code != 0
    assert "C1[0].answer 'z' is not one of its choices' keys." in refused.output
    with get_db(app).session() as session:
        assert session.scalar(select(LearningQuestion.answer).where(LearningQuestion.course_code == "C1")) == "b"
