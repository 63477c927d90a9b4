"""Read this area's settings and build its per-app objects (the ID vault, the profile book), once per app.

Settings (app.config, from the environment through lrs.config):
- CERTIFICATION_ID_KEY: URL-safe base64 of 32 bytes; unset: a key generated under KEYS_DIR (0600).
- CERTIFICATION_ALLOW_PASSPORT: accept passport numbers for foreign staff (default true).
- CERTIFICATION_PROFILES: path of a JSON file with agency profiles (a list; see rules.profile_from_dict).
- CERTIFICATION_EXPORT_DIR: where `certification export` writes (default INSTANCE_PATH/exports).
- CERTIFICATION_HOLIDAYS: national holidays (comma-separated YYYY-MM-DD) skipped when counting working days (R12, R15).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from sqlalchemy.orm import Session

from lrs.app import get_settings
from lrs.certification import idno, parallel, rules

_VAULT_KEY = "lb.certification.vault"
_BOOK_KEY = "lb.certification.profiles"
_TRUE = {"1", "true", "yes", "on"}


def _setting(app: Flask, name: str, default: Any = None) -> Any:
    """Read a setting from app.config (tests, lrs.config) or, until lrs.config lists it, from the environment."""
    if name in app.config:
        return app.config[name]
    return os.environ.get(name, default)


def _flag(app: Flask, name: str, default: bool) -> bool:
    value = _setting(app, name, default)
    return value.strip().lower() in _TRUE if isinstance(value, str) else bool(value)


def get_vault(app: Flask | None = None) -> idno.IdVault:
    """Return the app's ID vault, creating the key under KEYS_DIR on first use."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    vault = app.extensions.get(_VAULT_KEY)
    if vault is None:
        secret = idno.load_secret(get_settings(app).keys_dir, _setting(app, "CERTIFICATION_ID_KEY") or None)
        vault = app.extensions[_VAULT_KEY] = idno.IdVault(secret)
    return vault


def parallel_job(session: Session, workers: int, app: Flask | None = None) -> parallel.Job | None:
    """Return a job for `workers` processes on the app's database and ID key, or None to stay in this process."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    get_vault(app)  # creates the key under KEYS_DIR first, so that the workers read the same one
    return parallel.Job.for_session(session, get_settings(app).keys_dir, _setting(app, "CERTIFICATION_ID_KEY") or None, workers)


def allow_passport(app: Flask | None = None) -> bool:
    """Tell whether passport numbers are accepted for foreign staff."""
    return _flag(app or current_app, "CERTIFICATION_ALLOW_PASSPORT", True)


def profile_book(app: Flask | None = None) -> rules.ProfileBook:
    """Return the EY default profiles plus the agency profiles configured in CERTIFICATION_PROFILES."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    book = app.extensions.get(_BOOK_KEY)
    if book is None:
        book = rules.ProfileBook()
        path = _setting(app, "CERTIFICATION_PROFILES")
        if path:
            try:
                items = json.loads(Path(path).read_text(encoding="utf-8"))
            except (OSError, ValueError) as err:
                raise rules.RuleError(f"CERTIFICATION_PROFILES {path} cannot be read as JSON ({err}).") from None
            for item in items if isinstance(items, list) else [items]:
                book = book.with_agency(rules.profile_from_dict(item, book))
        app.extensions[_BOOK_KEY] = book
    return book


def holidays(app: Flask | None = None) -> tuple[dt.date, ...]:
    """Return the configured holidays that working-day counts skip (weekends are always skipped)."""
    raw = _setting(app or current_app, "CERTIFICATION_HOLIDAYS", "") or ""
    items = raw if isinstance(raw, list | tuple) else str(raw).replace(";", ",").split(",")
    try:
        return tuple(sorted(item if isinstance(item, dt.date) else dt.date.fromisoformat(str(item).strip())
                            for item in items if str(item).strip()))
    except ValueError as err:
        raise rules.RuleError(f"CERTIFICATION_HOLIDAYS must list dates such as 2026-10-10 ({err}).") from None


def export_dir(app: Flask | None = None) -> Path:
    """Return the folder exports are written to."""
    app = app or current_app
    configured = _setting(app, "CERTIFICATION_EXPORT_DIR")
    return Path(configured) if configured else get_settings(app).instance_path / "exports"


def activity_base(app: Flask | None = None) -> str:
    """Return the base of catalog course activity ids (the tool's public URL), as the learner player uses."""
    return get_settings(app or current_app).public_base_url.rstrip("/")
