"""Provide the `learning-bridge` console script: one Flask CLI group for every administrative task."""

from __future__ import annotations

import os
import sys

import click
from flask import current_app
from flask.cli import FlaskGroup, ScriptInfo, routes_command, shell_command, with_appcontext
from werkzeug.serving import run_simple

from lrs import cli as lrs_cli
from lrs.app import get_settings
from lrs.bench import cli as lrs_bench_cli
from lrs.certification import cli as certification_cli
from lrs.config import ConfigError
from lrs.db import get_db
from lrs.outbox import cli as outbox_cli
from lti_tool.catalog import cli as catalog_cli
from lti_tool.learning import cli as learning_cli
from lti_tool.lti import cli as lti_cli

AREA_CLIS = (lrs_bench_cli, outbox_cli, lti_cli, catalog_cli, learning_cli, certification_cli)


def _create_app() -> object:
    from lti_tool import create_app

    return create_app()


cli = FlaskGroup(
    name="learning-bridge",
    create_app=_create_app,  # type: ignore[arg-type]
    add_default_commands=False,
    load_dotenv=False,
    help="International Learning Bridge: LTI 1.3 tool, international learning zone, xAPI LRS, hour certification.",
)
cli.add_command(shell_command)
cli.add_command(routes_command)
cli.add_command(lrs_cli.db_group)
cli.add_command(lrs_cli.users_group)
cli.add_command(lrs_cli.lrs_group)


def _require_ready() -> None:
    problem = get_db().check_ready()
    if problem:
        raise click.ClickException(problem)


@cli.command("run")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", type=int, default=None, help="Port (default: PORT, else 8000).")
@with_appcontext
def run_command(host: str, port: int | None) -> None:
    """Run the development server (use `serve` in production)."""
    _require_ready()
    settings = get_settings(current_app)
    port = port or settings.port
    base = f"http://{host}:{port}"
    click.echo(f"International Learning Bridge is running at {base}/")
    click.echo(f"  catalog:        {base}/catalog")
    click.echo(f"  staff login:    {base}/staff/login")
    click.echo(f"  LMS admins:     {base}/lti/config")
    if settings.demo_mode:
        click.echo(f"  demo launcher:  {base}/demo")
    if not settings.lrs_endpoint:
        click.echo(f"  xAPI LRS:       {base}/xapi/")
    click.echo("Press Ctrl+C to stop.")
    # Flask's app.run() refuses to start from inside its own CLI; serve with werkzeug directly.
    run_simple(host, port, current_app._get_current_object(), use_reloader=False, threaded=True)  # type: ignore[attr-defined]


@cli.command("serve")
@click.option("--bind", default=None, help="Address to bind (default 127.0.0.1:PORT).")
@click.option("--workers", type=int, default=None, help="Worker processes (default WEB_CONCURRENCY, else 2).")
@with_appcontext
def serve_command(bind: str | None, workers: int | None) -> None:
    """Serve with gunicorn and several worker processes (production)."""
    _require_ready()
    settings = get_settings(current_app)
    args = [
        sys.executable, "-m", "gunicorn",
        "--bind", bind or f"127.0.0.1:{settings.port}",
        "--workers", str(workers or settings.workers),
        "--access-logfile", "-",
        # Log the path without its query: launched pages carry a bearer launch token (lt=) there.
        "--access-logformat", '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(L)s',
        "--forwarded-allow-ips", "127.0.0.1",
        "lti_tool.wsgi:app",
    ]
    os.execv(sys.executable, args)  # noqa: S606  (replaces this process with gunicorn, on purpose)


@cli.command("demo")
@with_appcontext
def demo_command() -> None:
    """Load the demo data (staff accounts, LRS credential, catalog, demo platform); safe to repeat."""
    from lti_tool.demo import load_all

    _require_ready()
    for line in load_all(current_app):
        click.echo(line)


@cli.group("bench")
def bench_group() -> None:
    """Run benchmarks and print their figures."""


for area in AREA_CLIS:
    for command in area.commands:
        cli.add_command(command)
    for command in area.bench_commands:
        bench_group.add_command(command)


def main() -> None:
    """Run the console script, turning configuration errors into one line."""
    try:
        cli.main(prog_name="learning-bridge", obj=ScriptInfo(create_app=_create_app))  # type: ignore[arg-type]
    except ConfigError as err:
        click.echo(f"Error: {err}", err=True)
        sys.exit(2)
