"""The catalog's conditional writes and counters on a real DynamoDB engine."""

import concurrent.futures

import pytest
from botocore.exceptions import ClientError

from webapp import tokens
from webapp.catalog import Catalog

NOW = 1_800_000_000


def pending(media_id: str, **extra) -> dict:
    return {
        "id": media_id, "status": "pending", "s3_key": f"uploads/{media_id}/a.png", "filename": "a.png",
        "name": "A", "caption": "", "content_type": "image/png", "size": 10, "uploader_hash": "h",
        "created_at": "2027-01-15T08:00:00Z", "expires_at": NOW + 86400, "download_count": 0, **extra,
    }


def make_ready(catalog: Catalog, media_id: str, **extra) -> bool:
    return catalog.mark_ready(
        media_id,
        {"status": "ready", "expires_at": NOW + 7 * 86400, "default_share_id": "share-" + media_id,
         "gsi1pk": "LIST#2027-01", "gsi1sk": f"2027-01-15T08:00:00Z#{media_id}", **extra},
        {"share_id": "share-" + media_id, "recipient": "anyone", "expires_at": NOW + 3600,
         "downloads": 0, "revoked": False},
    )


def test_conditional_put_happens_once(catalog):
    media_id = tokens.new_id()
    catalog.put_pending(pending(media_id))
    with pytest.raises(ClientError) as refused:
        catalog.put_pending(pending(media_id, name="B"))
    assert refused.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
    assert catalog.get_media(media_id)["name"] == "A"


def test_mark_ready_happens_once_and_a_repeat_changes_nothing(catalog):
    media_id = tokens.new_id()
    catalog.put_pending(pending(media_id))
    assert make_ready(catalog, media_id) is True
    first = catalog.get_media(media_id)
    assert make_ready(catalog, media_id, name="changed") is False
    assert catalog.get_media(media_id) == first
    assert first["status"] == "ready"
    assert len(catalog.shares_of(media_id)) == 1


def test_mark_ready_in_parallel_has_one_winner(catalog):
    media_id = tokens.new_id()
    catalog.put_pending(pending(media_id))
    with concurrent.futures.ThreadPoolExecutor(10) as pool:
        outcomes = list(pool.map(lambda _: make_ready(catalog, media_id), range(10)))
    assert outcomes.count(True) == 1


def test_rejected_upload_cannot_become_ready(catalog):
    media_id = tokens.new_id()
    catalog.put_pending(pending(media_id))
    assert catalog.mark_rejected(media_id, "bad bytes") is True
    assert make_ready(catalog, media_id) is False
    assert catalog.get_media(media_id)["status"] == "rejected"


def test_download_counter_respects_limit_under_contention(catalog):
    media_id = tokens.new_id()
    catalog.put_pending(pending(media_id))
    make_ready(catalog, media_id, max_downloads=3)
    share_id = "share-" + media_id
    with concurrent.futures.ThreadPoolExecutor(20) as pool:
        outcomes = list(pool.map(lambda _: catalog.count_download(media_id, share_id, NOW, "t"), range(20)))
    assert outcomes.count(True) == 3 and outcomes.count(False) == 17
    assert catalog.get_media(media_id)["download_count"] == 3
    assert catalog.get_share(media_id, share_id)["downloads"] == 3


@pytest.mark.parametrize(
    ("now", "share_changes", "counted"),
    [
        (NOW, {}, True),
        (NOW + 3600, {}, False),            # share expired
        (NOW + 8 * 86400, {}, False),       # item expired (TTL not yet run)
        (NOW, {"revoked": True}, False),
    ],
)
def test_download_counter_refuses_expired_and_revoked(catalog, dynamodb_local, now, share_changes, counted):
    media_id = tokens.new_id()
    catalog.put_pending(pending(media_id))
    make_ready(catalog, media_id)
    if share_changes:
        dynamodb_local.update_item(
            TableName=catalog.table,
            Key={"pk": {"S": f"MEDIA#{media_id}"}, "sk": {"S": f"SHARE#share-{media_id}"}},
            UpdateExpression="SET revoked = :r",
            ExpressionAttributeValues={":r": {"BOOL": True}},
        )
    assert catalog.count_download(media_id, "share-" + media_id, now, "t") is counted
    assert catalog.get_media(media_id)["download_count"] == (1 if counted else 0)


def test_delete_removes_every_record(catalog):
    media_id = tokens.new_id()
    catalog.put_pending(pending(media_id))
    make_ready(catalog, media_id)
    catalog.delete_media(media_id)
    assert catalog.get_media(media_id) is None
    assert catalog.shares_of(media_id) == []
