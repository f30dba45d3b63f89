"""Types a browser names oddly or not at all are taken from the extension and checked in the bytes."""

import pytest

from tests.support import Api, post_to_storage

MOV = bytes.fromhex("00000014667479707174202000000000717420200000000877696465") + b"\x00" * 500
M4A = bytes.fromhex("0000001c667479704d344120000000004d34412069736f6d6d703432") + b"\x00" * 500
HEIC = bytes.fromhex("00000018667479706865696300000000") + b"mif1heic" + b"\x00" * 500


@pytest.fixture
def api(client):
    return Api(client)


@pytest.mark.parametrize(
    ("filename", "browser_type", "data", "stored_type"),
    [
        ("IMG_0001.MOV", "", MOV, "video/quicktime"),
        ("Voice memo.m4a", "audio/x-m4a", M4A, "audio/mp4"),
        ("IMG_1234.HEIC", "", HEIC, "image/heic"),
    ],
)
def test_odd_browser_types_upload(api, client, filename, browser_type, data, stored_type):
    started = api.start(data, filename=filename, content_type=browser_type)
    assert started.status_code == 201, started.get_json()
    policy = started.get_json()
    assert policy["fields"]["Content-Type"] == stored_type
    assert post_to_storage(policy, data, filename).status_code == 201
    done = api.complete(policy["upload_id"])
    assert done.status_code == 201, done.get_json()
    assert done.get_json()["media"]["content_type"] == stored_type


def test_a_disguised_mov_is_refused(api, bucket_keys):
    data = b"<!doctype html><script>alert(1)</script>" + b" " * 100
    policy = api.start(data, filename="IMG_0001.MOV", content_type="").get_json()
    post_to_storage(policy, data, "IMG_0001.MOV")
    answer = api.complete(policy["upload_id"])
    assert answer.status_code == 422 and "text/html" in answer.get_json()["error"]["message"]
    assert bucket_keys() == []
