"""Links for other sites: embeds and the link API.

The Origin/Referer check is a deterrent that keeps casual hotlinking off; the
signed, short-lived URL is the lock. Files with a download limit are never
embedded, because views through an embed would not count against the limit.
"""

from __future__ import annotations

from webapp import delivery, ownership, rules, tokens
from webapp.logs import count
from webapp.dates import iso, recent_months
from webapp.rules import Refusal
from webapp.services import Services

MAX_IDS_PER_CALL = 100


def allowed_origins(svc: Services, media: dict) -> list[str]:
    return list(svc.settings.embed_origins) + list(media.get("embed_origins") or [])


def embeddable(svc: Services, media_id: str) -> dict:
    media = ownership.live_media(svc, media_id)
    if media.get("max_downloads") is not None:
        raise Refusal("embedding_not_allowed", "Files with a download limit cannot be embedded.", 403)
    return media


def check_origin(svc: Services, media: dict, origin: str | None) -> None:
    if not rules.origin_allowed(origin, allowed_origins(svc, media)):
        raise Refusal("origin_not_allowed", "This site is not allowed to show this file.", 403)


def link(svc: Services, media: dict, client_ip: str | None) -> dict:
    url, expires_at = delivery.signed_link(svc, media, svc.clock(), inline=True, client_ip=client_ip,
                                           seconds=svc.settings.embed_link_seconds)
    count("EmbedLinks")
    return {"url": url, "expires_at": iso(expires_at)}


def embed_link(svc: Services, media_id: str, origin: str | None, client_ip: str | None) -> dict:
    media = embeddable(svc, media_id)
    check_origin(svc, media, origin)
    return link(svc, media, client_ip)


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
            links[media_id] = link(svc, ownership.live_media(svc, media_id), client_ip)
        except Refusal as refusal:
            errors[media_id] = {"code": refusal.code, "message": refusal.message}
    return {"links": links, "errors": errors}


def gallery(svc: Services, client_ip: str | None, limit: int = 100) -> list[dict]:
    now = svc.clock()
    items = svc.catalog.newest(public_only=True, now=int(now), limit=limit, months=recent_months(now, 12))
    for media in items:
        media["preview_kind"] = rules.preview_kind(media["content_type"])
        media["url"] = delivery.signed_url(svc, media, now, inline=True, client_ip=client_ip)
    return items


def public_item(svc: Services, media_id: str, client_ip: str | None) -> dict:
    """A gallery item's own page: only items their uploader chose to show publicly."""
    media = ownership.live_media(svc, media_id)
    if media.get("visibility") != "public":
        raise ownership.not_found()
    media["preview_kind"] = rules.preview_kind(media["content_type"])
    media["url"] = delivery.signed_url(svc, media, svc.clock(), inline=True, client_ip=client_ip)
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
    return {"media": media, "kind": kind, "url": link(svc, media, client_ip)["url"], "ancestors": ancestors}
