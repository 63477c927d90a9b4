"""Command-line commands of this area: `platforms add|list|remove|status`, `keys rotate|list`, `bench lti`."""

from __future__ import annotations

import datetime as dt
import json

import click
from flask import current_app
from flask.cli import with_appcontext

from lrs.app import get_settings
from lrs.db import get_db
from lrs.errors import AppError
from lti_tool.keys import get_keyring
from lti_tool.lti import registry
from lti_tool.lti.bench import bench_lti
from lti_tool.lti.models import RegistrationStatus


def _fail(err: AppError) -> click.ClickException:
    return click.ClickException(err.message)


@click.group("platforms")
def platforms_group() -> None:
    """Register, list and remove LMS platforms (LTI 1.3 registrations)."""


@platforms_group.command("add")
@click.option("--issuer", required=True, help="The platform's issuer (iss), e.g. https://moodle.example.gov.tw")
@click.option("--client-id", required=True, help="The client id the platform assigned to this tool.")
@click.option("--auth-login-url", required=True, help="The platform's OIDC authorization endpoint.")
@click.option("--jwks-url", default="", help="The platform's public key set (JWKS) URL.")
@click.option("--token-url", default="", help="The platform's OAuth 2 access token endpoint (for AGS and NRPS).")
@click.option("--audience", default="", help="The token endpoint's audience, when it differs from its URL.")
@click.option("--deployment-id", "deployment_ids", multiple=True, help="A deployment id (repeat for several).")
@click.option("--name", default="", help="A name administrators recognise.")
@click.option("--product-family", default="", help="moodle, canvas, ...")
@click.option("--status", type=click.Choice([s.value for s in RegistrationStatus]), default="active", show_default=True)
@with_appcontext
def platforms_add(issuer: str, client_id: str, auth_login_url: str, jwks_url: str, token_url: str, audience: str,
                  deployment_ids: tuple[str, ...], name: str, product_family: str, status: str) -> None:
    """Register a platform by hand (the values its LMS administrator gives you)."""
    try:
        with get_db().session() as session:
            row = registry.create(session, registry.RegistrationInput(
                issuer=issuer, client_id=client_id, auth_login_url=auth_login_url, jwks_url=jwks_url,
                auth_token_url=token_url, auth_audience=audience, name=name, product_family=product_family,
                deployment_ids=list(deployment_ids), status=RegistrationStatus(status),
            ), allow_http=get_settings(current_app).allow_private_outbound)
            click.echo(f"Registered platform {row.id}: {row.issuer} client {row.client_id} ({row.status}), "
                       f"deployments: {', '.join(row.deployment_ids) or 'none'}")
            if not row.deployment_ids:
                click.echo("No deployment id yet: launches are refused until you add one "
                           f"(learning-bridge platforms status {row.id} {row.status} --add-deployment ID).")
    except AppError as err:
        raise _fail(err) from None


@platforms_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@with_appcontext
def platforms_list(as_json: bool) -> None:
    """List registered platforms."""
    with get_db().session() as session:
        rows = registry.list_all(session)
        if as_json:
            click.echo(json.dumps([{
                "id": r.id, "issuer": r.issuer, "client_id": r.client_id, "name": r.name, "status": r.status,
                "source": r.source, "deployments": r.deployment_ids, "auth_login_url": r.auth_login_url,
                "jwks_url": r.jwks_url, "token_url": r.auth_token_url,
            } for r in rows], ensure_ascii=False, indent=2))
            return
        if not rows:
            click.echo("No platforms are registered. Use `learning-bridge platforms add` or dynamic registration.")
        for r in rows:
            click.echo(f"{r.id}\t{r.status}\t{r.issuer}\t{r.client_id}\t{r.name}\tdeployments: "
                       f"{', '.join(r.deployment_ids) or 'none'}")


@platforms_group.command("remove")
@click.argument("registration_id", type=int)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def platforms_remove(registration_id: int, yes: bool) -> None:
    """Remove a registration and its deployments (launches from it stop at once)."""
    try:
        with get_db().session() as session:
            row = registry.get(session, registration_id)
            if not yes:
                click.confirm(f"Remove {row.issuer} client {row.client_id}?", abort=True)
            registry.remove(session, row)
            click.echo(f"Removed platform {registration_id}.")
    except AppError as err:
        raise _fail(err) from None


@platforms_group.command("status")
@click.argument("registration_id", type=int)
@click.argument("status", type=click.Choice([s.value for s in RegistrationStatus]))
@click.option("--add-deployment", "deployment_ids", multiple=True, help="Also add a deployment id.")
@with_appcontext
def platforms_status(registration_id: int, status: str, deployment_ids: tuple[str, ...]) -> None:
    """Activate, hold (pending) or disable a registration, optionally adding deployment ids."""
    try:
        with get_db().session() as session:
            row = registry.get(session, registration_id)
            registry.set_status(row, status)
            registry.add_deployments(row, deployment_ids)
            click.echo(f"Platform {row.id} is {row.status}; deployments: {', '.join(row.deployment_ids) or 'none'}")
    except AppError as err:
        raise _fail(err) from None


@click.group("keys")
def keys_group() -> None:
    """Manage the tool's signing keys (KEYS_DIR)."""


@keys_group.command("rotate")
@click.option("--overlap-hours", type=float, default=None,
              help="Hours before the new key signs (default LTI_KEY_OVERLAP_HOURS, else 24).")
@with_appcontext
def keys_rotate(overlap_hours: float | None) -> None:
    """Publish a new key now, sign with it after the overlap, and drop keys retired long enough."""
    ring = get_keyring()
    overlap = None if overlap_hours is None else dt.timedelta(hours=overlap_hours)
    new = ring.rotate(overlap=overlap)
    click.echo(f"New key {new.kid} is published now and signs from {new.signs_from.isoformat()}.")
    click.echo(f"Published keys: {', '.join(k.kid for k in ring.published())}")


@keys_group.command("list")
@with_appcontext
def keys_list() -> None:
    """List the keys, marking the one that signs now."""
    ring = get_keyring()
    signing = ring.signing_key().kid
    published = {k.kid for k in ring.published()}
    for info in ring.entries():
        mark = "signing" if info.kid == signing else ("published" if info.kid in published else "retired")
        click.echo(f"{info.kid}\t{mark}\tcreated {info.created_at.isoformat()}\tsigns from {info.signs_from.isoformat()}")


# Top-level commands or groups (for example `catalog`), and `learning-bridge bench` subcommands.
commands: list[click.Command] = [platforms_group, keys_group]
bench_commands: list[click.Command] = [bench_lti]
