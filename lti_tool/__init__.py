"""International Learning Bridge: the LTI 1.3 tool, the international learning zone and the LRS.

`create_app()` builds the whole product. It mounts the embedded LRS at `/xapi/` unless
`LRS_ENDPOINT` names a remote LRS, and the certification pages that read the LRS's statements.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from lrs import admin as lrs_admin
from lrs import api as lrs_api
from lrs import certification, outbox
from lrs.app import build_core, get_settings
from lti_tool import catalog, home, learning, lti


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Create the whole product."""
    app = build_core(__name__, test_config)
    if not get_settings(app).lrs_endpoint:
        lrs_api.init_app(app)
        lrs_admin.init_app(app)
    outbox.init_app(app)
    home.init_app(app)
    lti.init_app(app)
    catalog.init_app(app)
    learning.init_app(app)
    certification.init_app(app)
    return app
