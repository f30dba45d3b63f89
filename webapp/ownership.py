"""What the holder of a manage link (or the uploading browser) may see and do."""

from __future__ import annotations

from webapp import tokens
from webapp.rules import Refusal
from webapp.services import Services

NOT_FOUND = Refusal("media_not_found", "There is no file here, or it is not yours to see.", 404)


def live_media(svc: Services, media_id: str) -> dict:
    media = svc.catalog.get_media(media_id) if tokens.looks_like_id(media_id) else None
    if media is None or media.get("status") != "ready":
        raise NOT_FOUND
    if media["expires_at"] <= svc.clock():
        raise Refusal("media_expired", "This file has expired and is no longer available.", 410)
    return media


def uploaded_by(svc: Services, media_id: str, uploader_id: str | None) -> dict:
    media = live_media(svc, media_id)
    if not tokens.secret_matches(uploader_id, media.get("uploader_hash")):
        raise NOT_FOUND
    return media


def managed_by(svc: Services, media_id: str, manage_token: str) -> dict:
    media = live_media(svc, media_id)
    if not tokens.secret_matches(manage_token, media.get("manage_hash")):
        raise Refusal("manage_link_invalid", "This manage link is not valid for this file.", 403)
    return media


def delete_media(svc: Services, media: dict) -> None:
    """The object first: a record without its object is harmless, an object without a record is a leak."""
    svc.storage.delete(media["s3_key"])
    svc.catalog.delete_media(media["id"])
