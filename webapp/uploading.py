"""Upload flow: sign a POST policy, then check what arrived and record it.

``complete_upload`` is the one record step shared by the browser's completion
callback and the S3 ObjectCreated event: idempotent, so replays and the event
arriving after the callback (or before it) leave exactly one record.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging

from webapp import rules, sniff, tokens
from webapp.rules import Refusal
from webapp.services import Services

log = logging.getLogger(__name__)

PENDING_SECONDS = 86400


def recent_days(now: float, count: int) -> list[str]:
    return [iso(now - day * 86400)[:10] for day in range(count)]


def iso(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclasses.dataclass(frozen=True)
class Completion:
    media: dict
    created: bool
    manage_token: str | None = None
    share: dict | None = None  # the default share, when this call created it


def start_upload(svc: Services, data: object, uploader_id: str) -> dict:
    """Validate the request, record a pending upload, sign a POST policy for its exact key."""
    settings = svc.settings
    request = rules.check_upload_request(
        data,
        allowed_types=settings.allowed_types,
        max_bytes=settings.max_upload_bytes,
        retention_days=settings.retention_days,
        max_retention_days=settings.max_retention_days,
    )
    now = svc.clock()
    media_id = tokens.new_id()
    key = rules.object_key(media_id, request.filename)
    svc.catalog.put_pending(
        {
            "id": media_id,
            "status": "pending",
            "s3_key": key,
            "filename": request.filename,
            "name": request.name,
            "caption": request.caption,
            "content_type": request.content_type,
            "size": request.size,
            "uploader_hash": tokens.secret_hash(uploader_id),
            "created_at": iso(now),
            "created_epoch": round(now, 6),
            "expires_at": int(now) + PENDING_SECONDS,
            # Pending uploads sit in a per-day partition of the listing index until they are
            # ready (then listed by month), so cleanup finds abandoned ones without a Scan.
            "gsi1pk": "PENDING#" + iso(now)[:10],
            "gsi1sk": f"{now:017.6f}#{media_id}",
            "download_count": 0,
            "visibility": request.visibility,
            "retention_days": request.retention_days,
            "max_downloads": request.max_downloads,
        }
    )
    policy = svc.storage.post_policy(
        key,
        content_type=request.content_type,
        content_disposition=stored_disposition(request.filename, request.content_type),
        max_bytes=settings.max_upload_bytes,
        expires_in=settings.upload_policy_seconds,
    )
    return {
        "upload_id": media_id,
        "url": policy["url"],
        "fields": policy["fields"],
        "expires_at": iso(now + settings.upload_policy_seconds),
    }


def complete_upload(svc: Services, media_id: str, uploader_id: str | None) -> Completion:
    """Check the object against the declared upload and mark the record ready.

    ``uploader_id`` is the caller's upload session; None means the trusted S3
    event path. Refusals: 404 unknown id, 403 someone else's upload, 409 nothing
    uploaded yet, 422 the object broke a rule (it is deleted).
    """
    media = svc.catalog.get_media(media_id) if tokens.looks_like_id(media_id) else None
    if media is None:
        raise Refusal("upload_not_found", "There is no upload with this id.", 404)
    if uploader_id is not None and not tokens.secret_matches(uploader_id, media.get("uploader_hash")):
        raise Refusal("not_your_upload", "This upload was started by someone else.", 403)
    if media["status"] == "ready":
        return Completion(media, created=False)
    if media["status"] == "rejected":
        raise Refusal("upload_rejected", media.get("rejection", "The upload was rejected."), 422)

    stored = svc.storage.peek(media["s3_key"], sniff.HEAD_BYTES)
    if stored is None:
        raise Refusal("upload_missing", "Nothing has arrived for this upload yet. Send the file, then try again.", 409)

    problem = _problem_with(svc, media, stored)
    if problem:
        svc.storage.delete(media["s3_key"])
        svc.catalog.mark_rejected(media_id, problem)
        log.warning("upload rejected", extra={"media_id": media_id, "reason": problem})
        raise Refusal("upload_rejected", problem, 422)

    now = svc.clock()
    manage_token = tokens.new_secret()
    share_id = tokens.new_id()
    expires_at = int(now) + media.get("retention_days", svc.settings.retention_days) * 86400
    month = media["created_at"][:7]
    # Newest first needs finer than seconds: order by the start time in microseconds.
    listing = {"gsi1pk": "LIST#" + month, "gsi1sk": f"{media['created_epoch']:017.6f}#{media_id}"}
    if media.get("visibility") == "public":
        listing.update(gsi2pk="PUBLIC#" + month, gsi2sk=listing["gsi1sk"])
    updates = {
        "status": "ready",
        "size": stored.size,
        "etag": stored.etag,
        "completed_at": iso(now),
        "expires_at": expires_at,
        "manage_hash": tokens.secret_hash(manage_token),
        "default_share_id": share_id,
        "search_text": f"{media['name']} {media['filename']}".lower(),
        **listing,
    }
    share = {
        "share_id": share_id,
        "recipient": "anyone",
        "created_at": iso(now),
        "expires_at": min(expires_at, int(now) + svc.settings.share_ttl_seconds),
        "downloads": 0,
        "revoked": False,
    }
    if svc.catalog.mark_ready(media_id, updates, share):
        # What was written is known: no need to read it back.
        return Completion({**media, **updates}, created=True, manage_token=manage_token, share=share)
    media = svc.catalog.get_media(media_id)  # another request got there first
    if media is None or media["status"] != "ready":
        raise Refusal("upload_rejected", "The upload was removed while it was being checked.", 422)
    return Completion(media, created=False)


def stored_disposition(filename: str, content_type: str) -> str:
    """Stored with the object: an attachment, so a direct visit downloads and never renders."""
    return rules.content_disposition(filename, content_type, inline=False)


def _problem_with(svc: Services, media: dict, stored) -> str | None:
    limit = svc.settings.max_upload_bytes
    if stored.size > limit:
        return f"The file is {rules.human_size(stored.size)}, over the limit of {rules.human_size(limit)}."
    if stored.size != media["size"]:
        return (
            f"The file that arrived is {rules.human_size(stored.size)}, "
            f"not the {rules.human_size(media['size'])} that was declared."
        )
    if rules.normalize_content_type(stored.content_type) != media["content_type"]:
        return f"The file was stored as {stored.content_type or 'no type'}, not {media['content_type']}."
    if stored.content_disposition != stored_disposition(media["filename"], media["content_type"]):
        return "The file was stored without the download headers its upload form pinned."
    if not sniff.matches(media["content_type"], stored.head):
        found = sniff.detect(stored.head) or "something else"
        return f"The file's content is {found}, not {media['content_type']}."
    return None
