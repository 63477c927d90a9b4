"""Command-line counterpart of the credentials page: change a credential's scopes.

`learning-bridge lrs credentials create|list|revoke` live in `lrs.cli`; `credentials_scope` is
meant to join that group as `learning-bridge lrs credentials scope KEY --scopes ...`.
"""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from lrs.db import get_db
from lrs.errors import AppError
from lrs.storage import credentials as creds


@click.command("scope")
@click.argument("key")
@click.option("--scopes", required=True, help=f"Comma-separated scopes from: {', '.join(creds.SCOPES)}.")
@with_appcontext
def credentials_scope(key: str, scopes: str) -> None:
    """Replace a credential's scopes; every worker checks the new ones from the next request on."""
    try:
        names = creds.parse_scopes(scopes)
        with get_db().session() as session:
            credential = session.scalar(select(creds.Credential).where(creds.Credential.key == key))
            if credential is None:
                raise click.ClickException(f"No credential has the key {key!r}.")
            if credential.revoked:
                raise click.ClickException("A revoked credential cannot be changed; create a new one.")
            credential.scopes_text = " ".join(names)
        click.echo(f"{key} now has the scopes: {' '.join(names)}")
    except AppError as err:
        raise click.ClickException(err.message) from None


# Top-level commands or groups, and `learning-bridge bench` subcommands (none: see credentials_scope).
commands: list[click.Command] = []
bench_commands: list[click.Command] = []
