"""Web test fixtures: an API client, a live server on a free port, headless chromium.

Browser tests use Debian's chromium. Without it they are skipped locally and
fail under CI (CI=true), where .ci/run installs it with apt.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import uvicorn
from fastapi.testclient import TestClient

from straits.web import Settings, create_app
from straits.web.jobs import FINISHED

CHROMIUM = Path(os.environ.get("STRAITS_CHROMIUM", "/usr/bin/chromium"))  # Debian's, by default
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


LOCAL = "http://127.0.0.1"  # the server answers only to its allowed hosts


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(create_app(Settings(max_replications=3, max_horizon_days=3,
                                        max_upload_bytes=4096, check_workers=1)),
                    base_url=LOCAL) as test_client:
        yield test_client


@pytest.fixture
def wait_done():
    """``wait_done(client, run_id)``: poll a run until it is done or failed."""
    return _wait_done


def _wait_done(client: TestClient, run_id: str, timeout: float = 60.0) -> dict:
    return poll_finished(client, f"/api/runs/{run_id}", FINISHED, timeout)


def poll_finished(client: TestClient, url: str, finished: Collection[str],
                  timeout: float = 60.0) -> dict:
    """GET ``url`` until its ``status`` is one of ``finished`` (a bounded wait)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = client.get(url).json()
        if state["status"] in finished:
            return state
        time.sleep(0.05)
    raise AssertionError(f"{url} did not finish in {timeout} s")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serving(app) -> Iterator[str]:
    """``app`` served by uvicorn on 127.0.0.1 in a background thread; yields its URL."""
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def live_server() -> Iterator[str]:
    """The dashboard (default settings) on a free port of 127.0.0.1."""
    with serving(create_app()) as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        reason = f"browser tests need Debian's chromium at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS,
                                             headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    """A fresh page that records console errors and uncaught exceptions."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.errors = []
    page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    yield page
    context.close()
