"""Load this area's demo data for `learning-bridge demo` (idempotent): the demo platform's registration."""

from __future__ import annotations

from flask import Flask

from lrs.app import get_settings


def load_demo(app: Flask) -> list[str]:
    """Register the demo platform once and say where to launch from."""
    from lti_tool.lti import demo_platform

    created = demo_platform.ensure_registered(app)
    base = get_settings(app).public_base_url
    state = "registered" if created else "already registered"
    lines = [f"Demo LMS platform {state} (client {demo_platform.CLIENT_ID}, deployment {demo_platform.DEPLOYMENT_ID})."]
    if get_settings(app).demo_mode:
        lines.append(f"Launch as a learner or an instructor at {base}/demo")
    else:
        lines.append("Set DEMO_MODE=1 to open the demo LMS at /demo.")
    return lines
