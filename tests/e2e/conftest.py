"""A real Chromium (Debian's) driving the real pages, served on a loopback port."""

from __future__ import annotations

import os
import threading

import pytest
from werkzeug.serving import make_server

from tests.conftest import missing_tool
from webapp.local.stack import free_loopback_port

CHROMIUM = os.environ.get("MEDIAHUB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        missing_tool(f"no browser at {CHROMIUM}; install Debian's chromium (make test does, as root)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(accept_downloads=True)
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


@pytest.fixture
def serve(make_app):
    """Serve the app on a loopback port it knows as its own origin; returns the base URL."""
    servers = []

    def start(**overrides) -> str:
        port = free_loopback_port()
        site = f"http://127.0.0.1:{port}"
        server = make_server("127.0.0.1", port, make_app(site_url=site, **overrides), threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return site

    yield start
    for server in servers:
        server.shutdown()
