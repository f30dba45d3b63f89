"""What the holder of a manage link (or the uploading browser) may see and do."""

from __future__ import annotations

from webapp import access, rules, tokens
from webapp.flows import processing
from webapp.rules import Refusal
from webapp.services import Services

not_found = access.not_found
media_expired = access.media_expired


def live_media(svc: Services, media_id: str) -> dict:
    media = svc.catalog.get_media(media_id) if tokens.looks_like_id(media_id) else None
    if media is None or media.get("status") != "ready":
        raise not_found()
    if media["expires_at"] <= svc.clock():
        raise media_expired()
    return media


def _owned(svc: Services, media: dict, viewer: access.Viewer) -> dict:
    refusal = access.decide(access.MANAGE, media, now=svc.clock(), scan_mode="off", viewer=viewer)
    if refusal:
        raise refusal
    return media


def uploaded_by(svc: Services, media_id: str, uploader_id: str | None, person: str | None = None) -> dict:
    """The uploading browser's (or the signed-in owner's) own item."""
    media = live_media(svc, media_id)
    return _owned(svc, media, access.Viewer(
        person=person, manage_token_ok=tokens.secret_matches(uploader_id, media.get("uploader_hash"))))


# In place of the manage token, for the signed-in owner: /manage/<id>/mine.
MINE = "mine"


def managed_by(svc: Services, media_id: str, manage_token: str, person: str | None = None) -> dict:
    """The item, for the holder of its manage link, or for its signed-in owner at ``MINE``."""
    media = live_media(svc, media_id)
    if manage_token == MINE and person:
        return _owned(svc, media, access.Viewer(person=person))
    if not tokens.secret_matches(manage_token, media.get("manage_hash")) and not _transfer_token(svc, media, manage_token):
        raise Refusal("manage_link_invalid", "This manage link is not valid for this file.", 403)
    return _owned(svc, media, access.Viewer(manage_token_ok=True))


def _transfer_token(svc: Services, media: dict, manage_token: str) -> bool:
    """A file of a transfer is managed with the transfer's one manage link too."""
    transfer = svc.catalog.get_transfer(media["transfer_id"]) if media.get("transfer_id") else None
    return bool(transfer and tokens.secret_matches(manage_token, transfer.get("manage_hash")))


MAX_EMBED_ORIGINS = 20


def set_embed_origins(svc: Services, media: dict, text: str) -> list[str]:
    """One origin per line (or comma-separated); each checked, stored canonical."""
    entries = [part.strip() for part in text.replace(",", "\n").splitlines() if part.strip()]
    if len(entries) > MAX_EMBED_ORIGINS:
        raise Refusal("invalid_request", f"List at most {MAX_EMBED_ORIGINS} sites.")
    origins = []
    for entry in entries:
        try:
            rules.parse_origin_pattern(entry)
        except ValueError as error:
            raise Refusal("invalid_request", str(error)) from None
        origins.append(rules.canonical_origin(entry))
    svc.catalog.set_embed_origins(media["id"], list(dict.fromkeys(origins)))
    return origins


def original_link(svc: Services, media: dict, client_ip: str | None) -> str:
    """The owner's download of the original, metadata and all; not counted as a viewer's
    download. A file the malware scan flagged is withheld from its owner too."""
    from webapp.flows import delivery

    if media.get("scan") == "infected":
        raise Refusal("media_infected", "This file was withheld because a malware scan found a threat.", 410)
    return delivery.signed_url(svc, media, svc.clock(), inline=False, client_ip=client_ip)


def delete_media(svc: Services, media: dict) -> None:
    """The object first: a record without its object is harmless, an object without a record is a leak."""
    svc.storage.delete(media["s3_key"])
    processing.delete_renditions(svc, media)
    svc.catalog.delete_media(media["id"])
