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


# Top-level commands or groups, and `learning-bridge bench` subcommands.
commands: list[click.Command] = [outbox_group]
bench_commands: list[click.Command] = []
