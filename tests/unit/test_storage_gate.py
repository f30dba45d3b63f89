"""The storage gate (``webapp.local.gate``) refuses what S3 documents it refuses, with S3's
status, code and message, and passes what S3 accepts. URLs and policies are signed by a real
boto3 client (signing is local, no AWS call); the gate wraps a stand-in for moto's application
that records what reached it, so each refusal is seen to keep the bytes from storage."""

from __future__ import annotations

import base64
import hashlib
import io
import re
import time
from urllib.parse import urlsplit

import boto3
import pytest
from botocore.config import Config
from werkzeug.test import Client
from werkzeug.wrappers import Response

from webapp.aws.clients import LOCAL_CREDENTIALS
from webapp.local import gate
from webapp.local.gate import StorageGate

ENDPOINT = "http://127.0.0.1:4566"
BUCKET = "mediahub-test"
KEY = "uploads/AbCdEfGhIjKlMnOpQrStUv/My photo+1.png"
PART = b"\x89PNG part bytes " * 1000


def s3_client(**credentials):
    return boto3.client("s3", endpoint_url=ENDPOINT, region_name="us-east-1",
                        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
                        **(credentials or LOCAL_CREDENTIALS))


def sha256(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


class Storage:
    """Stands in for moto's application: remembers each request that got through."""

    def __init__(self):
        self.received = []

    def __call__(self, environ, start_response):
        if environ["REQUEST_METHOD"] == "OPTIONS":
            response = Response("", headers={"Access-Control-Allow-Origin": environ.get("HTTP_ORIGIN", ""),
                                             "Access-Control-Expose-Headers": "ETag"})
        else:
            length = int(environ.get("CONTENT_LENGTH") or 0)
            self.received.append((environ["REQUEST_METHOD"], environ["wsgi.input"].read(length)))
            response = Response("", status=200, headers={"ETag": '"etag"'})
        return response(environ, start_response)


@pytest.fixture
def storage():
    return Storage()


@pytest.fixture
def clock():
    now = [time.time()]
    return now


@pytest.fixture
def client(storage, clock):
    return Client(StorageGate(storage, clock=lambda: clock[0]))


def part_url(s3=None, data: bytes = PART, expires: int = 300, checksum: str | None = None) -> str:
    return (s3 or s3_client()).generate_presigned_url("upload_part", Params={
        "Bucket": BUCKET, "Key": KEY, "UploadId": "upload-1", "PartNumber": 1,
        "ContentLength": len(data), "ChecksumSHA256": checksum or sha256(data)}, ExpiresIn=expires)


def put(client, url: str, data: bytes, checksum: str, **headers):
    parts = urlsplit(url)
    return client.put(parts.path, query_string=parts.query, data=data,
                      headers={"Host": parts.netloc, "x-amz-checksum-sha256": checksum, **headers})


def error(answer) -> tuple[int, str, str]:
    text = answer.get_data(as_text=True)
    assert answer.headers["Content-Type"].startswith("application/xml")
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>') and "<RequestId>" in text
    code = re.search(r"<Code>([^<]*)</Code>", text).group(1)
    message = re.search(r"<Message>([^<]*)</Message>", text).group(1)
    return answer.status_code, code, message


# --- presigned part URLs ----------------------------------------------------------------------

def test_a_part_as_signed_goes_through(client, storage):
    answer = put(client, part_url(), PART, sha256(PART))
    assert answer.status_code == 200
    assert storage.received == [("PUT", PART)]


def test_a_part_whose_bytes_do_not_match_the_signed_checksum_is_bad_digest(client, storage):
    flipped = bytes([PART[0] ^ 1]) + PART[1:]
    answer = put(client, part_url(), flipped, sha256(PART))
    assert error(answer) == (400, "BadDigest", "The SHA256 you specified did not match the calculated checksum.")
    assert storage.received == []


def test_a_checksum_that_is_not_a_sha256_is_invalid_request(client, storage):
    answer = put(client, part_url(checksum="bm90IGEgZGlnZXN0"), PART, "bm90IGEgZGlnZXN0")
    assert error(answer) == (400, "InvalidRequest", "Value for x-amz-checksum-sha256 header is invalid.")
    assert storage.received == []


def test_another_checksum_header_than_signed_does_not_match_the_signature(client, storage):
    flipped = bytes([PART[0] ^ 1]) + PART[1:]
    answer = put(client, part_url(), flipped, sha256(flipped))
    assert error(answer)[:2] == (403, "SignatureDoesNotMatch")
    assert storage.received == []


@pytest.mark.parametrize("body", [PART[:-1], PART + b"x"], ids=["shorter", "longer"])
def test_a_body_of_another_length_than_signed_does_not_match_the_signature(client, storage, body):
    answer = put(client, part_url(), body, sha256(PART))
    assert error(answer)[:2] == (403, "SignatureDoesNotMatch")
    assert storage.received == []


def test_a_url_past_its_expiry_has_expired(client, storage, clock):
    url = part_url(expires=60)
    clock[0] += 61
    status, code, message = error(put(client, url, PART, sha256(PART)))
    assert (status, code, message) == (403, "AccessDenied", "Request has expired")
    assert storage.received == []
    clock[0] -= 2  # within its time it works
    assert put(client, url, PART, sha256(PART)).status_code == 200


@pytest.mark.parametrize("change", [
    lambda url: url.replace("partNumber=1", "partNumber=2"),
    lambda url: url.replace("X-Amz-Expires=300", "X-Amz-Expires=3000"),
    lambda url: url.replace("uploads/", "uploads/other/"),
    lambda url: re.sub(r"X-Amz-Signature=[0-9a-f]{4}", "X-Amz-Signature=0000", url),
], ids=["part number", "expiry", "key", "signature"])
def test_a_url_changed_after_signing_does_not_match(client, storage, change):
    answer = put(client, change(part_url()), PART, sha256(PART))
    assert error(answer)[:2] == (403, "SignatureDoesNotMatch")
    assert storage.received == []


def test_a_url_signed_with_another_secret_does_not_match(client):
    forged = part_url(s3_client(aws_access_key_id=LOCAL_CREDENTIALS["aws_access_key_id"],
                                aws_secret_access_key="not-the-secret"))
    assert error(put(client, forged, PART, sha256(PART)))[:2] == (403, "SignatureDoesNotMatch")


def test_an_unknown_access_key_is_refused_then_trusted_like_a_new_iam_key(client):
    other = s3_client(aws_access_key_id="AKIDGATETEST", aws_secret_access_key="gate-test-secret")
    assert error(put(client, part_url(other), PART, sha256(PART)))[:2] == (403, "InvalidAccessKeyId")
    gate.trust("AKIDGATETEST", "gate-test-secret")
    assert put(client, part_url(other), PART, sha256(PART)).status_code == 200


def test_a_week_is_the_longest_a_url_may_last(client):
    url = part_url().replace("X-Amz-Expires=300", "X-Amz-Expires=604801")
    assert error(put(client, url, PART, sha256(PART)))[:2] == (400, "AuthorizationQueryParametersError")


def test_a_presigned_download_is_checked_too(client, storage, clock):
    url = s3_client().generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": KEY}, ExpiresIn=60)
    parts = urlsplit(url)
    assert client.get(parts.path, query_string=parts.query, headers={"Host": parts.netloc}).status_code == 200
    clock[0] += 120
    answer = client.get(parts.path, query_string=parts.query, headers={"Host": parts.netloc})
    assert error(answer)[:3] == (403, "AccessDenied", "Request has expired")


def test_a_refusal_carries_the_buckets_cors_headers_so_the_page_can_read_it(client):
    flipped = bytes([PART[0] ^ 1]) + PART[1:]
    answer = put(client, part_url(), flipped, sha256(PART), Origin="http://127.0.0.1:5000")
    assert answer.status_code == 400
    assert answer.headers["Access-Control-Allow-Origin"] == "http://127.0.0.1:5000"


def test_a_preflight_of_a_part_url_is_answered_unsigned_as_s3_does(client, storage):
    parts = urlsplit(part_url())
    answer = client.options(parts.path, query_string=parts.query, headers={
        "Host": parts.netloc, "Origin": "http://127.0.0.1:5000", "Access-Control-Request-Method": "PUT",
        "Access-Control-Request-Headers": "x-amz-checksum-sha256"})
    assert answer.status_code == 200
    assert answer.headers["Access-Control-Allow-Origin"] == "http://127.0.0.1:5000"


def test_requests_signed_in_the_header_go_straight_through(client, storage):
    answer = client.put(f"/{BUCKET}/{KEY}", data=b"x", headers={"Authorization": "AWS4-HMAC-SHA256 ..."})
    assert answer.status_code == 200 and storage.received == [("PUT", b"x")]


# --- POST policies ---------------------------------------------------------------------------

def policy(max_bytes: int = 100, expires: int = 300, key: str = KEY) -> dict:
    """A policy as ``webapp.aws.storage.Storage.post_policy`` makes it."""
    fields = {"Content-Type": "image/png", "Content-Disposition": 'inline; filename="a.png"',
              "success_action_status": "201"}
    conditions = [["eq", "$Content-Type", "image/png"], ["eq", "$Content-Disposition", 'inline; filename="a.png"'],
                  ["eq", "$success_action_status", "201"], ["content-length-range", 1, max_bytes]]
    return s3_client().generate_presigned_post(BUCKET, key, Fields=fields, Conditions=conditions, ExpiresIn=expires)


def post(client, signed: dict, data: bytes, **changes):
    fields = {**signed["fields"], **changes}
    parts = urlsplit(signed["url"])
    form = {name: value for name, value in fields.items() if value is not None}
    form["file"] = (io.BytesIO(data), "a.png", "image/png")
    return client.post(parts.path, data=form, headers={"Host": parts.netloc})


def test_a_post_within_its_policy_goes_through(client, storage):
    answer = post(client, policy(), b"x" * 100)
    assert answer.status_code == 200
    assert len(storage.received) == 1 and b"x" * 100 in storage.received[0][1]


def test_a_file_above_the_range_is_entity_too_large(client, storage):
    answer = post(client, policy(max_bytes=100), b"x" * 101)
    assert error(answer) == (400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size")
    assert "<MaxSizeAllowed>100</MaxSizeAllowed>" in answer.get_data(as_text=True)
    assert storage.received == []


def test_an_empty_file_is_entity_too_small(client, storage):
    answer = post(client, policy(), b"")
    assert error(answer) == (400, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size")
    assert storage.received == []


@pytest.mark.parametrize("field,value,failed", [
    ("key", "uploads/someone-else.png", f'["eq", "$key", "{KEY}"]'),
    ("Content-Type", "text/html", '["eq", "$Content-Type", "image/png"]'),
    ("success_action_status", "200", '["eq", "$success_action_status", "201"]'),
])
def test_a_field_outside_its_condition_is_refused_by_the_policy(client, storage, field, value, failed):
    answer = post(client, policy(), b"x", **{field: value})
    status, code, message = error(answer)
    assert (status, code) == (403, "AccessDenied")
    assert message.replace("&quot;", '"') == f"Invalid according to Policy: Policy Condition failed: {failed}"
    assert storage.received == []


def test_a_field_no_condition_names_is_an_extra_input_field(client, storage):
    answer = post(client, policy(), b"x", **{"x-amz-meta-owner": "me"})
    assert error(answer) == (403, "AccessDenied", "Invalid according to Policy: Extra input fields: x-amz-meta-owner")
    assert post(client, policy(), b"x", **{"x-ignore-note": "fine"}).status_code == 200


def test_a_post_past_its_policys_expiration_is_refused(client, storage, clock):
    signed = policy(expires=60)
    clock[0] += 61
    assert error(post(client, signed, b"x")) == (403, "AccessDenied", "Invalid according to Policy: Policy expired.")
    assert storage.received == []


def test_a_changed_policy_or_signature_does_not_match(client, storage):
    signed = policy(max_bytes=100)
    wider = policy(max_bytes=10**9)["fields"]["policy"]  # another policy, this one's signature
    assert error(post(client, signed, b"x", policy=wider))[:2] == (403, "SignatureDoesNotMatch")
    assert error(post(client, signed, b"x", **{"x-amz-signature": "0" * 64}))[:2] == (403, "SignatureDoesNotMatch")
    assert storage.received == []


def test_a_post_without_its_signature_field_is_refused(client, storage):
    answer = post(client, policy(), b"x", **{"x-amz-signature": None})
    assert error(answer)[:2] == (400, "InvalidArgument")
    assert storage.received == []


def test_a_post_without_a_policy_is_anonymous_and_the_bucket_is_private(client, storage):
    answer = post(client, policy(), b"x", policy=None, **{"x-amz-signature": None})
    assert error(answer) == (403, "AccessDenied", "Access Denied")
    assert storage.received == []
