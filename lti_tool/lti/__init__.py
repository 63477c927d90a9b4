"""LTI 1.3 adapter: the only package that imports pylti1p3."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register this area's pages, API and hooks on the app."""
