"""The POST policy itself, signed by botocore: decoded and checked condition by condition.

The storage gate (tests/unit/test_storage_gate.py, tests/integration/test_storage_gate.py)
proves storage refuses what falls outside it.
"""

import base64
import datetime as dt
import hashlib
import hmac
import json

import pytest

from webapp.aws.clients import AwsClients
from webapp.config import Settings
from webapp.aws.storage import Storage

KEY = "uploads/Zm9vYmFyYmF6cXV4MTIz/cat.png"
DISPOSITION = "attachment; filename=\"cat.png\""


@pytest.fixture
def policy():
    settings = Settings(secret_key="x" * 40, local_mode=True, aws_endpoint_url="http://127.0.0.1:9")
    storage = Storage(AwsClients(settings).s3, "media-bucket")
    return storage.post_policy(KEY, content_type="image/png", content_disposition=DISPOSITION, max_bytes=5000, expires_in=600)


def decoded(policy):
    return json.loads(base64.b64decode(policy["fields"]["policy"]))


def test_policy_pins_every_condition(policy):
    document = decoded(policy)
    conditions = document["conditions"]
    assert ["eq", "$Content-Type", "image/png"] in conditions
    assert ["eq", "$success_action_status", "201"] in conditions
    assert ["eq", "$Content-Disposition", DISPOSITION] in conditions
    assert ["content-length-range", 1, 5000] in conditions
    assert {"key": KEY} in conditions
    assert {"bucket": "media-bucket"} in conditions
    assert {"x-amz-algorithm": "AWS4-HMAC-SHA256"} in conditions
    assert {"x-amz-credential": policy["fields"]["x-amz-credential"]} in conditions
    assert {"x-amz-date": policy["fields"]["x-amz-date"]} in conditions
    assert not any(isinstance(c, list) and c[0] == "starts-with" for c in conditions)


def test_every_field_sent_is_pinned_by_the_policy(policy):
    document = decoded(policy)
    pinned = set()
    for condition in document["conditions"]:
        if isinstance(condition, dict):
            pinned.update(condition)
        elif condition[0] == "eq":
            pinned.add(condition[1].lstrip("$"))
    sent = set(policy["fields"]) - {"policy", "x-amz-signature"}
    assert sent <= pinned
    assert policy["fields"]["key"] == KEY
    assert policy["fields"]["Content-Type"] == "image/png"


def test_policy_expires_within_ten_minutes(policy):
    expiration = dt.datetime.strptime(decoded(policy)["expiration"], "%Y-%m-%dT%H:%M:%SZ")
    remaining = expiration.replace(tzinfo=dt.timezone.utc) - dt.datetime.now(dt.timezone.utc)
    assert dt.timedelta(minutes=9) < remaining <= dt.timedelta(minutes=10)


def test_policy_signature_is_sigv4_over_the_policy(policy):
    """Recompute the SigV4 POST signature from the (local) secret: S3 would accept exactly this."""
    fields = policy["fields"]
    date, region, service = fields["x-amz-credential"].split("/")[1:4]

    def sign(key: bytes, text: str) -> bytes:
        return hmac.new(key, text.encode(), hashlib.sha256).digest()

    key = sign(("AWS4" + "mediahub-local").encode(), date)
    for part in (region, service, "aws4_request"):
        key = sign(key, part)
    expected = hmac.new(key, fields["policy"].encode(), hashlib.sha256).hexdigest()
    assert fields["x-amz-signature"] == expected
