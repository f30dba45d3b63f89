"""A transfer's records on a real DynamoDB engine: files join it in the write that records them,
its short link is found by hash alone, and a download through it counts on the file and the link
together or not at all."""

import concurrent.futures

from tests.data_layer.test_catalog import NOW, ready
from webapp import tokens


def open_transfer(catalog) -> tuple[dict, dict]:
    transfer = {"id": tokens.new_id(), "status": "open", "uploader_hash": "h", "expires_at": NOW + 30 * 86400}
    catalog.put_transfer(transfer)
    share = {"share_id": tokens.new_id(), "short_hash": tokens.secret_hash(tokens.new_id()), "recipient": "anyone",
             "expires_at": NOW + 30 * 86400, "downloads": 0, "revoked": False}
    catalog.put_transfer_share(transfer["id"], share)
    return transfer, share


def test_files_recorded_at_once_all_join_their_transfer(catalog):
    transfer, share = open_transfer(catalog)
    ids = [tokens.new_id() for _ in range(8)]
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(lambda media_id: catalog.create_ready(*ready(media_id, transfer_id=transfer["id"])),
                                 ids))
    assert outcomes == [True] * 8
    assert sorted(catalog.get_transfer(transfer["id"])["media_ids"]) == sorted(ids)
    assert catalog.short_link(share["short_hash"])["transfer_id"] == transfer["id"]
    # Its records never pass for media or a file's shares.
    assert catalog.get_media(transfer["id"]) is None and catalog.shares_of(transfer["id"]) == []


def test_a_file_of_a_missing_transfer_is_not_recorded(catalog):
    media_id = tokens.new_id()
    assert catalog.create_ready(*ready(media_id, transfer_id=tokens.new_id())) is False
    assert catalog.get_media(media_id) is None


def test_a_download_through_a_transfer_counts_on_both_or_neither(catalog):
    transfer, share = open_transfer(catalog)
    media_id = tokens.new_id()
    catalog.create_ready(*ready(media_id, transfer_id=transfer["id"], max_downloads=3))
    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        counted = list(pool.map(lambda _: catalog.count_transfer_download(
            media_id, transfer["id"], share["share_id"], NOW, "2027-01-15T08:00:00Z"), range(6)))
    assert counted.count(True) == 3
    assert catalog.get_media(media_id)["download_count"] == 3
    assert catalog.get_transfer_share(transfer["id"], share["share_id"])["downloads"] == 3
    # A file of another transfer is not counted through this link.
    other = tokens.new_id()
    catalog.create_ready(*ready(other))
    assert catalog.count_transfer_download(other, transfer["id"], share["share_id"], NOW, "x") is False
    catalog.set_transfer_share_fields(transfer["id"], share["share_id"], {"revoked": True})
    second = tokens.new_id()
    catalog.create_ready(*ready(second, transfer_id=transfer["id"]))
    assert catalog.count_transfer_download(second, transfer["id"], share["share_id"], NOW, "x") is False
    assert catalog.get_media(second)["download_count"] == 0


def test_deleting_a_transfer_removes_its_links_and_short_records(catalog):
    transfer, share = open_transfer(catalog)
    catalog.delete_transfer(transfer["id"])
    assert catalog.get_transfer(transfer["id"]) is None
    assert catalog.short_link(share["short_hash"]) is None
    assert catalog.transfer_shares(transfer["id"]) == []
