"""Media records as the API and the pages show them, with absolute links."""

from __future__ import annotations

from flask import request, url_for

from webapp import delivery
from webapp.services import Services
from webapp.dates import iso


def absolute_url(svc: Services, endpoint: str, **values) -> str:
    base = svc.settings.site_url or request.host_url.rstrip("/")
    return base + url_for(endpoint, **values)


def media_json(svc: Services, media: dict, *, manage_token: str | None = None, share: dict | None = None) -> dict:
    links = {"page": absolute_url(svc, "media.result", media_id=media["id"])}
    share = share or delivery.default_share(svc, media)
    if share is not None:
        token = delivery.share_token(svc, media, share)
        links["share"] = absolute_url(svc, "sharing.share_page", token=token)
        links["download"] = absolute_url(svc, "sharing.download", token=token)
    if manage_token:
        links["manage"] = absolute_url(svc, "media.manage", media_id=media["id"], token=manage_token)
    return {
        "id": media["id"],
        "filename": media["filename"],
        "name": media["name"],
        "caption": media["caption"],
        "content_type": media["content_type"],
        "size": media["size"],
        "created_at": media["created_at"],
        "expires_at": iso(media["expires_at"]),
        "download_count": media.get("download_count", 0),
        "links": links,
    }
