"""Every page in a real Chromium: axe-core at desktop and phone widths, no sideways scrolling on a
phone, unique ids, landmarks, and a dark theme that follows the system setting.

One site, one browser context and one tab serve the whole module: the pages are made once
(uploads, shares, an admin session) and then visited, so the suite stays quick.
"""

from __future__ import annotations

import json
import pathlib
import re
import threading

import pytest
import requests
from werkzeug.security import generate_password_hash
from werkzeug.serving import make_server

from tests.conftest import TEST_SECRET, missing_tool
from tests.e2e.conftest import wait_until
from tests.support import CSRF_META, png_bytes, upload_over_http
from webapp import create_app, prepare_local_resources
from webapp.config import LOCAL_AWS_TIMEOUTS, Settings
from webapp.local.stack import free_loopback_port

AXE = pathlib.Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
WIDTHS = (1280, 375)
ADMIN_PASSWORD = "admin password 123"
WEBM = b"\x1a\x45\xdf\xa3" + b"\x00" * 200
FIGURES: dict[str, dict[int, dict[str, int]]] = {}


def post_form(session: requests.Session, page_url: str, action: str, **fields) -> requests.Response:
    csrf = CSRF_META.search(session.get(page_url, timeout=10).text).group(1)
    return session.post(page_url + action, data={**fields, "share-csrf_token": csrf}, timeout=30,
                        allow_redirects=False)


@pytest.fixture(scope="module")
def host_port():
    return free_loopback_port()


@pytest.fixture(scope="module")
def site(moto_endpoint, host_port):
    """The site on a loopback port, with a few files, shares and mail made once for the module."""
    requests.post(f"{moto_endpoint}/moto-api/reset", timeout=10)
    port = free_loopback_port()
    url = f"http://127.0.0.1:{port}"
    settings = Settings(
        secret_key=TEST_SECRET, local_mode=True, aws_endpoint_url=moto_endpoint, max_upload_bytes=1_000_000,
        site_url=url, recipients=("@example.com",), mail_from="Mediahub <noreply@mediahub.local>",
        admin_user="root", admin_password_hash=generate_password_hash(ADMIN_PASSWORD),
        allowed_types=("image/png", "video/webm"), embed_origins=(f"http://127.0.0.1:{host_port}",),
        **LOCAL_AWS_TIMEOUTS,
    )
    prepare_local_resources(settings)
    app = create_app(settings)
    server = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()

    owner = requests.Session()
    picture = upload_over_http(url, png_bytes(width=40, height=30, padding=2000), "A very long file name for a "
                               "holiday picture taken at the lake, 2026-08-14.png", "image/png", session=owner,
                               name="Sunset over the lake", caption="Taken from the pier.", visibility="public")
    video = upload_over_http(url, WEBM, "clip.webm", "video/webm", session=owner, name="Clip")
    manage = picture["links"]["manage"]
    assert post_form(owner, manage, "/share", **{
        "share-recipients": "ann.with.a.rather.long.address@example.com", "share-days": "3",
        "share-max_downloads": "2", "share-password": "correct horse", "share-message": "The plan.",
    }).status_code == 200
    assert post_form(owner, manage, "/share", **{"share-recipients": "bob@example.com", "share-days": "5"}).status_code == 200
    assert post_form(owner, manage, "/share", **{"share-recipients": "cy@example.com", "share-days": "5",
                                                 "share-verify": "y"}).status_code == 200
    mail = requests.get(f"{moto_endpoint}/moto-api/data.json", timeout=10).json()["ses"]["Message"]
    ann = next(m for m in mail if m["destinations"]["ToAddresses"][0].startswith("ann"))
    locked_link = re.search(r'href="([^"]+/s/[^"]+)"', ann["body"]).group(1)
    cy = next(m for m in mail if m["destinations"]["ToAddresses"][0].startswith("cy"))
    verify_link = re.search(r'href="([^"]+/s/[^"]+)"', cy["body"]).group(1)
    # A file whose copy for viewers is still being made, and one a malware scan flagged.
    catalog = app.extensions["mediahub"].catalog
    preparing = upload_over_http(url, png_bytes(width=8, height=8), "later.png", "image/png", session=owner,
                                 name="Later")
    catalog.set_fields(preparing["id"], {"processing": "pending"}, remove=("renditions",))
    withheld = upload_over_http(url, png_bytes(width=8, height=8), "withheld.png", "image/png", session=owner,
                                name="Withheld")
    catalog.set_fields(withheld["id"], {"scan": "infected"})
    # A file the administrators withdrew: its owner's page says so and offers no way to share it.
    withdrawn = upload_over_http(url, png_bytes(width=8, height=8), "withdrawn.png", "image/png", session=owner,
                                 name="Withdrawn")
    catalog.set_fields(withdrawn["id"], {"withdrawn": True, "withdrawn_by": "admin", "withdrawn_at": "2026-12-01"})
    # A transfer of two files, its share page and its manage page.
    csrf = re.search(r'<meta name="csrf-token" content="([^"]+)">', owner.get(url + "/", timeout=10).text).group(1)
    transfer_id = owner.post(url + "/api/transfers", json={}, headers={"X-CSRFToken": csrf},
                             timeout=10).json()["transfer_id"]
    for n in range(2):
        upload_over_http(url, png_bytes(width=30, height=20, padding=500 + n), f"transfer picture {n}.png",
                         "image/png", session=owner, transfer_id=transfer_id)
    transfer = owner.post(f"{url}/api/transfers/{transfer_id}/finish", headers={"X-CSRFToken": csrf},
                          timeout=10).json()["transfer"]
    yield {"url": url, "owner": owner, "picture": picture, "video": video, "locked_link": locked_link,
           "verify_link": verify_link, "transfer": transfer,
           "preparing": preparing, "withheld": withheld, "withdrawn": withdrawn}
    server.shutdown()


@pytest.fixture(scope="module")
def tab(browser, site):
    """One tab for the module, carrying the uploader's cookie (the result page is theirs)."""
    if not AXE.exists():
        missing_tool(f"no axe-core at {AXE}; run npm ci")
    context = browser.new_context(timezone_id="Asia/Tokyo", locale="en-GB")
    context.set_default_timeout(15_000)
    context.add_cookies([{"name": c.name, "value": c.value, "url": site["url"]} for c in site["owner"].cookies])
    page = context.new_page()
    page.violations_of_policy = []
    page.on("console", lambda message: "Content Security Policy" in message.text
            and page.violations_of_policy.append(message.text))
    yield page
    context.close()


@pytest.fixture(scope="module")
def admin_tab(browser, site):
    """A second tab, signed in to the admin area (signing in starts a session of its own)."""
    context = browser.new_context(timezone_id="Asia/Tokyo", locale="en-GB")
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto(site["url"] + "/admin/login")
    page.get_by_label("User name").fill("root")
    page.get_by_label("Password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(site["url"] + "/admin/")
    page.violations_of_policy = []
    page.on("console", lambda message: "Content Security Policy" in message.text
            and page.violations_of_policy.append(message.text))
    yield page
    context.close()


def run_axe(page, exclude=()) -> list[dict]:
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(AXE.read_text())  # evaluated by the browser's debugger: the page's CSP does not apply
    context = {"include": [["html"]], "exclude": list(exclude)}
    result = page.evaluate("context => axe.run(context, {resultTypes: ['violations']})", context)
    return result["violations"]


def body_background(page) -> tuple[int, int, int]:
    colour = page.evaluate("getComputedStyle(document.body).backgroundColor")
    return tuple(int(part) for part in re.findall(r"\d+", colour)[:3])


def luminance(rgb: tuple[int, int, int]) -> float:
    def channel(value: int) -> float:
        value /= 255
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

    red, green, blue = (channel(v) for v in rgb)
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


PAGES = {  # name: (address, the status it answers with, and the element that proves it is that page)
    "upload page": (lambda s: "/", 200, "main form"),  # its widget is the uploads work's; the page frame is ours
    "result page": (lambda s: f"/media/{s['picture']['id']}", 200, "#share-link"),
    "share page": (lambda s: s["picture"]["links"]["share"], 200, "#link-facts"),
    "unlock page": (lambda s: s["locked_link"], 200, "input[type=password]"),
    "manage page": (lambda s: s["picture"]["links"]["manage"], 200, "#shares"),
    "gallery": (lambda s: "/gallery", 200, ".gallery a.tile"),
    "gallery item": (lambda s: f"/gallery/{s['picture']['id']}", 200, "img.preview"),
    "admin login": (lambda s: "/admin/login", 200, "input[type=password]"),
    "admin list": (lambda s: "/admin/", 200, "#admin-items"),
    "admin list, by name": (lambda s: "/admin/?order=name", 200, "#admin-items td.thumb img"),
    "error page": (lambda s: "/s/not-a-real-link", 404, ".error-message"),
    "outbox": (lambda s: "/local/outbox", 200, ".mail"),
    "embed player": (lambda s: f"/embed/{s['video']['id']}/player", 200, "video"),
    "refused player": (lambda s: f"/embed/{s['picture']['id']}/player", 404, "#player-refused"),
    "share page, being prepared": (lambda s: s["preparing"]["links"]["share"], 200, "#preparing"),
    "share page, withheld": (lambda s: s["withheld"]["links"]["share"], 410, ".error-message"),
    "manage page, withheld": (lambda s: s["withheld"]["links"]["manage"], 200, "#scan-state.error"),
    "manage page, withdrawn by the administrators": (lambda s: s["withdrawn"]["links"]["manage"], 200,
                                                     "#admin-withdrawn"),
    "code page": (lambda s: s["verify_link"], 401, "#send-code"),
    "upload link closed": (lambda s: "/u/not-a-real-upload-link", 404, "#upload-closed"),
    "transfer page": (lambda s: s["transfer"]["links"]["share"], 200, "#transfer-files"),
    "transfer manage page": (lambda s: s["transfer"]["links"]["manage"], 200, "#transfer-preview"),
}
FRAMED = {"embed player", "refused player"}  # documents made to live inside another site's frame


@pytest.mark.parametrize("name", list(PAGES))
def test_page_is_accessible_fits_a_phone_and_follows_the_dark_theme(request, site, name):
    address, status, proof = PAGES[name]
    tab = request.getfixturevalue("admin_tab" if name.startswith("admin") else "tab")
    path = address(site)
    url = path if path.startswith("http") else site["url"] + path
    figures = FIGURES.setdefault(name, {})
    for width in WIDTHS:
        tab.emulate_media(color_scheme="light")
        tab.set_viewport_size({"width": width, "height": 900})
        answer = tab.goto(url)
        assert answer.status == status and tab.locator(proof).count() >= 1, f"{name}: {answer.status}"
        violations = run_axe(tab)
        figures[width] = {impact: [v["id"] for v in violations if v["impact"] == impact]
                          for impact in ("critical", "serious", "moderate", "minor")}
        bad = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in violations
               if v["impact"] in ("critical", "serious") or v["id"] == "region"]
        assert bad == [], f"{name} at {width}px: {bad}"
        duplicates = tab.evaluate("""() => {
            const seen = {};
            document.querySelectorAll('[id]').forEach(e => seen[e.id] = (seen[e.id] || 0) + 1);
            return Object.keys(seen).filter(id => seen[id] > 1);
        }""")
        assert duplicates == [], f"{name}: duplicate ids {duplicates}"
        if width == 375:
            for narrow in (375, 320):  # the smallest phones in use are 320 px wide
                tab.set_viewport_size({"width": narrow, "height": 900})
                sizes = tab.evaluate("[document.documentElement.scrollWidth, innerWidth]")
                assert sizes[0] <= sizes[1], f"{name} is {sizes[0]} px wide on a {sizes[1]} px screen"
    assert tab.evaluate("document.querySelector('meta[name=color-scheme]').content") == "light dark"
    light = body_background(tab)
    tab.emulate_media(color_scheme="dark")
    dark = body_background(tab)
    assert dark != light and luminance(dark) < 0.05, f"{name}: light {light}, dark {dark}"
    tab.emulate_media(color_scheme="light")
    if name not in FRAMED:
        first = tab.evaluate("document.querySelector('body a, body button, body input').className")
        assert first == "skip-link"
        assert tab.locator("main#main").count() == 1
    assert tab.violations_of_policy == []
    print(f"axe {name}: " + json.dumps(figures))


def test_upload_page_with_refusals_and_option_notes_is_accessible(tab, site, tmp_path):
    """The upload page as a person sees it after a refused file and a choice that rules out
    another: its error lines, Dismiss buttons and notes pass axe-core too."""
    notes = tmp_path / "notes.txt"
    notes.write_text("a note\n")
    for width in WIDTHS:
        tab.set_viewport_size({"width": width, "height": 900})
        tab.goto(site["url"] + "/")
        tab.locator(".uppy-Dashboard-input").first.set_input_files(str(notes))
        tab.locator("#upload-error .file-error").wait_for()
        tab.locator("#public").check()
        assert tab.locator("#max-downloads-note").is_visible()
        bad = [(v["id"], v["impact"]) for v in run_axe(tab) if v["impact"] in ("critical", "serious")]
        assert bad == [], f"upload page with refusals at {width}px: {bad}"
        sizes = tab.evaluate("[document.documentElement.scrollWidth, innerWidth]")
        assert sizes[0] <= sizes[1]
    tab.set_viewport_size({"width": 1280, "height": 900})


def test_manage_page_fits_a_phone_with_every_button_on_screen(tab, site):
    tab.set_viewport_size({"width": 375, "height": 800})
    tab.goto(site["picture"]["links"]["manage"])
    for button in tab.locator("#shares button").all():
        box = button.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 375
    tab.set_viewport_size({"width": 1280, "height": 900})


def test_times_show_in_the_viewers_zone_with_words_and_utc_in_the_title(tab, site):
    tab.goto(site["picture"]["links"]["manage"])
    expires = tab.locator("#media-expires time")
    utc = expires.get_attribute("title")
    assert utc.endswith(" UTC")
    shown = expires.inner_text()
    assert "UTC" not in shown and re.search(r"\(in \d+ days\)$", shown), shown
    tokyo_hour = (int(utc[11:13]) + 9) % 24  # the tab's zone is Asia/Tokyo, UTC+9 all year
    assert f"{tokyo_hour:02d}:{utc[14:16]}" in shown, (utc, shown)


def test_copy_buttons_put_the_link_on_the_clipboard(browser, site):
    context = browser.new_context()
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site["url"])
    context.add_cookies([{"name": c.name, "value": c.value, "url": site["url"]} for c in site["owner"].cookies])
    page = context.new_page()
    page.goto(site["picture"]["links"]["manage"])
    for field in ("anyone-link", "embed-url", "embed-snippet"):
        page.locator(f'button[data-copy="{field}"]').click()
        expect_text = page.locator(f"#{field}").input_value()
        wait_until(page, "id => document.getElementById(id + '-status').textContent === 'Copied.'", field)
        assert page.evaluate("navigator.clipboard.readText()") == expect_text
    context.close()


def test_copy_falls_back_to_selecting_the_text(browser, site):
    context = browser.new_context()
    context.add_init_script("Object.defineProperty(navigator, 'clipboard', {value: undefined})")
    context.add_cookies([{"name": c.name, "value": c.value, "url": site["url"]} for c in site["owner"].cookies])
    page = context.new_page()
    page.goto(site["picture"]["links"]["manage"])
    page.get_by_role("button", name="Copy share link").click()
    status = page.locator("#anyone-link-status")
    status.wait_for(state="attached")
    wait_until(page, "document.getElementById('anyone-link-status').textContent !== ''")
    assert status.inner_text() in ("Copied.", "Selected: press Ctrl+C (or ⌘C) to copy.")
    selected = page.evaluate("(() => { const e = document.getElementById('anyone-link'); "
                             "return e.value.substring(e.selectionStart, e.selectionEnd); })()")
    assert selected == page.locator("#anyone-link").input_value()
    context.close()


def test_delete_asks_first_and_cancel_keeps_the_file(browser, site):
    owner = requests.Session()
    doomed = upload_over_http(site["url"], png_bytes(), "doomed.png", "image/png", session=owner, name="Doomed")
    context = browser.new_context()
    page = context.new_page()
    page.goto(doomed["links"]["manage"])
    page.get_by_role("button", name="Delete this file").click()
    dialog = page.locator("#confirm-dialog")
    assert dialog.is_visible() and "cannot be undone" in dialog.inner_text()
    page.get_by_role("button", name="Cancel").click()
    assert not dialog.is_visible()
    assert page.url == doomed["links"]["manage"]
    assert requests.get(doomed["links"]["manage"], timeout=10).status_code == 200
    page.get_by_role("button", name="Withdraw every link").click()
    assert dialog.is_visible() and "Withdraw every link" in page.locator("#confirm-ok").inner_text()
    page.get_by_role("button", name="Cancel").click()
    page.get_by_role("button", name="Delete this file").click()
    page.locator("#confirm-ok").click()
    page.wait_for_url(site["url"] + "/")
    assert "Doomed was deleted." in page.locator(".notice").inner_text()
    assert requests.get(doomed["links"]["manage"], timeout=10).status_code == 404
    context.close()


def test_admin_delete_asks_first(admin_tab, site):
    admin_tab.goto(site["url"] + "/admin/")
    row = admin_tab.locator("#admin-items tr", has_text="Clip")
    row.get_by_role("button", name="Delete Clip").click()
    assert admin_tab.locator("#confirm-dialog").is_visible()
    admin_tab.get_by_role("button", name="Cancel").click()
    assert admin_tab.locator("#admin-items tr", has_text="Clip").count() == 1


@pytest.fixture
def host_page(other_site):
    """A page of another site that frames the player, served from its own loopback origin."""
    return lambda port, player_url: other_site(
        port, f'<!doctype html><title>Blog</title><iframe id="player" src="{player_url}" title="Player"></iframe>')


def test_a_refused_player_shows_its_placeholder_inside_the_frame(browser, site, host_page, host_port):
    context = browser.new_context()
    page = context.new_page()
    other_port = free_loopback_port()
    page.goto(host_page(other_port, f"{site['url']}/embed/{site['video']['id']}/player"))
    frame = page.frame_locator("#player")
    assert frame.locator("#player-refused").inner_text().startswith("Not available on this site")
    page.goto(host_page(host_port, f"{site['url']}/embed/{site['video']['id']}/player"))
    assert page.frame_locator("#player").locator("video").count() == 1
    context.close()


def test_gallery_tiles_open_the_item(tab, site):
    tab.goto(site["url"] + "/gallery")
    tab.get_by_role("link", name="Sunset over the lake").click()
    tab.wait_for_url(site["url"] + f"/gallery/{site['picture']['id']}")
    assert tab.get_by_role("heading", name="Sunset over the lake").is_visible()
    assert tab.locator("img.preview").evaluate("img => img.complete && img.naturalWidth") == 40


def test_skip_link_moves_focus_to_the_content(tab, site):
    tab.goto(site["url"] + "/gallery")
    tab.keyboard.press("Tab")
    assert tab.evaluate("document.activeElement.className") == "skip-link"
    outline = tab.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"
    tab.keyboard.press("Enter")
    assert tab.evaluate("document.activeElement.id") == "main"
