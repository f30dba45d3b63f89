"""Lambda event handlers (wired in zappa_settings.json).

``object_created``: the S3 safety net. Every upload is recorded by the same
idempotent step as the browser's completion callback, so an upload whose
callback never came is still recorded, and one recorded twice stays one record.
``cleanup``: removes expired items and abandoned uploads; bounded work per run.
"""

from __future__ import annotations

import logging
from urllib.parse import unquote_plus

from webapp import embedding, rules, tokens, uploading
from webapp.logs import timed_event
from webapp.rules import Refusal
from webapp.services import Services

log = logging.getLogger(__name__)

CLEANUP_BATCH = 200


def current_services() -> Services:
    """The services of the app this Lambda process already built for HTTP requests."""
    from wsgi import app

    return app.extensions["mediahub"]


def object_created(event: dict, context=None, services: Services | None = None) -> dict:
    svc = services or current_services()
    outcome = {"recorded": 0, "already": 0, "rejected": 0, "removed": 0, "ignored": 0}
    records = event.get("Records", [])
    with timed_event("object_created", records=len(records)) as fields:
        for record in records:
            key = unquote_plus(record.get("s3", {}).get("object", {}).get("key", ""))
            outcome[_record_one(svc, key)] += 1
        fields.update(outcome)
    return outcome


def _record_one(svc: Services, key: str) -> str:
    media_id = rules.media_id_from_key(key)
    if media_id is None:
        return "ignored"
    media = svc.catalog.get_media(media_id) if tokens.looks_like_id(media_id) else None
    if media is None or media["s3_key"] != key:
        # No policy was signed for this key: nobody started this upload. Remove it.
        svc.storage.delete(key)
        log.warning("removed an object no upload was started for")
        return "removed"
    try:
        completion = uploading.complete_upload(svc, media_id, uploader_id=None)
    except Refusal as refusal:
        if refusal.code == "upload_rejected":
            return "rejected"  # complete_upload deleted the object and logged why
        if refusal.code in ("upload_missing", "upload_not_found"):
            return "ignored"  # removed again before the event arrived
        raise
    return "recorded" if completion.created else "already"


def cleanup(event: dict | None = None, context=None, services: Services | None = None) -> dict:
    svc = services or current_services()
    now = int(svc.clock())
    budget = CLEANUP_BATCH
    removed = {"expired": 0, "abandoned": 0}
    with timed_event("cleanup") as fields:
        months = embedding.recent_months(now, svc.settings.max_retention_days // 28 + 3)
        for media in svc.catalog.expired_items(months=months, now=now, limit=budget):
            _remove(svc, media)
            removed["expired"] += 1
        budget -= removed["expired"]
        if budget > 0:
            days = uploading.recent_days(now, 30)
            for media in svc.catalog.abandoned_uploads(days=days, older_than=now - uploading.PENDING_SECONDS, limit=budget):
                _remove(svc, media)
                removed["abandoned"] += 1
        fields.update(removed, more=sum(removed.values()) >= CLEANUP_BATCH)
    return removed


def _remove(svc: Services, media: dict) -> None:
    svc.storage.delete(media["s3_key"])  # deleting a missing key is not an error in S3
    svc.catalog.delete_media(media["id"])
