"""Share test machinery: a live HTTP server on 127.0.0.1 and headless Chromium."""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import BaseWSGIServer, make_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")

# Browser tests run wherever Debian's chromium is installed; in CI (which installs it) its absence fails.
BROWSER_MARKS = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists() and os.environ.get("CI") != "true",
                       reason="Debian's chromium is not installed (CI=true makes this a failure instead)"),
]


class LiveServer:
    """Serve a WSGI app on 127.0.0.1 in a thread (port 0 picks a free port); it can stop and start again."""

    def __init__(self, app: Any, port: int = 0) -> None:
        self.app = app
        self.port = port
        self.server: BaseWSGIServer | None = None
        self.thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Return the server's base URL."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> LiveServer:
        """Start serving (on the port used before, after a stop)."""
        self.server = make_server("127.0.0.1", self.port, self.app, threaded=True)
        self.port = self.server.server_port
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and free the port."""
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None
        if self.thread is not None:
            self.thread.join(timeout=5)
            self.thread = None

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextmanager
def serving(app: Any) -> Iterator[LiveServer]:
    """Serve the app on a live server for the duration of the block."""
    with LiveServer(app) as server:
        yield server


@contextmanager
def chromium(accept_languages: str = "zh-TW,zh,en", *, block_cookies: bool = False) -> Iterator[Any]:
    """Start Debian's headless Chromium through chromedriver with a throw-away profile."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    with tempfile.TemporaryDirectory(prefix="lb-chromium-") as profile:
        options = webdriver.ChromeOptions()
        options.binary_location = str(CHROMIUM)
        for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--no-first-run", f"--user-data-dir={profile}", "--window-size=1280,1000"):
            options.add_argument(flag)
        # A Taiwanese learner's browser by default: pages should come in Traditional Chinese unasked.
        prefs: dict[str, Any] = {"intl.accept_languages": accept_languages}
        if block_cookies:
            # What a framed tool meets when the browser blocks third-party cookies.
            prefs["profile.default_content_setting_values.cookies"] = 2
        options.add_experimental_option("prefs", prefs)
        driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
        driver.set_page_load_timeout(20)
        try:
            yield driver
        finally:
            driver.quit()


_start_barrier: Any = None


def set_start_barrier(barrier: Any) -> None:
    """Remember the barrier that `load_secret_together` waits at (a process pool's initializer)."""
    global _start_barrier
    _start_barrier = barrier


def load_secret_together(keys_dir: Path) -> bytes:
    """Load the ID key once every pool process is ready to, so that they race to create it."""
    from lrs.certification import idno

    _start_barrier.wait(timeout=60)
    return idno.load_secret(keys_dir)
