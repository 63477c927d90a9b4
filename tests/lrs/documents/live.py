"""Run a Flask app on a live HTTP server on 127.0.0.1 with an ephemeral port, for tests."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server


class LiveServer:
    """A threaded WSGI server serving an app until stopped; it can be started again on the same port."""

    def __init__(self, app: Flask, port: int = 0) -> None:
        self.app = app
        self.port = port
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Return the server's base URL."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start serving (on the port used before, when restarting)."""
        self._server = make_server("127.0.0.1", self.port, self.app, threaded=True)
        self.port = self._server.server_port
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and close the listening socket."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None


@contextmanager
def serving(app: Flask) -> Iterator[LiveServer]:
    """Serve the app on a live server for the duration of the block."""
    server = LiveServer(app)
    server.start()
    try:
        yield server
    finally:
        server.stop()
