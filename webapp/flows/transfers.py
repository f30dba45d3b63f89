"""Transfers: the files chosen together, sent as one.

The upload page opens a transfer before its first file goes (``start``), every file's signed
claim names it, and recording a file adds it to the transfer in the same write. When the last
file is in, ``finish`` closes it and mails the uploader's own address both links, once.

A transfer has one short share link, ``/s/<id>``: a random id of 128 bits (22 characters)
that the catalog keeps only as a SHA-256 hash, so a leaked table opens nothing. The link lasts
as long as the files are kept unless the uploader chose a shorter time. One manage link (also
kept only as a hash) manages the transfer and each of its files.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Callable

from webapp import access, rules, tokens
from webapp.flows import delivery, scanning, shares
from webapp.aws.catalog import SHORT_TRANSFER
from webapp.aws.mailer import SendFailed
from webapp.dates import iso
from webapp.logs import count
from webapp.rules import Refusal
from webapp.services import Services

log = logging.getLogger(__name__)

MAX_FILES = 500
MIN_LINK_SECONDS = 3600
SHORT_ID_CHARS = tokens.SHORT_ID_CHARS


@dataclasses.dataclass(frozen=True)
class Started:
    transfer: dict
    manage_token: str
    short_id: str
    capped: str = ""  # why the chosen link lifetime was shortened, when it was


def longest_link_seconds(settings, retention_days: int) -> int:
    """The longest a link may be chosen to last: the files' retention, or less where
    MEDIAHUB_SHARE_TTL_SECONDS says so."""
    longest = retention_days * 86400
    return min(longest, settings.share_ttl_seconds) if settings.share_ttl_seconds else longest


def check_start(settings, data: object) -> tuple[str, int | None, int, str]:
    """(uploader's address or "", link seconds or None for "as long as the files", retention
    days, why the lifetime was capped or "") from the page's request. Pure."""
    if not isinstance(data, dict):
        raise Refusal("invalid_request", "Send a JSON object.")
    email = data.get("email") or ""
    if not isinstance(email, str):
        raise Refusal("invalid_request", "The e-mail address must be text.")
    email = email.strip()
    if email:
        try:
            email = rules.parse_email(email)
        except ValueError as error:
            raise Refusal("invalid_request", f"This e-mail address {error}.") from None
        if not rules.recipient_allowed(email, settings.recipients):
            raise Refusal("recipient_not_allowed", "This site mails links only to addresses on its list of allowed "
                          "recipients; leave the address empty or use one on the list.")
    retention = data.get("retention_days") or settings.retention_days
    if isinstance(retention, str) and retention.isdigit():
        retention = int(retention)
    if not isinstance(retention, int) or isinstance(retention, bool) or not 1 <= retention <= settings.max_retention_days:
        raise Refusal("invalid_request", f"Files can be kept from 1 to {settings.max_retention_days} days.")
    seconds = data.get("link_seconds")
    if isinstance(seconds, str):
        seconds = int(seconds) if seconds.isdigit() else (None if not seconds else seconds)
    capped = ""
    if seconds is not None:
        if not isinstance(seconds, int) or isinstance(seconds, bool) or seconds < MIN_LINK_SECONDS:
            raise Refusal("invalid_request", "A link lasts at least an hour; leave it empty for as long as the files.")
        longest = longest_link_seconds(settings, retention)
        if seconds >= longest:
            if seconds > longest:
                capped = (f"The link was asked to last {rules.human_duration(seconds)}, but it can last at most "
                          f"{rules.human_duration(longest)}: it lasts that long.")
            seconds = None if longest == retention * 86400 else longest
    elif settings.share_ttl_seconds and settings.share_ttl_seconds < retention * 86400:
        seconds = settings.share_ttl_seconds
    return email, seconds, retention, capped


def start(svc: Services, data: object, uploader_id: str, *, owner: str = "", link: dict | None = None) -> Started:
    """Open a transfer for the files this page is about to send."""
    email, seconds, retention, capped = check_start(svc.settings, data)
    now = svc.clock()
    manage_token, share_id = tokens.new_secret(), tokens.new_id()
    short_id = tokens.short_id_for(svc.settings.secret_key, share_id)
    # The record outlives its files by a day at most: TTL takes it after the longest retention.
    kept_until = int(now) + svc.settings.max_retention_days * 86400 + 86400
    sort_key = f"{now:017.6f}"
    transfer = {
        "id": tokens.new_id(),
        "status": "open",
        "uploader_hash": tokens.secret_hash(uploader_id),
        "manage_hash": tokens.secret_hash(manage_token),
        "created_at": iso(now),
        "created_epoch": round(now, 6),
        "expires_at": kept_until,
        "retention_days": retention,
        "email": email or None,
        "link_seconds": seconds,
        "share_id": share_id,
    }
    if owner:
        transfer.update(owner=owner, gsi3pk="TRANSFERS#" + owner, gsi3sk=f"{sort_key}#{transfer['id']}")
    if link is not None:
        transfer["upload_link"] = link["id"]
        transfer["email"] = None  # the link's holder is mailed nothing: what they send is the maker's
    share = {
        "share_id": transfer["share_id"],
        "short_hash": tokens.secret_hash(short_id),
        "recipient": shares.ANYONE,
        "created_at": iso(now),
        "expires_at": int(now) + seconds if seconds else kept_until,
        "follows_files": not seconds,
        "downloads": 0,
        "revoked": False,
    }
    svc.catalog.put_transfer({k: v for k, v in transfer.items() if v is not None})
    svc.catalog.put_transfer_share(transfer["id"], share)
    count("TransfersStarted")
    return Started(transfer, manage_token, short_id, capped)


def for_upload(svc: Services, transfer_id: object, uploader_id: str) -> dict:
    """The open transfer a file is being added to, if this upload session opened it."""
    transfer = svc.catalog.get_transfer(transfer_id) if isinstance(transfer_id, str) and tokens.looks_like_id(
        transfer_id) else None
    if transfer is None or not tokens.secret_matches(uploader_id, transfer.get("uploader_hash")):
        raise Refusal("transfer_not_found", "There is no such transfer for this page; reload it and try again.", 404)
    if transfer.get("status") != "open":
        raise Refusal("transfer_closed", "This transfer is finished; start a new upload for more files.", 409)
    if len(transfer.get("media_ids") or ()) >= MAX_FILES:
        raise Refusal("invalid_request", f"A transfer holds at most {MAX_FILES} files.")
    return transfer


# compose(kind, transfer, files, links) -> (subject, text, html); links: {"share": url, "manage": url}
Composer = Callable[[str, dict, list, dict], tuple[str, str, str]]


def finish(svc: Services, transfer_id: str, uploader_id: str, compose: Composer, links: dict) -> dict:
    """Close the transfer (no more files) and mail the links, once: the uploader's address gets
    the share and manage links; through an upload link, its maker gets one mail for the batch."""
    transfer = svc.catalog.get_transfer(transfer_id) if tokens.looks_like_id(transfer_id) else None
    if transfer is None or not tokens.secret_matches(uploader_id, transfer.get("uploader_hash")):
        raise Refusal("transfer_not_found", "There is no such transfer for this page.", 404)
    files = files_of(svc, transfer)
    if not files:
        raise Refusal("transfer_empty", "No file of this transfer has arrived yet.", 409)
    # The address is kept only until its one mail goes.
    if svc.catalog.set_transfer_fields(transfer["id"], {"status": "finished", "finished_at": iso(svc.clock())},
                                       remove=("email",), only_if=("status", "open")):
        _mail_once(svc, transfer, files, compose, links)
    return {**transfer, "status": "finished"}


def _mail_once(svc: Services, transfer: dict, files: list[dict], compose: Composer, links: dict) -> None:
    if svc.mailer is None:
        return
    if transfer.get("upload_link"):
        link = svc.catalog.get_upload_link(transfer["upload_link"])
        address, kind = (link or {}).get("creator_email"), "arrived"
        links = {"label": (link or {}).get("label", "")}
    else:
        address, kind = transfer.get("email"), "uploaded"
    if not address:
        return
    subject, text, html = compose(kind, transfer, files, links)
    try:
        svc.mailer.send(address, subject, text, html)
    except SendFailed as error:
        log.warning("transfer mail not sent: %s", str(error).split(":", 1)[0])
        return
    count("TransferMailsSent")


def files_of(svc: Services, transfer: dict) -> list[dict]:
    """The transfer's recorded files, in the order they were chosen (their upload start)."""
    files = [m for m in svc.catalog.media_many(sorted(transfer.get("media_ids") or ())) if m.get("status") == "ready"]
    return sorted(files, key=lambda m: (m.get("created_epoch", 0), m["id"]))


@dataclasses.dataclass(frozen=True)
class OpenTransfer:
    transfer: dict
    share: dict
    files: list
    short_id: str


def link_id_of(svc: Services, share: dict) -> str:
    return tokens.short_id_for(svc.settings.secret_key, share["share_id"])


looks_like_short_id = tokens.looks_like_short_id


def read_link(svc: Services, short_id: str, only: str | None = None) -> OpenTransfer:
    """The transfer, its link and its files behind a short id (``only``: just that file of it);
    what they say is for ``refusal``."""
    found = svc.catalog.short_link(tokens.secret_hash(short_id)) if looks_like_short_id(short_id) else None
    if found is None or found.get("kind", SHORT_TRANSFER) != SHORT_TRANSFER:
        raise Refusal("link_unknown", "This link is not one of ours. Check that it was copied whole.", 404)
    transfer = svc.catalog.get_transfer(found["transfer_id"])
    share = svc.catalog.get_transfer_share(found["transfer_id"], found["share_id"])
    if transfer is None or share is None:
        raise access.link_gone()
    if only is None:
        return OpenTransfer(transfer, share, files_of(svc, transfer), short_id)
    media = svc.catalog.get_media(only) if only in (transfer.get("media_ids") or ()) else None
    if media is None or media.get("status") != "ready":
        raise Refusal("media_not_found", "This file is not in this transfer any more.", 404)
    return OpenTransfer(transfer, share, [media], short_id)


def is_owner(transfer: dict, uploader_id: str | None, person: str | None) -> bool:
    """The browser that uploaded it, or its signed-in owner: their views are never counted."""
    owner = transfer.get("owner")
    return tokens.secret_matches(uploader_id, transfer.get("uploader_hash")) or bool(
        person and owner and person == owner)


def refusal(svc: Services, opened: OpenTransfer, viewer: access.Viewer) -> Refusal | None:
    return access.decide_transfer(opened.transfer, opened.share, opened.files, now=svc.clock(),
                                  scan_mode=scanning.mode(svc), viewer=viewer)


def link_expiry(opened: OpenTransfer) -> int:
    """When the link stops: its own end, or when the last of its files goes."""
    ends = [int(m["expires_at"]) for m in opened.files] or [int(opened.share["expires_at"])]
    return min(int(opened.share["expires_at"]), max(ends))


def file_link(svc: Services, opened: OpenTransfer, media_id: str, viewer: access.Viewer, *, counted: bool,
              client_ip: str | None = None) -> tuple[dict, str]:
    """One file of the transfer for download: counted on the file and the link (one download),
    unless ``counted`` is False (its owner). Returns (media, signed URL)."""
    refused = refusal(svc, opened, viewer)
    if refused:
        raise refused
    media = next((m for m in opened.files if m["id"] == media_id), None)
    if media is None:
        raise Refusal("media_not_found", "This file is not in this transfer any more.", 404)
    delivery.decide(svc, access.VIEW, media, viewer, transfer_view(opened))
    copy = delivery.viewer_copy(media, svc.settings.strip_metadata)
    now = svc.clock()
    if counted and not svc.catalog.count_transfer_download(media["id"], opened.transfer["id"],
                                                           opened.share["share_id"], int(now), iso(now)):
        fresh = svc.catalog.get_media(media_id)
        raise delivery.why_not(svc, access.VIEW, fresh, viewer, transfer_view(opened)) or access.download_limit()
    if counted:
        count("Downloads")
    return media, delivery.signed_url(svc, media, now, inline=False, client_ip=client_ip, copy=copy,
                                      seconds=delivery.SIGNED_URL_SECONDS)


def picture_link(svc: Services, opened: OpenTransfer, media_id: str, viewer: access.Viewer,
                 client_ip: str | None = None) -> str:
    """A signed URL for a file's thumbnail or poster, for whoever may see the file (a spent
    download limit still shows the picture). Not counted."""
    refused = refusal(svc, opened, viewer)
    if refused:
        raise refused
    media = next((m for m in opened.files if m["id"] == media_id), None)
    if media is None:
        raise Refusal("media_not_found", "This file is not in this transfer any more.", 404)
    refused = delivery.why_not(svc, access.VIEW, media, viewer, transfer_view(opened))
    if refused is not None and refused.code != "download_limit":
        raise refused
    picture = delivery.thumbnail(media, 320) or delivery.poster(media)
    if picture is None:
        raise Refusal("media_not_found", "This file has no picture.", 404)
    return delivery.signed_url(svc, media, svc.clock(), inline=True, copy=picture, client_ip=client_ip)


def transfer_view(opened: OpenTransfer) -> dict:
    """The transfer's link as a file's share, for the per-file checks of ``access.decide``
    (its password is the transfer's)."""
    share = dict(opened.share)
    share["expires_at"] = link_expiry(opened)
    if opened.transfer.get("password_hash"):
        share["password_hash"] = opened.transfer["password_hash"]
    return share


# The owner's side.

MINE = "mine"


def managed(svc: Services, transfer_id: str, token: str, person: str | None = None) -> dict:
    transfer = svc.catalog.get_transfer(transfer_id) if tokens.looks_like_id(transfer_id) else None
    if transfer is None:
        raise access.not_found()
    if token == MINE and person and transfer.get("owner") == person:
        return transfer
    if not tokens.secret_matches(token, transfer.get("manage_hash")):
        raise Refusal("manage_link_invalid", "This manage link is not valid for this transfer.", 403)
    return transfer


def withdraw(svc: Services, transfer: dict) -> int:
    """Every link to the transfer stops; its files stay until they expire or are deleted."""
    at = iso(svc.clock())
    withdrawn = 0
    for share in svc.catalog.transfer_shares(transfer["id"]):
        if not share.get("revoked"):
            svc.catalog.set_transfer_share_fields(transfer["id"], share["share_id"],
                                                  {"revoked": True, "revoked_by": access.OWNER, "revoked_at": at})
            withdrawn += 1
    return withdrawn


def set_password(svc: Services, transfer: dict, password: str) -> None:
    if password:
        svc.catalog.set_transfer_fields(transfer["id"], {"password_hash": shares.hash_password(password)})
    else:
        svc.catalog.set_transfer_fields(transfer["id"], {}, remove=("password_hash",))


def change_expiry(svc: Services, transfer: dict, days: int) -> tuple[int, str]:
    """Keep every file ``days`` more days from now; a value over the maximum is capped, and
    the answer says so."""
    limit = svc.settings.max_retention_days
    capped = ""
    if days > limit:
        capped = f"Files can be kept at most {limit} days: they are kept {limit} days."
        days = limit
    expires_at = 0
    for media in files_of(svc, transfer):
        expires_at = shares.change_expiry(svc, media, days)
    follow_files(svc, transfer, expires_at)
    return expires_at, capped


def follow_files(svc: Services, transfer: dict, files_until: int) -> None:
    """Files kept longer (here, or one on its own page): the transfer's record, its links that
    last as long as the files, and their short-link records live on with them (TTL)."""
    kept_until = files_until + 86400
    if kept_until <= int(transfer["expires_at"]):
        return
    svc.catalog.set_transfer_fields(transfer["id"], {"expires_at": kept_until})
    for share in svc.catalog.transfer_shares(transfer["id"]):
        if share.get("follows_files"):
            svc.catalog.set_transfer_share_fields(transfer["id"], share["share_id"], {"expires_at": kept_until})
            svc.catalog.set_short_link_expiry(share["short_hash"], kept_until)


def file_kept_longer(svc: Services, media: dict, expires_at: int) -> None:
    """One file of a transfer kept longer on its own manage page."""
    transfer = svc.catalog.get_transfer(media["transfer_id"]) if media.get("transfer_id") else None
    if transfer is not None:
        follow_files(svc, transfer, expires_at)


def delete_file(svc: Services, transfer: dict, media_id: str) -> dict:
    from webapp.flows import ownership

    media = next((m for m in files_of(svc, transfer) if m["id"] == media_id), None)
    if media is None:
        raise Refusal("media_not_found", "This file is not in this transfer.", 404)
    ownership.delete_media(svc, media)
    svc.catalog.drop_from_transfer(transfer["id"], media_id)
    return media


def delete(svc: Services, transfer: dict) -> int:
    from webapp.flows import ownership

    files = files_of(svc, transfer)
    for media in files:
        ownership.delete_media(svc, media)
    svc.catalog.delete_transfer(transfer["id"])
    return len(files)


def of_owner(svc: Services, person: str, limit: int = 100) -> list[dict]:
    """A signed-in person's transfers, newest first, each with its files."""
    found, _ = svc.catalog.owned_by("TRANSFERS#" + person, cursor=None, size=limit, now=int(svc.clock()))
    return [{**transfer, "files": files_of(svc, transfer)} for transfer in found]


def unlock(svc: Services, opened: OpenTransfer, attempt: str) -> None:
    """The transfer's password; the link locks for a while after repeated misses."""
    from werkzeug.security import check_password_hash

    share, now = opened.share, int(svc.clock())
    if share.get("locked_until", 0) > now:
        minutes = max(1, (share["locked_until"] - now + 59) // 60)
        raise Refusal("too_many_attempts", f"Too many wrong passwords. Try again in {minutes} minutes.", 429)
    expected = opened.transfer.get("password_hash") or share.get("password_hash")
    if expected and attempt and check_password_hash(expected, attempt[:shares.MAX_PASSWORD_CHARS]):
        return
    failures = int(share.get("password_failures", 0)) + 1
    values = {"password_failures": failures}
    if failures >= shares.PASSWORD_ATTEMPTS:
        values = {"password_failures": 0, "locked_until": now + shares.LOCK_SECONDS}
    svc.catalog.set_transfer_share_fields(opened.transfer["id"], share["share_id"], values)
    raise Refusal("wrong_password", "That password is not right.", 403)


def share_by_email(svc: Services, transfer: dict, request: "shares.ShareRequest", compose: Composer,
                   link_for: Callable[[str], str]) -> "shares.ShareOutcome":
    """Each recipient gets a short link of their own to the transfer, until ``days`` from now or
    the files' expiry, whichever comes first (the outcome says when a link was cut short)."""
    if svc.mailer is None:
        raise Refusal("mail_not_configured", "Sharing by email is off: MEDIAHUB_MAIL_FROM is not set.", 503)
    if len(request.message) > shares.MAX_MESSAGE_CHARS:
        raise Refusal("invalid_request", f"The message can be at most {shares.MAX_MESSAGE_CHARS} characters.")
    password_hash = shares.hash_password(request.password) if request.password else None
    allowed, refused = rules.check_recipients(request.recipients, svc.settings.recipients)
    outcome = shares.ShareOutcome(refused=refused)
    if not allowed and not refused:
        raise Refusal("invalid_request", "Enter at least one email address, one per line.")
    files = files_of(svc, transfer)
    if not files:
        raise Refusal("transfer_empty", "This transfer has no file left to share.", 409)
    now = int(svc.clock())
    files_end = max(int(m["expires_at"]) for m in files)
    wanted = now + request.days * 86400
    if wanted > files_end:
        outcome.capped = f"The links last until the files' own expiry, {iso(files_end)}, not {request.days} days."
    for address in allowed:
        share_id = tokens.new_id()
        short_id = tokens.short_id_for(svc.settings.secret_key, share_id)
        share = {"share_id": share_id, "short_hash": tokens.secret_hash(short_id), "recipient": address,
                 "created_at": iso(now), "expires_at": min(wanted, files_end), "downloads": 0, "revoked": False,
                 "password_hash": password_hash}
        svc.catalog.put_transfer_share(transfer["id"], {k: v for k, v in share.items() if v is not None})
        subject, text, html = compose("shared", transfer, files, {"share": link_for(short_id),
                                                                    "message": request.message,
                                                                    "expires_at": iso(share["expires_at"]),
                                                                    "password": bool(password_hash)})
        try:
            svc.mailer.send(address, subject, text, html)
        except SendFailed as error:
            svc.catalog.set_transfer_share_fields(transfer["id"], share["share_id"],
                                                  {"revoked": True, "revoked_by": access.OWNER})
            outcome.failed.append((address, str(error)))
            continue
        outcome.sent.append(address)
    return outcome
