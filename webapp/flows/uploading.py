"""Upload flow: sign a POST policy or a multipart upload, then check what arrived and record it.

Nothing is written before the file arrives. What the uploader declared (size,
type, name, caption, options, who they are) is signed and pinned into the POST
policy, or set on the multipart upload, as the object's ``x-amz-meta-mediahub``,
so it travels with the bytes. ``record_upload`` is the one record step shared by
the browser's completion callback and the S3 ObjectCreated event: it trusts only
that signature and what it reads from the object, and writes once, so replays and
the event arriving before or after the callback leave exactly one record.

Files above the multipart threshold go as parts: the upload's signed id carries the
S3 upload id, the uploader's session hash and the part plan, so signing, listing,
completing and aborting are bound to the session that started it, and every part URL
pins its exact length and the browser's checksum.
"""

from __future__ import annotations

import dataclasses
import logging

from webapp import config, limits, parts, rules, sniff, tokens
from webapp.flows import delivery, transfers, upload_links
from webapp.config import S3_SINGLE_POST_LIMIT
from webapp.dates import iso
from webapp.logs import count
from webapp.rules import Refusal
from webapp.services import Services
from webapp.tokens import MultipartTicket, UploadClaim

log = logging.getLogger(__name__)

CLAIM_FIELD = "x-amz-meta-mediahub"
# S3 allows 2 KB of user metadata in all; keep the claim well inside it.
MAX_CLAIM_BYTES = 1900
REJECTION_KEPT_SECONDS = 86400


@dataclasses.dataclass(frozen=True)
class Completion:
    media: dict
    created: bool
    manage_token: str | None = None
    share: dict | None = None  # the default share, when this call created it


def start_upload(svc: Services, data: object, uploader_id: str, identity: str | None = None, *,
                 owner: str = "", link: dict | None = None) -> dict:
    """Validate the request; charge it to ``identity``'s allowance; below the threshold sign a
    POST policy, above it start a multipart upload and answer its part plan.

    The charge is taken when the permission is signed, because the signature is what lets
    bytes into the bucket (the policy and the part plan pin the declared size). ``identity``
    is who is counted (the signed-in person, the upload link, or the client's address:
    ``webapp.pages.who_uploads``); None charges nobody. ``owner`` is whom the item will belong to (a
    signed-in person, or the creator of the upload ``link`` it comes through, which is charged
    a file and its bytes too).
    """
    settings = svc.settings
    request = rules.check_upload_request(
        data,
        allowed_types=settings.allowed_types,
        max_bytes=settings.max_upload_bytes,
        retention_days=settings.retention_days,
        max_retention_days=settings.max_retention_days,
    )
    if link is not None:
        # The file is the link's creator's: its holder neither publishes it, nor limits its
        # downloads, nor chooses how long the creator keeps it.
        request = dataclasses.replace(request, visibility="private", max_downloads=None,
                                      retention_days=settings.retention_days)
    transfer = transfers.for_upload(svc, data.get("transfer_id"), uploader_id) if data.get("transfer_id") else None
    multipart = parts.uses_multipart(request.size, settings.multipart_threshold)
    algorithm = parts.check_checksum_algorithm(data.get("checksum_algorithm")) if multipart else ""
    now = svc.clock()
    claim = UploadClaim(
        media_id=tokens.new_id(),
        filename=request.filename,
        content_type=request.content_type,
        size=request.size,
        name=request.name,
        caption=request.caption,
        uploader_hash=tokens.secret_hash(uploader_id),
        created_epoch=round(now, 6),
        retention_days=request.retention_days,
        max_downloads=request.max_downloads,
        visibility=request.visibility,
        owner=owner,
        upload_link=link["id"] if link else "",
        transfer_id=transfer["id"] if transfer else "",
    )
    if link is not None:
        upload_links.check_type(link, request.content_type)
    signed_claim = svc.upload_tickets.claim(claim)
    if len(signed_claim) > MAX_CLAIM_BYTES:
        raise Refusal("invalid_request", "The name and caption are too long to store with the file; shorten the caption.")
    disposition = stored_disposition(request.filename, request.content_type)
    metadata = {CLAIM_FIELD: signed_claim}
    charged = _charge(svc, identity, claim.media_id, request.size, now)
    try:
        if link is not None:
            upload_links.charge(svc, link, claim.media_id, request.size)
        answer = _sign(svc, claim, request, metadata, disposition, multipart, algorithm, now)
    except Exception:
        if charged:  # nothing was signed: nothing was taken
            svc.catalog.refund_upload(claim.media_id, int(now))
        if link is not None:
            upload_links.give_back(svc, claim.media_id)
        raise
    count("UploadsStarted")
    count("UploadBytesDeclared", request.size, unit="Bytes")
    return answer


def _limits_on(settings) -> bool:
    return bool(settings.uploads_per_hour or settings.upload_bytes_per_day)


def _charge(svc: Services, identity: str | None, media_id: str, size: int, now: float) -> bool:
    """Take the upload from the identity's allowance; refuse (429) when it would go past it."""
    settings = svc.settings
    if identity is None or not _limits_on(settings):
        return False
    charge = limits.upload_charge(limits.identity_key(settings.secret_key, identity), size, now)
    counter = svc.catalog.charge_upload(charge, media_id=media_id, per_hour=settings.uploads_per_hour,
                                        bytes_per_day=settings.upload_bytes_per_day)
    if counter is not None:
        raise limits.refusal_for(counter, charge, per_hour=settings.uploads_per_hour,
                                 bytes_per_day=settings.upload_bytes_per_day, now=now)
    return True


def give_back(svc: Services, media_id: str) -> None:
    """An aborted or rejected upload returns its charge (once, however often this is called)."""
    if _limits_on(svc.settings) and svc.catalog.refund_upload(media_id, int(svc.clock())):
        count("UploadsRefunded")
    if config.INVITED in svc.settings.uploader_modes:
        upload_links.give_back(svc, media_id)


def _sign(svc: Services, claim: UploadClaim, request, metadata: dict, disposition: str, multipart: bool,
          algorithm: str, now: float) -> dict:
    settings = svc.settings
    if multipart:
        plan = parts.plan_parts(request.size, settings.multipart_part_bytes)
        s3_upload_id = svc.storage.start_multipart(
            claim.key, content_type=request.content_type, content_disposition=disposition,
            checksum_algorithm=algorithm, metadata=metadata,
        )
        ticket = MultipartTicket(
            media_id=claim.media_id, filename=claim.filename, s3_upload_id=s3_upload_id,
            uploader_hash=claim.uploader_hash, size=plan.size, part_size=plan.part_size,
            checksum_algorithm=algorithm,
        )
        return {
            "upload_id": svc.upload_tickets.multipart_id(ticket),
            "method": "multipart",
            "key": claim.key,
            "part_size": plan.part_size,
            "part_count": plan.count,
            "checksum_algorithm": algorithm,
        }
    policy = svc.storage.post_policy(
        claim.key,
        content_type=request.content_type,
        content_disposition=disposition,
        # The declared size is the most S3 takes: what was charged is what may arrive.
        max_bytes=min(request.size, S3_SINGLE_POST_LIMIT),
        expires_in=settings.upload_policy_seconds,
        metadata=metadata,
    )
    return {
        "upload_id": svc.upload_tickets.upload_id(claim.media_id, claim.filename),
        "method": "post",
        "url": policy["url"],
        "fields": policy["fields"],
        "expires_at": iso(now + settings.upload_policy_seconds),
    }


def page_config(settings) -> dict:
    """What the upload page's script needs to refuse files and cut them as the server will."""
    return {
        "maxBytes": settings.max_upload_bytes,
        "threshold": settings.multipart_threshold,
        "partBytes": settings.multipart_part_bytes,
        "minPartBytes": parts.S3_MIN_PART_BYTES,
        "maxParts": parts.S3_MAX_PARTS,
        "partsInFlight": parts.PARTS_IN_FLIGHT,
        "restoreBytes": parts.RESTORE_BLOB_BYTES,
        "types": {content_type: sorted(rules.EXTENSIONS.get(content_type, ())) for content_type in settings.allowed_types},
        "allowedText": rules.type_words(settings.allowed_types),
        "maxFiles": None,
        "totalBytes": None,
        "viaLink": False,
        "aliases": rules.TYPE_ALIASES,
        "unknownTypes": list(rules.UNKNOWN_TYPES),
    }


def _own_multipart(svc: Services, upload_id: str, uploader_id: str) -> MultipartTicket:
    """The multipart upload behind a signed id, if this session started it."""
    ticket = svc.upload_tickets.read_multipart_id(upload_id)
    if ticket is None:
        raise Refusal("upload_not_found", "There is no multipart upload with this id.", 404)
    return _owned(ticket, uploader_id)


def _owned(ticket: MultipartTicket, uploader_id: str) -> MultipartTicket:
    if not tokens.secret_matches(uploader_id, ticket.uploader_hash):
        raise Refusal("not_your_upload", "This upload was started by someone else.", 403)
    return ticket


def sign_parts(svc: Services, upload_id: str, data: object, uploader_id: str) -> dict:
    """Part URLs for a batch, signed just in time: each pins its length and the browser's checksum."""
    ticket = _own_multipart(svc, upload_id, uploader_id)
    plan = parts.PartPlan(size=ticket.size, part_size=ticket.part_size)
    batch = parts.check_part_batch(data, plan, ticket.checksum_algorithm)
    header = f"x-amz-checksum-{ticket.checksum_algorithm.lower()}"
    urls = svc.storage.part_urls(
        ticket.key, ticket.s3_upload_id, [(part.number, part.length, part.checksum) for part in batch],
        checksum_algorithm=ticket.checksum_algorithm, expires_in=parts.PART_URL_SECONDS,
    )
    signed = [
        # The browser sets Content-Length itself; it must send the checksum header as signed.
        {"number": part.number, "url": url, "size": part.length, "headers": {header: part.checksum}}
        for part, url in zip(batch, urls)
    ]
    return {"parts": signed, "expires_at": iso(svc.clock() + parts.PART_URL_SECONDS)}


def list_parts(svc: Services, upload_id: str, uploader_id: str) -> dict:
    """The parts S3 already holds, to resume after a reload or a dropped connection."""
    ticket = _own_multipart(svc, upload_id, uploader_id)
    held = svc.storage.parts(ticket.key, ticket.s3_upload_id)
    if held is None:
        raise Refusal("upload_not_found", "This upload was completed or cancelled.", 404)
    return {
        "parts": [
            {"number": part["PartNumber"], "size": part["Size"], "etag": part["ETag"]}
            for part in sorted(held, key=lambda part: part["PartNumber"])
        ],
        "part_size": ticket.part_size,
        "part_count": parts.PartPlan(ticket.size, ticket.part_size).count,
    }


def abort_upload(svc: Services, upload_id: str, uploader_id: str) -> None:
    """Cancel a multipart upload: S3 drops every part. A completed upload is left alone."""
    ticket = _own_multipart(svc, upload_id, uploader_id)
    if svc.storage.abort_multipart(ticket.key, ticket.s3_upload_id):
        # Only an upload that was still open gives its charge back, never a completed one.
        give_back(svc, ticket.media_id)
    count("UploadsAborted")


def _finish_multipart(svc: Services, ticket: MultipartTicket) -> None:
    """Join the parts once they make exactly the declared file; refuse (and abort) if they cannot.

    The parts are taken from S3's own listing, never from the browser. When the upload is
    already gone (completed by an earlier call, or aborted) there is nothing to do here:
    ``record_upload`` finds the object, the record, or nothing.
    """
    held = svc.storage.parts(ticket.key, ticket.s3_upload_id)
    if held is None:
        return
    plan = parts.PartPlan(size=ticket.size, part_size=ticket.part_size)
    problem = parts.arrived_problem(plan, {part["PartNumber"]: part["Size"] for part in held})
    if problem is not None:
        kind, message = problem
        if kind == "missing":
            raise Refusal("upload_missing", message, 409)
        svc.storage.abort_multipart(ticket.key, ticket.s3_upload_id)
        _reject(svc, ticket.media_id, ticket.key, message)
    svc.storage.finish_multipart(ticket.key, ticket.s3_upload_id, held, ticket.checksum_algorithm)


def _reject(svc: Services, media_id: str, key: str, problem: str):
    svc.storage.delete(key)
    svc.catalog.put_rejected(media_id, problem, int(svc.clock()) + REJECTION_KEPT_SECONDS)
    give_back(svc, media_id)
    log.warning("upload rejected: %s", problem)
    count("UploadsRejected")
    raise Refusal("upload_rejected", problem, 422)


def complete_upload(svc: Services, upload_id: str, uploader_id: str) -> Completion:
    """The browser's callback: only the session that started an upload may complete it.

    A multipart upload's parts are joined first; then both paths are checked alike.
    """
    reference = svc.upload_tickets.read_upload_id(upload_id)
    if reference is None:
        ticket = svc.upload_tickets.read_multipart_id(upload_id)
        if ticket is None:
            raise Refusal("upload_not_found", "There is no upload with this id.", 404)
        _finish_multipart(svc, _owned(ticket, uploader_id))
        reference = ticket.media_id, ticket.filename
    media_id, filename = reference
    return record_upload(svc, rules.object_key(media_id, filename), uploader_id=uploader_id)


def record_upload(svc: Services, key: str, uploader_id: str | None) -> Completion:
    """Check the object at ``key`` against its signed claim and record it, once.

    ``uploader_id`` is the caller's upload session; None means the trusted S3 event path.
    Refusals: 403 someone else's upload, 409 nothing uploaded yet, 422 the object broke
    a rule (it is deleted), 404 not a Mediahub upload (the event path deletes it).
    """
    media_id = rules.media_id_from_key(key)
    if media_id is None or not tokens.looks_like_id(media_id):
        raise Refusal("upload_not_found", "There is no upload with this id.", 404)
    stored = svc.storage.peek(key, sniff.HEAD_BYTES)
    if stored is None:
        existing = _already_recorded(svc, media_id)
        if existing is None:
            raise Refusal("upload_missing", "Nothing has arrived for this upload yet. Send the file, then try again.", 409)
        return existing
    claim = svc.upload_tickets.read_claim(stored.metadata.get("mediahub"))
    if claim is None or claim.key != key:
        raise Refusal("upload_not_found", "This file was not uploaded through Mediahub.", 404)
    if uploader_id is not None and not tokens.secret_matches(uploader_id, claim.uploader_hash):
        raise Refusal("not_your_upload", "This upload was started by someone else.", 403)

    problem = _problem_with(svc, claim, stored)
    if problem:
        _reject(svc, media_id, key, problem)

    media, share, manage_token = _ready_record(svc, claim, stored)
    if svc.catalog.create_ready(media, share):
        count("UploadsCompleted")
        count("UploadBytes", stored.size, unit="Bytes")
        if claim.upload_link:
            if not claim.transfer_id:  # a transfer's files are announced once, when it is finished
                upload_links.announce(svc, media)
            manage_token = None  # the creator manages it (My uploads), not whoever held the link
        return Completion(media, created=True, manage_token=manage_token, share=share)
    existing = _already_recorded(svc, media_id)  # another request got there first
    if existing is None:
        raise Refusal("upload_rejected", "The upload was removed while it was being checked.", 422)
    return existing


def _already_recorded(svc: Services, media_id: str) -> Completion | None:
    media = svc.catalog.get_media(media_id)
    if media is None:
        return None
    if media["status"] == "rejected":
        raise Refusal("upload_rejected", media.get("rejection", "The upload was rejected."), 422)
    return Completion(media, created=False)


def _ready_record(svc: Services, claim: UploadClaim, stored) -> tuple[dict, dict | None, str]:
    now = svc.clock()
    created_at = iso(claim.created_epoch)
    expires_at = int(now) + claim.retention_days * 86400
    manage_token = tokens.new_secret()
    share_id = tokens.new_id()
    month = created_at[:7]
    # Newest first needs finer than seconds: order by the start time in microseconds.
    sort_key = f"{claim.created_epoch:017.6f}#{claim.media_id}"
    media = {
        "id": claim.media_id,
        "status": "ready",
        "s3_key": claim.key,
        "filename": claim.filename,
        "name": claim.name,
        "caption": claim.caption,
        "content_type": claim.content_type,
        "size": stored.size,
        "etag": stored.etag,
        "uploader_hash": claim.uploader_hash,
        "created_at": created_at,
        "created_epoch": claim.created_epoch,
        "completed_at": iso(now),
        "expires_at": expires_at,
        "download_count": 0,
        "max_downloads": claim.max_downloads,
        "visibility": claim.visibility,
        "retention_days": claim.retention_days,
        "manage_hash": tokens.secret_hash(manage_token),
        "default_share_id": share_id,
        "search_text": f"{claim.name} {claim.filename}".lower(),
        "gsi1pk": "LIST#" + month,
        "gsi1sk": sort_key,
    }
    if claim.visibility == "public":
        media.update(gsi2pk="PUBLIC#" + month, gsi2sk=sort_key)
    if claim.owner:
        media.update(owner=claim.owner, gsi3pk="OWNER#" + claim.owner, gsi3sk=sort_key)
    if claim.transfer_id:
        media["transfer_id"] = claim.transfer_id
    if claim.upload_link:
        # Private to the link's creator: no link for anyone is made, so nothing the sender is
        # answered can be handed on; the creator shares it from their own page.
        media["upload_link"] = claim.upload_link
        del media["default_share_id"]
        return {k: v for k, v in media.items() if v is not None}, None, manage_token
    ttl = svc.settings.share_ttl_seconds
    share = {
        "share_id": share_id,
        "recipient": "anyone",
        "created_at": iso(now),
        # As long as the file is kept, unless the site sets a shorter longest link.
        "expires_at": min(expires_at, int(now) + ttl) if ttl else expires_at,
        "downloads": 0,
        "revoked": False,
    }
    return {k: v for k, v in media.items() if v is not None}, delivery.with_short_link(svc, share), manage_token


def stored_disposition(filename: str, content_type: str) -> str:
    """Stored with the object: an attachment, so a direct visit downloads and never renders."""
    return rules.content_disposition(filename, content_type, inline=False)


def _problem_with(svc: Services, claim: UploadClaim, stored) -> str | None:
    limit = svc.settings.max_upload_bytes
    if stored.size > limit:
        return f"The file is {rules.human_size(stored.size)}, over the limit of {rules.human_size(limit)}."
    if stored.size != claim.size:
        return (
            f"The file that arrived is {rules.human_size(stored.size)}, "
            f"not the {rules.human_size(claim.size)} that was declared."
        )
    if claim.content_type not in svc.settings.allowed_types:
        return f"Files of type {claim.content_type} are no longer accepted."
    if rules.normalize_content_type(stored.content_type) != claim.content_type:
        return f"The file was stored as {stored.content_type or 'no type'}, not {claim.content_type}."
    if stored.content_disposition != stored_disposition(claim.filename, claim.content_type):
        return "The file was stored without the download headers its upload form pinned."
    if not sniff.matches(claim.content_type, stored.head):
        found = sniff.detect(stored.head) or "something else"
        return f"The file's content is {found}, not {claim.content_type}."
    return None
