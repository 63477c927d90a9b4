"""Administrator pages of the LRS (credentials)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the LRS administration pages."""
