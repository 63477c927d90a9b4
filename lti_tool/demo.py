"""Load the demo data of every area: staff accounts, an LRS credential, catalog, platform, people."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from lrs.app import get_settings
from lrs.certification import demo as certification_demo
from lrs.db import get_db
from lrs.staff import service as staff_service
from lrs.staff.models import Role, StaffUser
from lrs.storage import credentials as creds
from lti_tool.catalog import demo as catalog_demo
from lti_tool.learning import demo as learning_demo
from lti_tool.lti import demo as lti_demo

# Demo accounts exist only when someone runs `learning-bridge demo`; never in production data.
DEMO_PASSWORD = "demo-password-123"  # noqa: S105  (printed by `make run`; demo data only)
DEMO_USERS = (
    ("admin", "示範管理員 Demo Administrator", {Role.ADMINISTRATOR}),
    ("curator", "示範課程策展人 Demo Curator", {Role.CURATOR}),
    ("certifier", "示範認證承辦人 Demo Certification Officer", {Role.CERTIFICATION}),
)
DEMO_CREDENTIAL_NAME = "Demo xAPI client"


def load_staff_demo(app: Flask) -> list[str]:
    """Create the demo staff accounts and an LRS credential, once."""
    lines: list[str] = []
    with get_db(app).session() as session:
        for username, name, roles in DEMO_USERS:
            if session.scalar(select(StaffUser).where(StaffUser.username == username)) is None:
                staff_service.create_user(session, username, DEMO_PASSWORD, set(roles), name)
        lines.append(f"Staff logins (password {DEMO_PASSWORD}): " + ", ".join(u for u, _, _ in DEMO_USERS))
        existing = session.scalar(select(creds.Credential).where(creds.Credential.name == DEMO_CREDENTIAL_NAME))
        if existing is None:
            issued = creds.create_credential(
                session, DEMO_CREDENTIAL_NAME, ["all"], get_settings(app).public_base_url, "demo"
            )
            secret_file = get_settings(app).instance_path / "demo_lrs_credential.txt"
            secret_file.write_text(f"{issued.credential.key}:{issued.secret}\n")
            secret_file.chmod(0o600)
        lines.append(
            f"Demo LRS credential (key:secret) is in {get_settings(app).instance_path / 'demo_lrs_credential.txt'}"
        )
    return lines


def load_all(app: Flask) -> list[str]:
    """Load every area's demo data and return what to tell the person."""
    lines = load_staff_demo(app)
    for loader in (catalog_demo.load_demo, lti_demo.load_demo, learning_demo.load_demo, certification_demo.load_demo):
        lines.extend(loader(app))
    return lines
