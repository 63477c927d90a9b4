"""Test the credentials scope command."""

from __future__ import annotations

from flask import Flask

from lrs.admin.cli import credentials_scope
from lrs.db import get_db
from lrs.storage import credentials as creds


def test_credentials_scope_command_replaces_scopes(lrs_app: Flask) -> None:
    """Replace scopes by key, and explain an unknown key, scope or a revoked credential."""
    with get_db(lrs_app).session() as session:
        key = creds.create_credential(session, "cli", ["all"], "http://lb.test").credential.key
    runner = lrs_app.test_cli_runner()
    done = runner.invoke(credentials_scope, [key, "--scopes", "state,profile"])
    assert done.exit_code == 0 and "profile state" in done.output
    with get_db(lrs_app).session() as session:
        credential = session.query(creds.Credential).filter_by(key=key).one()
        assert credential.scopes == {"state", "profile"}
    assert runner.invoke(credentials_scope, [key, "--scopes", "everything"]).exit_code != 0
    assert "No credential" in runner.invoke(credentials_scope, ["nope", "--scopes", "all"]).output
    with get_db(lrs_app).session() as session:
        creds.revoke_credential(session, key)
    assert "revoked" in runner.invoke(credentials_scope, [key, "--scopes", "all"]).output
