"""Every surface a viewer reaches, against moto's server and the local CloudFront stand-in: the
malware gate (423 while checking, 410 for a threat, out of the gallery), the clean copy instead of
the original, thumbnails in pages, and the media JSON's new fields."""

from __future__ import annotations

import hashlib
import io

import pytest
import requests
from PIL import Image

from tests.support import Api
from webapp import events
from webapp.config import DEFAULT_ALLOWED_TYPES
from webapp.local import scanner

ALLOWED = "https://allowed.example"
API_KEY = "test-api-key-0123456789abcdef"
GPS = 0x8825


def photo(width: int = 640, height: int = 480) -> bytes:
    """A JPEG with a camera's make and model and a GPS position, as a phone writes it."""
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "Canon", "EOS 5D"
    exif[GPS] = {1: "N", 2: (52.0, 22.0, 1.0), 3: "E", 4: (4.0, 53.0, 30.0)}
    out = io.BytesIO()
    Image.new("RGB", (width, height), "teal").save(out, "JPEG", exif=exif)
    return out.getvalue()


def exif_of(data: bytes) -> dict:
    exif = Image.open(io.BytesIO(data)).getexif()
    return {**dict(exif), **{f"gps{k}": v for k, v in exif.get_ifd(GPS).items()}}


@pytest.fixture
def site(make_app):
    def make(**overrides):
        app = make_app(malware_scan="guardduty", embed_origins=(ALLOWED,),
                       allowed_types=DEFAULT_ALLOWED_TYPES + ("text/plain",),
                       api_key_hashes=(hashlib.sha256(API_KEY.encode()).hexdigest(),), **overrides)
        return Api(app.test_client()), app.extensions["mediahub"]
    return make


def upload(api, data=None, filename="holiday.jpg", content_type="image/jpeg", **extra) -> dict:
    answer = api.upload(data or photo(), filename=filename, content_type=content_type, visibility="public", **extra)
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()["media"]


def surfaces(api, media) -> dict:
    """What each viewer surface answers for the item now: (status, error code)."""
    client, media_id = api.client, media["id"]
    key = {"Authorization": f"Bearer {API_KEY}"}
    answers = {
        "share page": client.get(media["links"]["share"]),
        "download": client.get(media["links"]["download"]),
        "embed": client.get(f"/embed/{media_id}", headers={"Referer": ALLOWED + "/post"}),
        "link api (origin)": client.get(f"/api/media/{media_id}/link", headers={"Origin": ALLOWED}),
        "link api (key)": client.get(f"/api/media/{media_id}/link", headers=key),
        "gallery item": client.get(f"/gallery/{media_id}"),
    }
    seen = {}
    for name, answer in answers.items():
        code = answer.headers.get("X-Error-Code")
        if answer.is_json and "error" in answer.get_json():
            code = answer.get_json()["error"]["code"]
        elif code is None and answer.status_code >= 400:
            code = _code_in_page(answer.get_data(as_text=True))
        seen[name] = (answer.status_code, code)
    batch = client.post("/api/links", json={"ids": [media_id]}, headers=key).get_json()
    seen["links api"] = (200, None) if media_id in batch["links"] else (None, batch["errors"][media_id]["code"])
    gallery = client.get("/gallery").get_data(as_text=True)
    seen["gallery"] = f"/gallery/{media_id}" in gallery
    return seen


def presenters_json(api, svc, media_id: str) -> dict:
    """The media JSON as the API shows the record now (the completion answer shows it as it was
    recorded, before processing and the scan ran)."""
    from webapp import presenters

    with api.client.application.test_request_context("/"):
        return presenters.media_json(svc, svc.catalog.get_media(media_id))


def _code_in_page(page: str) -> str | None:
    import re

    found = re.search(r"<code>([a-z_]+)</code>", page)
    return found.group(1) if found else None


def test_a_pending_scan_holds_back_every_surface_until_the_verdict_says_clean(site, aws, settings):
    api, svc = site()
    media = upload(api)
    svc.catalog.set_fields(media["id"], {"scan": "pending"})  # as on AWS, before GuardDuty's verdict
    seen = surfaces(api, media)
    assert seen.pop("gallery") is False
    assert seen == {name: (423 if name != "links api" else None, "scan_pending") for name in seen}
    page = api.client.get(media["links"]["share"]).get_data(as_text=True)
    assert "Being checked" in page and "being checked for malware. Try again in a minute" in page
    player = api.client.get(f"/embed/{media['id']}/player")
    assert player.status_code == 423  # the gate comes before "a photo has no player"
    # "Try again in a minute", said to clients too.
    assert api.client.get(media["links"]["download"]).headers["Retry-After"] == "60"
    assert "Being checked" in api.client.get(media["links"]["manage"]).get_data(as_text=True)

    verdict = scanner.scan(aws.s3, settings.bucket, svc.catalog.get_media(media["id"])["s3_key"])
    assert events.scan_result(verdict, services=svc) == {"clean": 1}
    seen = surfaces(api, media)
    assert seen.pop("gallery") is True
    assert seen["share page"] == (200, None) and seen["download"] == (302, None) and seen["embed"] == (302, None)
    assert seen["link api (origin)"] == seen["link api (key)"] == seen["links api"] == (200, None)
    assert seen["gallery item"] == (200, None)
    assert "Checked for malware: no threat found." in api.client.get(media["links"]["manage"]).get_data(as_text=True)


def test_a_scan_that_found_a_threat_withholds_the_file_everywhere_and_tells_the_owner(site):
    api, svc = site()
    media = upload(api, scanner.EICAR, filename="eicar.txt", content_type="text/plain")
    assert svc.catalog.get_media(media["id"])["scan"] == "infected"
    seen = surfaces(api, media)
    assert seen.pop("gallery") is False
    assert seen == {name: (410 if name != "links api" else None, "media_infected") for name in seen}
    assert "a malware scan found a threat" in api.client.get(media["links"]["share"]).get_data(as_text=True)
    manage = api.client.get(media["links"]["manage"])
    text = manage.get_data(as_text=True)
    assert manage.status_code == 200 and 'id="scan-state"' in text and "Threat found" in text
    assert "Download the original" not in text
    assert api.client.get(media["links"]["manage"] + "/original").status_code == 410
    result = api.client.get(media["links"]["page"]).get_data(as_text=True)  # the uploader's own result page
    assert "Threat found" in result and "/quarantine/" not in result and "/uploads/" not in result


def test_viewers_get_the_clean_copy_and_the_owner_the_original(site):
    api, svc = site()
    data = photo()
    media = upload(api, data)
    shown = presenters_json(api, svc, media["id"])
    assert shown["processing"] == "ready" and shown["scan"] == "clean"
    media["links"]["thumbnail"] = shown["links"]["thumbnail"]
    assert (shown["width"], shown["height"], shown["duration_seconds"], shown["pages"]) == (640, 480, None, None)
    assert {"Canon", "EOS 5D", "N"} <= set(exif_of(data).values())

    viewer = api.client.application.test_client()  # not the uploader: their downloads are not counted
    download = requests.get(viewer.get(media["links"]["download"]).headers["Location"], timeout=10)
    assert download.status_code == 200 and download.headers["Content-Type"] == "image/jpeg"
    assert download.headers["Content-Disposition"].startswith('attachment; filename="holiday.jpg"')
    embed = requests.get(api.client.get(f"/embed/{media['id']}", headers={"Origin": ALLOWED}).headers["Location"],
                         timeout=10)
    link = api.client.get(f"/api/media/{media['id']}/link", headers={"Authorization": f"Bearer {API_KEY}"})
    thumbnail = requests.get(media["links"]["thumbnail"], timeout=10)
    for fetched in (download, embed, requests.get(link.get_json()["url"], timeout=10), thumbnail):
        assert fetched.status_code == 200 and exif_of(fetched.content) == {}
    assert Image.open(io.BytesIO(thumbnail.content)).size == (320, 240)

    share_page = api.client.get(media["links"]["share"]).get_data(as_text=True)
    assert "Location and camera details were removed" in share_page
    assert "thumb-1280.jpg" in share_page and "uploads/" not in share_page

    original = api.client.get(media["links"]["manage"] + "/original")
    assert original.status_code == 302 and original.headers["Cache-Control"] == "no-store"
    kept = requests.get(original.headers["Location"], timeout=10)
    assert kept.content == data and {"Canon", "EOS 5D", "N"} <= set(exif_of(kept.content).values())
    assert svc.catalog.get_media(media["id"])["download_count"] == 1  # the owner's download is not counted


def test_with_stripping_off_viewers_get_the_original(site):
    api, _ = site(strip_metadata=False)
    data = photo()
    media = upload(api, data)
    fetched = requests.get(api.client.get(media["links"]["download"]).headers["Location"], timeout=10)
    assert fetched.content == data
    assert "Location and camera details" not in api.client.get(media["links"]["share"]).get_data(as_text=True)


def test_while_processing_is_pending_viewers_wait_for_the_clean_copy(site):
    api, svc = site()
    media = upload(api)
    svc.catalog.set_fields(media["id"], {"processing": "pending"}, remove=("renditions",))
    page = api.client.get(media["links"]["share"])
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and 'id="preparing"' in text and "<img" not in text.split("<main", 1)[1]
    download = api.client.get(media["links"]["download"])
    assert download.status_code == 409 and "being prepared" in download.get_data(as_text=True)
    assert svc.catalog.get_media(media["id"])["download_count"] == 0  # refused before counting
    embed = api.client.get(f"/embed/{media['id']}", headers={"Origin": ALLOWED})
    assert embed.status_code == 409 and embed.headers["X-Error-Code"] == "processing_pending"
    assert download.headers["Retry-After"] == "60"
    assert f'href="/gallery/{media["id"]}"' in api.client.get("/gallery").get_data(as_text=True)
    assert 'id="preparing"' in api.client.get(f"/gallery/{media['id']}").get_data(as_text=True)


def test_the_gallery_shows_thumbnails_not_originals(site):
    api, svc = site()
    media = upload(api)
    page = api.client.get("/gallery").get_data(as_text=True)
    assert f"renditions/{media['id']}/thumb-320.jpg" in page and "uploads/" not in page
    item = api.client.get(f"/gallery/{media['id']}").get_data(as_text=True)
    assert f"renditions/{media['id']}/thumb-1280.jpg" in item and "uploads/" not in item


def test_the_owner_is_told_when_processing_failed_and_viewers_get_nothing_uncleaned(site):
    api, svc = site()
    media = upload(api)
    svc.catalog.set_fields(media["id"], {"processing": "failed", "processing_reason": "the picture cannot be decoded"},
                           remove=("renditions", "metadata_stripped"))
    page = api.client.get(media["links"]["manage"]).get_data(as_text=True)
    assert 'id="processing-failed"' in page and 'id="withheld"' in page and "cannot be decoded" in page
    answer = api.client.get(media["links"]["download"], headers={"Accept": "application/json"})
    assert answer.status_code == 409 and answer.get_json()["error"]["code"] == "media_withheld"
