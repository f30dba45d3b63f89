"""Upload links (reverse shares): a link that lets whoever holds it upload to its creator.

A signed-in person (or an admin) makes one with a label, how many files and bytes in all,
which types, and until when. The link's secret is derived, by HMAC with the site's secret key,
from a random seed the record keeps; the record's id is the secret's hash. So the creator can
copy an open link again (``token_of``), while a leaked table alone (seed and hash, without the
key) gives no link away. Should the key change, old links still work (their hash is what is
looked up) but can no longer be shown again. Files sent through it belong to the creator,
private to them (no link for anyone is made): they appear in the creator's "My uploads"
(and the creator is mailed when mail is on). Every upload takes a file and its declared bytes
from the link in one conditional update (``Catalog.charge_upload_link``); an aborted or
rejected upload gives them back.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import logging

from markupsafe import escape

from webapp import rules, tokens
from webapp.aws.mailer import SendFailed
from webapp.aws.catalog import LINK_CHARGE_PREFIX
from webapp.dates import iso
from webapp.rules import Refusal
from webapp.services import Services

ADMIN_CREATOR = "admin"
MAX_FILES = 1000
MAX_DAYS = 90
MAX_LABEL_CHARS = 100
SESSION_KEY = "upload_link"

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class LinkRequest:
    label: str
    max_files: int
    max_bytes: int
    days: int
    types: tuple[str, ...] = ()  # empty: every type the site accepts


def link_id(token: str) -> str:
    return tokens.secret_hash(token)[:32]


def _token(secret_key: str, seed: str) -> str:
    """The link's secret, from its stored seed and the site's key (256 bits, URL-safe)."""
    digest = hmac.new(secret_key.encode(), b"mediahub.upload-link:" + seed.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def token_of(svc: Services, link: dict) -> str | None:
    """The secret of an open link, to show its creator again; None when it cannot be made again
    (a link from before seeds, or the site's key changed) or the link takes no more files."""
    if not link.get("seed") or why_closed(link, svc.clock()) is not None:
        return None
    token = _token(svc.settings.secret_key, link["seed"])
    return token if hmac.compare_digest(link_id(token), link["id"]) else None


def create(svc: Services, request: LinkRequest, *, creator: str, creator_email: str = "",
           creator_name: str = "") -> tuple[dict, str]:
    """Record a new upload link; answers the record and the secret token (shown once)."""
    settings = svc.settings
    label = request.label.strip()[:MAX_LABEL_CHARS]
    if not label:
        raise Refusal("invalid_request", "Give the link a name, so you can tell what arrived through it.")
    if not 1 <= request.max_files <= MAX_FILES:
        raise Refusal("invalid_request", f"A link can take from 1 to {MAX_FILES} files.")
    most = settings.max_upload_bytes * request.max_files
    if not 1 <= request.max_bytes <= most:
        raise Refusal("invalid_request", f"A link can take at most {rules.human_size(most)} in all here.")
    if not 1 <= request.days <= MAX_DAYS:
        raise Refusal("invalid_request", f"A link can last from 1 to {MAX_DAYS} days.")
    unknown = [t for t in request.types if t not in settings.allowed_types]
    if unknown:
        raise Refusal("invalid_request", f"This site does not accept {', '.join(unknown)} files.")
    now = svc.clock()
    seed = tokens.new_secret()
    token = _token(settings.secret_key, seed)
    link = {
        "id": link_id(token),
        "seed": seed,
        "creator": creator,
        "creator_email": creator_email,
        "creator_name": creator_name,
        "label": label,
        "max_files": request.max_files,
        "max_bytes": request.max_bytes,
        "types": list(request.types),
        "files": 0,
        "bytes": 0,
        "revoked": False,
        "created_at": iso(now),
        "expires_at": int(now) + request.days * 86400,
        "gsi3pk": "LINKS#" + creator,
        "gsi3sk": f"{now:017.6f}",
    }
    svc.catalog.put_upload_link(link)
    return link, token


def why_closed(link: dict | None, now: float) -> Refusal | None:
    """Pure: why an upload link takes no more files, or None while it is open."""
    if link is None:
        return Refusal("upload_link_unknown", "This upload link is not one of ours. Check that it was copied whole.",
                       404)
    if link.get("revoked"):
        return Refusal("upload_link_closed", "This upload link was withdrawn by the person who made it.", 410)
    if link["expires_at"] <= now:
        return Refusal("upload_link_closed", "This upload link has expired. Ask for a new one.", 410)
    if int(link.get("files", 0)) >= int(link["max_files"]) or int(link.get("bytes", 0)) >= int(link["max_bytes"]):
        return Refusal("upload_link_used_up", "This upload link has taken all the files it allows.", 410)
    return None


def open_link(svc: Services, token: str) -> dict:
    link = svc.catalog.get_upload_link(link_id(token)) if token and len(token) <= 100 else None
    refusal = why_closed(link, svc.clock())
    if refusal:
        raise refusal
    return link


def current(svc: Services, link_id_: str | None) -> tuple[dict | None, Refusal | None]:
    """The link this browser opened while it is still open, else why it closed (or nothing)."""
    if not link_id_:
        return None, None
    link = svc.catalog.get_upload_link(link_id_)
    closed = why_closed(link, svc.clock())
    return (None, closed) if closed else (link, None)


def check_type(link: dict, content_type: str) -> None:
    if link.get("types") and content_type not in link["types"]:
        raise Refusal("type_not_allowed", f"This upload link takes only {rules.type_words(link['types'])}.", 415)


def files_left(link: dict) -> int:
    return max(0, int(link["max_files"]) - int(link.get("files", 0)))


def bytes_left(link: dict) -> int:
    return max(0, int(link["max_bytes"]) - int(link.get("bytes", 0)))


def page_config(config: dict, link: dict | None) -> dict:
    """The upload page's limits narrowed to what the link takes (its kinds, what is left of its
    files and bytes), so the picker and the page refuse a file before any byte is sent; and a
    mark that hides the options the link's sender does not choose."""
    if link is None:
        return config
    types = {t: exts for t, exts in config["types"].items() if not link.get("types") or t in link["types"]}
    return {**config, "types": types, "allowedText": rules.type_words(list(types)),
            "maxBytes": min(config["maxBytes"], bytes_left(link)), "maxFiles": files_left(link),
            "totalBytes": bytes_left(link), "viaLink": True}


def charge(svc: Services, link: dict, media_id: str, size: int) -> None:
    """Take the file from the link's allowance, or say which limit it would pass."""
    left = bytes_left(link)
    if size > left:
        raise Refusal("upload_link_full", f"This file is larger than what the upload link still takes "
                      f"({rules.human_size(left)}).", 413)
    if not svc.catalog.charge_upload_link(link, media_id=media_id, size=size, now=int(svc.clock())):
        raise why_closed(svc.catalog.get_upload_link(link["id"]), svc.clock()) or Refusal(
            "upload_link_full", "This file would take the upload link past what it allows.", 413)


def give_back(svc: Services, media_id: str) -> bool:
    return svc.catalog.refund_upload(media_id, int(svc.clock()), prefix=LINK_CHARGE_PREFIX)


def revoke(svc: Services, link_id_: str, creator: str) -> None:
    if not tokens.looks_like_id(link_id_) or not svc.catalog.revoke_upload_link(link_id_, creator):
        raise Refusal("upload_link_unknown", "There is no such upload link of yours.", 404)


def of_creator(svc: Services, creator: str, limit: int = 50) -> list[dict]:
    now = svc.clock()
    links, _ = svc.catalog.owned_by("LINKS#" + creator, cursor=None, size=limit, now=int(now))
    for link in links:
        closed = why_closed(link, now)
        link["state"] = "open" if closed is None else closed.code.removeprefix("upload_link_").replace("_", " ")
        link["token"] = token_of(svc, link)
    return links


def announce(svc: Services, media: dict) -> None:
    """Tell the link's creator a file arrived (when mail is on). Never fails the upload."""
    link = svc.catalog.get_upload_link(media.get("upload_link") or "")
    if link is None or not link.get("creator_email") or svc.mailer is None:
        return
    where = f"{svc.settings.site_url}/me/uploads" if svc.settings.site_url else "“My uploads” on the site"
    name = media.get("name") or media["filename"]
    subject = f"A file arrived through your upload link “{link['label']}”"
    text = (f"{name} ({rules.human_size(media['size'])}) arrived through your upload link “{link['label']}”.\n\n"
            f"See it in {where}.\n")
    html = (f"<p>{escape(name)} ({escape(rules.human_size(media['size']))}) arrived through your upload link "
            f"“{escape(link['label'])}”.</p><p>See it in {escape(where)}.</p>")
    try:
        svc.mailer.send(link["creator_email"], subject, text, html)
    except SendFailed as error:
        # The error's code only: SES's message may name the address.
        log.warning("upload link mail not sent: %s", str(error).split(":", 1)[0])
