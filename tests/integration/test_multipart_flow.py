"""Multipart uploads over HTTP: the app (test client) against moto's server, real part PUTs."""

from __future__ import annotations

import base64
import hashlib

import pytest
import requests

from tests.support import HTML_BYTES, Api, png_bytes
from webapp.parts import MIB, S3_MIN_PART_BYTES

THRESHOLD = 1 * MIB
DATA = png_bytes(padding=S3_MIN_PART_BYTES + 1000)  # two parts: 5 MiB and the rest


@pytest.fixture
def app(make_app):
    return make_app(max_upload_bytes=64 * MIB, multipart_threshold=THRESHOLD, multipart_part_bytes=S3_MIN_PART_BYTES)


@pytest.fixture
def api(client):
    return Api(client)


@pytest.fixture
def multipart_uploads(aws, settings):
    def uploads() -> list[str]:
        return [u["Key"] for u in aws.s3.list_multipart_uploads(Bucket=settings.bucket).get("Uploads", [])]

    return uploads


def checksum(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def chunk(data: bytes, started: dict, number: int) -> bytes:
    size = started["part_size"]
    return data[(number - 1) * size: number * size]


def start(api: Api, data: bytes = DATA, **extra) -> dict:
    answer = api.start(data, **extra)
    assert answer.status_code == 201, answer.get_json()
    started = answer.get_json()
    assert started["method"] == "multipart"
    return started


def sign(api: Api, started: dict, data: bytes, numbers) -> list[dict]:
    body = {"parts": [{"number": n, "checksum": checksum(chunk(data, started, n))} for n in numbers]}
    answer = api.post(f"/api/uploads/{started['upload_id']}/parts", json=body)
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()["parts"]


def send(api: Api, started: dict, data: bytes = DATA, numbers=None) -> None:
    """Sign and PUT parts as a browser does: the body, and the checksum header as signed."""
    numbers = numbers or range(1, started["part_count"] + 1)
    for part in sign(api, started, data, numbers):
        put = requests.put(part["url"], data=chunk(data, started, part["number"]), headers=part["headers"], timeout=30)
        assert put.status_code == 200, put.text
        assert put.headers["ETag"]


def test_large_file_goes_in_parts_and_is_recorded(api, client, bucket_keys, multipart_uploads, table_items):
    started = start(api, name="Film", caption="In parts")
    assert (started["part_size"], started["part_count"], started["checksum_algorithm"]) == (5 * MIB, 2, "SHA256")
    assert "url" not in started and "fields" not in started
    send(api, started)
    done = api.complete(started["upload_id"])
    assert done.status_code == 201, done.get_json()
    media = done.get_json()["media"]
    assert (media["name"], media["caption"], media["size"]) == ("Film", "In parts", len(DATA))
    assert "manage" in media["links"]
    assert [k for k in bucket_keys() if k.startswith("uploads/")] == [started["key"]]
    assert multipart_uploads() == []
    assert [i["status"] for i in table_items() if i["sk"] == "META"] == ["ready"]
    # The owner's original, byte for byte (viewers get the copy processing cleans).
    fetched = requests.get(client.get(media["links"]["manage"] + "/original").headers["Location"], timeout=30)
    assert fetched.content == DATA
    assert fetched.headers["Content-Disposition"] == 'attachment; filename="photo.png"'
    again = api.complete(started["upload_id"])
    assert again.status_code == 200 and again.get_json()["media"]["id"] == media["id"]


def test_small_file_still_goes_in_one_post(api):
    answer = api.start(png_bytes())
    assert answer.status_code == 201
    assert answer.get_json()["method"] == "post" and answer.get_json()["fields"]


def test_part_urls_come_in_batches_with_the_plans_lengths(api):
    started = start(api)
    signed = sign(api, started, DATA, [2, 1])
    assert [(p["number"], p["size"]) for p in signed] == [(2, len(DATA) - 5 * MIB), (1, 5 * MIB)]
    assert signed[1]["headers"] == {"x-amz-checksum-sha256": checksum(DATA[: 5 * MIB])}
    assert "content-length" in signed[0]["url"] and "x-amz-checksum-sha256" in signed[0]["url"]
    refused = api.post(f"/api/uploads/{started['upload_id']}/parts", json={"parts": [{"number": 3, "checksum": checksum(b"")}]})
    assert refused.status_code == 400 and refused.get_json()["error"]["code"] == "invalid_request"


def test_resume_from_the_parts_storage_holds(api, app):
    started = start(api)
    send(api, started, numbers=[1])
    listed = api.client.get(f"/api/uploads/{started['upload_id']}/parts")
    assert listed.status_code == 200
    body = listed.get_json()
    assert [(p["number"], p["size"]) for p in body["parts"]] == [(1, 5 * MIB)]
    assert (body["part_size"], body["part_count"]) == (5 * MIB, 2)
    # Back after a reload: only the missing part is sent.
    reloaded = Api(api.client)
    missing = [n for n in range(1, body["part_count"] + 1) if n not in {p["number"] for p in body["parts"]}]
    assert missing == [2]
    send(reloaded, started, numbers=missing)
    assert reloaded.complete(started["upload_id"]).status_code == 201


def test_completion_before_every_part_arrived_waits(api):
    started = start(api)
    send(api, started, numbers=[2])
    answer = api.complete(started["upload_id"])
    assert answer.status_code == 409
    assert answer.get_json()["error"]["code"] == "upload_missing" and "1 of 2" in answer.get_json()["error"]["message"]
    send(api, started, numbers=[1])
    assert api.complete(started["upload_id"]).status_code == 201


def test_abort_leaves_nothing(api, bucket_keys, multipart_uploads, table_items):
    started = start(api)
    send(api, started, numbers=[1])
    assert multipart_uploads() == [started["key"]]
    aborted = api.client.delete(f"/api/uploads/{started['upload_id']}", headers={"X-CSRFToken": api.csrf})
    assert aborted.status_code == 204
    assert multipart_uploads() == [] and bucket_keys() == [] and table_items() == []
    assert api.client.get(f"/api/uploads/{started['upload_id']}/parts").status_code == 404
    assert api.complete(started["upload_id"]).status_code == 409
    again = api.client.delete(f"/api/uploads/{started['upload_id']}", headers={"X-CSRFToken": api.csrf})
    assert again.status_code == 204


def test_abort_needs_the_csrf_token(api, multipart_uploads):
    started = start(api)
    assert api.client.delete(f"/api/uploads/{started['upload_id']}").status_code == 400
    assert multipart_uploads() == [started["key"]]


def test_parts_adding_up_to_more_than_declared_are_refused(api, aws, settings, bucket_keys, multipart_uploads,
                                                           table_items):
    """S3 refuses a part of another length at a signed URL; moto does not, and a client could
    skip the URLs altogether: completion counts what S3 holds."""
    started = start(api)
    send(api, started)
    ticket = api.client.application.extensions["mediahub"].upload_tickets.read_multipart_id(started["upload_id"])
    aws.s3.upload_part(Bucket=settings.bucket, Key=started["key"], UploadId=ticket.s3_upload_id,
                       PartNumber=3, Body=b"extra bytes")
    answer = api.complete(started["upload_id"])
    assert answer.status_code == 422
    error = answer.get_json()["error"]
    assert error["code"] == "upload_rejected" and "more than" in error["message"]
    assert bucket_keys() == [] and multipart_uploads() == []
    assert [i["status"] for i in table_items()] == ["rejected"]
    assert api.complete(started["upload_id"]).status_code == 422


@pytest.mark.parametrize(("change", "said"), [(b"\x00" * 10, "more than"), (-10, "Part 2 is")])
def test_a_part_of_another_length_than_planned_is_refused(api, aws, settings, bucket_keys, multipart_uploads,
                                                          change, said):
    """Storage refuses it at the signed URL (its Content-Length is signed); sent around the
    URL, completion refuses it."""
    started = start(api)
    send(api, started, numbers=[1])
    [part] = sign(api, started, DATA, [2])
    body = chunk(DATA, started, 2)
    body = body + change if isinstance(change, bytes) else body[:change]
    refused = requests.put(part["url"], data=body, headers=part["headers"], timeout=30)
    assert (refused.status_code, "<Code>SignatureDoesNotMatch</Code>" in refused.text) == (403, True)
    ticket = api.client.application.extensions["mediahub"].upload_tickets.read_multipart_id(started["upload_id"])
    aws.s3.upload_part(Bucket=settings.bucket, Key=started["key"], UploadId=ticket.s3_upload_id,
                       PartNumber=2, Body=body, ChecksumAlgorithm="SHA256")
    answer = api.complete(started["upload_id"])
    assert answer.status_code == 422 and said in answer.get_json()["error"]["message"]
    assert bucket_keys() == [] and multipart_uploads() == []


def test_disguised_content_is_refused_after_joining(api, bucket_keys):
    data = HTML_BYTES + b" " * (S3_MIN_PART_BYTES + 10)
    started = start(api, data)
    send(api, started, data)
    answer = api.complete(started["upload_id"])
    assert answer.status_code == 422
    assert "text/html" in answer.get_json()["error"]["message"]
    assert bucket_keys() == []


def test_another_session_cannot_sign_list_complete_or_abort(app, api, multipart_uploads, table_items):
    started = start(api)
    send(api, started, numbers=[1])
    stranger = Api(app.test_client())
    upload = f"/api/uploads/{started['upload_id']}"
    answers = [
        stranger.post(upload + "/parts", json={"parts": [{"number": 2, "checksum": checksum(b"x")}]}),
        stranger.client.get(upload + "/parts"),
        stranger.complete(started["upload_id"]),
        stranger.client.delete(upload, headers={"X-CSRFToken": stranger.csrf}),
    ]
    assert [(a.status_code, a.get_json()["error"]["code"]) for a in answers] == [(403, "not_your_upload")] * 4
    assert multipart_uploads() == [started["key"]] and table_items() == []
    send(api, started, numbers=[2])
    assert api.complete(started["upload_id"]).status_code == 201


@pytest.mark.parametrize("forged", ["AAAAAAAAAAAAAAAAAAAAAA", "x" * 5000, "..etc"])
def test_forged_multipart_ids_are_unknown(api, forged):
    answers = [
        api.post(f"/api/uploads/{forged}/parts", json={"parts": [{"number": 1, "checksum": checksum(b"")}]}),
        api.client.get(f"/api/uploads/{forged}/parts"),
        api.client.delete(f"/api/uploads/{forged}", headers={"X-CSRFToken": api.csrf}),
    ]
    assert [(a.status_code, a.get_json()["error"]["code"]) for a in answers] == [(404, "upload_not_found")] * 3


def test_a_post_uploads_id_is_not_a_multipart_upload(api):
    policy = api.start(png_bytes()).get_json()
    answer = api.client.get(f"/api/uploads/{policy['upload_id']}/parts")
    assert answer.status_code == 404


def test_over_the_limit_is_refused_before_anything_starts(api, multipart_uploads):
    answer = api.post("/api/uploads", json={"filename": "big.mp4", "content_type": "video/mp4", "size": 64 * MIB + 1})
    assert answer.status_code == 400 and answer.get_json()["error"]["code"] == "file_too_large"
    assert multipart_uploads() == []
