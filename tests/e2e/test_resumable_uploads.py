"""Uploads through the Uppy page in Chromium: several files, large files in parts, a dropped
connection, a reload, and files refused before any byte leaves the browser."""

from __future__ import annotations

import base64

import pytest

from tests.e2e.conftest import choose_files, start_upload, wait_until
from tests.support import HTML_BYTES, png_bytes
from webapp.parts import MIB, PARTS_IN_FLIGHT, S3_MIN_PART_BYTES

BIG = 64 * MIB
LARGE_FILES = {"max_upload_bytes": 128 * MIB, "multipart_threshold": 8 * MIB,
               "multipart_part_bytes": S3_MIN_PART_BYTES}
MOV = bytes.fromhex("00000014667479707174202000000000717420200000000877696465") + b"\x00" * 4000
M4A = bytes.fromhex("0000001c667479704d344120000000004d34412069736f6d6d703432") + b"\x00" * 4000

DROP = """
async (files) => {
  const transfer = new DataTransfer();
  for (const [name, data, type] of files) {
    const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
    transfer.items.add(new File([bytes], name, { type }));
  }
  const target = document.querySelector(".uppy-Dashboard-inner");
  for (const kind of ["dragenter", "dragover", "drop"]) {
    target.dispatchEvent(new DragEvent(kind, { bubbles: true, cancelable: true, dataTransfer: transfer }));
  }
}
"""

PROGRESS = """() => {
  const [file] = window.mediahubUppy.getFiles();
  return file ? file.progress.bytesUploaded / file.progress.bytesTotal : 0;
}"""


def records(table_items) -> list[dict]:
    return [item for item in table_items() if item["sk"] == "META"]


def storage_requests(page, storage_origin: str) -> list[str]:
    """Every request the page makes to storage or to start an upload, as it makes them."""
    seen: list[str] = []
    page.on("request", lambda r: seen.append(f"{r.method} {r.url}")
            if r.url.startswith(storage_origin) or "/api/uploads" in r.url else None)
    return seen


def throttle(page, bytes_per_second: int):
    """Make the page's uploads take long enough to interrupt them (Chromium's own throttling).

    Detach the returned session to lift it: while it is attached, its conditions win over
    ``context.set_offline``.
    """
    session = page.context.new_cdp_session(page)
    session.send("Network.enable")
    session.send("Network.emulateNetworkConditions", {
        "offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": bytes_per_second})
    return session


def wait_for_progress(page, fraction: float) -> None:
    wait_until(page, f"(fraction) => ({PROGRESS})() >= fraction", fraction)


def test_five_files_dropped_at_once_make_five_records(serve, page, table_items):
    site = serve()
    page.goto(site + "/")
    files = [[f"picture {n}.png", base64.b64encode(png_bytes(padding=1000 + n)).decode(), "image/png"]
             for n in range(5)]
    page.evaluate(DROP, files)
    page.locator(".uppy-Dashboard-Item").nth(4).wait_for()
    start_upload(page)
    results = page.locator("#upload-results li")
    results.nth(4).wait_for(timeout=30_000)
    assert results.count() == 5
    # One transfer: one share link and one manage link for the five.
    assert page.locator("#result-share-link").count() == 1 and page.locator("#result-manage-link").count() == 1
    assert sorted(r["filename"] for r in records(table_items)) == [f"picture {n}.png" for n in range(5)]
    assert {r["status"] for r in records(table_items)} == {"ready"}


def test_m4a_and_upper_case_mov_upload(serve, page, tmp_path, table_items):
    site = serve()
    mov, m4a = tmp_path / "IMG_0001.MOV", tmp_path / "Voice memo.m4a"
    mov.write_bytes(MOV)
    m4a.write_bytes(M4A)
    page.goto(site + "/")
    choose_files(page, mov, m4a)
    page.locator(".uppy-Dashboard-Item").nth(1).wait_for()
    start_upload(page)
    page.locator("#upload-results li").nth(1).wait_for(timeout=30_000)
    stored = {r["filename"]: r["content_type"] for r in records(table_items)}
    assert stored == {"IMG_0001.MOV": "video/quicktime", "Voice memo.m4a": "audio/mp4"}


@pytest.mark.parametrize(
    ("filename", "data", "said"),
    [
        ("big.png", png_bytes(padding=5000), "largest file you can upload is 2 kB"),
        ("photo.png", HTML_BYTES + b" " * 100, "text/html inside, not image/png"),
        ("notes.png", b"\x00\x01\x02 nothing known" * 10, "something else inside"),
    ],
)
def test_refused_before_any_byte_leaves_the_browser(serve, page, tmp_path, table_items, bucket_keys,
                                                   filename, data, said):
    site = serve(max_upload_bytes=2000)
    storage_origin = page.context.request.get(site + "/").headers["content-security-policy"]
    storage_origin = storage_origin.split("connect-src 'self' ")[1].split(";")[0].split()[0]
    seen = storage_requests(page, storage_origin)
    path = tmp_path / filename
    path.write_bytes(data)
    page.goto(site + "/")
    choose_files(page, path)
    error = page.locator("#upload-error")
    error.wait_for()
    assert said in error.inner_text()
    wait_until(page, "() => window.mediahubUppy.getFiles().length === 0")
    assert seen == [] and table_items() == [] and bucket_keys() == []


def test_large_file_in_parts_survives_a_dropped_connection(serve, page, tmp_path, table_items, aws, settings):
    site = serve(**LARGE_FILES)
    data = png_bytes(padding=BIG - 100)
    path = tmp_path / "film.png"
    path.write_bytes(data)
    failed: list[str] = []
    finished: list[str] = []
    page.on("requestfailed", lambda r: failed.append(f"{r.method} {r.url}"))
    page.on("requestfinished", lambda r: finished.append(r.method) if r.url.startswith(settings.aws_endpoint_url)
            else None)
    page.goto(site + "/")
    throttled = throttle(page, 8 * MIB)
    choose_files(page, path)
    start_upload(page)
    wait_for_progress(page, 0.4)
    throttled.detach()
    page.context.set_offline(True)
    page.wait_for_timeout(5000)  # the network is gone for 5 s
    page.context.set_offline(False)
    page.wait_for_url(site + "/media/*", timeout=120_000)

    [record] = records(table_items)
    assert record["size"] == len(data) and record["etag"].endswith("-13")
    assert aws.s3.list_multipart_uploads(Bucket=settings.bucket).get("Uploads", []) == []
    assert failed, "the cut interrupted nothing"
    # Parts sent whole: every part once, and again at most those in flight at the cut (attempts
    # while offline send nothing; bench/resumable.py counts the bytes).
    assert 13 <= finished.count("PUT") <= 13 + PARTS_IN_FLIGHT, finished


def test_reload_mid_upload_resumes_from_the_parts_storage_holds(serve, page, tmp_path, table_items, settings):
    site = serve(**LARGE_FILES)
    data = png_bytes(padding=BIG - 100)
    path = tmp_path / "film.png"
    path.write_bytes(data)
    page.goto(site + "/")
    throttle(page, 8 * MIB)
    choose_files(page, path)
    start_upload(page)
    wait_for_progress(page, 0.5)
    page.reload()
    seen = storage_requests(page, settings.aws_endpoint_url)
    page.wait_for_url(site + "/media/*", timeout=120_000)

    [record] = records(table_items)
    assert record["size"] == len(data)
    puts = [r for r in seen if r.startswith("PUT ")]
    assert 0 < len(puts) < 13, puts  # carried on from the parts storage already held
    assert any("/parts" in r for r in seen)  # it asked which parts those were


def test_each_of_several_files_keeps_its_own_name_and_caption(serve, page, table_items):
    """Named in the Dashboard's own editor, file by file, as a person does it."""
    site = serve()
    page.goto(site + "/")
    files = [[f"IMG_{n}.png", base64.b64encode(png_bytes(padding=500 + n)).decode(), "image/png"] for n in range(2)]
    page.evaluate(DROP, files)
    items = page.locator(".uppy-Dashboard-Item")
    items.nth(1).wait_for()
    for n, (name, caption) in enumerate([("Lake at dawn", "First light"), ("Boat house", "")]):
        items.nth(n).locator(".uppy-Dashboard-Item-action--edit").click()
        card = page.locator(".uppy-Dashboard-FileCard")
        card.get_by_label("Name").fill(name)
        card.get_by_label("Caption").fill(caption)
        card.get_by_role("button", name="Save changes").click()
        card.wait_for(state="detached")
    start_upload(page)
    page.locator("#upload-results li").nth(1).wait_for(timeout=30_000)
    stored = {r["filename"]: (r["name"], r["caption"]) for r in records(table_items)}
    # What was typed for each file is what its record holds; an empty caption stays empty.
    assert stored == {"IMG_0.png": ("Lake at dawn", "First light"), "IMG_1.png": ("Boat house", "")}
