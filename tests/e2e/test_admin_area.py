"""The admin area in Chromium: thumbnails, names that open the item, whole words, four orders
with paging, the header link, and a withdrawal lifted again, as the owner's page shows it."""

from __future__ import annotations

import pytest
from werkzeug.security import generate_password_hash

from tests.e2e.conftest import wait_until
from tests.e2e.test_upload_links import PASSWORD, admin_sign_in
from tests.support import png_bytes, upload_over_http
from webapp.flows import admin_area

# (name, padding bytes), in upload order: sizes differ, so "largest first" has one answer.
FILES = [("Zebra crossing at dusk", 900), ("Alpine meadow", 5000), ("Extraordinarily photographed harbour", 2000)]

NAMES = "() => [...document.querySelectorAll('#admin-items td.name a')].map(a => a.textContent)"

# Every word of the list's names and file names sits on one line: none is broken inside (a line
# may end after a hyphen, as in "harbour-photograph.png").
BROKEN_WORDS = """() => {
  const broken = [];
  for (const cell of document.querySelectorAll('#admin-items td.name a, #admin-items td.wrap')) {
    const node = cell.firstChild;
    if (!node || node.nodeType !== Node.TEXT_NODE) continue;
    for (const match of node.textContent.matchAll(/[^\\s-]+/g)) {  // a break after a hyphen is a break between words
      const range = document.createRange();
      range.setStart(node, match.index);
      range.setEnd(node, match.index + match[0].length);
      const lines = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
      if (lines.size > 1) broken.push(match[0]);
    }
  }
  return broken;
}"""


@pytest.fixture
def admin_site(serve):
    site = serve(admin_user="root", admin_password_hash=generate_password_hash(PASSWORD))
    uploaded = {name: upload_over_http(site, png_bytes(width=40, height=30, padding=padding),
                                       filename=name.split()[0].lower() + "-photograph.png", name=name)
                for name, padding in FILES}
    return site, uploaded


def show(page, order: str) -> None:
    page.select_option("#order", order)
    with page.expect_navigation():
        page.get_by_role("button", name="Show").click()


def test_thumbnails_linked_names_whole_words_and_the_header_link(admin_site, page):
    site, uploaded = admin_site
    page.goto(site + "/")
    assert page.locator("#admin-link").count() == 0
    admin_sign_in(page, site)
    page.goto(site + "/")
    page.locator("#admin-link").click()
    page.wait_for_url(site + "/admin/")

    rows = page.locator("#admin-items tbody tr")
    assert rows.count() == 3
    wait_until(page, "() => [...document.querySelectorAll('#admin-items td.thumb img')]"
                     ".filter(i => i.complete && i.naturalWidth > 0).length === 3")
    link = page.get_by_role("link", name="Alpine meadow")
    assert link.get_attribute("href") == f"/admin/media/{uploaded['Alpine meadow']['id']}"
    opened = page.request.get(site + link.get_attribute("href"))
    assert opened.status == 200 and opened.headers["content-type"] == "image/png"

    for width in (1280, 900, 375):
        page.set_viewport_size({"width": width, "height": 900})
        assert page.evaluate(BROKEN_WORDS) == [], f"words broken at {width} px"


def test_four_orders_and_paging(admin_site, page, monkeypatch):
    site, _ = admin_site
    monkeypatch.setattr(admin_area, "PAGE_SIZE", 2)
    admin_sign_in(page, site)
    newest = [name for name, _ in reversed(FILES)]
    assert page.evaluate(NAMES) == newest[:2]
    page.locator("#next-page").click()
    page.wait_for_load_state()
    assert page.evaluate(NAMES) == newest[2:]
    assert page.locator("#next-page").count() == 0
    page.locator("#first-page").click()
    page.wait_for_load_state()
    assert page.evaluate(NAMES) == newest[:2]

    expected = {
        "oldest": [name for name, _ in FILES],
        "name": sorted(name for name, _ in FILES),
        "size": [name for name, _ in sorted(FILES, key=lambda f: -f[1])],
    }
    for order, names in expected.items():
        show(page, order)
        assert page.evaluate(NAMES) == names[:2], order
        page.locator("#next-page").click()
        page.wait_for_load_state()
        assert page.evaluate(NAMES) == names[2:], order
        assert page.locator("#order").input_value() == order


def test_a_withdrawal_lifted_and_no_dead_end_for_the_owner_meanwhile(admin_site, page, browser):
    site, uploaded = admin_site
    manage = uploaded["Alpine meadow"]["links"]["manage"]
    admin_sign_in(page, site)
    row = page.locator("#admin-items tbody tr", has_text="Alpine meadow")
    row.get_by_role("button", name="Withdraw links").click()
    with page.expect_navigation():
        page.locator("#confirm-ok").click()

    owner = browser.new_context().new_page()
    try:
        owner.goto(manage)
        assert "administrators withdrew this file" in owner.locator("#admin-withdrawn").inner_text()
        assert owner.get_by_role("button", name="Make a new link for anyone").count() == 0
        assert owner.get_by_role("button", name="Send links").count() == 0
        assert owner.get_by_role("button", name="Show it in the gallery").count() == 0

        row = page.locator("#admin-items tbody tr", has_text="Alpine meadow")
        assert row.get_by_role("button", name="Withdraw links").count() == 0
        with page.expect_navigation():
            row.get_by_role("button", name="Lift withdrawal").click()
        assert "Lifted the withdrawal of Alpine meadow" in page.locator("main").inner_text()
        assert page.locator("#admin-items tbody tr", has_text="Alpine meadow").get_by_role(
            "button", name="Withdraw links").count() == 1

        owner.reload()
        assert owner.locator("#admin-withdrawn").count() == 0
        assert owner.get_by_role("button", name="Send links").count() == 1
        assert owner.get_by_role("button", name="Show it in the gallery").count() == 1
        owner.get_by_role("button", name="Make a new link for anyone").click()
        owner.wait_for_load_state()
        assert owner.locator("#anyone-link").input_value().startswith(site + "/s/")
    finally:
        owner.context.close()
