"""Drive launches from the demo LMS in headless Chromium: platform storage with every cookie blocked."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

import lti_tool
from lrs.db import get_db
from tests.conftest import app_config
from tests.support import BROWSER_MARKS, LiveServer, chromium

pytestmark = BROWSER_MARKS


@pytest.fixture
def demo_site(database_url: str, tmp_path: Path) -> Iterator[tuple[Flask, str]]:
    """Serve the product in demo mode on 127.0.0.1 (port 0), its public URL being the live server's."""
    holder: list[Flask] = []
    server = LiveServer(lambda environ, start: holder[0](environ, start)).start()
    holder.append(lti_tool.create_app(app_config(database_url, tmp_path, PUBLIC_BASE_URL=server.url, DEMO_MODE=True)))
    try:
        yield holder[0], server.url
    finally:
        server.stop()
        get_db(holder[0]).dispose()


@pytest.fixture
def cookieless_browser() -> Iterator[Any]:
    """Start headless Chromium that refuses every cookie."""
    with chromium("en", block_cookies=True) as driver:
        yield driver


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
    with chromium("en") as browser:
        browser.get(base + "/demo/")
        browser.execute_script("document.querySelector('iframe[name=tool-frame]').src = arguments[0];",
                               base + "/demo/start?role=learner&storage=0")
        browser.switch_to.frame(browser.find_element("css selector", "iframe[name=tool-frame]"))
        WebDriverWait(browser, 20).until(lambda d: "lt=" in _frame_url(d))
        assert "/lti/launch" not in _frame_url(browser)
