"""Test that the zone's pages come in Traditional Chinese by default and every string is translated (A10)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po
from flask.testing import FlaskClient

import lti_tool.catalog

PACKAGE = Path(lti_tool.catalog.__file__).parent
PO_FILE = PACKAGE / "translations" / "zh_Hant_TW" / "LC_MESSAGES" / "messages.po"


def test_catalog_translations_cover_every_string_of_the_area() -> None:
    """Every string marked in the area's code and templates has a Traditional Chinese translation."""
    keywords = {**DEFAULT_KEYWORDS, "N_": None}
    marked = {message for _f, _l, message, _c, _x in extract_from_dir(
        str(PACKAGE), method_map=[("**.py", "python"), ("**/templates/**.html", "jinja2.ext:babel_extract")],
        keywords=keywords)}
    with PO_FILE.open("rb") as handle:
        catalog = read_po(handle)
    untranslated = sorted(str(m) for m in marked
                          if catalog.get(m[0] if isinstance(m, tuple) else m) is None
                          or not (catalog.get(m[0] if isinstance(m, tuple) else m).string))
    assert untranslated == []
    assert len(marked) > 250


def test_catalog_pages_get_default_to_traditional_chinese(client: FlaskClient, add_course: Callable[..., str]) -> None:
    """Pages speak Traditional Chinese unless English is asked for; course titles follow the language."""
    code = add_course()
    page = client.get("/catalog").get_data(as_text=True)
    assert '<html lang="zh-Hant-TW">' in page and "國際教育學習專區" in page and "搜尋課程（中文或英文）" in page
    assert "找到 1 門課程" in page
    course = client.get(f"/catalog/{code}").get_data(as_text=True)
    assert "<h1 id=\"course-title\">公共政策英語簡報</h1>" in course and "認證時數" in course
    english = client.get(f"/catalog/{code}?lang=en").get_data(as_text=True)
    assert "<h1 id=\"course-title\">Presenting Public Policy in English</h1>" in english


def test_catalog_form_problems_get_translated(curator: FlaskClient) -> None:
    """A refused form explains each problem in the page's language."""
    from tests.conftest import csrf_token_from

    token = csrf_token_from(curator, "/catalog/manage/new")
    response = curator.post("/catalog/manage/new", data={"csrf_token": token, "code": "ZH-1", "hours": "-1"})
    text = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "時數不可為負數（填寫的是 -1）。" in text and "此欄必填。" in text
