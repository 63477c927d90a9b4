"""Command-line commands of the outbox: deliver, show status, retry dead messages."""

from __future__ import annotations

import signal
import threading
from types import FrameType

import click
from flask import current_app
from flask.cli import with_appcontext

from lrs.db import get_db
from lrs.outbox import core


@click.group("outbox")
def outbox_group() -> None:
    """Deliver and inspect the durable outbox (statement forwarding, the tool's statements and scores)."""


@outbox_group.command("deliver")
@click.option("--once", is_flag=True, help="Deliver what is due now, then exit.")
@click.option("--channel", "channels", multiple=True, help="Only this channel (repeatable).")
@click.option("--poll", type=float, default=None, help="Seconds to wait when nothing is due (default OUTBOX_POLL_SECONDS or 2).")
@with_appcontext
def deliver_command(once: bool, channels: tuple[str, ...], poll: float | None) -> None:
    """Deliver due messages, retrying failures with backoff; runs until stopped unless --once."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    wanted = list(channels) or None
    if not core.handlers(app):
        click.echo("No outbox channel has a handler here (is LRS_FORWARD_ENDPOINT set?); nothing to deliver.")
        return
    if once:
        report = core.deliver_until_idle(app, channels=wanted)
        click.echo(f"delivered {report.delivered}, retrying later {report.retried}, dead {report.dead}")
        for error in sorted(set(report.errors))[:10]:
            click.echo(f"  error: {error}")
        return
    stop = threading.Event()

    def handle(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)
    seconds = poll if poll is not None else float(app.config.get("OUTBOX_POLL_SECONDS", 2.0))
    click.echo(f"Delivering the outbox ({', '.join(wanted or sorted(core.handlers(app)))}); Ctrl+C stops.")
    core.run_forever(app, stop, seconds, wanted)
    click.echo("Stopped.")


@outbox_group.command("status")
@with_appcontext
def status_command() -> None:
    """Show pending, delivered and dead messages by channel."""
    with get_db().session() as session:
        rows = core.status(session)
    if not rows:
        click.echo("The outbox is empty.")
        return
    click.echo("channel\tpending\tdelivered\tdead\toldest pending\tlast error")
    for row in rows:
        oldest = row.oldest_pending.isoformat(timespec="seconds") if row.oldest_pending else "-"
        click.echo(f"{row.channel}\t{row.pending}\t{row.delivered}\t{row.dead}\t{oldest}\t{row.last_error[:120] or '-'}")


@outbox_group.command("retry")
@click.option("--channel", default=None, help="Only this channel.")
@with_appcontext
def retry_command(channel: str | None) -> None:
    """Make dead messages due again (after fixing what refused them)."""
    with get_db().session() as session:
        count = core.retry_dead(session, channel)
    click.echo(f"{count} dead message(s) are due again.")


@click.command("documents")
@click.option("--seconds", type=float, default=5.0, show_default=True, help="Duration of each rate case.")
@click.option("--workers", type=int, default=2, show_default=True, help="gunicorn worker processes.")
@click.option("--clients", type=int, default=4, show_default=True, help="Concurrent client threads.")
@click.option("--races", type=int, default=20, show_default=True, help="If-Match races to run.")
@click.option("--postgres", default=None, help="PostgreSQL server URL; a temporary database is created there and dropped.")
def bench_documents(seconds: float, workers: int, clients: int, races: int, postgres: str | None) -> None:
    """Print State PUT/GET/POST rates under gunicorn and how many If-Match races had exactly one winner."""
    from lrs.outbox import bench

    bench.run_documents(seconds, workers, clients, races, postgres, click.echo)


@click.command("outbox")
@click.option("--messages", type=int, default=5000, show_default=True, help="Messages to enqueue and deliver.")
@click.option("--postgres", default=None, help="PostgreSQL server URL; a temporary database is created there and dropped.")
def bench_outbox(messages: int, postgres: str | None) -> None:
    """Print outbox enqueue and delivery rates."""
    from lrs.outbox import bench

    bench.run_outbox(messages, postgres, click.echo)


# Top-level commands or groups, and `learning-bridge bench` subcommands.
commands: list[click.Command] = [outbox_group]
bench_commands: list[click.Command] = [bench_documents, bench_outbox]
