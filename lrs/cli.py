"""Provide the LRS's administrative commands: database, staff accounts and LRS credentials."""

from __future__ import annotations

import click
from alembic import command
from flask import current_app
from flask.cli import with_appcontext

from lrs.admin.cli import credentials_scope
from lrs.app import get_settings
from lrs.db import alembic_config, get_db
from lrs.errors import AppError
from lrs.staff import service as staff_service
from lrs.storage import credentials as creds


def _fail(err: AppError) -> None:
    raise click.ClickException(err.message)


@click.group("db")
def db_group() -> None:
    """Migrate and inspect the database."""


@db_group.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Target revision.")
@with_appcontext
def db_upgrade(revision: str) -> None:
    """Apply migrations up to the target revision (head by default)."""
    database = get_db()
    state = database.migration_state()
    if not state.reachable:
        raise click.ClickException(state.problem() or "The database is unreachable.")
    if state.error == "unknown revision":
        raise click.ClickException(state.problem() or "The database is from a newer version.")
    command.upgrade(alembic_config(database.url), revision)
    after = database.migration_state()
    click.echo(f"Database at revision {after.current} (head {after.head}).")


@db_group.command("current")
@with_appcontext
def db_current() -> None:
    """Print the database's revision and whether it is at head."""
    state = get_db().migration_state()
    click.echo(f"revision: {state.current}  head: {state.head}  up to date: {'yes' if state.up_to_date else 'no'}")
    problem = state.problem()
    if problem:
        raise click.ClickException(problem)


@click.group("users")
def users_group() -> None:
    """Manage staff accounts (administrators, curators, certification staff)."""


@users_group.command("create")
@click.argument("username")
@click.option("--role", "roles", required=True, help="Comma-separated: administrator, curator, certification.")
@click.option("--name", "display_name", default="", help="Display name.")
@click.option("--email", default="")
@click.password_option(help="Password (prompted when omitted; at least 10 characters).")
@with_appcontext
def users_create(username: str, roles: str, display_name: str, email: str, password: str) -> None:
    """Create a staff account."""
    try:
        with get_db().session() as session:
            user = staff_service.create_user(
                session, username, password, staff_service.parse_roles(roles), display_name, email
            )
            click.echo(f"Created {user.username} with roles {', '.join(sorted(r.value for r in user.roles))}.")
    except AppError as err:
        _fail(err)


@users_group.command("list")
@with_appcontext
def users_list() -> None:
    """List staff accounts."""
    with get_db().session() as session:
        for user in staff_service.list_users(session):
            state = "active" if user.active else "disabled"
            roles = ",".join(sorted(r.value for r in user.roles))
            click.echo(f"{user.username}\t{state}\t{roles}\t{user.display_name}")


@users_group.command("disable")
@click.argument("username")
@with_appcontext
def users_disable(username: str) -> None:
    """Disable an account and end its sessions."""
    try:
        with get_db().session() as session:
            staff_service.set_active(session, username, False)
        click.echo(f"Disabled {username}; its sessions have ended.")
    except AppError as err:
        _fail(err)


@users_group.command("enable")
@click.argument("username")
@with_appcontext
def users_enable(username: str) -> None:
    """Enable a disabled account."""
    try:
        with get_db().session() as session:
            staff_service.set_active(session, username, True)
        click.echo(f"Enabled {username}.")
    except AppError as err:
        _fail(err)


@click.group("lrs")
def lrs_group() -> None:
    """Administer the embedded LRS."""


@lrs_group.group("credentials")
def credentials_group() -> None:
    """Issue, list and revoke LRS credentials."""


@credentials_group.command("create")
@click.argument("name")
@click.option("--scopes", default="statements/write,statements/read/mine", show_default=True,
              help=f"Comma-separated scopes from: {', '.join(creds.SCOPES)}.")
@with_appcontext
def credentials_create(name: str, scopes: str) -> None:
    """Create a credential and print its key and secret (the secret is shown only now)."""
    settings = get_settings(current_app)
    try:
        with get_db().session() as session:
            issued = creds.create_credential(session, name, creds.parse_scopes(scopes), settings.public_base_url, "cli")
            click.echo(f"key:    {issued.credential.key}")
            click.echo(f"secret: {issued.secret}")
            click.echo(f"scopes: {issued.credential.scopes_text}")
            click.echo("Keep the secret now: it is stored hashed and cannot be shown again.")
    except AppError as err:
        _fail(err)


@credentials_group.command("list")
@with_appcontext
def credentials_list() -> None:
    """List credentials (never their secrets)."""
    with get_db().session() as session:
        for credential in creds.list_credentials(session):
            state = "revoked" if credential.revoked else "active"
            click.echo(f"{credential.key}\t{state}\t{credential.scopes_text}\t{credential.name}")


@credentials_group.command("revoke")
@click.argument("key")
@with_appcontext
def credentials_revoke(key: str) -> None:
    """Revoke a credential; every worker refuses it from the next request on."""
    try:
        with get_db().session() as session:
            creds.revoke_credential(session, key)
        click.echo(f"Revoked {key}.")
    except AppError as err:
        _fail(err)


# Kept beside the admin page that shares its service; added here so `lrs credentials` is one group.
credentials_group.add_command(credentials_scope)
