"""Test the outbox commands: deliver --once, status and retry."""

from __future__ import annotations

from typing import Any

from flask import Flask

from lrs.db import get_db
from lrs.outbox import core
from lrs.outbox.cli import outbox_group


def test_outbox_cli_deliver_status_and_retry(lrs_app: Flask) -> None:
    """Deliver due messages once, report per channel, and revive dead ones."""
    seen: list[Any] = []

    def handler(app: Flask, payload: dict[str, Any]) -> None:
        if payload.get("bad"):
            raise core.Undeliverable("the target refused it")
        seen.append(payload["n"])

    core.register_handler(lrs_app, "cli.test", handler)
    with get_db(lrs_app).session() as session:
        core.enqueue(session, "cli.test", {"n": 1})
        core.enqueue(session, "cli.test", {"bad": True})
    runner = lrs_app.test_cli_runner()
    delivered = runner.invoke(outbox_group, ["deliver", "--once"])
    assert delivered.exit_code == 0, delivered.output
    assert "delivered 1" in delivered.output and "dead 1" in delivered.output
    assert seen == [1]
    status = runner.invoke(outbox_group, ["status"])
    assert "cli.test\t0\t1\t1" in status.output
    assert "the target refused it" in status.output
    retried = runner.invoke(outbox_group, ["retry", "--channel", "cli.test"])
    assert "1 dead message(s) are due again" in retried.output


def test_outbox_cli_without_handlers_says_so(lrs_app: Flask) -> None:
    """Explain that nothing is delivered when no channel has a handler in this process."""
    result = lrs_app.test_cli_runner().invoke(outbox_group, ["deliver", "--once"])
    assert result.exit_code == 0
    assert "LRS_FORWARD_ENDPOINT" in result.output
