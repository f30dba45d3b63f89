"""DynamoDB: media and share records in one table (``pk`` + ``sk``).

Writes that must happen once are conditional; counters are ``ADD`` under a
condition inside one transaction, so concurrent requests cannot overshoot a
limit or count a download on an expired or revoked link.
"""

from __future__ import annotations

import functools
import math
from decimal import Decimal

from botocore.exceptions import ClientError

META = "META"
LIST_INDEX = "gsi1"
PUBLIC_INDEX = "gsi2"
# A signed-in person's items ("OWNER#<person>") and upload links ("LINKS#<person>"), newest first.
OWNER_INDEX = "gsi3"
UPLOAD_LINK_PREFIX = "UPLOADLINK#"
PERSON_PREFIX = "PERSON#"
LINK_CHARGE_PREFIX = "LINKCHARGE#"
TRANSFER_PREFIX = "TRANSFER#"
# A short link's id is a secret: only its SHA-256 is a key ("SHORT#<hash>"), so a leaked table
# gives no working link.
SHORT_PREFIX = "SHORT#"
# What a short-link record names: a link to a transfer (``transfer_id``, ``share_id``; records
# written before kinds existed have none and are a transfer's), or one file's share
# (``media_id``, ``share_id``).
SHORT_TRANSFER, SHORT_FILE = "transfer", "file"
# Their own sort keys (not META, not SHARE#): a query for media records or their shares never meets them.
TRANSFER_SK = "TRANSFER"
SHORT_SK = "LINK"
TRANSFER_SHARE_PREFIX = "LINK#"


def media_pk(media_id: str) -> str:
    return f"MEDIA#{media_id}"


def share_sk(share_id: str) -> str:
    return f"SHARE#{share_id}"


def transfer_share_sk(share_id: str) -> str:
    """A link to a transfer (beside its record, under ``TRANSFER#<id>``)."""
    return TRANSFER_SHARE_PREFIX + share_id


def to_item(values: dict) -> dict:
    """Plain values as DynamoDB attribute values (fields set to None are left out)."""
    return {name: to_attribute(value) for name, value in values.items() if value is not None}


def from_item(item: dict) -> dict:
    return {name: from_attribute(value) for name, value in item.items()}


@functools.cache
def _types():
    """boto3's serialiser and deserialiser, imported on first use (boto3 costs ~200 ms to import)."""
    from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

    return TypeSerializer(), TypeDeserializer()


def _as_boto3_takes_it(value):
    """boto3 stores numbers as Decimal only (a float would lose digits silently)."""
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"DynamoDB cannot store {value}")
        return Decimal(repr(value))
    if isinstance(value, (list, tuple)):
        return [_as_boto3_takes_it(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _as_boto3_takes_it(v) for k, v in value.items()}
    return value


def _as_python(value):
    """What the app works with: int or float for numbers, sorted lists for sets."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, (set, frozenset)):
        return sorted(_as_python(v) for v in value)
    if isinstance(value, list):
        return [_as_python(v) for v in value]
    if isinstance(value, dict):
        return {k: _as_python(v) for k, v in value.items()}
    return value


def to_attribute(value) -> dict:
    """One value in DynamoDB's wire format, by boto3's TypeSerializer."""
    return _types()[0].serialize(_as_boto3_takes_it(value))


def from_attribute(attribute: dict):
    return _as_python(_types()[1].deserialize(attribute))


def _condition_failed(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") in (
        "ConditionalCheckFailedException",
        "TransactionCanceledException",
    )


def _if_condition_holds(write) -> bool:
    """Run a conditional write: True if it happened, False if its condition failed."""
    try:
        write()
    except ClientError as error:
        if _condition_failed(error):
            return False
        raise
    return True


def _link_key(link_id: str) -> dict:
    return {"pk": {"S": UPLOAD_LINK_PREFIX + link_id}, "sk": {"S": META}}


def _media_item(media: dict) -> dict:
    return {"pk": media_pk(media["id"]), "sk": META, **media}


def _share_item(media_id: str, share: dict) -> dict:
    return {"pk": media_pk(media_id), "sk": share_sk(share["share_id"]), **share}


def _short_key(short_hash: str) -> dict:
    return {"pk": {"S": SHORT_PREFIX + short_hash}, "sk": {"S": SHORT_SK}}


def _short_item(short_hash: str, kind: str, names: dict, expires_at: int) -> dict:
    """The record a short id is looked up by: only the id's hash (the key) and what it names, kept
    (TTL) as long as the share it names. The share record stays the one that says whether the
    link works (withdrawn, used up, expired)."""
    return {"pk": SHORT_PREFIX + short_hash, "sk": SHORT_SK, "kind": kind, **names, "expires_at": expires_at}


def _file_short_item(media_id: str, share: dict) -> dict:
    return _short_item(share["short_hash"], SHORT_FILE, {"media_id": media_id, "share_id": share["share_id"]},
                       share["expires_at"])


class Catalog:
    def __init__(self, dynamodb_client, table: str):
        self._db = dynamodb_client
        self.table = table

    def _key(self, media_id: str, sk: str = META) -> dict:
        return {"pk": {"S": media_pk(media_id)}, "sk": {"S": sk}}

    def put_media(self, media: dict) -> None:
        """Write a media record that must not exist yet."""
        self._db.put_item(
            TableName=self.table, Item=to_item(_media_item(media)), ConditionExpression="attribute_not_exists(pk)"
        )

    def _get(self, media_id: str, sk: str = META) -> dict | None:
        return self._item(media_pk(media_id), sk)

    def get_media(self, media_id: str) -> dict | None:
        return self._get(media_id)

    def get_share(self, media_id: str, share_id: str) -> dict | None:
        return self._get(media_id, share_sk(share_id))

    def create_ready(self, media: dict, share: dict | None) -> bool:
        """The ready record and its first share (if any), written once, together; a file of a
        transfer joins its transfer's list in the same transaction (never a transfer without its file).

        Returns False when a record for this id exists already (a replayed callback,
        the S3 event, or a rejection); the caller then reads and answers with it.
        """
        new = {"ConditionExpression": "attribute_not_exists(pk)", "TableName": self.table}
        writes = [{"Put": {**new, "Item": to_item(_media_item(media))}}]
        if share is not None:
            writes.append({"Put": {**new, "Item": to_item(_share_item(media["id"], share))}})
            if share.get("short_hash"):
                writes.append({"Put": {**new, "Item": to_item(_file_short_item(media["id"], share))}})
        if media.get("transfer_id"):
            writes.append({"Update": {
                "TableName": self.table,
                "Key": {"pk": {"S": TRANSFER_PREFIX + media["transfer_id"]}, "sk": {"S": TRANSFER_SK}},
                "UpdateExpression": "ADD media_ids :id",
                "ConditionExpression": "attribute_exists(pk)",
                "ExpressionAttributeValues": {":id": {"SS": [media["id"]]}},
            }})
        return _if_condition_holds(lambda: self._db.transact_write_items(TransactItems=writes))

    # Transfers: the files chosen together, one share link and one manage page for them.

    def put_transfer(self, transfer: dict) -> None:
        self._db.put_item(TableName=self.table,
                          Item=to_item({"pk": TRANSFER_PREFIX + transfer["id"], "sk": TRANSFER_SK, **transfer}),
                          ConditionExpression="attribute_not_exists(pk)")

    def get_transfer(self, transfer_id: str) -> dict | None:
        return self._item(TRANSFER_PREFIX + transfer_id, TRANSFER_SK)

    def set_transfer_fields(self, transfer_id: str, values: dict, *, remove: tuple[str, ...] = (),
                            only_if: tuple[str, object] | None = None) -> bool:
        """SET (and REMOVE) fields on a transfer; with ``only_if`` (field, value) only while the
        field holds that value (False when it does not: someone else got there first)."""
        key = {"pk": {"S": TRANSFER_PREFIX + transfer_id}, "sk": {"S": TRANSFER_SK}}
        return _if_condition_holds(lambda: self._db.update_item(**self._field_update(key, values, remove, only_if)))

    def drop_from_transfer(self, transfer_id: str, media_id: str) -> None:
        _if_condition_holds(lambda: self._db.update_item(
            TableName=self.table, Key={"pk": {"S": TRANSFER_PREFIX + transfer_id}, "sk": {"S": TRANSFER_SK}},
            UpdateExpression="DELETE media_ids :id", ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={":id": {"SS": [media_id]}}))

    def delete_transfer(self, transfer_id: str) -> None:
        shares = self.transfer_shares(transfer_id)
        for share in shares:
            if share.get("short_hash"):
                self._db.delete_item(TableName=self.table, Key=_short_key(share["short_hash"]))
        for sk in [TRANSFER_SK] + [transfer_share_sk(share["share_id"]) for share in shares]:
            self._db.delete_item(TableName=self.table, Key={"pk": {"S": TRANSFER_PREFIX + transfer_id}, "sk": {"S": sk}})

    def put_transfer_share(self, transfer_id: str, share: dict) -> None:
        """A link to a transfer and the record its short id is looked up by, written together."""
        new = {"ConditionExpression": "attribute_not_exists(pk)", "TableName": self.table}
        self._db.transact_write_items(TransactItems=[
            {"Put": {**new, "Item": to_item({"pk": TRANSFER_PREFIX + transfer_id, "sk": transfer_share_sk(share["share_id"]),
                                              **share})}},
            {"Put": {**new, "Item": to_item(_short_item(share["short_hash"], SHORT_TRANSFER,
                                                         {"transfer_id": transfer_id, "share_id": share["share_id"]},
                                                         share["expires_at"]))}},
        ])

    def set_short_link_expiry(self, short_hash: str, expires_at: int) -> None:
        """The lookup record lives (TTL) as long as its link."""
        _if_condition_holds(lambda: self._db.update_item(
            TableName=self.table, Key=_short_key(short_hash),
            UpdateExpression="SET expires_at = :exp", ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues=to_item({":exp": expires_at})))

    def short_link(self, short_hash: str) -> dict | None:
        return self._item(SHORT_PREFIX + short_hash, SHORT_SK)

    def get_transfer_share(self, transfer_id: str, share_id: str) -> dict | None:
        return self._item(TRANSFER_PREFIX + transfer_id, transfer_share_sk(share_id))

    def set_transfer_share_fields(self, transfer_id: str, share_id: str, values: dict,
                                  remove: tuple[str, ...] = ()) -> None:
        key = {"pk": {"S": TRANSFER_PREFIX + transfer_id}, "sk": {"S": transfer_share_sk(share_id)}}
        self._db.update_item(**self._field_update(key, values, remove))

    def transfer_shares(self, transfer_id: str) -> list[dict]:
        answer = self._db.query(
            TableName=self.table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :share)",
            ExpressionAttributeValues={":pk": {"S": TRANSFER_PREFIX + transfer_id}, ":share": {"S": TRANSFER_SHARE_PREFIX}},
            ConsistentRead=True,
        )
        return [from_item(item) for item in answer["Items"]]

    def media_many(self, media_ids: list[str]) -> list[dict]:
        """The media records of these ids that exist (BatchGetItem, 100 at a time)."""
        found: list[dict] = []
        for start in range(0, len(media_ids), 100):
            keys = [{"pk": {"S": media_pk(i)}, "sk": {"S": META}} for i in dict.fromkeys(media_ids[start:start + 100])]
            request = {self.table: {"Keys": keys, "ConsistentRead": True}}
            while request:
                answer = self._db.batch_get_item(RequestItems=request)
                found.extend(from_item(item) for item in answer["Responses"].get(self.table, []))
                request = answer.get("UnprocessedKeys") or None
        return found

    def count_transfer_download(self, media_id: str, transfer_id: str, share_id: str, now: int, at: str) -> bool:
        """One file of a transfer downloaded through the transfer's link: counted on the file and
        on the link together, or neither (the file's limit, the link's state, as ``count_download``)."""
        count_on_media = {
            "TableName": self.table,
            "Key": self._key(media_id),
            "UpdateExpression": "ADD download_count :one",
            "ConditionExpression": (
                "#status = :ready AND expires_at > :now AND transfer_id = :transfer AND "
                "(attribute_not_exists(max_downloads) OR download_count < max_downloads)"
            ),
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": to_item({":one": 1, ":ready": "ready", ":now": now, ":transfer": transfer_id}),
        }
        count_on_share = {
            "TableName": self.table,
            "Key": {"pk": {"S": TRANSFER_PREFIX + transfer_id}, "sk": {"S": transfer_share_sk(share_id)}},
            "UpdateExpression": "ADD downloads :one SET last_download_at = :at",
            "ConditionExpression": "attribute_exists(pk) AND revoked = :false AND expires_at > :now",
            "ExpressionAttributeValues": to_item({":one": 1, ":at": at, ":false": False, ":now": now}),
        }
        return _if_condition_holds(lambda: self._db.transact_write_items(
            TransactItems=[{"Update": count_on_media}, {"Update": count_on_share}]
        ))

    def put_rejected(self, media_id: str, reason: str, expires_at: int) -> None:
        """Remember why an upload was refused, so a repeat says so; TTL removes it."""
        _if_condition_holds(lambda: self.put_media(
            {"id": media_id, "status": "rejected", "rejection": reason, "expires_at": expires_at}))

    def finish_processing(self, media_id: str, values: dict) -> bool:
        """What processing found (sizes, renditions, ``processing: ready|failed``), written once.

        The condition admits the write only while the item is ready and its processing is still
        pending, so a second run (a repeated event, or two at once) changes nothing: False.
        """
        names = {f"#f{i}": field for i, field in enumerate(values)}
        names["#status"] = "status"
        names["#processing"] = "processing"
        return _if_condition_holds(lambda: self._db.update_item(
            TableName=self.table,
            Key=self._key(media_id),
            UpdateExpression="SET " + ", ".join(f"#f{i} = :v{i}" for i in range(len(values))),
            ConditionExpression=("#status = :ready AND "
                                 "(attribute_not_exists(#processing) OR #processing = :pending)"),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=to_item({**{f":v{i}": v for i, v in enumerate(values.values())},
                                               ":ready": "ready", ":pending": "pending"}),
        ))

    def set_scan(self, media_id: str, scan: str, *, only_from: tuple, extra: dict | None = None) -> bool:
        """Move a ready item's ``scan`` state, only from the states given (None: not set yet), so a
        late or repeated verdict never undoes a later one (infected stays infected)."""
        values = {"scan": scan, **(extra or {})}
        names = {f"#f{i}": field for i, field in enumerate(values)}
        names.update({"#status": "status", "#scan": "scan"})
        allowed = [state for state in only_from if state is not None]
        conditions = (["attribute_not_exists(#scan)"] if None in only_from else []) + \
            [f"#scan = :from{i}" for i in range(len(allowed))]
        return _if_condition_holds(lambda: self._db.update_item(
            TableName=self.table,
            Key=self._key(media_id),
            UpdateExpression="SET " + ", ".join(f"#f{i} = :v{i}" for i in range(len(values))),
            ConditionExpression=f"#status = :ready AND ({' OR '.join(conditions)})",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=to_item({**{f":v{i}": v for i, v in enumerate(values.values())},
                                               **{f":from{i}": v for i, v in enumerate(allowed)},
                                               ":ready": "ready"}),
        ))

    def count_download(self, media_id: str, share_id: str, now: int, at: str) -> bool:
        """Count one download on the item and on the share, or neither.

        Refused (False) when the item is not ready, expired or at its download
        limit, or the share is missing, revoked or expired.
        """
        count_on_media = {
            "TableName": self.table,
            "Key": self._key(media_id),
            "UpdateExpression": "ADD download_count :one",
            "ConditionExpression": (
                "#status = :ready AND expires_at > :now AND "
                "(attribute_not_exists(max_downloads) OR download_count < max_downloads)"
            ),
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": to_item({":one": 1, ":ready": "ready", ":now": now}),
        }
        count_on_share = {
            "TableName": self.table,
            "Key": self._key(media_id, share_sk(share_id)),
            "UpdateExpression": "ADD downloads :one SET last_download_at = :at",
            "ConditionExpression": (
                "attribute_exists(pk) AND revoked = :false AND expires_at > :now AND "
                "(attribute_not_exists(max_downloads) OR downloads < max_downloads)"
            ),
            "ExpressionAttributeValues": to_item({":one": 1, ":at": at, ":false": False, ":now": now}),
        }
        return _if_condition_holds(lambda: self._db.transact_write_items(
            TransactItems=[{"Update": count_on_media}, {"Update": count_on_share}]
        ))

    def delete_media(self, media_id: str) -> None:
        """The item, its shares and the short-link records naming them."""
        for item in self._items_of(media_id):
            if "short_hash" in item:
                self._db.delete_item(TableName=self.table, Key=_short_key(item["short_hash"]["S"]))
            self._db.delete_item(TableName=self.table, Key={"pk": item["pk"], "sk": item["sk"]})

    def _items_of(self, media_id: str) -> list[dict]:
        items, start = [], None
        while True:
            kwargs = {
                "TableName": self.table,
                "KeyConditionExpression": "pk = :pk",
                "ExpressionAttributeValues": {":pk": {"S": media_pk(media_id)}},
                "ProjectionExpression": "pk, sk, short_hash",
                "ConsistentRead": True,
            }
            if start:
                kwargs["ExclusiveStartKey"] = start
            answer = self._db.query(**kwargs)
            items.extend(answer["Items"])
            start = answer.get("LastEvaluatedKey")
            if not start:
                return items

    def newest(self, *, public_only: bool, now: int, limit: int, months: list[str]) -> list[dict]:
        """Live items newest first, a Query per month partition (``months`` newest first), no Scan."""
        index, prefix = (PUBLIC_INDEX, "PUBLIC#") if public_only else (LIST_INDEX, "LIST#")
        return self._across([prefix + month for month in months], limit, index=index,
                            filter_expression="expires_at > :now", values={":now": now}, newest_first=True)

    def expired_items(self, *, months: list[str], now: int, limit: int) -> list[dict]:
        return self._across(["LIST#" + month for month in months], limit, index=LIST_INDEX,
                            filter_expression="expires_at <= :now", values={":now": now})

    def _across(self, partitions: list[str], limit: int, **query) -> list[dict]:
        found: list[dict] = []
        for pk in partitions:
            found += self._query_index(pk=pk, limit=limit - len(found), **query)
            if len(found) >= limit:
                break
        return found

    def _query_index(self, *, limit: int, **query) -> list[dict]:
        found, start = [], None
        while len(found) < limit:
            items, start = self._query_page(limit=limit, start=start, **query)
            found.extend(items)
            if not start:
                break
        return found[:limit]

    def _query_page(self, *, index: str, pk: str, filter_expression: str, values: dict, limit: int,
                    start: dict | None = None, newest_first: bool = False) -> tuple[list[dict], dict | None]:
        """One Query on an index partition: its items, and where the next one starts (or None)."""
        kwargs = {
            "TableName": self.table,
            "IndexName": index,
            "KeyConditionExpression": f"{index}pk = :pk",
            "FilterExpression": filter_expression,
            "ExpressionAttributeValues": to_item({":pk": pk, **values}),
            "ScanIndexForward": not newest_first,
            "Limit": limit,
        }
        if start:
            kwargs["ExclusiveStartKey"] = start
        answer = self._db.query(**kwargs)
        return [from_item(item) for item in answer["Items"]], answer.get("LastEvaluatedKey")

    def get_cursor(self, name: str) -> str:
        answer = self._db.get_item(TableName=self.table, Key={"pk": {"S": f"CURSOR#{name}"}, "sk": {"S": META}})
        return answer.get("Item", {}).get("position", {}).get("S", "")

    def set_cursor(self, name: str, position: str) -> None:
        self._db.put_item(TableName=self.table, Item=to_item({"pk": f"CURSOR#{name}", "sk": META, "position": position}))

    def existing_ids(self, media_ids: list[str]) -> set[str]:
        """Which of these ids have a record (BatchGetItem, 100 at a time)."""
        found: set[str] = set()
        for start in range(0, len(media_ids), 100):
            keys = [{"pk": {"S": media_pk(i)}, "sk": {"S": META}} for i in dict.fromkeys(media_ids[start:start + 100])]
            request = {self.table: {"Keys": keys, "ProjectionExpression": "pk", "ConsistentRead": True}}
            while request:
                answer = self._db.batch_get_item(RequestItems=request)
                found.update(item["pk"]["S"].split("#", 1)[1] for item in answer["Responses"].get(self.table, []))
                request = answer.get("UnprocessedKeys") or None
        return found

    def set_embed_origins(self, media_id: str, origins: list[str]) -> None:
        self._db.update_item(
            TableName=self.table,
            Key=self._key(media_id),
            UpdateExpression="SET embed_origins = :origins",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues=to_item({":origins": origins}),
        )

    def put_share(self, media_id: str, share: dict) -> None:
        """A share of a file and, when it has a short id (``short_hash``), the record that id is
        looked up by, written together."""
        new = {"ConditionExpression": "attribute_not_exists(pk)", "TableName": self.table}
        writes = [{"Put": {**new, "Item": to_item(_share_item(media_id, share))}}]
        if share.get("short_hash"):
            writes.append({"Put": {**new, "Item": to_item(_file_short_item(media_id, share))}})
        self._db.transact_write_items(TransactItems=writes)

    def delete_share(self, media_id: str, share: dict) -> None:
        """A share and its short-link record."""
        if share.get("short_hash"):
            self._db.delete_item(TableName=self.table, Key=_short_key(share["short_hash"]))
        self._db.delete_item(TableName=self.table, Key=self._key(media_id, share_sk(share["share_id"])))

    def revoke_share(self, media_id: str, share_id: str, *, by: str, at: str) -> bool:
        """Withdraw a link, saying who did it and when in the same write (visitors are told)."""
        return _if_condition_holds(lambda: self._db.update_item(
            TableName=self.table,
            Key=self._key(media_id, share_sk(share_id)),
            UpdateExpression="SET revoked = :true, revoked_by = :by, revoked_at = :at",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues=to_item({":true": True, ":by": by, ":at": at}),
        ))

    def set_visibility(self, media: dict, visibility: str) -> None:
        """Show the item in the gallery or take it out: the public index is sparse, so an item
        leaves it by losing its keys (a private item is never even read by the gallery)."""
        if visibility == "public":
            month = media["gsi1pk"].removeprefix("LIST#")
            self.set_fields(media["id"], {"visibility": "public", "gsi2pk": "PUBLIC#" + month,
                                          "gsi2sk": media["gsi1sk"]})
        else:
            self.set_fields(media["id"], {"visibility": "private"}, remove=("gsi2pk", "gsi2sk"))

    def take_try(self, media_id: str, sk: str, *, counter: str, allowed: int, holder: str, value: str) -> bool:
        """Count one try at a secret (a share's one-time code) before it is checked, or refuse
        (False) once ``allowed`` tries were taken or the secret ``holder`` holds is another one:
        one conditional update, so parallel guesses cannot slip past the limit."""
        return _if_condition_holds(lambda: self._db.update_item(
            TableName=self.table, Key=self._key(media_id, sk),
            UpdateExpression="ADD #counter :one",
            ConditionExpression="#holder = :value AND (attribute_not_exists(#counter) OR #counter < :allowed)",
            ExpressionAttributeNames={"#counter": counter, "#holder": holder},
            ExpressionAttributeValues=to_item({":one": 1, ":value": value, ":allowed": allowed}),
        ))

    def stamp_unless_recent(self, media_id: str, sk: str, *, field: str, now: int, every: int, counter: str,
                            most: int) -> bool:
        """Set ``field`` to ``now`` and count one in ``counter``, unless ``field`` was set less
        than ``every`` seconds ago or ``counter`` reached ``most`` (False): at most one of
        parallel requests gets through in each period, and no more than ``most`` in all."""
        return _if_condition_holds(lambda: self._db.update_item(
            TableName=self.table, Key=self._key(media_id, sk),
            UpdateExpression="SET #field = :now ADD #counter :one",
            ConditionExpression="attribute_exists(pk) AND (attribute_not_exists(#field) OR #field <= :before) "
                                "AND (attribute_not_exists(#counter) OR #counter < :most)",
            ExpressionAttributeNames={"#field": field, "#counter": counter},
            ExpressionAttributeValues=to_item({":now": now, ":before": now - every, ":one": 1, ":most": most}),
        ))

    def remove_if_holds(self, media_id: str, sk: str, fields: tuple[str, ...], *, holder: str, value: str) -> bool:
        """Remove ``fields`` if ``holder`` still holds ``value`` (False when another request
        removed or replaced it first): a one-time secret is used once, however many race."""
        names = {f"#r{i}": field for i, field in enumerate(fields)}
        return _if_condition_holds(lambda: self._db.update_item(
            TableName=self.table, Key=self._key(media_id, sk),
            UpdateExpression="REMOVE " + ", ".join(names),
            ConditionExpression="#holder = :value",
            ExpressionAttributeNames={**names, "#holder": holder},
            ExpressionAttributeValues=to_item({":value": value}),
        ))

    def set_fields(self, media_id: str, values: dict, *, sk: str = META, remove: tuple[str, ...] = ()) -> None:
        """SET (and REMOVE) plain fields on an existing record."""
        self._db.update_item(**self._field_update(self._key(media_id, sk), values, remove))

    def _field_update(self, key: dict, values: dict, remove: tuple[str, ...] = (),
                      only_if: tuple[str, object] | None = None) -> dict:
        """UpdateItem's arguments that SET ``values`` and REMOVE ``remove`` on the record at
        ``key`` while it exists; with ``only_if`` (field, value), only while the field holds it."""
        names = {f"#f{i}": field for i, field in enumerate(values)}
        names.update({f"#r{i}": field for i, field in enumerate(remove)})
        parts = []
        if values:
            parts.append("SET " + ", ".join(f"#f{i} = :v{i}" for i in range(len(values))))
        if remove:
            parts.append("REMOVE " + ", ".join(f"#r{i}" for i in range(len(remove))))
        attribute_values = {f":v{i}": v for i, v in enumerate(values.values())}
        condition = "attribute_exists(pk)"
        if only_if is not None:
            names["#cond"] = only_if[0]
            attribute_values[":cond"] = only_if[1]
            condition += " AND #cond = :cond"
        kwargs = {"TableName": self.table, "Key": key, "UpdateExpression": " ".join(parts),
                  "ConditionExpression": condition, "ExpressionAttributeNames": names}
        if attribute_values:
            kwargs["ExpressionAttributeValues"] = to_item(attribute_values)
        return kwargs

    def note_password_failure(self, media_id: str, share_id: str, now: int, *, allowed: int,
                              lock_seconds: int) -> None:
        """Count a wrong password on a share; the ``allowed``-th failure locks it for a while."""
        answer = self._db.update_item(
            TableName=self.table,
            Key=self._key(media_id, share_sk(share_id)),
            UpdateExpression="ADD password_failures :one",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues=to_item({":one": 1}),
            ReturnValues="UPDATED_NEW",
        )
        failures = int(answer["Attributes"]["password_failures"]["N"])
        if failures >= allowed:
            self.set_fields(media_id, {"locked_until": now + lock_seconds, "password_failures": 0},
                            sk=share_sk(share_id))

    def charge_upload(self, charge, *, media_id: str, per_hour: int, bytes_per_day: int) -> dict | None:
        """Take one upload and its declared bytes from an identity's allowance, or nothing.

        One conditional ``UpdateItem`` charges the hour's count and the day's bytes together,
        so concurrent uploads on any number of instances cannot overshoot either limit (0: no
        limit). Returns None when charged; else the counter as it stands, to say why. A charge
        record per upload remembers where it was counted, so it can be given back once.
        """
        conditions, values = [], {":one": 1, ":size": charge.size, ":exp": charge.expires_at}
        if per_hour:
            conditions.append("(attribute_not_exists(#hour) OR #hour < :per_hour)")
            values[":per_hour"] = per_hour
        if bytes_per_day:
            conditions.append("(attribute_not_exists(#bytes) OR #bytes <= :room)")
            values[":room"] = bytes_per_day - charge.size
        key = {"pk": {"S": charge.counter_pk}, "sk": {"S": charge.counter_sk}}
        update = {
            "TableName": self.table,
            "Key": key,
            "UpdateExpression": "SET expires_at = :exp ADD #hour :one, #bytes :size",
            "ExpressionAttributeNames": {"#hour": charge.hour_field, "#bytes": "bytes"},
            "ExpressionAttributeValues": to_item(values),
        }
        if conditions:
            update["ConditionExpression"] = " AND ".join(conditions)
        if not _if_condition_holds(lambda: self._db.update_item(**update)):
            answer = self._db.get_item(TableName=self.table, Key=key, ConsistentRead=True)
            return from_item(answer.get("Item", {}))
        self._db.put_item(TableName=self.table, Item=to_item({
            "pk": f"CHARGE#{media_id}", "sk": META, "counter_pk": charge.counter_pk, "counter_sk": charge.counter_sk,
            "hour_field": charge.hour_field, "size": charge.size, "expires_at": charge.expires_at,
        }))
        return None

    def _item(self, pk: str, sk: str = META) -> dict | None:
        """One record by its key (consistent), or None."""
        answer = self._db.get_item(TableName=self.table, Key={"pk": {"S": pk}, "sk": {"S": sk}}, ConsistentRead=True)
        return from_item(answer["Item"]) if "Item" in answer else None

    def remember_person(self, person_id: str, *, email: str, name: str, at: str) -> None:
        """What mail to a signed-in person needs (their address, their name), refreshed at each
        sign-in: an item keeps only its owner's id."""
        self._db.put_item(TableName=self.table, Item=to_item({"pk": PERSON_PREFIX + person_id, "sk": META,
                                                              "email": email, "name": name, "signed_in_at": at}))

    def person(self, person_id: str) -> dict | None:
        return self._item(PERSON_PREFIX + person_id)

    def put_upload_link(self, link: dict) -> None:
        self._db.put_item(TableName=self.table, Item=to_item({"pk": UPLOAD_LINK_PREFIX + link["id"], "sk": META, **link}),
                          ConditionExpression="attribute_not_exists(pk)")

    def get_upload_link(self, link_id: str) -> dict | None:
        return self._item(UPLOAD_LINK_PREFIX + link_id)

    def revoke_upload_link(self, link_id: str, creator: str) -> bool:
        return _if_condition_holds(lambda: self._db.update_item(
            TableName=self.table, Key=_link_key(link_id),
            UpdateExpression="SET revoked = :true", ConditionExpression="attribute_exists(pk) AND creator = :creator",
            ExpressionAttributeValues=to_item({":true": True, ":creator": creator}),
        ))

    def charge_upload_link(self, link: dict, *, media_id: str, size: int, now: int) -> bool:
        """Take one file of ``size`` from an upload link's allowance, or refuse (False).

        One conditional update: the link must still be open (not revoked, not expired) with a
        file and the bytes to spare, so parallel uploads can never take it past either limit. A
        charge record per upload lets an abort or a rejection give it back once
        (``refund_upload`` with ``prefix=LINK_CHARGE_PREFIX``).
        """
        charged = _if_condition_holds(lambda: self._db.update_item(
            TableName=self.table, Key=_link_key(link["id"]),
            UpdateExpression="ADD files :one, #bytes :size",
            ConditionExpression="attribute_exists(pk) AND revoked = :false AND expires_at > :now "
                                "AND files < :max_files AND #bytes <= :room",
            ExpressionAttributeNames={"#bytes": "bytes"},
            ExpressionAttributeValues=to_item({":one": 1, ":size": size, ":false": False, ":now": now,
                                               ":max_files": link["max_files"], ":room": link["max_bytes"] - size}),
        ))
        if charged:
            self._db.put_item(TableName=self.table, Item=to_item({
                "pk": LINK_CHARGE_PREFIX + media_id, "sk": META, "counter_pk": UPLOAD_LINK_PREFIX + link["id"],
                "counter_sk": META, "hour_field": "files", "size": size, "expires_at": link["expires_at"],
            }))
        return charged

    def refund_upload(self, media_id: str, now: int, prefix: str = "CHARGE#") -> bool:
        """Give an upload's charge back, at most once (an abort and a rejection, or two of
        either, for the same upload give back one charge). False: nothing to give back.

        The charge record is marked first, under a condition, then the counter is lowered; a
        failure in between keeps the charge (errs towards the limit, never past it). A window
        already over is left alone: its counter no longer limits anyone and may be gone.
        """
        try:
            answer = self._db.update_item(
                TableName=self.table,
                Key={"pk": {"S": prefix + media_id}, "sk": {"S": META}},
                UpdateExpression="SET refunded_at = :now",
                ConditionExpression="attribute_exists(pk) AND attribute_not_exists(refunded_at)",
                ExpressionAttributeValues=to_item({":now": now}),
                ReturnValues="ALL_NEW",
            )
        except ClientError as error:
            if _condition_failed(error):
                return False
            raise
        charge = from_item(answer["Attributes"])
        if charge["expires_at"] <= now:
            return True
        _if_condition_holds(lambda: self._db.update_item(
            TableName=self.table,
            Key={"pk": {"S": charge["counter_pk"]}, "sk": {"S": charge["counter_sk"]}},
            UpdateExpression="ADD #hour :minus_one, #bytes :minus_size",
            ConditionExpression="attribute_exists(pk) AND #hour >= :one AND #bytes >= :size",
            ExpressionAttributeNames={"#hour": charge["hour_field"], "#bytes": "bytes"},
            ExpressionAttributeValues=to_item({":one": 1, ":minus_one": -1, ":size": charge["size"],
                                               ":minus_size": -charge["size"]}),
        ))
        return True

    def counter(self, pk: str, sk: str = META) -> dict:
        return self._item(pk, sk) or {}

    def begin_signin(self, pk: str, now: int, *, allowed: int, lock_seconds: int) -> bool:
        """Count a sign-in attempt before its password is checked, or refuse it (False).

        Counted first, so parallel guesses cannot all slip in before the lock: the condition
        admits an attempt while fewer than ``allowed`` have failed in a row, and once locked,
        one attempt per ``lock_seconds`` after the last one. A success resets the count.
        """
        return _if_condition_holds(lambda: self._db.update_item(
            TableName=self.table,
            Key={"pk": {"S": pk}, "sk": {"S": META}},
            UpdateExpression="SET last_at = :now, expires_at = :exp ADD failures :one",
            ConditionExpression="attribute_not_exists(failures) OR failures < :allowed OR last_at <= :lock_over",
            ExpressionAttributeValues=to_item({":now": now, ":exp": now + 2 * lock_seconds, ":one": 1,
                                               ":allowed": allowed, ":lock_over": now - lock_seconds}),
        ))

    def undo_signin(self, pk: str) -> None:
        """An attempt counted but never checked (another counter refused it) does not count."""
        _if_condition_holds(lambda: self._db.update_item(
            TableName=self.table,
            Key={"pk": {"S": pk}, "sk": {"S": META}},
            UpdateExpression="ADD failures :minus_one",
            ConditionExpression="failures >= :one",
            ExpressionAttributeValues=to_item({":one": 1, ":minus_one": -1}),
        ))

    def forget_signin_failures(self, pk: str) -> None:
        self._db.delete_item(TableName=self.table, Key={"pk": {"S": pk}, "sk": {"S": META}})

    def page(self, *, months: list[str], cursor: dict | None, size: int, now: int,
             search: str | None = None, newest_first: bool = True) -> tuple[list[dict], dict | None]:
        """One page of live items across month partitions (in the order ``months`` are given;
        within a month newest first, or oldest with ``newest_first=False``), and the next cursor."""
        items: list[dict] = []
        month_index = months.index(cursor["month"]) if cursor and cursor.get("month") in months else 0
        start = (cursor or {}).get("key")
        filter_expression, values = "expires_at > :now", {":now": now}
        if search:
            filter_expression += " AND contains(search_text, :q)"
            values[":q"] = search.lower()
        while month_index < len(months) and len(items) < size:
            found, start = self._query_page(
                index=LIST_INDEX, pk="LIST#" + months[month_index], filter_expression=filter_expression,
                values=values, limit=size - len(items), start=start, newest_first=newest_first,
            )
            items.extend(found)
            if not start:
                month_index += 1
        if start:
            return items, {"month": months[month_index], "key": start}
        if month_index < len(months):
            return items, {"month": months[month_index], "key": None}
        return items, None

    def owned_by(self, partition: str, *, cursor: dict | None, size: int, now: int) -> tuple[list[dict], dict | None]:
        """One page of a person's live items (``OWNER#<person>``) or upload links
        (``LINKS#<person>``), newest first: a Query on one partition of the owner index."""
        items: list[dict] = []
        start = cursor
        while len(items) < size:
            found, start = self._query_page(index=OWNER_INDEX, pk=partition, filter_expression="expires_at > :now",
                                            values={":now": now}, limit=size - len(items), start=start,
                                            newest_first=True)
            items.extend(found)
            if not start:
                break
        return items, start

    def shares_of(self, media_id: str) -> list[dict]:
        answer = self._db.query(
            TableName=self.table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :share)",
            ExpressionAttributeValues={":pk": {"S": media_pk(media_id)}, ":share": {"S": "SHARE#"}},
            ConsistentRead=True,
        )
        return [from_item(item) for item in answer["Items"]]


TABLE_DEFINITION = {
    "AttributeDefinitions": [
        {"AttributeName": "pk", "AttributeType": "S"},
        {"AttributeName": "sk", "AttributeType": "S"},
        {"AttributeName": "gsi1pk", "AttributeType": "S"},
        {"AttributeName": "gsi1sk", "AttributeType": "S"},
        {"AttributeName": "gsi2pk", "AttributeType": "S"},
        {"AttributeName": "gsi2sk", "AttributeType": "S"},
        {"AttributeName": "gsi3pk", "AttributeType": "S"},
        {"AttributeName": "gsi3sk", "AttributeType": "S"},
    ],
    "KeySchema": [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ],
    "GlobalSecondaryIndexes": [
        {
            "IndexName": LIST_INDEX,
            "KeySchema": [
                {"AttributeName": "gsi1pk", "KeyType": "HASH"},
                {"AttributeName": "gsi1sk", "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "ALL"},
        },
        {
            # Sparse: only public items carry gsi2pk.
            "IndexName": PUBLIC_INDEX,
            "KeySchema": [
                {"AttributeName": "gsi2pk", "KeyType": "HASH"},
                {"AttributeName": "gsi2sk", "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "ALL"},
        },
        {
            # Sparse: only items and upload links that belong to a signed-in person.
            "IndexName": OWNER_INDEX,
            "KeySchema": [
                {"AttributeName": "gsi3pk", "KeyType": "HASH"},
                {"AttributeName": "gsi3sk", "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "ALL"},
        },
    ],
    "BillingMode": "PAY_PER_REQUEST",
}
