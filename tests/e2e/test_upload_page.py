"""A person uploads through the page, opens the share link and downloads the file."""

import io

from PIL import Image

from tests.e2e.conftest import choose_files, describe_file, start_upload
from tests.support import png_bytes
from webapp import rules

# Keeps every text the progress lines show, across the navigation to the result page.
RECORD_PROGRESS = """
document.addEventListener("DOMContentLoaded", () => {
  const text = document.getElementById("upload-progress");
  if (!text) return;
  new MutationObserver(() => {
    const seen = JSON.parse(sessionStorage.getItem("progress") || "[]");
    seen.push(text.textContent);
    sessionStorage.setItem("progress", JSON.stringify(seen));
  }).observe(text, {childList: true, characterData: true, subtree: true});
});
"""


def test_upload_share_and_download_a_png(serve, page, tmp_path, table_items):
    site = serve()
    data = png_bytes(width=64, height=64, padding=300_000)
    picture = tmp_path / "Sunset at the lake.png"
    picture.write_bytes(data)

    page.add_init_script(RECORD_PROGRESS)
    page.goto(site + "/")
    choose_files(page, picture)
    describe_file(page, picture.name, "Sunset", "<b>Evening</b> by the water")
    start_upload(page)

    page.wait_for_url(site + "/media/*")
    progress = page.evaluate("JSON.parse(sessionStorage.getItem('progress') || '[]')")
    assert progress and progress[-1] == f"{picture.name}: sent ({rules.human_size(len(data))})", progress
    assert page.locator("#media-name").inner_text() == "Sunset"
    assert page.locator("#media-caption").inner_text() == "<b>Evening</b> by the water"
    assert page.locator("#media-filename").inner_text() == "Sunset at the lake.png"
    assert page.locator("#media-size").inner_text() == rules.human_size(len(data))
    assert page.locator("#manage-link").input_value().startswith(site + "/manage/")

    share_link = page.locator("#share-link").input_value()
    page.goto(share_link)
    assert page.get_by_role("heading", name="Sunset").is_visible()
    assert page.locator("img.preview").evaluate("img => img.complete && img.naturalWidth") == 64
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download").click()
    download = download_info.value
    assert download.suggested_filename == "Sunset at the lake.png"
    # A viewer gets the clean copy: the same picture, without the padding chunk the original
    # carried (any metadata would go with it).
    received = open(download.path(), "rb").read()
    with Image.open(io.BytesIO(data)) as sent, Image.open(io.BytesIO(received)) as got:
        assert got.format == "PNG" and got.tobytes() == sent.tobytes()
    assert len(received) < len(data)

    meta = [item for item in table_items() if item["sk"] == "META"]
    # The uploader's own download is not counted: a download limit is the recipients'.
    assert [(m["status"], m["download_count"]) for m in meta] == [("ready", 0)]


def test_file_over_the_limit_is_refused_on_the_page(serve, page, tmp_path, table_items, bucket_keys):
    site = serve(max_upload_bytes=1000)
    picture = tmp_path / "big.png"
    picture.write_bytes(png_bytes(padding=5000))

    page.goto(site + "/")
    choose_files(page, picture)

    error = page.locator("#upload-error")
    error.wait_for()
    assert "largest file you can upload is 1 kB" in error.inner_text()
    assert page.locator(".uppy-Dashboard-Item").count() == 0
    assert page.url == site + "/"
    assert table_items() == [] and bucket_keys() == []


def test_page_without_javascript_says_so(serve, browser):
    site = serve()
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(site + "/")
    assert "Uploading needs JavaScript" in page.content()
    context.close()
