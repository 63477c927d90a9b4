"""Lifelong-learning hour certification: registry, people, rules, ledger, staff pages, exports.

It reads the LRS's statements (through evidence.py); the LRS core (lrs.api, lrs.xapi, lrs.storage)
never imports it. `init_app` mounts the staff pages at /certification, the JSON API at
/api/certification and a stored-statement hook that keeps the ledger current as completions and
voidings arrive.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from flask import Flask
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from lrs.certification import evidence

log = logging.getLogger(__name__)


def ledger_hook(session: Session, statements: Sequence[dict[str, Any]]) -> None:
    """Recompute the ledger rows that newly stored completions or voidings touch, in the same transaction.

    Runs inside a savepoint: a failure here is logged and rolled back alone, and never refuses the
    statements themselves (the next `certification recompute` catches up).
    """
    subjects = evidence.batch_subjects(statements)
    targets = evidence.voided_targets(statements)
    if not subjects and not targets:
        return
    from lrs.certification import ledger

    try:
        with session.begin_nested():
            subjects = subjects + evidence.statements_subjects(session, targets)
            ledger.recompute_subjects(session, subjects)
    except SQLAlchemyError:
        log.exception("certification ledger update failed; run `learning-bridge certification recompute`")


def init_app(app: Flask) -> None:
    """Register this area's pages, API and hooks on the app."""
    from lrs.certification.rules import RuleError
    from lrs.certification.settings import get_vault, holidays
    from lrs.certification.views import init_app as init_views
    from lrs.config import ConfigError
    from lrs.storage.hooks import register_stored_hook

    try:
        get_vault(app)  # fail at start-up, in one line, when the ID key is unusable (not at the first export)
    except (ValueError, OSError) as err:
        raise ConfigError(f"The national-ID encryption key is unusable: {err}") from None
    try:
        holidays(app)
    except RuleError as err:
        raise ConfigError(str(err)) from None
    init_views(app)
    register_stored_hook(app, ledger_hook)
