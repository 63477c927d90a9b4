"""Drive the zone's pages in real headless Chromium: a learner searches, a curator publishes (A10, B2, B3)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from flask import Flask

from lrs.staff.models import Role
from lti_tool.catalog import demo
from lti_tool.catalog.domain import Status
from tests.support import BROWSER_MARKS, LiveServer, chromium

pytestmark = BROWSER_MARKS


@pytest.fixture
def browser() -> Iterator[object]:
    """Start headless Chromium with a Taiwanese learner's languages."""
    with chromium() as driver:
        yield driver


def test_catalog_browser_learner_searches_in_chinese_and_opens_a_course(app: Flask, live_app: LiveServer,
                                                                        browser: object) -> None:
    """B2, A10: a learner types a two-character Chinese query, submits with the keyboard and opens the course."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.remote.webdriver import WebDriver
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import Select, WebDriverWait

    assert isinstance(browser, WebDriver)
    demo.load_demo(app)
    browser.get(live_app.url + "/catalog")
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "zh-Hant-TW"
    assert browser.find_element(By.TAG_NAME, "h1").text == "國際教育學習專區"
    search = browser.find_element(By.ID, "q")
    assert browser.find_element(By.CSS_SELECTOR, "label[for=q]").is_displayed()
    search.send_keys("公民")
    search.send_keys(Keys.ENTER)
    WebDriverWait(browser, 10).until(ec.url_contains("q="))
    titles = [a.text for a in browser.find_elements(By.CSS_SELECTOR, ".course-card h3 a")]
    assert "公民參與" in titles and "職涯發展英語" not in titles

    Select(browser.find_element(By.ID, "format")).select_by_value("talk")
    browser.find_element(By.ID, "search-button").click()
    WebDriverWait(browser, 10).until(ec.url_contains("format=talk"))
    titles = [a.text for a in browser.find_elements(By.CSS_SELECTOR, ".course-card h3 a")]
    noveck = "貝絲．諾維克：以開源方式重新思考政府"
    assert sorted(titles) == sorted([noveck, "珍妮佛．帕卡：用程式碼打造更好的政府（TED2012）"])

    browser.find_element(By.LINK_TEXT, noveck).click()
    WebDriverWait(browser, 10).until(ec.url_contains("/catalog/TED-NOVECK"))
    assert "0" in browser.find_element(By.CSS_SELECTOR, "dl.course-facts").text
    browser.find_element(By.LINK_TEXT, "English").click()
    WebDriverWait(browser, 10).until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Beth Noveck"))
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"


def test_catalog_browser_curator_reviews_and_publishes_a_course(
    app: Flask, live_app: LiveServer, browser: object, make_staff: Callable[..., tuple[str, str]],
    add_course: Callable[..., str],
) -> None:
    """B3: a curator logs in, ticks the quality checklist, approves and publishes; learners then find it."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.remote.webdriver import WebDriver
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    assert isinstance(browser, WebDriver)
    code = add_course(Status.IN_REVIEW, title_zh="瀏覽器測試課程", title_en="Browser test course")
    username, password = make_staff("browsercurator", Role.CURATOR)
    browser.get(f"{live_app.url}/catalog/manage/{code}?lang=en")
    WebDriverWait(browser, 10).until(ec.presence_of_element_located((By.ID, "username")))
    browser.find_element(By.ID, "username").send_keys(username)
    browser.find_element(By.ID, "password").send_keys(password)
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    WebDriverWait(browser, 10).until(ec.presence_of_element_located((By.ID, "course-status")))
    assert browser.find_element(By.ID, "course-status").text == "In review"

    browser.find_element(By.ID, "action-review").click()
    WebDriverWait(browser, 10).until(ec.presence_of_element_located((By.ID, "approve")))
    boxes = browser.find_elements(By.CSS_SELECTOR, "input[name=checklist]")
    assert len(boxes) == 7
    for box in boxes:
        box.click()
    browser.find_element(By.ID, "approve").click()
    WebDriverWait(browser, 10).until(ec.presence_of_element_located((By.ID, "action-publish")))
    browser.find_element(By.ID, "action-publish").click()
    WebDriverWait(browser, 10).until(ec.text_to_be_present_in_element((By.ID, "course-status"), "Published"))
    history = browser.find_element(By.ID, "history").text
    assert "approve" in history and "publish" in history and "browsercurator" in history

    browser.get(f"{live_app.url}/catalog?q=瀏覽器")
    assert [a.text for a in browser.find_elements(By.CSS_SELECTOR, ".course-card h3 a")] == ["Browser test course"]
