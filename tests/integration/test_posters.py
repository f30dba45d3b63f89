"""Video posters: the uploading browser gets a small pinned policy for one JPEG, and the server
checks and re-encodes what arrives before any link points at it (moto's server over HTTP)."""

from __future__ import annotations

import base64
import io
import json
import re

import pytest
import requests
from PIL import Image

from tests.support import Api, png_bytes, post_to_storage, put_around_policy
from tests.unit.test_media_info import webm
from webapp.flows import posters

VIDEO = webm(width=640, height=360, seconds=3.0, cluster_bytes=20_000)


def jpeg_bytes(width: int = 64, height: int = 36, *, comment: bytes = b"") -> bytes:
    out = io.BytesIO()
    extra = {"comment": comment} if comment else {}
    Image.new("RGB", (width, height), (30, 120, 200)).save(out, "JPEG", quality=85, **extra)
    return out.getvalue()


@pytest.fixture
def api(client) -> Api:
    return Api(client)


def upload_video(api: Api) -> dict:
    done = api.upload(VIDEO, "clip.webm", "video/webm")
    assert done.status_code == 201, done.get_json()
    return done.get_json()["media"]


def ask_policy(api: Api, media_id: str, size: int = 1000):
    return api.post(f"/api/media/{media_id}/poster", json={"size": size})


def complete_poster(api: Api, media_id: str):
    return api.post(f"/api/media/{media_id}/poster/complete")


def send_poster(api: Api, media_id: str, data: bytes, content_type: str = "image/jpeg"):
    answer = ask_policy(api, media_id, len(data))
    assert answer.status_code == 200, answer.get_json()
    policy = answer.get_json()
    sent = post_to_storage(policy, data, "poster.jpg", content_type)
    return policy, sent


def policy_document(policy: dict) -> dict:
    return json.loads(base64.b64decode(policy["fields"]["policy"]))


def test_a_real_jpeg_is_checked_recorded_and_served_signed(api, bucket_keys):
    media = upload_video(api)
    assert "poster" not in media["links"]
    original = jpeg_bytes(640, 360, comment=b"sent by the browser")
    _, sent = send_poster(api, media["id"], original)
    assert sent.status_code == 201, sent.text

    done = complete_poster(api, media["id"])
    assert done.status_code == 201, done.get_json()
    served = done.get_json()["media"]["links"]["poster"]
    record = api.record(media["id"])
    assert record["renditions"]["poster"] == posters.served_key(media["id"])
    # The browser's own object is gone: only the re-encoding is kept and linked.
    keys = bucket_keys()
    assert posters.served_key(media["id"]) in keys and posters.received_key(media["id"]) not in keys

    fetched = requests.get(served, timeout=10)
    assert fetched.status_code == 200
    assert fetched.headers["Content-Type"] == "image/jpeg"
    image = Image.open(io.BytesIO(fetched.content))
    assert image.format == "JPEG" and image.size == (640, 360)
    assert b"sent by the browser" not in fetched.content  # re-encoded: nothing of the sender's metadata

    # The media JSON and the item's pages name it too.
    assert "X-Amz-Signature" in served or "Signature=" in served
    again = complete_poster(api, media["id"])  # idempotent
    assert again.status_code == 200
    assert again.get_json()["media"]["links"]["poster"]
    share_path = "/s/" + media["links"]["share"].rsplit("/s/", 1)[1]
    page = api.client.get(share_path).get_data(as_text=True)
    assert re.search(r'<video class="preview" [^>]*poster="[^"]+"', page)


def test_the_policy_pins_key_type_size_and_expiry(api):
    media = upload_video(api)
    answer = ask_policy(api, media["id"], 5000)
    assert answer.status_code == 200, answer.get_json()
    policy = answer.get_json()
    key = f"renditions/{media['id']}/poster.jpg"
    assert policy["key"] == key and policy["fields"]["key"] == key
    assert policy["max_bytes"] == posters.MAX_POSTER_BYTES == 2 * 1024 * 1024
    document = policy_document(policy)
    conditions = document["conditions"]
    assert {"key": key} in conditions
    assert ["eq", "$Content-Type", "image/jpeg"] in conditions
    assert ["content-length-range", 1, posters.MAX_POSTER_BYTES] in conditions
    assert not any(isinstance(c, list) and c[0] == "starts-with" for c in conditions)
    assert policy["fields"]["Content-Type"] == "image/jpeg"
    assert "expiration" in document


@pytest.mark.parametrize("data, problem", [
    (png_bytes(8, 8), "not a JPEG"),
    (b"\xff\xd8\xff\xe0" + b"\0" * 2000, "could not be read"),
    (jpeg_bytes(4100, 10), "larger than 4096"),
])
def test_what_is_not_a_jpeg_within_limits_is_deleted_and_refused(api, bucket_keys, data, problem):
    media = upload_video(api)
    _, sent = send_poster(api, media["id"], data)
    assert sent.status_code == 201
    answer = complete_poster(api, media["id"])
    assert answer.status_code == 422
    error = answer.get_json()["error"]
    assert error["code"] == "poster_rejected" and problem in error["message"]
    assert posters.received_key(media["id"]) not in bucket_keys()
    assert "poster" not in (api.record(media["id"]).get("renditions") or {})


def test_an_oversize_object_is_refused_without_being_decoded(aws, settings, api, bucket_keys):
    """Storage refuses a POST beyond the policy's content-length-range (400 EntityTooLarge, as
    S3 does); put there another way, completion checks the size itself, and never reads past
    the cap."""
    media = upload_video(api)
    policy = ask_policy(api, media["id"], 5000).get_json()  # declares less than it sends
    oversize = jpeg_bytes() + b"\0" * posters.MAX_POSTER_BYTES
    sent = post_to_storage(policy, oversize, "poster.jpg")
    assert (sent.status_code, "<Code>EntityTooLarge</Code>" in sent.text) == (400, True)
    assert policy["key"] not in bucket_keys()
    put_around_policy(aws.s3, settings.bucket, policy, oversize)
    answer = complete_poster(api, media["id"])
    assert answer.status_code == 422
    assert answer.get_json()["error"] == {"code": "poster_rejected", "message": "The poster frame is over 2.1 MB."}
    assert policy["key"] not in bucket_keys()


def test_an_oversize_declaration_is_refused(api):
    media = upload_video(api)
    answer = ask_policy(api, media["id"], posters.MAX_POSTER_BYTES + 1)
    assert answer.status_code == 400 and answer.get_json()["error"]["code"] == "poster_too_large"


def test_only_the_uploading_browser_may_send_a_poster(app, api):
    media = upload_video(api)
    other = Api(app.test_client())
    for answer in (ask_policy(other, media["id"]), complete_poster(other, media["id"])):
        assert answer.status_code == 404 and answer.get_json()["error"]["code"] == "media_not_found"


def test_only_a_video_has_a_poster(api):
    image = api.upload(png_bytes(4, 4)).get_json()["media"]
    for answer in (ask_policy(api, image["id"]), complete_poster(api, image["id"])):
        assert answer.status_code == 409 and answer.get_json()["error"]["code"] == "not_a_video"


def test_a_second_poster_is_refused_once_one_is_recorded(api):
    media = upload_video(api)
    _, sent = send_poster(api, media["id"], jpeg_bytes())
    assert complete_poster(api, media["id"]).status_code == 201
    answer = ask_policy(api, media["id"])
    assert answer.status_code == 409 and answer.get_json()["error"]["code"] == "poster_exists"


def test_completing_before_anything_arrived_says_so(api):
    media = upload_video(api)
    answer = complete_poster(api, media["id"])
    assert answer.status_code == 409 and answer.get_json()["error"]["code"] == "poster_missing"


def test_without_the_csrf_header_nothing_is_signed(api):
    media = upload_video(api)
    answer = api.post(f"/api/media/{media['id']}/poster", json={"size": 10}, csrf=False)
    assert answer.status_code == 400 and answer.get_json()["error"]["code"] == "csrf_failed"


def test_the_document_describes_both_calls_and_the_upload_limits(client):
    document = client.get("/api/openapi.json").get_json()
    assert "/api/media/{media_id}/poster" in document["paths"]
    assert "/api/media/{media_id}/poster/complete" in document["paths"]
    limited = document["paths"]["/api/uploads"]["post"]["responses"]["429"]
    assert "Retry-After" in limited["headers"]
    assert limited["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
