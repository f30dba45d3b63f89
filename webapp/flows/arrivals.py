"""What happens to an upload once it is recorded: processing, its scan state and the verdict.

One flow for both entry points: on AWS the S3 ObjectCreated and scan-verdict events
(``webapp.events``, the Lambda entry module) call it; in local mode, which has no S3 events,
the completion route calls ``upload_completed`` with the same steps, in-process. Routes import
this module, never ``webapp.events`` (which imports ``wsgi`` to find the running app).
"""

from __future__ import annotations

from webapp.flows import processing, scanning, uploading
from webapp.services import Services


def settle(svc: Services, media_id: str) -> str:
    """Process a recorded upload (once) and set its scan state; answers how processing went."""
    result = processing.process(svc, media_id)
    scanning.note_upload(svc, media_id)
    return result


def apply_verdicts(svc: Services, event: dict) -> dict[str, int]:
    """The scanner's verdicts on this bucket's objects, applied; counted by outcome."""
    outcome: dict[str, int] = {}
    for bucket, key, status in scanning.verdicts_in(event):
        result = scanning.apply_verdict(svc, key, status) if bucket == svc.storage.bucket else None
        outcome[result or "ignored"] = outcome.get(result or "ignored", 0) + 1
    return outcome


def upload_completed(svc: Services, completion: uploading.Completion) -> dict:
    """Local mode's stand-in for the S3 event's processing step, called by the completion route;
    answers the record as it stands after it (its sizes, thumbnails and scan state).

    On AWS the ObjectCreated event processes the upload (it arrives whether or not the browser
    calls back), so the request that completes an upload stays fast and says ``pending``.
    """
    if not svc.settings.local_mode or completion.media.get("status") != "ready":
        return completion.media
    media_id = completion.media["id"]
    processing.process(svc, media_id)
    if scanning.note_upload(svc, media_id) == scanning.PENDING:
        from webapp.local import scanner  # local mode only: not in the Lambda package

        apply_verdicts(svc, scanner.scan(svc.storage.client, svc.storage.bucket, completion.media["s3_key"]))
    return svc.catalog.get_media(media_id) or completion.media
