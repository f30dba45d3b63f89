"""Signing in through the real pages: Chromium walks the site and the real local OpenID
Connect provider (webapp.local.oidc), uploads as the signed-in person, finds the file in
My uploads and signs out again."""

from __future__ import annotations

import re
import threading

import pytest
from werkzeug.serving import make_server

from tests.e2e.conftest import upload_with_page, wait_until
from tests.oidc_support import browser_sign_in, oidc_provider_factory  # noqa: F401 (a fixture)
from tests.support import png_bytes
from webapp.local.stack import free_loopback_port

SIGN_IN_PAGE = "() => document.querySelector('#upload-closed')?.dataset.code === 'sign_in_required'"


@pytest.fixture
def signed_in_site(make_app, oidc_provider_factory):  # noqa: F811
    """``start(**overrides)``: the site on a loopback port, its provider's client registered for
    that port's callback; returns (site URL, provider)."""
    servers = []

    def start(**overrides):
        port = free_loopback_port()
        site = f"http://127.0.0.1:{port}"
        provider = oidc_provider_factory([f"{site}/signin/callback"])
        values = dict(oidc_issuer=provider.issuer, oidc_client_id=provider.client_id,
                      oidc_client_secret=provider.client_secret, uploaders="signed-in",
                      signin_allowlist=("@example.com",))
        app = make_app(site_url=site, **{**values, **overrides})
        server = make_server("127.0.0.1", port, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return site, provider

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_sign_in_upload_find_it_in_my_uploads_and_sign_out(signed_in_site, page, tmp_path):
    site, provider = signed_in_site()
    picture = tmp_path / "harbour.png"
    picture.write_bytes(png_bytes(width=8, height=8, padding=200))

    first = page.goto(site + "/")
    assert first.status == 401
    assert page.locator("h1").inner_text() == "Sign in to upload"
    assert page.locator("#upload-closed").get_attribute("data-code") == "sign_in_required"

    page.click("#sign-in")
    browser_sign_in(page, "ann@example.com")
    wait_until(page, "(site) => location.href === site + '/' && !!document.querySelector('#uploader')",
               site)
    assert "ann@example.com" in page.locator("#uploading-as").inner_text()
    assert page.locator("#sign-out").count() == 1

    upload_with_page(page, site, picture, name="Harbour at dawn")

    page.goto(site + "/me/uploads")
    row = page.locator("#my-items tbody tr", has=page.locator("td.name", has_text="Harbour at dawn"))
    assert row.count() == 1
    row.get_by_role("link", name=re.compile("^Manage")).click()
    page.wait_for_url(re.compile(re.escape(site) + r"/manage/[^/]+/mine$"))
    assert page.locator("h1").inner_text() == "Manage: Harbour at dawn"

    with page.expect_navigation():
        page.click("#sign-out")
    assert page.locator("#sign-out").count() == 0

    again = page.goto(site + "/")
    assert again.status == 401
    wait_until(page, SIGN_IN_PAGE)
    assert page.locator("#uploader").count() == 0 and page.locator("#sign-in").count() == 1

    # My uploads sends the browser (its cookies, not followed here) to the site's sign-in...
    asked = page.request.get(site + "/me/uploads", max_redirects=0)
    assert asked.status == 302 and asked.headers["location"].startswith("/signin")
    # ...and, followed, on to the provider. The provider still remembers Ann in this browser
    # (signing out of the site does not end that session), so it may send her straight back.
    navigations = []

    def note(response):
        if response.frame == page.main_frame and response.request.is_navigation_request():
            navigations.append(response)

    page.on("response", note)
    page.goto(site + "/me/uploads")
    visited = [(r.url, r.status) for r in navigations]
    assert visited[0] == (site + "/me/uploads", 302), visited
    assert visited[1][0].startswith(site + "/signin?next=") and visited[1][1] == 302, visited
    assert any(url.startswith(provider.issuer) for url, _ in visited[2:]), visited


def test_an_address_off_the_allowlist_is_refused(signed_in_site, browser):
    site, _ = signed_in_site()
    context = browser.new_context()  # a provider session of its own
    context.set_default_timeout(15_000)
    try:
        page = context.new_page()
        callbacks = []
        page.on("response", lambda r: callbacks.append(r) if "/signin/callback" in r.url else None)
        page.goto(site + "/")
        page.click("#sign-in")
        browser_sign_in(page, "eve@elsewhere.org")
        wait_until(page, "(site) => location.href.startsWith(site + '/signin/callback')"
                         " && document.readyState !== 'loading'", site)
        assert [r.status for r in callbacks] == [403]
        assert "may not sign in here" in page.locator("body").inner_text()

        home = page.goto(site + "/")
        assert home.status == 401
        wait_until(page, SIGN_IN_PAGE)
        assert page.locator("#sign-out").count() == 0
    finally:
        context.close()


def test_invited_mode_without_a_link_shows_a_clear_page(serve, page):
    site = serve(uploaders="invited")
    answer = page.goto(site + "/")
    assert answer.status == 403
    assert "needs an upload link" in page.locator("h1").inner_text()
    assert page.locator("#upload-closed").get_attribute("data-code") == "upload_link_required"
    assert page.locator("#uploader").count() == 0


def test_my_uploads_and_its_upload_links_are_accessible_and_fit_a_phone(signed_in_site, page, tmp_path):
    """axe-core on "My uploads" with a file and an upload link, and on the upload page as the
    link's holder sees it, at 1280 and 375 px (the same bar as tests/e2e/test_pages.py)."""
    from tests.e2e.test_pages import AXE, run_axe
    from tests.conftest import missing_tool

    if not AXE.exists():
        missing_tool(f"no axe-core at {AXE}; run npm ci")
    site, _ = signed_in_site(uploaders="invited,signed-in")
    picture = tmp_path / "pier.png"
    picture.write_bytes(png_bytes(width=8, height=8, padding=200))
    page.goto(site + "/signin?next=/")
    browser_sign_in(page, "ann@example.com")
    wait_until(page, "(site) => location.href === site + '/' && !!document.querySelector('#uploader')", site)
    upload_with_page(page, site, picture, name="Pier")
    page.goto(site + "/me/uploads")
    page.fill("#link-label", "Family photos")
    page.fill("#link-max_megabytes", "5")
    with page.expect_navigation():
        page.get_by_role("button", name="Make an upload link").click()
    link = page.locator("#new-upload-link").input_value()
    assert "/u/" in link
    page.reload()  # later, the open link is still there to copy again from its row
    assert page.locator("#new-upload-link").count() == 0
    assert page.locator("#upload-links tbody tr", has_text="Family photos").locator("input.link").input_value() == link

    def check(name: str) -> None:
        for width in (1280, 375):
            page.set_viewport_size({"width": width, "height": 900})
            bad = [(v["id"], v["impact"]) for v in run_axe(page) if v["impact"] in ("critical", "serious")]
            assert bad == [], f"{name} at {width}px: {bad}"
            sizes = page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
            assert sizes[0] <= sizes[1], f"{name} is {sizes[0]} px wide on a {sizes[1]} px screen"

    check("my uploads")
    guest = page.context.browser.new_context()
    try:
        holder = guest.new_page()
        page = holder  # what check() looks at from here on
        holder.goto(link)
        check("an upload link's page")
        with holder.expect_navigation():
            holder.click("#use-upload-link")
        assert "Family photos" in holder.locator("#upload-link-note").inner_text()
        check("upload page through a link")
    finally:
        guest.close()
