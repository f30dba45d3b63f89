"""Download flow: a share link's id in, a short-lived signed URL out.

A share link is ``/s/<short id>``: 22 characters the catalog looks up by their hash
(``Catalog.short_link``, shared with transfers' links). Links made before short ids were signed
tokens naming the item, the share and an expiry; they keep working until that expiry.

Every use re-reads the share and the item, so a revoked share, an expired item
or a spent download limit stops working at once, whatever the token says and
however late DynamoDB's TTL deletes the record.
"""

from __future__ import annotations

import dataclasses
from typing import Callable

from webapp import access, media_info, tokens
from webapp.aws.catalog import SHORT_FILE, SHORT_TRANSFER
from webapp.flows import scanning
from webapp.logs import count
from webapp.rules import Refusal
from webapp.services import Services
from webapp.dates import iso

SIGNED_URL_SECONDS = 300
CLEANED_TYPES = media_info.IMAGE_TYPES  # the types processing makes a clean copy of
# The clean copy's type, from its name (clean.jpg...): HEIC and HEIF are cleaned into JPEG.
CLEAN_COPY_TYPES = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp", "gif": "image/gif"}


@dataclasses.dataclass(frozen=True)
class Copy:
    """One stored object a link can point at: the original, or a rendition processing made."""

    key: str
    filename: str
    content_type: str
    cleaned: bool = False


def original(media: dict) -> Copy:
    return Copy(media["s3_key"], media["filename"], media["content_type"])


def processing_state(media: dict) -> str:
    return media.get("processing") or "pending"


def processing_pending() -> Refusal:
    return Refusal("processing_pending", "This file is being prepared for viewing. Try again in a minute.", 409,
                   retry_after=60)


def media_withheld() -> Refusal:
    return Refusal("media_withheld", "This file is withheld from viewers: its location and camera details could not "
                   "be removed, so it is not shown or sent. Its owner can see why on the file's manage page.", 409)


def viewer_copy(media: dict, strip_metadata: bool) -> Copy:
    """What a viewer (not the owner) is handed: the clean copy when processing made one.

    Pure. With stripping on, an image is never handed out as uploaded: while its processing is
    pending it is refused for now (409 ``processing_pending``), and once processing is done
    without a clean copy (a structure no cleaner could follow, a HEIC it could not decode) it is
    withheld (409 ``media_withheld``), the owner told why. Types processing does not clean
    (video, audio, PDF) go out as they are. With stripping off, the original.
    """
    clean = (media.get("renditions") or {}).get("clean")
    if not strip_metadata:
        return original(media)
    if clean:
        extension = clean.rsplit(".", 1)[-1]
        stem = media["filename"].rsplit(".", 1)[0] or "file"
        return Copy(clean, f"{stem}.{extension}", CLEAN_COPY_TYPES.get(extension, media["content_type"]),
                    cleaned=True)
    if media["content_type"] in CLEANED_TYPES:
        raise processing_pending() if processing_state(media) == "pending" else media_withheld()
    return original(media)


def withheld(media: dict, strip_metadata: bool) -> bool:
    """Processing is done and viewers may not have this file (see ``viewer_copy``)."""
    try:
        viewer_copy(media, strip_metadata)
    except Refusal as refusal:
        return refusal.code == "media_withheld"
    return False


def thumbnail(media: dict, size: int) -> Copy | None:
    """A thumbnail processing made (a JPEG, without metadata), or None."""
    key = (media.get("renditions") or {}).get(f"thumb_{size}")
    if not key:
        return None
    stem = media["filename"].rsplit(".", 1)[0] or "file"
    return Copy(key, f"{stem}-thumb-{size}.jpg", "image/jpeg", cleaned=True)


def poster(media: dict) -> Copy | None:
    """The frame the uploader's browser sent, or else the one the rendition job took."""
    made = media.get("renditions") or {}
    key = made.get("poster") or made.get("frame")
    if not key:
        return None
    stem = media["filename"].rsplit(".", 1)[0] or "file"
    return Copy(key, f"{stem}-poster.jpg", "image/jpeg", cleaned=True)


def playable_copy(media: dict, strip_metadata: bool) -> Copy:
    """What a player is handed (the share page, the player, embeds, the gallery): a video's web
    rendition (H.264/AAC, which every browser plays) once it exists, else the viewer's copy.
    Downloads stay ``viewer_copy``: the file as uploaded."""
    video = (media.get("renditions") or {}).get("video")
    if video:
        stem = media["filename"].rsplit(".", 1)[0] or "file"
        return Copy(video, f"{stem}.mp4", "video/mp4", cleaned=True)
    return viewer_copy(media, strip_metadata)


def why_not(svc: Services, action: str, media: dict | None, viewer: access.Viewer = access.VISITOR,
            share: dict | None = None) -> Refusal | None:
    """The access decision (``webapp.access.decide``) with this site's clock and scan mode."""
    return access.decide(action, media, now=svc.clock(), scan_mode=scanning.mode(svc), viewer=viewer, share=share)


def decide(svc: Services, action: str, media: dict | None, viewer: access.Viewer = access.VISITOR,
           share: dict | None = None) -> None:
    """``why_not``, raised."""
    refusal = why_not(svc, action, media, viewer, share)
    if refusal:
        raise refusal


@dataclasses.dataclass(frozen=True)
class OpenShare:
    media: dict
    share: dict
    token: str


def with_short_link(svc: Services, share: dict) -> dict:
    """A new share of a file with the hash of its short id, which the catalog writes beside it
    as the record the link is looked up by (``Catalog.put_share``, ``create_ready``)."""
    return {**share, "short_hash": tokens.secret_hash(tokens.short_id_for(svc.settings.secret_key, share["share_id"]))}


def share_token(svc: Services, media: dict, share: dict) -> str:
    """What ``/s/<token>`` carries for this share: its short id; a share made before short ids
    (no short-link record), or under a secret key since changed (its short id cannot be derived
    again), gets a signed token, good until the share's expiry."""
    short_id = tokens.short_id_for(svc.settings.secret_key, share["share_id"])
    if tokens.secret_matches(short_id, share.get("short_hash")):
        return short_id
    return svc.share_tokens.issue(tokens.ShareClaim(media["id"], share["share_id"], int(share["expires_at"])))


def default_share(svc: Services, media: dict) -> dict | None:
    share_id = media.get("default_share_id")
    return svc.catalog.get_share(media["id"], share_id) if share_id else None


# Who is opening a share, once the share is known (its password unlocked, its address verified).
ViewerOf = Callable[[dict], access.Viewer]


def link_unknown() -> Refusal:
    return Refusal("link_unknown", "This link is not one of ours. Check that it was copied whole.", 404)


def names_a_transfer(svc: Services, token: str) -> bool:
    """Whether ``/s/<token>`` is a transfer's link (its short-link record says so), not a file's
    share (a short id of one, an old signed token, or an id nobody knows)."""
    if not tokens.looks_like_short_id(token):
        return False
    found = svc.catalog.short_link(tokens.secret_hash(token))
    return found is not None and found.get("kind", SHORT_TRANSFER) == SHORT_TRANSFER


def read_share(svc: Services, token: str) -> OpenShare:
    """The share and item a link names: a short id looked up by its hash, or an old signed
    token. Refuses an id that is not ours, an old token whose own expiry has passed, or records
    that are gone; what the records say (expiry, withdrawal, limits) is for ``refusal``."""
    if tokens.looks_like_short_id(token):
        found = svc.catalog.short_link(tokens.secret_hash(token))
        if found is None or found.get("kind") != SHORT_FILE:
            # Deleting a file deletes its short-link records with it: nothing is left to tell.
            raise Refusal("link_unknown", "This link is not one of ours, or what it shared was deleted. "
                          "Check that it was copied whole.", 404)
        media_id, share_id = found["media_id"], found["share_id"]
    else:
        claim = svc.share_tokens.read(token)
        if claim is None:
            raise link_unknown()
        if claim.expires_at <= svc.clock():
            raise access.link_expired()
        media_id, share_id = claim.media_id, claim.share_id
    share = svc.catalog.get_share(media_id, share_id)
    media = svc.catalog.get_media(media_id)
    if share is None or media is None:
        raise access.link_gone()
    return OpenShare(media, share, token)


def refusal(svc: Services, opened: OpenShare, viewer_of: ViewerOf) -> Refusal | None:
    """Why this browser may not open a share it has read (``webapp.access``), or None."""
    return why_not(svc, access.VIEW, opened.media, viewer_of(opened.share), opened.share)


def open_share(svc: Services, token: str, viewer_of: ViewerOf = lambda share: access.VISITOR) -> OpenShare:
    """A share a viewer may open now, or the refusal ``webapp.access`` gives."""
    opened = read_share(svc, token)
    refused = refusal(svc, opened, viewer_of)
    if refused:
        raise refused
    return opened


def download(svc: Services, token: str, viewer_of: ViewerOf, client_ip: str | None = None,
             owns: Callable[[dict], bool] = lambda media: False) -> str:
    """Count one download atomically and return a signed URL for the file. The file's own
    uploader (``owns``) is never counted: their downloads must not use up a recipient's limit."""
    opened = open_share(svc, token, viewer_of)
    now = svc.clock()
    media = opened.media
    copy = viewer_copy(media, svc.settings.strip_metadata)  # before counting: a refusal costs no download
    if owns(media):
        return signed_url(svc, media, now, inline=False, client_ip=client_ip, copy=copy)
    if not svc.catalog.count_download(media["id"], opened.share["share_id"], int(now), iso(now)):
        # Lost a race with a revoke, an expiry or the last allowed download: say which.
        media = svc.catalog.get_media(opened.media["id"])
        share = svc.catalog.get_share(opened.media["id"], opened.share["share_id"])
        raise why_not(svc, access.VIEW, media, viewer_of(opened.share), share) or access.download_limit()
    count("Downloads")
    return signed_url(svc, media, now, inline=False, client_ip=client_ip, copy=copy)


def signed_url(svc: Services, media: dict, now: float, *, inline: bool, client_ip: str | None = None,
               seconds: int = SIGNED_URL_SECONDS, copy: Copy | None = None) -> str:
    return signed_link(svc, media, now, inline=inline, client_ip=client_ip, seconds=seconds, copy=copy)[0]


def signed_link(svc: Services, media: dict, now: float, *, inline: bool, client_ip: str | None = None,
                seconds: int = SIGNED_URL_SECONDS, copy: Copy | None = None) -> tuple[str, int]:
    """A signed URL for the file (``copy``: a rendition; the original when None), and when it
    really stops working (never after the file)."""
    copy = copy or original(media)
    wanted = min(now + seconds, media["expires_at"])
    url = svc.links.url_for(
        copy.key,
        filename=copy.filename,
        content_type=copy.content_type,
        expires_at=wanted,
        inline=inline,
        now=now,
        client_ip=client_ip,
        limit=media["expires_at"],
    )
    return url, svc.links.link_expiry(wanted, media["expires_at"])
