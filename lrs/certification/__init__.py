"""Lifelong-learning hour certification: registry, people, rules, ledger, staff pages, exports."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register this area's pages, API and hooks on the app."""
