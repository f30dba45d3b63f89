"""Links for other sites: embeds and the link API.

The Origin/Referer check is a deterrent that keeps casual hotlinking off; the
signed, short-lived URL is the lock. Which items each surface may hand out
(never one with a download limit or a password) is ``webapp.access``'s decision.
"""

from __future__ import annotations

from webapp import access, media_info, rules, tokens
from webapp.flows import delivery, scanning
from webapp.logs import count
from webapp.dates import iso, recent_months
from webapp.rules import Refusal
from webapp.services import Services

MAX_IDS_PER_CALL = 100


def allowed_origins(svc: Services, media: dict) -> list[str]:
    return list(svc.settings.embed_origins) + list(media.get("embed_origins") or [])


def allowed(svc: Services, action: str, media_id: str) -> dict:
    """A live item viewers may have now for ``action`` (``webapp.access``)."""
    media = svc.catalog.get_media(media_id) if tokens.looks_like_id(media_id) else None
    delivery.decide(svc, action, media)
    return media


def embeddable(svc: Services, media_id: str) -> dict:
    return allowed(svc, access.EMBED, media_id)


def check_origin(svc: Services, media: dict, origin: str | None) -> None:
    if not rules.origin_allowed(origin, allowed_origins(svc, media)):
        raise Refusal("origin_not_allowed", "This site is not allowed to show this file.", 403)


def link(svc: Services, media: dict, client_ip: str | None, size: int | None = None) -> dict:
    """A viewer's link (the clean copy, or a video's web rendition, when there is one) for an item
    past the gate; with ``size``, its thumbnail of that size (320 or 1280 px, for an embed's
    ``srcset``), or the viewer's copy when processing made none (an image already that small)."""
    copy = delivery.thumbnail(media, size) if size else None
    if copy is None:
        copy = delivery.playable_copy(media, svc.settings.strip_metadata)
    url, expires_at = delivery.signed_link(svc, media, svc.clock(), inline=True, client_ip=client_ip,
                                           seconds=svc.settings.embed_link_seconds, copy=copy)
    count("EmbedLinks")
    return {"url": url, "expires_at": iso(expires_at)}


def embed_link(svc: Services, media_id: str, origin: str | None, client_ip: str | None,
               size: int | None = None) -> dict:
    media = embeddable(svc, media_id)
    check_origin(svc, media, origin)
    return link(svc, media, client_ip, size)


def embed_size(value: str | None) -> int | None:
    """``?w=`` of an embed link: one of the thumbnail sizes, or none for the file itself."""
    if value is None:
        return None
    if value not in {str(size) for size in media_info.THUMBNAIL_SIZES}:
        sizes = " or ".join(str(size) for size in media_info.THUMBNAIL_SIZES)
        raise Refusal("invalid_request", f"An embed's width is {sizes}.", 404)
    return int(value)


def api_key_valid(svc: Services, authorization: str | None) -> bool | None:
    """True for a known key, False for a wrong one, None when no key was sent."""
    if not authorization:
        return None
    scheme, _, key = authorization.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        return False
    return any(tokens.secret_matches(key.strip(), digest) for digest in svc.settings.api_key_hashes)


def links_for_ids(svc: Services, ids: object, client_ip: str | None) -> dict:
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
        raise Refusal("invalid_request", "Send {\"ids\": [...]} with at least one media id.")
    if len(ids) > MAX_IDS_PER_CALL:
        raise Refusal("invalid_request", f"Ask for at most {MAX_IDS_PER_CALL} ids in one call.")
    links, errors = {}, {}
    for media_id in dict.fromkeys(ids):
        try:
            links[media_id] = link(svc, allowed(svc, access.LINK, media_id), client_ip)
        except Refusal as refusal:
            errors[media_id] = {"code": refusal.code, "message": refusal.message}
    return {"links": links, "errors": errors}


def gallery(svc: Services, client_ip: str | None, limit: int = 100) -> list[dict]:
    """Public items viewers may have, each with its tile: the 320 px thumbnail for images (a
    few kB instead of the photo), a poster or the clean copy for video. Items the malware gate
    holds back are left out, and so is anything ``webapp.access`` keeps out of the gallery."""
    now = svc.clock()
    scan_mode = scanning.mode(svc)
    items = svc.catalog.newest(public_only=True, now=int(now), limit=limit, months=recent_months(now, 12))
    shown = []
    for media in items:
        if access.decide(access.GALLERY, media, now=now, scan_mode=scan_mode):
            continue
        media["preview_kind"] = rules.preview_kind(media["content_type"])
        media["url"] = media["poster_url"] = None
        tile = delivery.thumbnail(media, 320)
        poster = delivery.poster(media)
        if poster is not None:
            media["poster_url"] = delivery.signed_url(svc, media, now, inline=True, client_ip=client_ip, copy=poster)
        if tile is not None:
            media["url"] = delivery.signed_url(svc, media, now, inline=True, client_ip=client_ip, copy=tile)
        elif media["preview_kind"] in ("image", "video"):
            media["url"] = _viewer_url(svc, media, now, client_ip)
        shown.append(media)
    return shown


def _viewer_url(svc: Services, media: dict, now: float, client_ip: str | None) -> str | None:
    """The viewer's copy (a video's rendition), signed; None while it is being prepared."""
    try:
        copy = delivery.playable_copy(media, svc.settings.strip_metadata)
    except Refusal:
        return None
    return delivery.signed_url(svc, media, now, inline=True, client_ip=client_ip, copy=copy)


def public_item(svc: Services, media_id: str, client_ip: str | None) -> dict:
    """A gallery item's own page: only items their uploader chose to show publicly, past the
    malware gate. The preview is the 1280 px thumbnail when there is one; the file itself is
    the viewer's copy (clean), or nothing yet while it is being prepared."""
    media = allowed(svc, access.GALLERY, media_id)
    if delivery.withheld(media, svc.settings.strip_metadata):
        raise delivery.media_withheld()
    now = svc.clock()
    media["preview_kind"] = rules.preview_kind(media["content_type"])
    media["url"] = _viewer_url(svc, media, now, client_ip)
    large = delivery.thumbnail(media, 1280)
    media["preview_url"] = (delivery.signed_url(svc, media, now, inline=True, client_ip=client_ip, copy=large)
                            if large is not None and media["preview_kind"] == "image" else media["url"])
    poster = delivery.poster(media)
    media["poster_url"] = (delivery.signed_url(svc, media, now, inline=True, client_ip=client_ip, copy=poster)
                           if poster is not None else None)
    media["cleaned"] = bool(media.get("metadata_stripped")) and svc.settings.strip_metadata
    return media


def player(svc: Services, media_id: str, origin: str | None, client_ip: str | None) -> dict:
    """The framed player for video and audio: a signed link, and the origins that may frame it.

    A frame's request carries its parent page as Referer; with none (a direct visit) the
    frame-ancestors policy alone keeps other sites from framing it.
    """
    media = embeddable(svc, media_id)
    kind = rules.preview_kind(media["content_type"])
    if kind not in ("video", "audio"):
        raise Refusal("no_player", "There is a player only for video and audio.", 404)
    if origin is not None:
        check_origin(svc, media, origin)
    ancestors = [rules.canonical_origin(o) for o in allowed_origins(svc, media)]
    frame = delivery.poster(media) if kind == "video" else None
    poster = (delivery.signed_url(svc, media, svc.clock(), inline=True, client_ip=client_ip, copy=frame,
                                  seconds=svc.settings.embed_link_seconds) if frame else None)
    return {"media": media, "kind": kind, "url": link(svc, media, client_ip)["url"], "poster": poster,
            "ancestors": ancestors}
