"""Local storage refuses what S3 refuses, through the real upload flow: the app signs (part
URLs pinning length and checksum, POST policies pinning key, type and size), the bytes go
over HTTP to moto's server behind the storage gate, and what was refused never arrives."""

from __future__ import annotations

import base64
import hashlib
import re
import time

import pytest
import requests

from tests.support import Api, png_bytes, post_to_storage
from webapp import parts

MIB = 1024 * 1024
DATA = png_bytes(padding=6 * MIB)


def checksum(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def code_of(answer) -> tuple[int, str]:
    return answer.status_code, re.search(r"<Code>([^<]*)</Code>", answer.text).group(1)


@pytest.fixture
def api(make_app):
    return Api(make_app(max_upload_bytes=64 * MIB, multipart_threshold=MIB, multipart_part_bytes=5 * MIB).test_client())


def start_multipart(api) -> dict:
    started = api.start(DATA).get_json()
    assert started["method"] == "multipart", started
    return started


def piece(started: dict, number: int) -> bytes:
    size = started["part_size"]
    return DATA[(number - 1) * size: number * size]


def signed_parts(api, started: dict) -> list[dict]:
    body = {"parts": [{"number": n, "checksum": checksum(piece(started, n))}
                      for n in range(1, started["part_count"] + 1)]}
    answer = api.post(f"/api/uploads/{started['upload_id']}/parts", json=body)
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()["parts"]


def held_parts(api, started: dict) -> list[int]:
    return [part["number"] for part in api.client.get(f"/api/uploads/{started['upload_id']}/parts").get_json()["parts"]]


def test_a_part_changed_in_flight_is_refused_and_sent_again_intact(api, aws, settings):
    started = start_multipart(api)
    first, second = signed_parts(api, started)
    body = bytearray(piece(started, 1))
    body[1000] ^= 0x01  # one bit flipped on the way
    refused = requests.put(first["url"], data=bytes(body), headers=first["headers"], timeout=30)
    assert code_of(refused) == (400, "BadDigest")
    assert "The SHA256 you specified did not match the calculated checksum." in refused.text
    assert held_parts(api, started) == []  # nothing of it was stored

    for part in (first, second):  # the same signed URLs, the right bytes
        sent = requests.put(part["url"], data=piece(started, part["number"]), headers=part["headers"], timeout=30)
        assert sent.status_code == 200, sent.text
    done = api.complete(started["upload_id"])
    assert done.status_code == 201, done.get_json()
    stored = aws.s3.get_object(Bucket=settings.bucket, Key=started["key"])["Body"].read()
    assert hashlib.sha256(stored).hexdigest() == hashlib.sha256(DATA).hexdigest()


def test_a_part_of_another_length_or_a_forged_signature_is_refused(api):
    started = start_multipart(api)
    first, _ = signed_parts(api, started)
    shorter = requests.put(first["url"], data=piece(started, 1)[:-1], headers=first["headers"], timeout=30)
    assert code_of(shorter) == (403, "SignatureDoesNotMatch")
    forged = re.sub(r"X-Amz-Signature=[0-9a-f]+", "X-Amz-Signature=" + "0" * 64, first["url"])
    answer = requests.put(forged, data=piece(started, 1), headers=first["headers"], timeout=30)
    assert code_of(answer) == (403, "SignatureDoesNotMatch")
    assert held_parts(api, started) == []


def test_a_part_url_past_its_expiry_is_refused(api, monkeypatch):
    monkeypatch.setattr(parts, "PART_URL_SECONDS", 1)
    started = start_multipart(api)
    first, _ = signed_parts(api, started)
    time.sleep(2.1)
    answer = requests.put(first["url"], data=piece(started, 1), headers=first["headers"], timeout=30)
    assert code_of(answer) == (403, "AccessDenied") and "<Message>Request has expired</Message>" in answer.text
    assert held_parts(api, started) == []


def test_a_post_outside_its_policy_is_refused_and_nothing_arrives(api, bucket_keys):
    data = png_bytes(padding=200)
    policy = api.start(data).get_json()
    assert policy["method"] == "post"

    bigger = post_to_storage(policy, data + b"\0")
    assert code_of(bigger) == (400, "EntityTooLarge")
    other_type = post_to_storage({**policy, "fields": {**policy["fields"], "Content-Type": "text/html"}}, data)
    assert code_of(other_type) == (403, "AccessDenied")
    assert "Invalid according to Policy: Policy Condition failed" in other_type.text
    other_key = post_to_storage({**policy, "fields": {**policy["fields"], "key": "uploads/elsewhere.png"}}, data)
    assert code_of(other_key) == (403, "AccessDenied")
    assert bucket_keys() == []
    assert api.complete(policy["upload_id"]).status_code == 409  # nothing has arrived

    assert post_to_storage(policy, data).status_code == 201  # as signed, it goes through
    assert api.complete(policy["upload_id"]).status_code == 201


def test_a_policy_past_its_expiry_is_refused(make_app, bucket_keys):
    api = Api(make_app(upload_policy_seconds=1).test_client())
    data = png_bytes()
    policy = api.start(data).get_json()
    time.sleep(2.1)
    answer = post_to_storage(policy, data)
    assert code_of(answer) == (403, "AccessDenied")
    assert "Invalid according to Policy: Policy expired." in answer.text
    assert bucket_keys() == []
