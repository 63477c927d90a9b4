"""Drive a learner's launch from the demo LMS into the player in real headless Chromium (A8, A10)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

import lti_tool
from lrs.db import get_db
from tests.conftest import app_config
from tests.support import BROWSER_MARKS, LiveServer, chromium

from .conftest import add_course, queued_statements

pytestmark = BROWSER_MARKS


@pytest.fixture
def demo_site(database_url: str, tmp_path: Path) -> Iterator[tuple[Flask, str]]:
    """Serve the whole product in demo mode on 127.0.0.1, its public URL being the live server's."""
    holder: list[Flask] = []
    server = LiveServer(lambda environ, start: holder[0](environ, start)).start()
    app = lti_tool.create_app(app_config(
        database_url, tmp_path, PUBLIC_BASE_URL=server.url, DEMO_MODE=True,
        LEARNING_HEARTBEAT_SECONDS=1, LEARNING_HEARTBEAT_MIN_SECONDS=0,
    ))
    holder.append(app)
    try:
        yield app, server.url
    finally:
        server.stop()
        get_db(app).dispose()


@pytest.fixture
def browser() -> Iterator[Any]:
    """Start headless Chromium with a Taiwanese learner's languages."""
    with chromium() as driver:
        yield driver


def test_player_browser_learner_launches_studies_and_completes(demo_site: tuple[Flask, str], browser: Any) -> None:
    """A learner launches from the LMS, the page beats, and quiz and survey complete a 0-hour talk (R4, R6)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    app, base = demo_site
    add_course(app, "TED0", hours_tenths=0)
    wait = WebDriverWait(browser, 15)
    browser.get(base + "/demo/start?role=learner&course=TED0&storage=0")
    wait.until(ec.url_contains("/learn/"))
    wait.until(ec.presence_of_element_located((By.ID, "course-title")))
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "zh-Hant-TW"
    assert browser.find_element(By.ID, "course-title").text == "課程 TED0"
    # The page's heartbeat reaches the server and the note says reading time is being counted.
    wait.until(lambda d: d.find_element(By.ID, "timer-note").text != "")
    assert "閱讀時數" in browser.find_element(By.ID, "timer-note").text
    time.sleep(2.5)
    from lti_tool.learning.models import LearningEnrollment

    with get_db(app).session() as session:
        enrollment = session.query(LearningEnrollment).one()
        assert enrollment.read_seconds >= 1
        assert enrollment.learner_name

    browser.find_element(By.LINK_TEXT, "進行測驗").click()
    wait.until(ec.presence_of_element_located((By.ID, "quiz-title")))
    for question in ("q1", "q2"):
        browser.find_element(By.CSS_SELECTOR, f"label[for=q_{question}_a]").click()
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    wait.until(ec.presence_of_element_located((By.ID, "quiz-result")))
    assert "您已通過" in browser.find_element(By.ID, "quiz-result").text

    browser.find_element(By.LINK_TEXT, "回到課程").click()
    wait.until(ec.presence_of_element_located((By.LINK_TEXT, "填寫問卷"))).click()
    wait.until(ec.presence_of_element_located((By.ID, "survey-title")))
    for item in ("useful", "quality", "recommend"):
        browser.find_element(By.CSS_SELECTOR, f"label[for={item}_5]").click()
    browser.find_element(By.ID, "comment").send_keys("很實用")
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    wait.until(ec.presence_of_element_located((By.ID, "complete-note")))
    assert "您已完成本課程" in browser.find_element(By.ID, "complete-note").text

    with get_db(app).session() as session:
        enrollment = session.query(LearningEnrollment).one()
        assert enrollment.completed_at is not None and enrollment.credited_tenths == 0
    verbs = [st["verb"]["id"].rsplit("/", 1)[-1] for st in queued_statements(app)]
    assert verbs.count("completed") == 1 and "launched" in verbs and "initialized" in verbs
