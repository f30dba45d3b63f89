"""Lambda event handlers (wired in zappa_settings.json).

``object_created``: the S3 safety net. Every upload is recorded by the same
idempotent step as the browser's completion callback, so an upload whose
callback never came is still recorded, and one recorded twice stays one record.
Then it is processed (``webapp.flows.processing``: sizes, thumbnails, a clean copy), once, and
its scan state is set (``webapp.flows.scanning``).
Local mode has no S3 events: its completion callback runs the same steps in-process
(``webapp.flows.arrivals``, the flow both share), and the scan stand-in when scanning is on.
``scan_result``: the malware scanner's verdict on an object (GuardDuty's EventBridge event,
delivered through SNS on AWS; directly from the stand-in in local mode).
``rendition_finished``: a video rendition job ended (MediaConvert's EventBridge event, delivered
through SNS on AWS as scan verdicts are; from the ffmpeg stand-in in local mode): record its keys.
``cleanup``: removes expired items, and objects that never became a record;
bounded work per run, continuing where the last run stopped.
"""

from __future__ import annotations

import logging
from urllib.parse import unquote_plus

from webapp import rules
from webapp.flows import arrivals, processing, renditions, scanning, uploading
from webapp.dates import recent_months
from webapp.logs import timed_event
from webapp.rules import Refusal
from webapp.services import Services

log = logging.getLogger(__name__)

CLEANUP_BATCH = 200
ABANDONED_AFTER_SECONDS = 86400


def current_services() -> Services:
    """The services of the app this Lambda process already built for HTTP requests, its
    secrets read (on the first event, if no request came first)."""
    from webapp import ready_services
    from wsgi import app

    return ready_services(app)


def object_created(event: dict, context=None, services: Services | None = None) -> dict:
    svc = services or current_services()
    outcome = {"recorded": 0, "already": 0, "rejected": 0, "removed": 0, "ignored": 0}
    records = event.get("Records", [])
    with timed_event("object_created", records=len(records)) as fields:
        processed: dict[str, int] = {}
        for record in records:
            key = unquote_plus(record.get("s3", {}).get("object", {}).get("key", ""))
            recorded, media_id = _record_one(svc, key)
            outcome[recorded] += 1
            if media_id is not None:
                result = arrivals.settle(svc, media_id)
                processed[result] = processed.get(result, 0) + 1
        fields.update(outcome)
        fields.update({f"processing_{result}": number for result, number in processed.items()})
    return outcome


def scan_result(event: dict, context=None, services: Services | None = None) -> dict:
    """GuardDuty Malware Protection's "Object Scan Result" for objects of this bucket.

    On AWS an EventBridge rule (``infra/stack.py``, with ``malwareScan=guardduty``) sends these
    events to an SNS topic this function subscribes to (a Zappa ``events`` entry on the topic's
    ARN), because Zappa's handler routes SNS records to a function and has no route for a bare
    EventBridge event. Both shapes are read here.
    """
    svc = services or current_services()
    with timed_event("scan_result", verdicts=len(scanning.verdicts_in(event))) as fields:
        outcome = arrivals.apply_verdicts(svc, event)
        fields.update(outcome)
    return outcome


def rendition_finished(event: dict, context=None, services: Services | None = None) -> dict:
    """MediaConvert's "Job State Change" for a rendition job (``webapp.flows.renditions``): an
    EventBridge rule (``infra/mediaconvert.py``) sends COMPLETE and ERROR to an SNS topic this
    function subscribes to. Both shapes are read."""
    svc = services or current_services()
    with timed_event("rendition_finished") as fields:
        outcome = renditions.finished(svc, event)
        fields.update(outcome)
    return outcome


def _record_one(svc: Services, key: str) -> tuple[str, str | None]:
    """How the record step went, and the id of the item to process (None: nothing to process)."""
    if not key.startswith("uploads/"):
        return "ignored", None
    try:
        completion = uploading.record_upload(svc, key, uploader_id=None)
    except Refusal as refusal:
        if refusal.code == "upload_rejected":
            return "rejected", None  # record_upload deleted the object and logged why
        if refusal.code == "upload_not_found":
            # No signed claim: no policy of ours was used for this key. Remove it.
            svc.storage.delete(key)
            log.warning("removed an object that was not uploaded through Mediahub")
            return "removed", None
        if refusal.code == "upload_missing":
            return "ignored", None  # removed again before the event arrived
        raise
    return ("recorded" if completion.created else "already"), completion.media["id"]


def cleanup(event: dict | None = None, context=None, services: Services | None = None) -> dict:
    svc = services or current_services()
    now = int(svc.clock())
    removed = {"expired": 0, "abandoned": 0}
    with timed_event("cleanup") as fields:
        months = recent_months(now, svc.settings.max_retention_days // 28 + 3)
        for media in svc.catalog.expired_items(months=months, now=now, limit=CLEANUP_BATCH):
            svc.storage.delete(media["s3_key"])  # deleting a missing key is not an error in S3
            processing.delete_renditions(svc, media)
            svc.catalog.delete_media(media["id"])
            removed["expired"] += 1
        budget = CLEANUP_BATCH - removed["expired"]
        if budget > 0:
            removed["abandoned"] = _remove_abandoned(svc, now, budget)
        fields.update(removed)
    return removed


def _remove_abandoned(svc: Services, now: int, budget: int) -> int:
    """Objects older than a day with no record: uploaded, then neither completed nor
    recorded by the event (say the event was not wired). Walks the bucket a page a run."""
    start = svc.catalog.get_cursor("abandoned")
    listed, next_start = svc.storage.uploads_after(start, budget)
    old = [(key, rules.media_id_from_key(key)) for key, modified in listed if modified < now - ABANDONED_AFTER_SECONDS]
    known = svc.catalog.existing_ids([media_id for _, media_id in old if media_id])
    removed = 0
    for key, media_id in old:
        if media_id not in known:
            svc.storage.delete(key)
            removed += 1
    svc.catalog.set_cursor("abandoned", next_start)
    return removed
