"""Upload links as their holder and their maker see them in Chromium: the holder's page shows and
enforces the link's own kinds and sizes before any byte is sent, offers no option the link does
not allow, and answers no link to what was sent; the maker copies the link again later."""

from __future__ import annotations

import json

import pytest
from werkzeug.security import generate_password_hash

from tests.e2e.conftest import choose_files, start_upload, wait_until
from tests.support import png_bytes
from webapp import rules
from webapp.config import DEFAULT_ALLOWED_TYPES

PASSWORD = "admin password 123"


def admin_sign_in(page, site: str) -> None:
    page.goto(site + "/admin/login")
    page.fill("#username", "root")
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()


@pytest.fixture
def invited_site(serve):
    return serve(uploaders="invited", admin_user="root", admin_password_hash=generate_password_hash(PASSWORD))


def make_images_link(page, site: str, label: str = "Holiday pictures", megabytes: str = "1") -> str:
    admin_sign_in(page, site)
    page.fill("#link-label", label)
    page.fill("#link-max_files", "3")
    page.fill("#link-max_megabytes", megabytes)
    page.select_option("#link-kind", "image/")
    with page.expect_navigation():
        page.get_by_role("button", name="Make an upload link").click()
    return page.locator("#new-upload-link").input_value()


def test_the_maker_copies_an_open_link_again(invited_site, page):
    link = make_images_link(page, invited_site)
    page.goto(invited_site + "/admin/")  # a later visit: the one-time reveal is gone
    assert page.locator("#new-upload-link").count() == 0
    row = page.locator("#upload-links tbody tr", has_text="Holiday pictures")
    assert row.locator("input.link").input_value() == link
    assert row.get_by_role("button", name="Copy").count() == 1
    # A withdrawn link is not offered again.
    row.get_by_role("button", name="Withdraw").click()
    with page.expect_navigation():
        page.locator("#confirm-ok").click()
    row = page.locator("#upload-links tbody tr", has_text="Holiday pictures")
    assert row.locator(".state").inner_text() == "closed" and row.locator("input.link").count() == 0


def test_the_holder_sees_the_links_limits_and_gets_no_link_to_what_arrived(invited_site, page, browser, tmp_path,
                                                                        table_items):
    link = make_images_link(page, invited_site, megabytes="1")
    holder = browser.new_context()
    holder.set_default_timeout(15_000)
    try:
        sender = holder.new_page()
        storage = []
        sender.on("request", lambda r: storage.append(r.url) if r.method in ("POST", "PUT") and (
            not r.url.startswith(invited_site) or "/api/uploads" in r.url) else None)
        sender.goto(link)
        terms = " ".join(sender.locator("#upload-link-terms").inner_text().split())
        assert terms.startswith("You are invited by the site's administrators to send images (JPEG, PNG")
        assert "3 more files, each up to 1 MB, 1 MB in all" in terms
        with sender.expect_navigation():
            sender.click("#use-upload-link")

        # The link's own kinds and size, in words, and no option the link does not allow.
        hint = sender.locator("#upload-hint").inner_text()
        images = [t for t in DEFAULT_ALLOWED_TYPES if t.startswith("image/")]
        image_words = rules.type_words(images)
        assert sorted(json.loads(sender.locator("#upload-config").text_content())["types"]) == sorted(images)
        assert f"This link takes {image_words}, up to 1 MB each." in " ".join(hint.split())
        assert sender.locator("#upload-options fieldset").count() == 0
        for name in ("retention_days", "max_downloads", "public"):
            assert sender.locator(f"[name={name}]").count() == 0
        assert "private to them" in sender.locator("#upload-link-note").inner_text()

        # A PDF is refused at once, by name, with what the link takes; nothing is sent.
        pdf = tmp_path / "report.pdf"
        pdf.write_bytes(b"%PDF-1.4\n" + b"0" * 200)
        choose_files(sender, pdf)
        error = sender.locator("#upload-error")
        error.wait_for()
        assert error.inner_text().strip().startswith(f"report.pdf was not added: this link takes only {image_words}.")
        assert sender.locator(".uppy-Dashboard-Item").count() == 0
        assert sender.get_by_role("button", name="Retry").count() == 0
        assert storage == []

        # Files that together come to more than the link still takes are refused together, at once.
        halves = [tmp_path / "left.png", tmp_path / "right.png"]
        for half in halves:
            half.write_bytes(png_bytes(padding=600_000))
        choose_files(sender, *halves)
        wait_until(sender, "() => document.querySelectorAll('#upload-error .file-error').length === 2")
        assert "These files come to more than this link still takes: 1 MB in all." in error.inner_text()
        assert sender.locator(".uppy-Dashboard-Item").count() == 0 and storage == []

        # A picture goes through; the answer and the page hold no link to it.
        picture = tmp_path / "beach.png"
        picture.write_bytes(png_bytes(width=8, height=8, padding=200))
        answers = []

        def keep(route):
            answer = route.fetch()
            answers.append(answer.json())
            route.fulfill(response=answer)

        sender.route("**/complete", keep)
        choose_files(sender, picture)
        sender.locator(".uppy-Dashboard-Item").wait_for()
        assert error.is_hidden() or "report.pdf" in error.inner_text()
        start_upload(sender)
        sender.wait_for_url(invited_site + "/media/*")
        media = answers[0]["media"]
        assert set(media["links"]) == {"page"}
        assert media["sent_to"] == "the site's administrators"
        assert "Sent to the site's administrators" in sender.locator("#sent-to").inner_text()
        for hidden in ("#share-link", "#manage-link", "img.preview", ".qr"):
            assert sender.locator(hidden).count() == 0, hidden
    finally:
        holder.close()

    stored = [item for item in table_items() if item["pk"].startswith("MEDIA#") and item["sk"] == "META"]
    assert len(stored) == 1 and stored[0]["visibility"] == "private" and stored[0].get("upload_link")
    assert "default_share_id" not in stored[0]
    assert [item for item in table_items() if item["sk"].startswith("SHARE#")] == []

