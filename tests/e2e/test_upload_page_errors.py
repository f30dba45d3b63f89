"""The upload page before and while files are sent, in Chromium: refusals per file, at once and
in one sentence; errors that go with their file; options that cannot be combined; one progress
line per file with speed and time left; paste anywhere."""

from __future__ import annotations

import re

from flask import jsonify, request

from tests.e2e.conftest import choose_files, start_upload, wait_until
from tests.e2e.test_resumable_uploads import throttle
from tests.support import png_bytes
from webapp import rules
from webapp.config import DEFAULT_ALLOWED_TYPES

ERROR_LINES = "() => [...document.querySelectorAll('#upload-error .file-error span')].map(s => s.textContent)"


def test_each_refused_file_gets_one_sentence_naming_it_and_what_is_allowed(serve, page, tmp_path, table_items):
    site = serve(max_upload_bytes=2000)
    notes, big, fine = tmp_path / "notes.txt", tmp_path / "big.png", tmp_path / "fine.png"
    notes.write_text("a plain note\n")
    big.write_bytes(png_bytes(padding=5000))
    fine.write_bytes(png_bytes(padding=100))
    page.goto(site + "/")
    choose_files(page, notes, big, fine)
    page.locator(".uppy-Dashboard-Item").wait_for()
    wait_until(page, "() => document.querySelectorAll('#upload-error .file-error').length === 2")

    assert sorted(page.evaluate(ERROR_LINES)) == sorted([
        f"notes.txt was not added: this site takes only {rules.type_words(DEFAULT_ALLOWED_TYPES)}.",
        f"big.png was not added: it is {rules.human_size(big.stat().st_size)}, and the largest file you can "
        "upload is 2 kB.",
    ])
    assert rules.type_words(DEFAULT_ALLOWED_TYPES).startswith("images (JPEG, PNG, WebP, GIF, HEIC")
    assert page.locator(".uppy-Dashboard-Item").count() == 1
    # No list of every type and extension anywhere (Uppy's own message).
    assert "You can only upload" not in page.locator("body").inner_text()
    assert ".jpeg" not in page.locator("body").inner_text()

    # A refusal goes when dismissed; the page's own hint names the same groups.
    page.get_by_role("button", name=re.compile("^Dismiss: notes.txt")).click()
    assert [line.split(" ")[0] for line in page.evaluate(ERROR_LINES)] == ["big.png"]
    assert rules.type_words(DEFAULT_ALLOWED_TYPES) in " ".join(page.locator("#upload-hint").inner_text().split())
    assert table_items() == []


def test_an_upload_error_goes_when_its_file_is_removed(serve, page, tmp_path):
    def refuse(response):
        if request.path == "/api/uploads":
            answer = jsonify(error={"code": "invalid_request", "message": "Refused here for the test."})
            answer.status_code = 400
            return answer
        return response

    site = serve(after_request=refuse)
    first, second = tmp_path / "first.png", tmp_path / "second.png"
    first.write_bytes(png_bytes(padding=100))
    second.write_bytes(png_bytes(padding=120))
    page.goto(site + "/")
    choose_files(page, first, second)
    page.locator(".uppy-Dashboard-Item").nth(1).wait_for()
    start_upload(page)
    wait_until(page, "() => document.querySelectorAll('#upload-error .file-error').length === 2")
    assert sorted(page.evaluate(ERROR_LINES)) == ["first.png: Refused here for the test.",
                                                  "second.png: Refused here for the test."]

    page.get_by_role("button", name="Remove file").first.click()
    wait_until(page, "() => document.querySelectorAll('#upload-error .file-error').length === 1")
    remaining = page.evaluate("window.mediahubUppy.getFiles().map(f => f.name)")
    assert page.evaluate(ERROR_LINES) == [f"{remaining[0]}: Refused here for the test."]
    page.get_by_role("button", name="Remove file").first.click()
    wait_until(page, "() => document.getElementById('upload-error').hidden")


def test_the_gallery_and_a_download_limit_cannot_both_be_chosen(serve, page):
    site = serve()
    page.goto(site + "/")
    gallery, limit = page.locator("#public"), page.locator("#max_downloads")
    gallery.check()
    assert limit.is_disabled()
    assert "take no download limit" in page.locator("#max-downloads-note").inner_text()
    gallery.uncheck()
    assert limit.is_enabled() and page.locator("#max-downloads-note").is_hidden()
    limit.fill("3")
    assert gallery.is_disabled()
    assert "stays out of the gallery" in page.locator("#public-note").inner_text()
    limit.fill("")
    assert gallery.is_enabled()


RECORD_LINES = """
window.progressSeen = [];
document.addEventListener("DOMContentLoaded", () => {
  const list = document.getElementById("upload-progress");
  new MutationObserver(() => {
    for (const item of list.querySelectorAll("li")) window.progressSeen.push(item.textContent);
  }).observe(list, {childList: true, characterData: true, subtree: true});
});
"""


def test_one_progress_line_per_file_with_speed_and_time_left(serve, page, tmp_path):
    site = serve()
    one, two = tmp_path / "one.png", tmp_path / "two.png"
    one.write_bytes(png_bytes(padding=400_000))
    two.write_bytes(png_bytes(padding=300_000))
    page.add_init_script(RECORD_LINES)
    page.goto(site + "/")
    assert page.locator("#upload-progress-text").count() == 0  # the total that disagreed is gone
    choose_files(page, one, two)
    page.locator(".uppy-Dashboard-Item").nth(1).wait_for()
    throttled = throttle(page, 150_000)
    start_upload(page)
    page.locator("#upload-results li").nth(1).wait_for(timeout=60_000)
    throttled.detach()

    seen = page.evaluate("window.progressSeen")
    moving = re.compile(r"^(one|two)\.png: \d+ % · [\d.]+ kB of [\d.]+ kB · [\d.]+ kB/s · \d+ s left$")
    assert {line.split(":")[0] for line in seen if moving.match(line)} == {"one.png", "two.png"}, seen[-10:]
    lines = page.locator("#upload-progress li")
    assert lines.count() == 2
    assert sorted(lines.all_inner_texts()) == [f"one.png: sent ({rules.human_size(one.stat().st_size)})",
                                               f"two.png: sent ({rules.human_size(two.stat().st_size)})"]
    # The status bar no longer shows a second, total readout of sizes and time left.
    assert "left" not in page.locator(".uppy-StatusBar").inner_text()


def test_paste_anywhere_on_the_page_adds_the_file(serve, page):
    site = serve()
    page.goto(site + "/")
    page.locator(".uppy-Dashboard").wait_for()
    page.evaluate("""(bytes) => {
      const data = new DataTransfer();
      data.items.add(new File([new Uint8Array(bytes)], "pasted.png", {type: "image/png"}));
      document.querySelector("h1").dispatchEvent(new ClipboardEvent("paste", {clipboardData: data, bubbles: true}));
    }""", list(png_bytes(padding=50)))
    page.locator(".uppy-Dashboard-Item").wait_for()
    assert page.evaluate("window.mediahubUppy.getFiles().map(f => f.name)") == ["pasted.png"]
