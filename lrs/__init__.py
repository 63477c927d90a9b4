"""A standalone, conformant xAPI 1.0.3 and 2.0.0 Learning Record Store.

`lrs` depends on nothing of `lti_tool`; the tool builds on it. `lrs.certification` reads the
LRS's statements; the LRS core never imports it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from lrs import admin, api, outbox
from lrs.app import build_core


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Create the standalone LRS (xAPI resources, credentials, staff login, health)."""
    app = build_core(__name__, test_config)
    api.init_app(app)
    outbox.init_app(app)
    admin.init_app(app)
    return app
