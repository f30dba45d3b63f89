"""Who may have an item: one pure decision for every surface.

The gallery, share pages and their downloads, embeds and the player, the link API, "My uploads"
and the admin area each ask ``decide`` with the facts they read (the item, the share a token
named, the scan mode, who is asking) and get a ``Refusal`` or None. No surface checks a rule of
its own, so a rule added here (a password, a withdrawal, a download limit, the malware scan, a
recipient's verification) holds everywhere at once: a password on the file cannot leave it in
the gallery, and a download limit cannot be side-stepped through the link API.

Pure: no Flask, no boto3, no clock; the caller passes ``now``.
"""

from __future__ import annotations

import dataclasses
import hmac

from webapp.rules import Refusal

# What is being asked for.
VIEW = "view"          # a share page and its download, through a share token
EMBED = "embed"        # /embed/<id>, the player, and the link endpoint another site calls
LINK = "link"          # the link API with an API key (one item or many)
GALLERY = "gallery"    # listed in the public gallery, and the gallery's item page
MANAGE = "manage"      # the owner's or an admin's view: manage page, "My uploads", admin list
ACTIONS = (VIEW, EMBED, LINK, GALLERY, MANAGE)

# The scan states (webapp.flows.scanning writes them).
SCAN_PENDING, SCAN_CLEAN, SCAN_INFECTED, SCAN_OFF = "pending", "clean", "infected", "off"

# Who withdrew a link or a file.
OWNER, ADMIN = "owner", "admin"


@dataclasses.dataclass(frozen=True)
class Viewer:
    """Who is asking, as the request proved it.

    ``manage_token_ok``: the request carried the item's manage link. ``person``: the signed-in
    person's id. ``admin``: signed in to the admin area. ``unlocked``: this browser gave the
    password of the share it is opening. ``verified``: this browser proved the share's
    recipient address with the code mailed to it.
    """

    person: str | None = None
    admin: bool = False
    manage_token_ok: bool = False
    unlocked: bool = False
    verified: bool = False


VISITOR = Viewer()


def is_owner(media: dict, viewer: Viewer) -> bool:
    owner = media.get("owner")
    return viewer.manage_token_ok or bool(viewer.person and owner and hmac.compare_digest(owner, viewer.person))


def scan_state(media: dict, scan_mode: str) -> str:
    """The item's scan state: with scanning on, a record without one yet is pending."""
    return media.get("scan") or (SCAN_PENDING if scan_mode != SCAN_OFF else SCAN_OFF)


# The refusals, one place for their codes and words.
def not_found() -> Refusal:
    return Refusal("media_not_found", "There is no file here, or it is not yours to see.", 404)


def link_gone() -> Refusal:
    return Refusal("link_gone", "The file behind this link has been removed.", 410)


def media_expired() -> Refusal:
    return Refusal("media_expired", "This file has expired and is no longer available.", 410)


def link_expired() -> Refusal:
    return Refusal("link_expired", "This link has expired. Ask the person who shared it for a new one.", 410)


def withdrawn_by(by: str | None) -> str:
    return {OWNER: "by the file's owner", ADMIN: "by the site's administrators"}.get(by or "", "")


def link_revoked(by: str | None) -> Refusal:
    who = withdrawn_by(by)
    return Refusal("link_revoked", f"This link was withdrawn{' ' + who if who else ''}.", 410)


def media_withdrawn(by: str | None) -> Refusal:
    who = withdrawn_by(by)
    return Refusal("media_withdrawn",
                   f"This file was withdrawn{' ' + who if who else ''}: it is no longer shown or shared.", 410)


def download_limit(what: str = "file") -> Refusal:
    subject = "This file has been downloaded" if what == "file" else "This link has been used"
    return Refusal("download_limit", f"{subject} as many times as its owner allowed.", 410)


def media_infected() -> Refusal:
    return Refusal("media_infected", "This file was withheld because a malware scan found a threat.", 410)


def scan_pending() -> Refusal:
    return Refusal("scan_pending", "This file is being checked for malware. Try again in a minute.", 423,
                   retry_after=60)


def password_required() -> Refusal:
    return Refusal("password_required", "This file is protected by a password: enter it to continue.", 401)


def verification_required() -> Refusal:
    return Refusal("verification_required",
                   "This link is for one person: confirm your address with the code we e-mail to it.", 401)


def password_protected() -> Refusal:
    return Refusal("password_protected",
                   "This file is protected by a password: it is shared only through its links.", 403)


def limited(action: str) -> Refusal:
    if action == EMBED:
        return Refusal("embedding_not_allowed", "Files with a download limit cannot be embedded.", 403)
    return Refusal("download_limited",
                   "This file has a download limit: it is shared only through its links, which count downloads.",
                   403)


def _limit_spent(limit, used) -> bool:
    return limit is not None and int(used or 0) >= int(limit)


def decide(action: str, media: dict | None, *, now: float, scan_mode: str, viewer: Viewer = VISITOR,
           share: dict | None = None) -> Refusal | None:
    """Why ``viewer`` may not have ``media`` for ``action`` now, or None when they may.

    ``share`` is the share a token named (``VIEW`` only). The checks run from the most final to
    the most transient, so a visitor hears the reason that will not change by waiting first.
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    if media is None or media.get("status") != "ready":
        return link_gone() if action == VIEW else not_found()
    if action == MANAGE:
        # The owner and the admins see an item whatever viewers are told (scan, withdrawal...).
        if not (viewer.admin or is_owner(media, viewer)):
            return not_found()
        return media_expired() if media["expires_at"] <= now else None
    if action == VIEW:
        if share is None:
            return link_gone()
        if share.get("revoked"):
            return link_revoked(share.get("revoked_by"))
        if share["expires_at"] <= now:
            return link_expired()
    if media["expires_at"] <= now:
        return media_expired()
    # The owner's "withdraw everything" revokes the links that exist and takes the file off the
    # surfaces without one; the admins' also stops links made later.
    if media.get("withdrawn") and (action != VIEW or media.get("withdrawn_by") == ADMIN):
        return media_withdrawn(media.get("withdrawn_by"))
    state = scan_state(media, scan_mode)
    if state == SCAN_INFECTED:
        return media_infected()
    if state == SCAN_PENDING and scan_mode != SCAN_OFF:
        return scan_pending()
    if action == VIEW:
        if _limit_spent(media.get("max_downloads"), media.get("download_count")):
            return download_limit()
        if _limit_spent(share.get("max_downloads"), share.get("downloads")):
            return download_limit("link")
        if (media.get("password_hash") or share.get("password_hash")) and not viewer.unlocked:
            return password_required()
        if share.get("verify") and not viewer.verified:
            return verification_required()
        return None
    # Surfaces that hand out the file without a share: never for a file its owner put behind a
    # password or a download limit, which only a share's page can ask for or count.
    if action == GALLERY and media.get("visibility") != "public":
        return not_found()
    if media.get("password_hash"):
        return not_found() if action == GALLERY else password_protected()
    if media.get("max_downloads") is not None:
        return not_found() if action == GALLERY else limited(action)
    return None


def decide_transfer(transfer: dict | None, share: dict | None, files: list[dict], *, now: float, scan_mode: str,
                    viewer: Viewer = VISITOR) -> Refusal | None:
    """Why ``viewer`` may not open a transfer's link now, or None when they may.

    The link as a whole: gone, withdrawn, expired (its own end, or every file gone), the
    transfer's password. Each file is then asked of ``decide`` (``VIEW``) with the link as its
    share, so a file's scan, withdrawal or download limit holds as on its own link.
    """
    if transfer is None or share is None:
        return link_gone()
    if share.get("revoked"):
        return link_revoked(share.get("revoked_by"))
    if share["expires_at"] <= now:
        return link_expired()
    if not files:
        return link_gone()
    if all(media["expires_at"] <= now for media in files):
        return link_expired()
    if (transfer.get("password_hash") or share.get("password_hash")) and not viewer.unlocked:
        return password_required()
    return None


def manageable(items: list[dict], viewer: Viewer, *, now: float, scan_mode: str) -> list[dict]:
    """For "My uploads" and the admin list: the items ``viewer`` may manage, each with the code a
    visitor would be told (``viewers_told``), so the lists say what viewers get."""
    shown = []
    for media in items:
        if decide(MANAGE, media, now=now, scan_mode=scan_mode, viewer=viewer) is None:
            shown.append({**media, "viewers_told": viewers_told(media, now=now, scan_mode=scan_mode)})
    return shown


def viewers_told(media: dict, *, now: float, scan_mode: str) -> str | None:
    """For the owner's and the admin's lists: the code a visitor of an embed would get, or None."""
    refusal = decide(EMBED, media, now=now, scan_mode=scan_mode)
    return refusal.code if refusal else None


# What the owner's and the admin's lists say for each ``viewers_told`` code.
VIEWER_STATES = {
    "scan_pending": "Being checked for malware",
    "media_infected": "Withheld: a threat was found",
    "media_withdrawn": "Withdrawn",
    "password_protected": "Through its links only (password)",
    "embedding_not_allowed": "Through its links only (download limit)",
    "media_expired": "Expired",
}
