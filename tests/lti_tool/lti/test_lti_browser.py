"""Drive launches from the demo LMS in headless Chromium: platform storage with every cookie blocked."""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

import lti_tool
from lrs.db import get_db
from tests.conftest import app_config

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists() and os.environ.get("CI") != "true",
                       reason="Debian's chromium is not installed (CI=true makes this a failure instead)"),
]


@pytest.fixture
def demo_site(database_url: str, tmp_path: Path) -> Iterator[tuple[Flask, str]]:
    """Serve the product in demo mode on 127.0.0.1 (port 0), its public URL being the live server's."""
    holder: list[Flask] = []
    server = make_server("127.0.0.1", 0, lambda environ, start: holder[0](environ, start), threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    holder.append(lti_tool.create_app(app_config(database_url, tmp_path, PUBLIC_BASE_URL=base, DEMO_MODE=True)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield holder[0], base
    finally:
        server.shutdown()
        server.server_close()
        get_db(holder[0]).dispose()


def _browser(block_cookies: bool) -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="lb-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run", f"--user-data-dir={profile}", "--window-size=1280,1000"):
        options.add_argument(flag)
    prefs: dict[str, Any] = {"intl.accept_languages": "en"}
    if block_cookies:
        prefs["profile.default_content_setting_values.cookies"] = 2  # what a frame meets when 3rd-party cookies are blocked
    options.add_experimental_option("prefs", prefs)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(20)
    return driver


@pytest.fixture
def cookieless_browser() -> Iterator[Any]:
    """Start headless Chromium that refuses every cookie."""
    driver = _browser(block_cookies=True)
    try:
        yield driver
    finally:
        driver.quit()


def _frame_url(browser: Any) -> str:
    return str(browser.execute_script("return window.location.href;"))


def test_browser_launch_with_cookies_blocked_uses_platform_storage(demo_site: tuple[Flask, str],
                                                                   cookieless_browser: Any) -> None:
    """Launch in the LMS's frame with no cookies at all: state and nonce go through lti.put_data/lti.get_data."""
    from selenium.webdriver.support.ui import WebDriverWait

    app, base = demo_site
    cookieless_browser.get(base + "/demo/")
    cookieless_browser.execute_script("document.querySelector('iframe[name=tool-frame]').src = arguments[0];",
                                      base + "/demo/start?role=instructor&message=deep_linking&storage=1")
    cookieless_browser.switch_to.frame(cookieless_browser.find_element("css selector", "iframe[name=tool-frame]"))
    WebDriverWait(cookieless_browser, 20).until(lambda d: "lt=" in _frame_url(d))
    url = _frame_url(cookieless_browser)
    assert "/lti/launch" not in url and "lti-verify-failed" not in cookieless_browser.page_source
    from urllib.parse import parse_qs, urlsplit

    from lti_tool.lti.launch import load_launch

    with app.test_request_context("/"):
        context = load_launch(parse_qs(urlsplit(url).query)["lt"][0])
    assert context is not None and context.is_deep_linking and context.role.value == "instructor"


def test_browser_launch_with_cookies_blocked_and_no_storage_offers_new_window(demo_site: tuple[Flask, str],
                                                                             cookieless_browser: Any) -> None:
    """Offer a new window before contacting the platform when the frame keeps no cookies and no storage is offered."""
    from selenium.webdriver.support.ui import WebDriverWait

    _, base = demo_site
    cookieless_browser.get(base + "/demo/")
    cookieless_browser.execute_script("document.querySelector('iframe[name=tool-frame]').src = arguments[0];",
                                      base + "/demo/start?role=learner&storage=0")
    cookieless_browser.switch_to.frame(cookieless_browser.find_element("css selector", "iframe[name=tool-frame]"))
    WebDriverWait(cookieless_browser, 15).until(lambda d: d.find_element("id", "lti-login-blocked").is_displayed())
    link = cookieless_browser.find_element("css selector", "#lti-login-blocked a")
    assert "lti1p3_new_window=1" in str(link.get_attribute("href")) and link.get_attribute("target") == "_blank"
    assert "/lti/login" in _frame_url(cookieless_browser)  # the platform was not contacted yet


def test_browser_launch_in_frame_with_cookies_goes_straight_through(demo_site: tuple[Flask, str]) -> None:
    """Launch in the LMS's frame with cookies allowed: the cookie check passes and the launch lands."""
    from selenium.webdriver.support.ui import WebDriverWait

    _, base = demo_site
    browser = _browser(block_cookies=False)
    try:
        browser.get(base + "/demo/")
        browser.execute_script("document.querySelector('iframe[name=tool-frame]').src = arguments[0];",
                               base + "/demo/start?role=learner&storage=0")
        browser.switch_to.frame(browser.find_element("css selector", "iframe[name=tool-frame]"))
        WebDriverWait(browser, 20).until(lambda d: "lt=" in _frame_url(d))
        assert "/lti/launch" not in _frame_url(browser)
    finally:
        browser.quit()
