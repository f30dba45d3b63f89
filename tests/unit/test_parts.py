"""Part plans at S3's boundaries, part batches, and part URLs that pin length and checksum."""

import base64
import hashlib
import math
import zlib
from urllib.parse import parse_qs, urlsplit

import pytest

from webapp import parts
from webapp.parts import MIB, PartPlan, plan_parts
from webapp.rules import Refusal
from webapp.aws.storage import Storage

GIB = 1024**3
TIB = 1024**4


@pytest.mark.parametrize(
    ("size", "part_bytes", "part_size", "count"),
    [
        (1, parts.DEFAULT_PART_BYTES, 1, 1),  # never past the file
        (100 * MIB + 1, parts.DEFAULT_PART_BYTES, 8 * MIB, 13),
        (8 * MIB, parts.DEFAULT_PART_BYTES, 8 * MIB, 1),
        (8 * MIB + 1, parts.DEFAULT_PART_BYTES, 8 * MIB, 2),
        (64 * MIB, parts.S3_MIN_PART_BYTES, 5 * MIB, 13),
        (64 * MIB, 1, 5 * MIB, 13),  # never under S3's 5 MiB minimum, whatever is configured
        (10_000 * 8 * MIB, parts.DEFAULT_PART_BYTES, 8 * MIB, 10_000),  # exactly 10,000 parts of 8 MiB
        (10_000 * 8 * MIB + 1, parts.DEFAULT_PART_BYTES, 8 * MIB + 1, 10_000),  # then parts grow
        (5 * TIB, parts.DEFAULT_PART_BYTES, math.ceil(5 * TIB / 10_000), 10_000),  # S3's object limit
    ],
)
def test_plans_at_the_boundaries(size, part_bytes, part_size, count):
    plan = plan_parts(size, part_bytes)
    assert (plan.part_size, plan.count) == (part_size, count)
    assert plan.count <= parts.S3_MAX_PARTS
    assert plan.part_size <= parts.S3_MAX_PART_BYTES
    if plan.count > 1:  # only the last part may be under S3's minimum
        assert plan.length(1) >= parts.S3_MIN_PART_BYTES
    assert (plan.count - 1) * plan.part_size + plan.length(plan.count) == size
    assert 1 <= plan.length(plan.count) <= plan.part_size


def test_every_part_but_the_last_is_full_and_they_add_up_exactly():
    plan = plan_parts(64 * MIB + 123, 5 * MIB)
    lengths = [plan.length(n) for n in range(1, plan.count + 1)]
    assert lengths[:-1] == [5 * MIB] * (plan.count - 1)
    assert lengths[-1] == 64 * MIB + 123 - 12 * 5 * MIB
    assert sum(lengths) == plan.size
    for outside in (0, plan.count + 1):
        with pytest.raises(ValueError):
            plan.length(outside)


@pytest.mark.parametrize("size", [0, -1, 5 * TIB + 1])
def test_sizes_s3_cannot_hold_have_no_plan(size):
    with pytest.raises(ValueError):
        plan_parts(size)


def test_threshold_splits_post_from_multipart():
    assert not parts.uses_multipart(100 * MIB, 100 * MIB)
    assert parts.uses_multipart(100 * MIB + 1, 100 * MIB)


def sha256_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def crc32_b64(data: bytes) -> str:
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


def test_part_batches_take_lengths_from_the_plan_and_checksums_from_the_browser():
    plan = PartPlan(size=12 * MIB, part_size=5 * MIB)
    batch = parts.check_part_batch(
        {"parts": [{"number": 3, "checksum": sha256_b64(b"c")}, {"number": 1, "checksum": sha256_b64(b"a")}]},
        plan, "SHA256")
    assert [(p.number, p.length) for p in batch] == [(3, 2 * MIB), (1, 5 * MIB)]
    assert batch[0].checksum == sha256_b64(b"c")
    assert parts.check_part_batch({"parts": [{"number": 2, "checksum": crc32_b64(b"b")}]}, plan, "CRC32")


@pytest.mark.parametrize(
    "body",
    [
        None,
        {},
        {"parts": []},
        {"parts": [{"number": 0, "checksum": sha256_b64(b"")}]},
        {"parts": [{"number": 4, "checksum": sha256_b64(b"")}]},  # past the plan
        {"parts": [{"number": True, "checksum": sha256_b64(b"")}]},
        {"parts": [{"number": "1", "checksum": sha256_b64(b"")}]},
        {"parts": [{"number": 1}]},
        {"parts": [{"number": 1, "checksum": crc32_b64(b"")}]},  # a CRC32 where SHA-256 was chosen
        {"parts": [{"number": 1, "checksum": "not base64!"}]},
        {"parts": [{"number": 1, "checksum": sha256_b64(b"")}, {"number": 1, "checksum": sha256_b64(b"")}]},
        {"parts": [{"number": 1, "checksum": sha256_b64(b"")}] * (parts.MAX_PARTS_PER_BATCH + 1)},
    ],
)
def test_bad_part_batches_are_refused(body):
    with pytest.raises(Refusal) as refused:
        parts.check_part_batch(body, PartPlan(size=12 * MIB, part_size=5 * MIB), "SHA256")
    assert refused.value.code == "invalid_request" and refused.value.status == 400


def test_checksum_algorithm_defaults_to_sha256():
    assert parts.check_checksum_algorithm(None) == "SHA256"
    assert parts.check_checksum_algorithm("crc32") == "CRC32"
    with pytest.raises(Refusal):
        parts.check_checksum_algorithm("MD5")


def test_arrived_parts_are_judged_against_the_plan():
    plan = PartPlan(size=12 * MIB, part_size=5 * MIB)
    assert parts.arrived_problem(plan, {1: 5 * MIB, 2: 5 * MIB, 3: 2 * MIB}) is None
    assert parts.arrived_problem(plan, {1: 5 * MIB, 3: 2 * MIB})[0] == "missing"
    kind, why = parts.arrived_problem(plan, {1: 5 * MIB, 2: 5 * MIB, 3: 2 * MIB, 4: 1})
    assert kind == "rejected" and "more than" in why
    assert parts.arrived_problem(plan, {1: 5 * MIB, 2: 5 * MIB, 3: 2 * MIB + 1})[0] == "rejected"
    assert parts.arrived_problem(plan, {1: 5 * MIB + 1})[0] == "rejected"


@pytest.fixture
def storage(monkeypatch):
    """The production S3 client as webapp.aws.clients builds it (signing needs no network)."""
    from webapp.aws.clients import AwsClients
    from webapp.config import Settings

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    settings = Settings(secret_key="k" * 40, local_mode=False, bucket="media-prod", region="eu-west-1")
    return Storage(AwsClients(settings).s3, settings.bucket)


@pytest.mark.parametrize(("algorithm", "checksum"), [("SHA256", sha256_b64(b"part")), ("CRC32", crc32_b64(b"part"))])
def test_part_url_signs_its_length_and_checksum_as_headers_and_expires_soon(storage, algorithm, checksum):
    url = storage.part_url("uploads/abc/film.mp4", "upload-1", 7, length=8 * MIB, checksum_algorithm=algorithm,
                           checksum=checksum, expires_in=parts.PART_URL_SECONDS)
    query = parse_qs(urlsplit(url).query)
    signed = query["X-Amz-SignedHeaders"][0].split(";")
    assert "content-length" in signed
    assert f"x-amz-checksum-{algorithm.lower()}" in signed
    # Signed as headers the browser must send, not as query parameters anyone could drop.
    assert not any(name.lower().startswith("x-amz-checksum") for name in query)
    assert query["partNumber"] == ["7"] and query["uploadId"] == ["upload-1"]
    assert int(query["X-Amz-Expires"][0]) == parts.PART_URL_SECONDS <= 600
    assert urlsplit(url).path.endswith("/uploads/abc/film.mp4")


@pytest.mark.parametrize("session_token", [None, "a-session-token/with+signs="])
def test_a_batch_of_part_urls_is_byte_for_byte_what_boto3_presigns(monkeypatch, session_token, algorithm="SHA256"):
    """The batch signer only saves work: at one instant, every URL equals boto3's own presigned URL."""
    import datetime

    import botocore.auth

    from webapp.aws.clients import AwsClients
    from webapp.config import Settings

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    if session_token:
        monkeypatch.setenv("AWS_SESSION_TOKEN", session_token)
    instant = datetime.datetime(2026, 12, 2, 5, 0, 0, tzinfo=datetime.timezone.utc)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: instant)
    settings = Settings(secret_key="k" * 40, local_mode=False, bucket="media-prod", region="eu-west-1")
    storage = Storage(AwsClients(settings).s3, settings.bucket)
    key, upload_id = "uploads/abc/Fête d’été (1).mov", "2~Ab+cd/ef=gh"
    batch = [(1, 8 * MIB, sha256_b64(b"one")), (2, 8 * MIB, sha256_b64(b"two")), (13, 123, sha256_b64(b"last"))]
    expected = [storage.part_url(key, upload_id, n, length=length, checksum_algorithm=algorithm, checksum=c,
                                 expires_in=parts.PART_URL_SECONDS) for n, length, c in batch]
    assert storage.part_urls(key, upload_id, batch, checksum_algorithm=algorithm,
                             expires_in=parts.PART_URL_SECONDS) == expected
    assert len(set(expected)) == 3
    assert ("X-Amz-Security-Token" in expected[2]) == bool(session_token)
