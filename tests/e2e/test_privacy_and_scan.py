"""What viewers really receive, in a real Chromium, in local mode through the CloudFront stand-in:
no GPS or camera details in anything a viewer can fetch, thumbnails in the gallery instead of
photos, and the malware gate on every surface (EICAR end to end)."""

from __future__ import annotations

import io
import threading

import pytest
import requests
from PIL import Image
from werkzeug.serving import make_server

from tests.e2e.conftest import wait_until
from tests.support import upload_over_http
from webapp.config import DEFAULT_ALLOWED_TYPES
from webapp import events
from webapp.local import scanner
from webapp.local.stack import free_loopback_port

GPS = 0x8825
EMBEDDER = "http://127.0.0.1:9"  # an allowed origin; the embed check reads it from the Referer


def camera_photo(width: int = 1200, height: int = 900, noise: int = 0) -> bytes:
    """A JPEG as a phone writes it: make, model and a GPS position in its EXIF."""
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "Canon", "EOS 5D"
    exif[GPS] = {1: "N", 2: (52.0, 22.0, 1.0), 3: "E", 4: (4.0, 53.0, 30.0)}
    picture = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    if noise:  # grain, so the JPEG is as large as a real photo of that size
        picture = Image.blend(picture, Image.effect_noise((width, height), noise).convert("RGB"), 0.5)
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=95, exif=exif)
    return out.getvalue()


def metadata_of(data: bytes) -> set:
    exif = Image.open(io.BytesIO(data)).getexif()
    return {*exif.values(), *exif.get_ifd(GPS).values()} - {exif.get(GPS)}


@pytest.fixture
def site(make_app):
    """The site on loopback in local mode (the CloudFront stand-in, the scan stand-in), and its services."""
    app = make_app(malware_scan="guardduty", max_upload_bytes=5_000_000, embed_origins=(EMBEDDER,),
                   allowed_types=DEFAULT_ALLOWED_TYPES + ("text/plain",))
    port = free_loopback_port()
    url = f"http://127.0.0.1:{port}"
    app.extensions["mediahub"].settings  # noqa: B018 - built
    server = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield url, app.extensions["mediahub"]
    server.shutdown()


def fetched_bodies(page) -> list:
    """Every image body the page received, kept as it arrives."""
    bodies = []
    page.on("response", lambda response: response.ok and response.request.resource_type == "image"
            and bodies.append((response.url, response.body())))
    return bodies


def test_viewers_never_receive_gps_or_camera_details_the_owner_keeps_them(page, site):
    url, svc = site
    original = camera_photo()
    assert {"Canon", "EOS 5D", "N", "E"} <= metadata_of(original)
    media = upload_over_http(url, original, filename="lake.jpg", content_type="image/jpeg", visibility="public")
    assert "cloudfront" not in media["links"]["share"]

    # The share page: its preview, then the download button, as a viewer uses them.
    images = fetched_bodies(page)
    page.goto(media["links"]["share"])
    assert page.locator("#cleaned").inner_text().startswith("Location and camera details were removed")
    wait_until(page, "document.querySelector('img.preview').complete")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download").click()
    downloaded = open(download_info.value.path(), "rb").read()
    assert download_info.value.suggested_filename == "lake.jpg"

    # The gallery's tile and the item's own page; the embed another site shows.
    page.goto(url + "/gallery")
    wait_until(page, "[...document.images].every(image => image.complete && image.naturalWidth > 0)")
    page.goto(f"{url}/gallery/{media['id']}")
    wait_until(page, "document.querySelector('img.preview').complete")
    embed = page.request.get(f"{url}/embed/{media['id']}", headers={"Referer": EMBEDDER + "/post"})
    assert embed.ok and "/renditions/" in embed.url

    received = [body for _, body in images] + [downloaded, embed.body()]
    assert len(images) >= 3 and all(u.startswith("http://127.0.0.1:") and "Key-Pair-Id=" in u for u, _ in images)
    for body in received:
        assert Image.open(io.BytesIO(body)).format == "JPEG"
        assert metadata_of(body) == set()
    assert original not in received

    # The owner's manage page hands out the original, metadata and all.
    owner_page = page.context.new_page()
    owner_page.goto(media["links"]["manage"])
    assert "no threat found" in owner_page.locator("#scan-state").inner_text()
    with owner_page.expect_download() as kept_info:
        owner_page.get_by_role("link", name="Download the original").click()
    kept = open(kept_info.value.path(), "rb").read()
    assert kept == original and {"Canon", "EOS 5D", "N"} <= metadata_of(kept)


def test_a_gallery_of_twenty_photos_transfers_at_most_five_percent_of_their_bytes(page, site):
    url, _ = site
    photo = camera_photo(2000, 1500, noise=50)
    assert 1_800_000 <= len(photo) <= 3_000_000
    for number in range(20):
        upload_over_http(url, photo, filename=f"photo-{number}.jpg", content_type="image/jpeg", visibility="public")
    sizes = []
    page.on("requestfinished", lambda request: sizes.append(request.sizes()["responseBodySize"]))
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(url + "/gallery")
    # Lazy tiles load as they come into view: scroll through, then every tile must have loaded.
    for _ in range(20):
        page.mouse.wheel(0, 900)
        page.wait_for_timeout(100)
    wait_until(page, "document.images.length === 20 && "
                     "[...document.images].every(image => image.complete && image.naturalWidth > 0)")
    page.wait_for_load_state("networkidle")
    assert sum(sizes) <= 0.05 * 20 * len(photo), (sum(sizes), len(sizes))
    assert page.evaluate("[...document.images].every(image => image.naturalWidth === 320)")


def test_eicar_is_never_shareable_and_its_owner_is_told(page, site):
    url, svc = site
    media = upload_over_http(url, scanner.EICAR, filename="eicar.txt", content_type="text/plain", visibility="public")
    for address in (media["links"]["share"], media["links"]["download"], f"{url}/gallery/{media['id']}"):
        answer = page.goto(address)
        assert answer.status == 410
        assert "malware scan found a threat" in page.locator("main").inner_text()
    assert page.request.get(f"{url}/embed/{media['id']}", headers={"Referer": EMBEDDER}).status == 410
    assert page.request.get(f"{url}/api/media/{media['id']}/link", headers={"Origin": EMBEDDER}).status == 410
    page.goto(url + "/gallery")
    assert page.locator(f"a[href='/gallery/{media['id']}']").count() == 0
    page.goto(media["links"]["manage"])
    assert page.locator("#scan-state").inner_text().startswith("Threat found")


def test_a_clean_file_becomes_shareable_when_its_scan_finishes(page, site):
    url, svc = site
    media = upload_over_http(url, camera_photo(), filename="wait.jpg", content_type="image/jpeg", visibility="public")
    svc.catalog.set_fields(media["id"], {"scan": "pending"})  # as on AWS until GuardDuty's verdict arrives
    answer = page.goto(media["links"]["share"])
    assert answer.status == 423 and "Try again in a minute" in page.locator("main").inner_text()
    assert page.request.get(f"{url}/embed/{media['id']}", headers={"Referer": EMBEDDER}).status == 423
    page.goto(media["links"]["manage"])
    assert page.locator("#scan-state").inner_text().startswith("Being checked")

    key = svc.catalog.get_media(media["id"])["s3_key"]
    events.scan_result(scanner.scan(svc.storage._s3, svc.storage.bucket, key), services=svc)
    assert page.goto(media["links"]["share"]).status == 200
    wait_until(page, "document.querySelector('img.preview').complete")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download").click()
    assert metadata_of(open(download_info.value.path(), "rb").read()) == set()
    assert requests.get(f"{url}/embed/{media['id']}", headers={"Referer": EMBEDDER}, timeout=10).status_code == 200


@pytest.mark.parametrize("cut", ["no end marker", "truncated", "unreadable"])
def test_jpegs_cut_short_reach_viewers_without_gps_or_not_at_all(page, site, cut):
    """A phone's JPEG without its end marker, one cut off mid-picture, and one whose segments run
    off its end: what a viewer's browser receives never carries the GPS position or the camera."""
    url, svc = site
    whole = camera_photo(1600, 1200, noise=30)
    data = {"no end marker": whole[:-2], "truncated": whole[:len(whole) * 3 // 5],
            "unreadable": whole[:200]}[cut]
    assert b"Canon" in data
    media = upload_over_http(url, data, filename=f"{cut}.jpg", content_type="image/jpeg", visibility="public")
    images = fetched_bodies(page)
    answer = page.goto(media["links"]["share"])
    received = []
    if cut == "unreadable":  # nothing to clean it with: withheld, and the page says so
        assert answer.status == 409 and "withheld" in page.locator("main").inner_text()
        assert page.request.get(media["links"]["download"]).status == 409
        assert page.request.get(f"{url}/embed/{media['id']}", headers={"Referer": EMBEDDER}).status == 409
        owner_page = page.context.new_page()
        owner_page.goto(media["links"]["manage"])
        assert "withheld from viewers" in owner_page.locator("#processing-failed").inner_text()
    else:
        assert answer.status == 200
        wait_until(page, "document.querySelector('img.preview').complete "
                         "&& document.querySelector('img.preview').naturalWidth > 0")
        with page.expect_download() as download_info:
            page.get_by_role("link", name="Download").click()
        received.append(open(download_info.value.path(), "rb").read())
        embed = page.request.get(f"{url}/embed/{media['id']}", headers={"Referer": EMBEDDER + "/post"})
        assert embed.ok and "/renditions/" in embed.url
        received.append(embed.body())
    received += [body for _, body in images]
    for body in received:
        assert b"Canon" not in body and b"EOS 5D" not in body
        assert metadata_of(body) == set()
    assert len(received) >= (0 if cut == "unreadable" else 3)
