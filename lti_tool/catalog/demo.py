"""Load this area's demo data for `learning-bridge demo` (idempotent)."""

from __future__ import annotations

from flask import Flask


def load_demo(app: Flask) -> list[str]:
    """Load demo data once and return lines to print for the person running the demo."""
    return []
