"""The catalog's conditional writes and counters on a real DynamoDB engine."""

import concurrent.futures

import pytest
from botocore.exceptions import ClientError

from webapp import tokens

NOW = 1_800_000_000


def ready(media_id: str, **extra) -> tuple[dict, dict]:
    media = {
        "id": media_id, "status": "ready", "s3_key": f"uploads/{media_id}/a.png", "filename": "a.png",
        "name": "A", "caption": "", "content_type": "image/png", "size": 10, "uploader_hash": "h",
        "created_at": "2027-01-15T08:00:00Z", "expires_at": NOW + 7 * 86400, "download_count": 0,
        "default_share_id": "share-" + media_id, "gsi1pk": "LIST#2027-01",
        "gsi1sk": f"{NOW:017.6f}#{media_id}", **extra,
    }
    share = {"share_id": "share-" + media_id, "recipient": "anyone", "expires_at": NOW + 3600,
             "downloads": 0, "revoked": False}
    return media, share


def test_ready_record_is_written_once(catalog):
    media_id = tokens.new_id()
    assert catalog.create_ready(*ready(media_id)) is True
    first = catalog.get_media(media_id)
    assert catalog.create_ready(*ready(media_id, name="changed")) is False
    assert catalog.get_media(media_id) == first and first["name"] == "A"
    assert len(catalog.shares_of(media_id)) == 1


def test_put_media_happens_once(catalog):
    media_id = tokens.new_id()
    catalog.put_media({"id": media_id, "status": "ready", "expires_at": NOW})
    with pytest.raises(ClientError) as refused:
        catalog.put_media({"id": media_id, "status": "ready", "expires_at": NOW, "name": "B"})
    assert refused.value.response["Error"]["Code"] == "ConditionalCheckFailedException"


def test_ready_in_parallel_has_one_winner(catalog):
    media_id = tokens.new_id()
    with concurrent.futures.ThreadPoolExecutor(10) as pool:
        outcomes = list(pool.map(lambda _: catalog.create_ready(*ready(media_id)), range(10)))
    assert outcomes.count(True) == 1
    assert len(catalog.shares_of(media_id)) == 1


def test_rejected_upload_cannot_become_ready(catalog):
    media_id = tokens.new_id()
    catalog.put_rejected(media_id, "bad bytes", NOW + 86400)
    catalog.put_rejected(media_id, "again", NOW + 86400)  # a repeat keeps the first reason
    assert catalog.create_ready(*ready(media_id)) is False
    record = catalog.get_media(media_id)
    assert (record["status"], record["rejection"]) == ("rejected", "bad bytes")
    assert catalog.shares_of(media_id) == []


def test_download_counter_respects_limit_under_contention(catalog):
    media_id = tokens.new_id()
    catalog.create_ready(*ready(media_id, max_downloads=3))
    share_id = "share-" + media_id
    with concurrent.futures.ThreadPoolExecutor(20) as pool:
        outcomes = list(pool.map(lambda _: catalog.count_download(media_id, share_id, NOW, "t"), range(20)))
    assert outcomes.count(True) == 3 and outcomes.count(False) == 17
    assert catalog.get_media(media_id)["download_count"] == 3
    assert catalog.get_share(media_id, share_id)["downloads"] == 3


@pytest.mark.parametrize(
    ("now", "revoke", "counted"),
    [
        (NOW, False, True),
        (NOW + 3600, False, False),        # share expired
        (NOW + 8 * 86400, False, False),   # item expired (TTL not yet run)
        (NOW, True, False),
    ],
)
def test_download_counter_refuses_expired_and_revoked(catalog, now, revoke, counted):
    media_id = tokens.new_id()
    catalog.create_ready(*ready(media_id))
    if revoke:
        assert catalog.revoke_share(media_id, "share-" + media_id, by="owner", at="2027-01-01T00:00:00Z")
    assert catalog.count_download(media_id, "share-" + media_id, now, "t") is counted
    assert catalog.get_media(media_id)["download_count"] == (1 if counted else 0)


def test_existing_ids_and_cursor(catalog):
    known = [tokens.new_id() for _ in range(3)]
    for media_id in known:
        catalog.create_ready(*ready(media_id))
    unknown = tokens.new_id()
    assert catalog.existing_ids(known + [unknown]) == set(known)
    assert catalog.get_cursor("abandoned") == ""
    catalog.set_cursor("abandoned", "uploads/x/y.png")
    assert catalog.get_cursor("abandoned") == "uploads/x/y.png"


def test_delete_removes_every_record(catalog):
    media_id = tokens.new_id()
    catalog.create_ready(*ready(media_id))
    catalog.delete_media(media_id)
    assert catalog.get_media(media_id) is None
    assert catalog.shares_of(media_id) == []
