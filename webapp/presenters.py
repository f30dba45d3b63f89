"""Media records as the API and the pages show them, with absolute links."""

from __future__ import annotations

from flask import request, url_for
from markupsafe import Markup, escape

from webapp import media_info, rules
from webapp.flows import delivery, scanning, shares
from webapp.services import Services
from webapp.dates import iso, utc_text


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
    scan = scanning.state(media, scanning.mode(svc))
    if scan != scanning.INFECTED:  # an infected item's renditions are deleted
        now = svc.clock()
        for name, copy in (("thumbnail", delivery.thumbnail(media, 320)), ("poster", delivery.poster(media))):
            if copy is not None:
                links[name] = delivery.signed_url(svc, media, now, inline=True, copy=copy,
                                                  client_ip=request.remote_addr)
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
        "width": _whole(media.get("width")),
        "height": _whole(media.get("height")),
        "duration_seconds": float(media["duration_seconds"]) if media.get("duration_seconds") is not None else None,
        "pages": _whole(media.get("pages")),
        "processing": delivery.processing_state(media),
        "scan": scan,
        "links": links,
    }


def sender_json(svc: Services, media: dict, *, manage_token: str | None = None, share: dict | None = None) -> dict:
    """The media JSON answered to the browser that uploaded the file. Through an upload link it
    is the link's creator's, private to them: the sender gets what they sent and to whom, and
    no link that opens the file (no share, download, manage, thumbnail or poster link)."""
    if not media.get("upload_link"):
        return media_json(svc, media, manage_token=manage_token, share=share)
    shown = media_json(svc, {k: v for k, v in media.items() if k != "default_share_id"})
    shown["links"] = {"page": shown["links"]["page"]}
    shown["sent_to"] = sent_to(svc, media)
    return shown


def sent_to(svc: Services, media: dict) -> str:
    """Whom a file sent through an upload link went to, in words for its sender."""
    link = svc.catalog.get_upload_link(media.get("upload_link") or "")
    return (link or {}).get("creator_name") or "the person who sent you the upload link"


def _whole(value) -> int | None:
    return int(value) if value is not None else None


SCAN_TEXT = {
    scanning.PENDING: "Being checked for malware: nobody can open it until the check finishes, usually within a minute.",
    scanning.CLEAN: "Checked for malware: no threat found.",
    scanning.INFECTED: ("Threat found: a malware scan found a threat in this file, so it was withheld. Nobody can "
                        "open or download it, and it will be deleted within a week."),
    scanning.OFF: "Not checked for malware: scanning is off on this site.",
}


def share_view(svc: Services, opened: delivery.OpenShare, client_ip: str | None) -> dict:
    """The share page's preview: the 1280 px thumbnail of an image, the viewer's copy of video
    and audio (or its poster), nothing yet while the file is being prepared."""
    media = opened.media
    now = svc.clock()
    kind = rules.preview_kind(media["content_type"])
    preview = poster = None
    preparing = False
    try:
        copy = delivery.playable_copy(media, svc.settings.strip_metadata)
    except rules.Refusal as refusal:
        if refusal.code != "processing_pending":
            raise  # withheld: the whole page says so (409)
        copy, preparing = None, True
    large = delivery.thumbnail(media, 1280)
    if kind in ("image", None) and large is not None:  # a PDF's first page is an image too
        preview = delivery.signed_url(svc, media, now, inline=True, client_ip=client_ip, copy=large)
        kind = "image"
    elif kind and copy is not None:
        preview = delivery.signed_url(svc, media, now, inline=True, client_ip=client_ip, copy=copy)
    if delivery.poster(media) is not None:
        poster = delivery.signed_url(svc, media, now, inline=True, client_ip=client_ip, copy=delivery.poster(media))
    return {
        "media": media,
        "token": opened.token,
        "preview": preview,
        "preview_kind": kind if preview else None,
        "poster": poster,
        "preparing": preparing,
        "cleaned": bool(copy is not None and copy.cleaned and media.get("metadata_stripped")),
        "facts": share_facts(media, opened.share),
    }


def time_tag(value, relative: bool = True) -> Markup:
    """A moment as ``<time>``: UTC as written by the server, turned into the viewer's local
    time (and "in 3 days") by static/page.js; the title keeps UTC either way."""
    if not value:  # never happened (or an attribute the record does not have)
        return Markup("—")
    text = utc_text(value)
    stamp = iso(float(value)) if not isinstance(value, str) else value
    extra = Markup(" data-relative") if relative else Markup("")
    return Markup('<time datetime="{}" title="{}"{}>{}</time>').format(stamp, text, extra, text)


def qr_svg(url: str, label: str) -> Markup:
    """The link as a QR code, drawn on the server as inline SVG: no script, no image request,
    and nothing the strict CSP has to allow. Dark on white in both themes, as scanners expect."""
    import segno  # only pages that show a QR code pay for the import

    svg = segno.make(url, error="m").svg_inline(scale=4, border=4, dark="#000", light="#fff", omitsize=True,
                                               title=label)
    return Markup(svg.replace("<svg ", '<svg role="img" focusable="false" ', 1))


def share_rows(svc: Services, media: dict) -> list[dict]:
    """The owner's links table, newest first: each link's real expiry, state and a link to copy
    for links anyone may open (the owner made those to hand on)."""
    now = svc.clock()
    rows = []
    for share in sorted(svc.catalog.shares_of(media["id"]), key=lambda s: s["created_at"], reverse=True):
        state = shares.link_state(media, share, now)
        row = {
            **share,
            "anyone": share["recipient"] == shares.ANYONE,
            "has_password": bool(share.get("password_hash") or media.get("password_hash")),
            "expires_at": shares.effective_expiry(media, share),
            "state": state,
            "state_text": state_text(share, state),
            "url": None,
        }
        if row["anyone"] and state == "active":
            row["url"] = absolute_url(svc, "sharing.share_page", token=delivery.share_token(svc, media, share))
        rows.append(row)
    return rows


def state_text(share: dict, state: str) -> str:
    if state == "withdrawn":
        by = {shares.OWNER: "by the owner", shares.ADMIN: "by an administrator"}.get(share.get("revoked_by"), "")
        return f"withdrawn {by}".strip()
    return state


def share_facts(media: dict, share: dict) -> dict:
    """What a recipient is told on the share page: until when, and how many downloads remain."""
    return {"expires_at": shares.effective_expiry(media, share), "downloads_left": shares.downloads_left(media, share)}


# The frame's width where the video is wider; a narrower column shrinks it, keeping its shape.
PLAYER_WIDTH = 640
AUDIO_FRAME_HEIGHT = 80


def _fitted(width: int, height: int, box: int) -> tuple[int, int]:
    """A ``box`` x ``box`` thumbnail's size, as Pillow's ``Image.thumbnail`` makes it (never larger)."""
    scale = min(1.0, box / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def embed_snippet(svc: Services, media: dict) -> str:
    """Markup another site can paste, responsive in any column: an image with its width and
    height (no layout shift), ``max-width:100%`` and a ``srcset`` of its 320 and 1280 px
    thumbnails (each an embed link too), or the player in a frame that keeps the video's shape.
    """
    name = str(escape(media["name"] or media["filename"]))
    kind = rules.preview_kind(media["content_type"])
    width, height = int(media.get("width") or 0), int(media.get("height") or 0)
    if kind in ("video", "audio"):
        player = absolute_url(svc, "embed.player", media_id=media["id"])
        if kind == "audio":
            return (f'<iframe src="{player}" title="{name}" width="{PLAYER_WIDTH}" height="{AUDIO_FRAME_HEIGHT}" '
                    f'style="width:100%;max-width:{PLAYER_WIDTH}px;height:{AUDIO_FRAME_HEIGHT}px;border:0"></iframe>')
        if not (width and height):
            width, height = 16, 9  # not measured (yet): the common shape
        shown_width = min(PLAYER_WIDTH, width) if media.get("width") else PLAYER_WIDTH
        shown_height = round(shown_width * height / width)
        return (f'<iframe src="{player}" title="{name}" width="{shown_width}" height="{shown_height}" '
                f'style="width:100%;max-width:{shown_width}px;height:auto;aspect-ratio:{width}/{height};border:0" '
                'allow="fullscreen"></iframe>')
    embed = absolute_url(svc, "embed.embed", media_id=media["id"])
    if not (width and height):
        return f'<img src="{embed}" alt="{name}" style="max-width:100%;height:auto">'
    candidates = {}
    for size in media_info.THUMBNAIL_SIZES:
        if delivery.thumbnail(media, size) is not None:
            thumb_width, _ = _fitted(width, height, size)
            if thumb_width < width:
                candidates.setdefault(thumb_width, f"{embed}?w={size}")
    sized = f'width="{width}" height="{height}" alt="{name}" style="max-width:100%;height:auto"'
    if not candidates:
        return f'<img src="{embed}" {sized}>'
    candidates[width] = embed
    srcset = ", ".join(f"{url} {w}w" for w, url in sorted(candidates.items()))
    return f'<img src="{embed}" srcset="{srcset}" sizes="(max-width: {width}px) 100vw, {width}px" {sized}>'



def result_page(svc: Services, media: dict, manage_token: str | None, client_ip: str | None) -> dict:
    """The uploader's result page: what was stored, a preview, the share link (with a QR code)
    and, this once only, the manage link."""
    if media.get("upload_link"):  # the link creator's file: no preview, no link to hand on
        shown = sender_json(svc, media)
        return {"media": shown, "sent_to": shown["sent_to"], "preview_kind": None, "preview": None,
                "poster": None, "scan_text": SCAN_TEXT[shown["scan"]], "share_qr": None, "share_expires_at": None}
    share = delivery.default_share(svc, media)
    shown = media_json(svc, media, manage_token=manage_token)
    kind = rules.preview_kind(media["content_type"])
    share_url = shown["links"].get("share")
    return {
        "media": shown,
        "share_expires_at": shares.effective_expiry(media, share) if share else None,
        "preview_kind": kind,
        # The uploader's own file: the original (a flagged one is gone to quarantine).
        "preview": (delivery.signed_url(svc, media, svc.clock(), inline=True, client_ip=client_ip)
                    if kind and shown["scan"] != scanning.INFECTED else None),
        "poster": shown["links"].get("poster"),
        "scan_text": SCAN_TEXT[shown["scan"]],
        "share_qr": qr_svg(share_url, "QR code of the share link") if share_url else None,
        "in_transfer": bool(media.get("transfer_id")),
    }


# Transfers.

KIND_ICONS = {"image": "🖼", "video": "🎞", "audio": "🎵", None: "📄"}


def transfer_json(svc: Services, transfer: dict, links: dict) -> dict:
    """The finished transfer for the upload page: its links (shown this once), when the share
    link stops, and a QR code of it."""
    from webapp.flows import transfers

    files = transfers.files_of(svc, transfer)
    share = svc.catalog.get_transfer_share(transfer["id"], transfer["share_id"])
    ends = max((int(m["expires_at"]) for m in files), default=int(transfer["expires_at"]))
    link_end = min(int(share["expires_at"]), ends) if share else ends
    return {
        "id": transfer["id"],
        "files": [{"id": m["id"], "name": m["name"], "filename": m["filename"], "size": m["size"],
                   "content_type": m["content_type"], "page": absolute_url(svc, "media.result", media_id=m["id"])}
                  for m in files],
        "links": links,
        "link_expires_at": iso(link_end),
        "link_follows_files": bool(share and share.get("follows_files")),
        "files_expire_at": iso(ends),
        "qr_svg": str(qr_svg(links["share"], "QR code of the share link")) if links.get("share") else None,
        "mailed_to": transfer.get("email"),
    }


def _file_row(svc: Services, media: dict, token: str, viewer, share: dict) -> dict:
    """One file on a transfer's page: its thumbnail, poster or an icon, and whether a viewer may
    have it (the access decision, with the transfer's link as the file's share)."""
    kind = rules.preview_kind(media["content_type"])
    row = {"id": media["id"], "name": media.get("name") or media["filename"], "filename": media["filename"],
           "size": media["size"], "content_type": media["content_type"], "kind": kind,
           "icon": KIND_ICONS.get(kind, KIND_ICONS[None]), "thumbnail": None, "refusal": None,
           "download": url_for("sharing.transfer_file", token=token, media_id=media["id"])}
    refusal = delivery.why_not(svc, "view", media, viewer, share)
    if refusal is not None and refusal.code != "download_limit":
        row["refusal"] = refusal.message
        return row
    if delivery.thumbnail(media, 320) or delivery.poster(media):
        # A short same-site address that redirects to the signed picture when the row is shown.
        row["thumbnail"] = url_for("sharing.transfer_thumbnail", token=token, media_id=media["id"])
    if refusal is not None:
        row["refusal"] = refusal.message
    return row


def transfer_view(svc: Services, opened, viewer, client_ip: str | None) -> dict:
    """A transfer's share page: every file with a picture, name, size and type, and when the
    link stops (the files' own expiry unless the uploader chose a shorter time)."""
    from webapp.flows import transfers

    now = svc.clock()
    share = transfers.transfer_view(opened)
    rows = [_file_row(svc, media, opened.short_id, viewer, share) for media in opened.files]
    link_end = transfers.link_expiry(opened)
    files_end = max(int(m["expires_at"]) for m in opened.files)
    owner = viewer.manage_token_ok
    # The card's picture: only where no password guards the files, signed until the link ends.
    card_image = None
    if not (opened.transfer.get("password_hash") or opened.share.get("password_hash")):
        first = next((m for m in opened.files if delivery.thumbnail(m, 1280) or delivery.thumbnail(m, 320)), None)
        if first is not None and delivery.why_not(svc, "view", first, viewer, share) is None:
            copy = delivery.thumbnail(first, 1280) or delivery.thumbnail(first, 320)
            card_image = delivery.signed_url(svc, first, now, inline=True, copy=copy,
                                             seconds=max(60, int(link_end - now)))
    total = sum(int(m["size"]) for m in opened.files)
    title = (opened.files[0].get("name") or opened.files[0]["filename"]) if len(opened.files) == 1 else \
        f"{len(opened.files)} files"
    return {
        "token": opened.short_id,
        "files": rows,
        "title": title,
        "summary": f"{len(opened.files)} file{'s' if len(opened.files) != 1 else ''}, {rules.human_size(total)} in all",
        "link_expires_at": link_end,
        "follows_files": link_end >= files_end,
        "owner": owner,
        "card_image": card_image,
        "page_url": absolute_url(svc, "sharing.share_page", token=opened.short_id),
        "can_zip": all(row["refusal"] is None for row in rows),
    }


def transfer_files_json(svc: Services, opened) -> dict:
    return {"name": "mediahub-" + opened.transfer["id"][:8],
            "files": [{"id": m["id"], "filename": m["filename"], "size": m["size"],
                       "modified": m.get("created_at")} for m in opened.files]}


def transfer_manage_view(svc: Services, transfer: dict, token: str, client_ip: str | None, **forms) -> dict:
    """The transfer's manage page: a preview of its files and its share link first, sections below."""
    from webapp.flows import transfers
    from webapp.media.forms import ItemPasswordForm
    from webapp.sharing.forms import ShareForm, TransferExpiryForm

    files = transfers.files_of(svc, transfer)
    now = svc.clock()
    rows = []
    for media in files:
        picture = delivery.thumbnail(media, 320) or delivery.poster(media)
        kind = rules.preview_kind(media["content_type"])
        rows.append({**media, "kind": kind, "icon": KIND_ICONS.get(kind, KIND_ICONS[None]),
                     "thumbnail": delivery.signed_url(svc, media, now, inline=True, client_ip=client_ip, copy=picture)
                     if picture is not None and media.get("scan") != scanning.INFECTED else None})
    links = []
    for share in sorted(svc.catalog.transfer_shares(transfer["id"]), key=lambda s: s["created_at"]):
        ends = max((int(m["expires_at"]) for m in files), default=int(share["expires_at"]))
        end = min(int(share["expires_at"]), ends)
        state = "withdrawn" if share.get("revoked") else ("expired" if end <= now else "active")
        links.append({**share, "ends": end, "state": state,
                      "url": absolute_url(svc, "sharing.share_page", token=transfers.link_id_of(svc, share))})
    main_share = next((s for s in links if s["share_id"] == transfer.get("share_id")), None)
    qr = qr_svg(main_share["url"], "QR code of the share link") if main_share and main_share["state"] == "active" else None
    days = max(1, -(-(max((int(m["expires_at"]) for m in files), default=int(now)) - int(now)) // 86400))
    return {
        "transfer": transfer,
        "token": token,
        "files": rows,
        "links": links,
        "main_share": main_share,
        "share_qr": qr,
        "total": sum(int(m["size"]) for m in files),
        "outcome": forms.get("outcome"),
        "share_form": forms.get("share_form") or ShareForm(formdata=None),
        "password_form": forms.get("password_form") or ItemPasswordForm(formdata=None),
        "expiry_form": forms.get("expiry_form") or TransferExpiryForm(formdata=None, days=days),
        "recipients": svc.settings.recipients,
    }
