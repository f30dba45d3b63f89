"""Many files, one link, in Chromium: four files chosen at once give one short share link; a
fresh browser sees the four with their previews, saves each and all four at once (a zip made in
the browser), every byte intact; the uploader's address got both links; leaving the page before
the manage link is saved asks first."""

from __future__ import annotations

import base64
import hashlib
import io
import re
import zipfile

import pytest

from tests.e2e.conftest import choose_files, start_upload, wait_until
from tests.support import png_bytes

SHORT = re.compile(r"^http://127\.0\.0\.1:\d+/s/([A-Za-z0-9_-]{1,24})$")
# A browser without service workers: the File System Access API, where a file in the origin's
# private file system stands in for the file the person would pick (the picker itself is a
# dialog no test can answer).
PICKER_IN_PRIVATE_FILES = """
Object.defineProperty(Navigator.prototype, "serviceWorker", { get: () => undefined });
window.showSaveFilePicker = async (options) => {
  const root = await navigator.storage.getDirectory();
  return root.getFileHandle(options.suggestedName, { create: true });
};
"""
# Chromium as it is (service workers first), with a share sheet as phones have one.
AS_A_PHONE_SHARES = "navigator.share = async (data) => { window.sharedThrough = data; };"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def four_files(tmp_path):
    paths = []
    for n, (width, height) in enumerate([(24, 16), (16, 24), (30, 30), (12, 40)]):
        path = tmp_path / f"picture-{n}.png"
        path.write_bytes(png_bytes(width=width, height=height, padding=3000 + 700 * n))
        paths.append(path)
    return paths


def upload_four(page, site, paths) -> dict:
    page.goto(site + "/")
    page.get_by_label("Your e-mail address").fill("me@example.com")
    choose_files(page, *paths)
    start_upload(page)
    page.locator("#result-share-link").wait_for()
    return {"share": page.locator("#result-share-link").input_value(),
            "manage": page.locator("#result-manage-link").input_value()}


def save_all(browser, share: str, init_script: str) -> tuple[bytes, object]:
    context = browser.new_context(accept_downloads=True)
    context.set_default_timeout(30_000)
    context.add_init_script(init_script)
    viewer = context.new_page()
    viewer.goto(share)
    return context, viewer


def test_four_files_one_link_saved_each_and_all(serve, page, browser, four_files):
    # Viewers get the files as uploaded here, so every byte can be compared with the original.
    site = serve(recipients=("@example.com",), mail_from="Mediahub <noreply@mediahub.local>", strip_metadata=False)
    originals = {path.name: sha(path.read_bytes()) for path in four_files}

    links = upload_four(page, site, four_files)
    short = SHORT.match(links["share"]).group(1)
    assert len("https://media.example.com/s/" + short) < 60
    assert "until the files' own expiry" in page.locator("#result-expiry").inner_text()
    assert page.locator("#upload-results .qr svg").count() == 1
    assert page.locator("#result-mailed").inner_text() == "Both links were also mailed to me@example.com."

    # Leaving before the manage link is saved asks first; once saved, it does not.
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.type), dialog.dismiss()))
    page.evaluate("setTimeout(() => location.reload(), 0)")
    wait_until(page, "true", attempts=1)
    for _ in range(50):
        if dialogs:
            break
        page.wait_for_timeout(100)
    assert dialogs == ["beforeunload"]
    assert page.locator("#result-manage-link").input_value() == links["manage"]  # still here
    page.get_by_label("I saved the manage link").check()

    # The uploader's address got both links, in one mail.
    page.get_by_role("link", name="Outbox").click()
    assert dialogs == ["beforeunload"]
    mails = page.locator(".mail", has=page.locator(".mail-to", has_text="me@example.com"))
    assert mails.count() == 1
    hrefs = [mails.locator("a").nth(i).get_attribute("href") for i in range(mails.locator("a").count())]
    assert links["share"] in hrefs and links["manage"] in hrefs

    # A fresh browser: the four files with their previews, each saved intact.
    context, viewer = save_all(browser, links["share"], AS_A_PHONE_SHARES)
    rows = viewer.locator(".transfer-file")
    assert rows.count() == 4
    assert viewer.locator(".transfer-file img.thumb[loading=lazy]").count() == 4
    assert "until the files' own expiry" in viewer.locator("#link-expiry").inner_text()
    viewer.get_by_role("button", name="Share…").click()
    assert viewer.evaluate("window.sharedThrough.url") == links["share"]
    for n in range(4):
        with viewer.expect_download() as saved:
            rows.nth(n).get_by_role("link", name=re.compile("^Download")).click()
        download = saved.value
        assert sha(open(download.path(), "rb").read()) == originals[download.suggested_filename]

    # All four at once, streamed by the service worker as one download.
    with viewer.expect_download() as saved:
        viewer.get_by_role("button", name="Download all").click()
    archive = zipfile.ZipFile(io.BytesIO(open(saved.value.path(), "rb").read()))
    assert {name: sha(archive.read(name)) for name in archive.namelist()} == originals
    assert saved.value.suggested_filename.endswith(".zip")
    context.close()

    # Without service workers, through the File System Access API: written to the chosen file.
    context, viewer = save_all(browser, links["share"], PICKER_IN_PRIVATE_FILES)
    viewer.get_by_role("button", name="Download all").click()
    wait_until(viewer, "document.getElementById('download-all-status').textContent.startsWith('Saved 4 files')")
    written = viewer.evaluate("""async () => {
      const root = await navigator.storage.getDirectory();
      for await (const [name, handle] of root.entries()) {
        const bytes = new Uint8Array(await (await handle.getFile()).arrayBuffer());
        let text = "";
        for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
        return btoa(text);
      }
    }""")
    archive = zipfile.ZipFile(io.BytesIO(base64.b64decode(written)))
    assert {name: sha(archive.read(name)) for name in archive.namelist()} == originals
    context.close()

    # Each file was counted once per save by a visitor: twice by the zips, once alone.
    page.goto(links["manage"])
    counts = page.locator("#transfer-preview .file-meta").all_inner_texts()
    assert len(counts) == 4 and all(text.endswith("3 downloads") for text in counts), counts


def test_a_transfer_id_the_site_no_longer_knows_is_replaced(serve, page, four_files):
    """A tab that kept an old transfer's id (its session ended, say after signing out) opens a
    new transfer instead of failing every file."""
    site = serve()
    page.add_init_script("sessionStorage.setItem('mediahub.transfer', 'an-id-this-site-never-made-x')")
    page.goto(site + "/")
    choose_files(page, *four_files[:2])
    start_upload(page)
    page.locator("#result-share-link").wait_for()
    assert SHORT.match(page.locator("#result-share-link").input_value())
    assert page.locator("#result-files li").count() == 2
