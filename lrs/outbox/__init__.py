"""A durable outbox: rows written in the same transaction as what they report, delivered with retries."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register forwarding hooks and delivery on the app."""
