"""A video's poster frame, captured by the uploading Chromium from the local file and checked by
the server: a real VP8 WebM made by ffmpeg goes through the real upload page."""

from __future__ import annotations

import io
import shutil
import subprocess
import time

import pytest
import requests
from PIL import Image

from tests.conftest import missing_tool
from tests.e2e.conftest import upload_with_page
from webapp.errors import security_headers

WIDTH, HEIGHT = 320, 240


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    """Two seconds of ffmpeg's test pattern as VP8 in WebM, which every Chromium decodes."""
    if shutil.which("ffmpeg") is None:
        missing_tool("ffmpeg is not installed (Debian's ffmpeg; scripts/ensure-system-packages installs it)")
    path = tmp_path_factory.mktemp("video") / "pattern.webm"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc=size={WIDTH}x{HEIGHT}:rate=10",
                    "-t", "2", "-c:v", "libvpx", "-b:v", "200k", "-an", str(path)], check=True, timeout=60)
    return path


REPEAT = """async (id) => {
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const answer = await fetch(`/api/media/${id}/poster/complete`, {
    method: "POST", credentials: "same-origin", headers: {"X-CSRFToken": csrf, "Content-Type": "application/json"},
    body: "{}"});
  return {status: answer.status, body: await answer.json()};
}"""


def media_src(response) -> str:
    policy = response.headers.get("Content-Security-Policy", "")
    return next((part.strip() for part in policy.split(";") if part.strip().startswith("media-src")), "")


def forbid_blob_media(response):
    """Takes blob: out of the upload page's media-src: a page that may not play the chosen file,
    as when a browser cannot decode it. It runs before the site's own hook (Flask calls later
    hooks first), so it sets the site's policy itself before changing it."""
    if response.mimetype == "text/html":
        policy = security_headers(response).headers["Content-Security-Policy"]
        response.headers["Content-Security-Policy"] = policy.replace(" blob:", "")
    return response


def wait_for_record(table_items, predicate, seconds: float = 30) -> dict:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for item in table_items():
            if item["sk"] == "META" and predicate(item):
                return item
        time.sleep(0.2)
    raise AssertionError("no record came to have a poster")


def test_the_uploading_browser_sends_a_checked_poster(serve, page, table_items, clip):
    site = serve()
    assert "blob:" in media_src(requests.get(site + "/", timeout=10))
    completions = []
    page.on("response", lambda r: completions.append(r) if r.url.endswith("/poster/complete") else None)
    blocked = []
    page.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)

    upload_with_page(page, site, clip)

    record = wait_for_record(table_items, lambda item: (item.get("renditions") or {}).get("poster"))
    assert record["content_type"] == "video/webm"
    assert not blocked, blocked
    assert [r.status for r in completions] == [201]
    # Asked again from the same browser (its session and CSRF token): the same record, 200.
    again = page.evaluate(REPEAT, record["id"])
    assert again["status"] == 200, again
    media = again["body"]["media"]
    poster = requests.get(media["links"]["poster"], timeout=10)
    assert poster.status_code == 200 and poster.headers["Content-Type"] == "image/jpeg"
    image = Image.open(io.BytesIO(poster.content))
    assert image.format == "JPEG" and image.size == (WIDTH, HEIGHT)
    # A frame of the pattern, not a blank canvas: ffmpeg's test source is full of colour.
    assert len(image.convert("RGB").getcolors(1 << 20)) > 100

    # The share page the uploader hands out shows it on the player.
    page.goto(media["links"]["share"])
    assert page.locator("video.preview").get_attribute("poster")


def test_a_video_the_page_cannot_play_is_uploaded_without_a_poster(serve, page, table_items, clip):
    """Where the page may not play the file, the capture gives up quietly: the upload goes
    through as before, without a poster."""
    site = serve(after_request=forbid_blob_media)
    asked = []
    page.on("request", lambda r: asked.append(r.url) if "/poster" in r.url else None)
    upload_with_page(page, site, clip)
    [record] = [item for item in table_items() if item["sk"] == "META"]
    assert record["status"] == "ready" and "poster" not in (record.get("renditions") or {})
    assert not asked
    assert page.locator("video.preview").count() == 1
