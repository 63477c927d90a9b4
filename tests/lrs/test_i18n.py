"""Test that pages come in Traditional Chinese by default and in English on request."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from lrs.ui import normalise_locale


def test_pages_default_to_traditional_chinese(client: FlaskClient) -> None:
    """Serve Traditional Chinese with lang="zh-Hant-TW" when the browser states no preference."""
    page = client.get("/staff/login").get_data(as_text=True)
    assert '<html lang="zh-Hant-TW">' in page
    assert "工作人員登入" in page


def test_pages_follow_accept_language(client: FlaskClient) -> None:
    """Serve English to a browser that prefers English."""
    page = client.get("/staff/login", headers={"Accept-Language": "en-US,en;q=0.9"}).get_data(as_text=True)
    assert '<html lang="en">' in page
    assert "Staff login" in page
    assert "工作人員登入" not in page


def test_pages_lang_parameter_is_remembered(client: FlaskClient) -> None:
    """Switch with ?lang=en and keep English on the next page through a cookie."""
    client.get("/?lang=en")
    page = client.get("/staff/login").get_data(as_text=True)
    assert "Staff login" in page
    client.get("/?lang=zh_Hant_TW")
    assert "工作人員登入" in client.get("/staff/login").get_data(as_text=True)


@pytest.mark.parametrize(
    ("tag", "locale"),
    [("zh-TW", "zh_Hant_TW"), ("zh-Hant", "zh_Hant_TW"), ("zh", "zh_Hant_TW"), ("en-GB", "en"), ("fr", None), ("", None)],
)
def test_normalise_locale_maps_tags(tag: str, locale: str | None) -> None:
    """Map BCP 47 tags to our two locales and ignore others."""
    assert normalise_locale(tag) == locale


def test_pages_send_security_headers(client: FlaskClient) -> None:
    """Send nosniff, a referrer policy and a content security policy on pages."""
    response = client.get("/")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]


def test_language_switch_keeps_the_query_string(client: FlaskClient) -> None:
    """Keep other query parameters (such as a launch token) in the language links."""
    page = client.get("/?lt=launch-token-value&page=2").get_data(as_text=True)
    assert 'href="/?lt=launch-token-value&amp;page=2&amp;lang=en"' in page
