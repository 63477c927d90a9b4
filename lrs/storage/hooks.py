"""Let other parts of the LRS act on statements in the same transaction that stores them.

The statement store calls `run_stored_hooks(app, session, statements)` after inserting a batch and
before committing, so a listener (forwarding to another LRS, for example) writes its own rows
atomically with the statements: either both are stored or neither is.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from flask import Flask
from sqlalchemy.orm import Session

HOOKS_KEY = "lb.statement_stored_hooks"
StoredHook = Callable[[Session, Sequence[dict[str, Any]]], None]


def register_stored_hook(app: Flask, hook: StoredHook) -> None:
    """Call `hook(session, statements)` inside every transaction that stores statements."""
    app.extensions.setdefault(HOOKS_KEY, []).append(hook)


def run_stored_hooks(app: Flask, session: Session, statements: Sequence[dict[str, Any]]) -> None:
    """Run every registered hook on the statements just stored (as stored: id, stored, authority set)."""
    for hook in app.extensions.get(HOOKS_KEY, []):
        hook(session, statements)
