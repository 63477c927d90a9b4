"""Set up what every page of both apps shares: languages, CSRF, the base layout, security headers.

Pages are in Traditional Chinese by default and in English on request. The language comes from
`?lang=`, then the `lang` cookie, then an LTI launch's locale (set by the tool in `g.lti_locale`),
then the browser's Accept-Language. Source strings are English; each package area keeps its own
`translations/` folder, compiled from `.po` to `.mo` at start-up when the `.po` is newer.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Blueprint, Flask, Response, g, request
from flask_babel import Babel, get_locale
from flask_wtf.csrf import CSRFError, CSRFProtect

from lrs.config import PROJECT_ROOT
from lrs.errors import error_response

LANGUAGES = {"zh_Hant_TW": "繁體中文", "en": "English"}
DEFAULT_LOCALE = "zh_Hant_TW"
LANG_ALIASES = {
    "zh": "zh_Hant_TW",
    "zh-tw": "zh_Hant_TW",
    "zh_tw": "zh_Hant_TW",
    "zh-hant": "zh_Hant_TW",
    "zh-hant-tw": "zh_Hant_TW",
    "zh_hant_tw": "zh_Hant_TW",
    "en": "en",
    "en-us": "en",
    "en-gb": "en",
    "en_us": "en",
}

csrf = CSRFProtect()
bp = Blueprint("ui", __name__, template_folder="templates", static_folder="static", static_url_path="/static/lb")


def normalise_locale(value: str | None) -> str | None:
    """Map a language tag such as `zh-TW` or `en-US` to one of our locales, or None."""
    if not value:
        return None
    lowered = value.strip().lower()
    if lowered in LANG_ALIASES:
        return LANG_ALIASES[lowered]
    primary = lowered.split("-")[0].split("_")[0]
    return LANG_ALIASES.get(primary)


def select_locale() -> str:
    """Choose the page language for this request."""
    for candidate in (request.args.get("lang"), request.cookies.get("lang"), g.get("lti_locale")):
        locale = normalise_locale(candidate)
        if locale:
            return locale
    for tag, _quality in request.accept_languages:
        locale = normalise_locale(tag)
        if locale:
            return locale
    return DEFAULT_LOCALE


def translation_dirs() -> list[str]:
    """Find every `translations/` folder of both packages."""
    found = []
    for package in ("lrs", "lti_tool"):
        for folder in sorted((PROJECT_ROOT / package).rglob("translations")):
            if folder.is_dir():
                found.append(str(folder))
    return found


def compile_translations(folders: list[str]) -> None:
    """Compile each `.po` to `.mo` when the `.mo` is missing or older, atomically."""
    for folder in folders:
        for po_path in Path(folder).rglob("*.po"):
            mo_path = po_path.with_suffix(".mo")
            if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
                continue
            with po_path.open("rb") as handle:
                catalog = read_po(handle)
            fd, tmp = tempfile.mkstemp(dir=po_path.parent, suffix=".mo.tmp")
            with os.fdopen(fd, "wb") as out:
                write_mo(out, catalog)
            os.replace(tmp, mo_path)  # several workers may compile at once; the last rename wins


def init_app(app: Flask) -> None:
    """Install languages, CSRF protection, the shared templates and security headers."""
    folders = translation_dirs()
    compile_translations(folders)
    app.config["BABEL_DEFAULT_LOCALE"] = DEFAULT_LOCALE
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = ";".join(folders)
    Babel(app, locale_selector=select_locale)
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)  # the token lives as long as the session
    csrf.init_app(app)
    app.register_blueprint(bp)

    @app.context_processor
    def inject_languages() -> dict[str, object]:
        locale = str(get_locale() or DEFAULT_LOCALE)
        return {
            "languages": LANGUAGES,
            "current_locale": locale,
            "html_lang": "zh-Hant-TW" if locale.startswith("zh") else "en",
        }

    @app.after_request
    def remember_language_and_harden(response: Response) -> Response:
        # The xAPI has no pages (Accept-Language serves format=canonical) and sets no cookies.
        chosen = None if request.path.startswith("/xapi/") else normalise_locale(request.args.get("lang"))
        if chosen:
            response.set_cookie("lang", chosen, max_age=365 * 24 * 3600, samesite="Lax",
                                secure=app.config.get("SESSION_COOKIE_SECURE", False))
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        if response.mimetype == "text/html":
            # Pages may be framed by LMSs (LTI launches); frame-ancestors is tightened per page where needed.
            response.headers.setdefault(
                "Content-Security-Policy",
                "default-src 'self'; img-src 'self' data: https:; media-src 'self' https:; "
                "frame-src https:; style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-inline'",
            )
        return response

    @app.errorhandler(CSRFError)
    def handle_csrf_error(err: CSRFError) -> Response:
        return error_response(
            400, "csrf_failed",
            "The form has expired or did not come from this site; reload the page and try again.",
        )
