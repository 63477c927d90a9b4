"""A durable outbox: rows written in the same transaction as what they report, delivered with retries.

Other areas use `enqueue(session, channel, payload)` inside their transaction and
`register_handler(app, channel, handler)` at start-up; `learning-bridge outbox deliver` (or the
in-process deliverer when OUTBOX_IN_PROCESS is set) delivers. Statement forwarding to another
LRS is one channel, registered here when LRS_FORWARD_ENDPOINT is set.
"""

from __future__ import annotations

import atexit
import threading

from flask import Flask

from lrs.outbox.core import (
    DeliveryError,
    RetryLater,
    Undeliverable,
    deliver_due,
    deliver_until_idle,
    enqueue,
    register_handler,
    run_forever,
)
from lrs.outbox.forwarding import FORWARD_CHANNEL, ForwardConfig, deliver_forward, make_stored_hook
from lrs.storage.hooks import register_stored_hook

__all__ = [
    "FORWARD_CHANNEL",
    "DeliveryError",
    "RetryLater",
    "Undeliverable",
    "deliver_due",
    "deliver_until_idle",
    "enqueue",
    "init_app",
    "register_handler",
    "start_in_process",
]

_THREAD_KEY = "lb.outbox_thread"


def init_app(app: Flask) -> None:
    """Register statement forwarding when configured, and the in-process deliverer when asked for."""
    config = ForwardConfig.of(app)
    if config is not None and not app.extensions.get("lb.outbox_forwarding"):
        app.extensions["lb.outbox_forwarding"] = True
        register_stored_hook(app, make_stored_hook(config))
        register_handler(app, FORWARD_CHANNEL, deliver_forward)
    if app.config.get("OUTBOX_IN_PROCESS"):
        start_in_process(app)


def start_in_process(app: Flask) -> threading.Event:
    """Deliver in a daemon thread of this process (for the single-process `run`); return its stop event."""
    existing = app.extensions.get(_THREAD_KEY)
    if existing is not None:
        return existing  # type: ignore[no-any-return]
    stop = threading.Event()
    poll = float(app.config.get("OUTBOX_POLL_SECONDS", 2.0))
    thread = threading.Thread(target=run_forever, args=(app, stop, poll), name="outbox-deliverer", daemon=True)
    thread.start()
    app.extensions[_THREAD_KEY] = stop
    atexit.register(stop.set)
    return stop
