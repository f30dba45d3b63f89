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

    def start(after_request=None, **overrides) -> str:
        """``after_request``: a hook the test adds to the app (it runs before the site's own)."""
        port = free_loopback_port()
        site = f"http://127.0.0.1:{port}"
        app = make_app(site_url=site, **overrides)
        if after_request is not None:
            app.after_request(after_request)
        server = make_server("127.0.0.1", port, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return site

    yield start
    for server in servers:
        server.shutdown()


ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="session", autouse=True)
def upload_bundle():
    """The upload page's bundle (static/dist/), built as `make test` builds it when missing."""
    import shutil
    import subprocess

    from webapp import assets

    if not os.path.exists(os.path.join(ROOT, "static", "dist", "manifest.json")):
        if shutil.which("node") is None or not os.path.isdir(os.path.join(ROOT, "node_modules", "esbuild")):
            missing_tool("the upload page's bundle is not built and node or node_modules is missing (npm ci)")
        subprocess.run(["node", "frontend/build.mjs"], cwd=ROOT, check=True)
    assets.manifest.cache_clear()


def choose_files(page, *paths) -> None:
    """Add files to the upload page's Dashboard as its 'browse files' button does."""
    page.locator(".uppy-Dashboard-input").first.set_input_files([str(path) for path in paths])


def describe_file(page, filename: str, name: str = "", caption: str = "") -> None:
    """Give one chosen file its name and caption in the Dashboard's file editor."""
    page.get_by_role("button", name=f"Edit file {filename}").click()
    if name:
        page.get_by_label("Name", exact=True).fill(name)
    if caption:
        page.get_by_label("Caption", exact=True).fill(caption)
    page.get_by_role("button", name="Save changes").click()


def start_upload(page) -> None:
    page.locator(".uppy-StatusBar-actionBtn--upload").click()


def upload_with_page(page, site: str, path, name: str = "", caption: str = "") -> None:
    """One file through the upload page, up to its result page."""
    page.goto(site + "/")
    choose_files(page, path)
    if name or caption:
        describe_file(page, os.path.basename(str(path)), name, caption)
    start_upload(page)
    page.wait_for_url(site + "/media/*")


def wait_until(page, expression: str, arg=None, attempts: int = 600) -> None:
    """Poll the page until ``expression`` is true (60 s by default).

    Not ``page.wait_for_function``: once its first check fails it evaluates the predicate inside
    the page, where our Content-Security-Policy forbids eval, so it fails or passes by timing.
    ``page.evaluate`` runs through the debugger, which the CSP does not govern.
    """
    for _ in range(attempts):
        if page.evaluate(expression, arg):
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"never true: {expression}")


@pytest.fixture
def other_site():
    """Another site's page (a blog) served from a loopback origin of its own, for embeds:
    ``start(port, html)`` serves ``html`` at every path and returns the page's URL."""
    from werkzeug.wrappers import Response

    servers = []

    def start(port: int, html: str) -> str:
        server = make_server("127.0.0.1", port, Response(html, content_type="text/html"), threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{port}/post.html"

    yield start
    for server in servers:
        server.shutdown()
