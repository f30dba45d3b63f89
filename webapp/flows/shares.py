"""Sharing with named recipients, revoking, and optional passwords.

Each recipient gets a share record of their own and a link bound to it. A share
is recorded before its mail is sent and removed again if the mail fails, so a
failure never leaves a link nobody received.
"""

from __future__ import annotations

import dataclasses
from typing import Callable

from werkzeug.security import check_password_hash, generate_password_hash

from webapp import access, rules, tokens
from webapp.flows import delivery
from webapp.aws.mailer import Mailer, SendFailed
from webapp.rules import Refusal
from webapp.services import Services
from webapp.aws.catalog import share_sk
from webapp.dates import iso

PASSWORD_ATTEMPTS = 5
LOCK_SECONDS = 15 * 60
MAX_MESSAGE_CHARS = 2000
MIN_PASSWORD_CHARS = 8
MAX_PASSWORD_CHARS = 200


@dataclasses.dataclass
class ShareOutcome:
    sent: list[str] = dataclasses.field(default_factory=list)
    refused: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    failed: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    capped: str = ""  # when the links were cut short (to the files' expiry), what the owner is told


@dataclasses.dataclass(frozen=True)
class ShareRequest:
    recipients: str
    message: str = ""
    days: int = 7
    max_downloads: int | None = None
    password: str = ""
    verify: bool = False  # each recipient must confirm their address with a mailed code (webapp.flows.verification)


# compose(address, link, expires_at_iso) -> (subject, text, html)
Composer = Callable[[str, str, str], tuple[str, str, str]]
# link_for(token) -> absolute URL of /s/<token>
LinkBuilder = Callable[[str], str]


def share_by_email(svc: Services, mailer: Mailer | None, media: dict, request: ShareRequest,
                   compose: Composer, link_for: LinkBuilder) -> ShareOutcome:
    if mailer is None:
        raise Refusal("mail_not_configured", "Sharing by email is off: MEDIAHUB_MAIL_FROM is not set.", 503)
    settings = svc.settings
    if not 1 <= request.days <= settings.max_share_days:
        raise Refusal("invalid_request", f"A link can last from 1 to {settings.max_share_days} days.")
    if len(request.message) > MAX_MESSAGE_CHARS:
        raise Refusal("invalid_request", f"The message can be at most {MAX_MESSAGE_CHARS} characters.")
    password_hash = hash_password(request.password) if request.password else None
    allowed, refused = rules.check_recipients(request.recipients, settings.recipients)
    outcome = ShareOutcome(refused=refused)
    if not allowed and not refused:
        raise Refusal("invalid_request", "Enter at least one email address, one per line.")
    if allowed:
        reshare(svc, media)
    now = svc.clock()
    expires_at = min(int(now) + request.days * 86400, media["expires_at"])
    if expires_at < int(now) + request.days * 86400:
        outcome.capped = capped_note(media, request.days)
    for address in allowed:
        share = {
            "share_id": tokens.new_id(),
            "recipient": address,
            "created_at": iso(now),
            "expires_at": expires_at,
            "downloads": 0,
            "revoked": False,
            "max_downloads": request.max_downloads,
            "password_hash": password_hash,
        }
        if request.verify:
            share["verify"] = True
        share = delivery.with_short_link(svc, share)
        svc.catalog.put_share(media["id"], share)
        link = link_for(delivery.share_token(svc, media, share))
        subject, text, html = compose(address, link, iso(expires_at))
        try:
            mailer.send(address, subject, text, html)
        except SendFailed as error:
            svc.catalog.delete_share(media["id"], share)
            outcome.failed.append((address, str(error)))
            continue
        outcome.sent.append(address)
    return outcome


OWNER, ADMIN = access.OWNER, access.ADMIN
ANYONE = "anyone"


def revoke(svc: Services, media: dict, share_id: str, by: str = OWNER) -> None:
    if not tokens.looks_like_id(share_id) or not svc.catalog.revoke_share(media["id"], share_id, by=by,
                                                                          at=iso(svc.clock())):
        raise Refusal("share_not_found", "There is no such link for this file.", 404)


def revoke_all(svc: Services, media: dict, by: str = OWNER) -> int:
    """Withdraw every link and the file itself from every surface without one: the gallery,
    embeds and the link API answer "withdrawn" (``webapp.access``) until the owner shares it
    again. A withdrawal by the admins also stops links made later, and only they lift it."""
    if media.get("withdrawn_by") == ADMIN:
        by = ADMIN  # the owner withdrawing again must not turn the admins' withdrawal into their own
    at = iso(svc.clock())
    svc.catalog.set_fields(media["id"], {"withdrawn": True, "withdrawn_by": by, "withdrawn_at": at})
    shares = [s for s in svc.catalog.shares_of(media["id"]) if not s.get("revoked")]
    return sum(1 for share in shares if svc.catalog.revoke_share(media["id"], share["share_id"], by=by, at=at))


def reshare(svc: Services, media: dict) -> None:
    """The owner shares again after withdrawing everything: the file is back on its surfaces.
    Refused while the admins' withdrawal stands."""
    if not media.get("withdrawn"):
        return
    if media.get("withdrawn_by") == ADMIN:
        raise Refusal("media_withdrawn", "The site's administrators withdrew this file, so it cannot be shared "
                      "again. Ask them if you think this is a mistake.", 403)
    svc.catalog.set_fields(media["id"], {}, remove=("withdrawn", "withdrawn_by", "withdrawn_at"))


def set_visibility(svc: Services, media: dict, visibility: str) -> None:
    """Show the file in the public gallery, or take it out. Files with a download limit stay
    out: the gallery hands files out without counting."""
    if visibility not in rules.VISIBILITIES:
        raise Refusal("invalid_request", "Choose public or private.")
    if visibility == "public":
        if media.get("max_downloads") is not None:
            raise Refusal("invalid_request", "A file with a download limit cannot be shown in the public gallery.")
        reshare(svc, media)
    svc.catalog.set_visibility(media, visibility)


def new_link_for_anyone(svc: Services, media: dict, days: int) -> dict:
    """A fresh link anyone may open, for ``days`` (never past the file's own expiry).

    The answer's ``asked_until`` is when it would have stopped without the file's expiry, so the
    page can say it was cut short.
    """
    limit = svc.settings.max_share_days
    if not 1 <= days <= limit:
        raise Refusal("invalid_request", f"A link can last from 1 to {limit} days.")
    reshare(svc, media)
    now = svc.clock()
    share = {
        "share_id": tokens.new_id(),
        "recipient": ANYONE,
        "created_at": iso(now),
        "expires_at": min(int(now) + days * 86400, int(media["expires_at"])),
        "downloads": 0,
        "revoked": False,
    }
    share = delivery.with_short_link(svc, share)
    svc.catalog.put_share(media["id"], share)
    return {**share, "asked_until": int(now) + days * 86400}


def capped_note(media: dict, days: int) -> str:
    """What the owner is told when a link asked for ``days`` stops earlier, with the file."""
    return (f"You asked for {days} day{'s' if days != 1 else ''}, but the file is kept only until "
            f"{iso(int(media['expires_at']))}: the link stops then. Keep the file longer to make it last.")


def effective_expiry(media: dict, share: dict) -> int:
    """A link stops with its own expiry or the file's, whichever comes first.

    The file's expiry can be shortened after the link was made; the link's own date then no
    longer tells the truth, so pages show this instead.
    """
    return int(min(share["expires_at"], media["expires_at"]))


def downloads_left(media: dict, share: dict) -> int | None:
    """Downloads this link still allows (the link's limit and the file's), or None for no limit."""
    left = []
    if share.get("max_downloads") is not None:
        left.append(int(share["max_downloads"]) - int(share.get("downloads", 0)))
    if media.get("max_downloads") is not None:
        left.append(int(media["max_downloads"]) - int(media.get("download_count", 0)))
    return max(0, min(left)) if left else None


def link_state(media: dict, share: dict, now: float) -> str:
    """One word for the owner: withdrawn, expired, used up, or active (in that order of precedence)."""
    if share.get("revoked"):
        return "withdrawn"
    if effective_expiry(media, share) <= now:
        return "expired"
    if downloads_left(media, share) == 0:
        return "used up"
    return "active"


def change_expiry(svc: Services, media: dict, days: int) -> int:
    """Keep the file ``days`` more days from now, within the configured maximum."""
    limit = svc.settings.max_retention_days
    if not 1 <= days <= limit:
        raise Refusal("invalid_request", f"Files can be kept from 1 to {limit} days.")
    expires_at = int(svc.clock()) + days * 86400
    svc.catalog.set_fields(media["id"], {"expires_at": expires_at})
    return expires_at


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_CHARS:
        raise Refusal("invalid_request", f"A password needs at least {MIN_PASSWORD_CHARS} characters.")
    if len(password) > MAX_PASSWORD_CHARS:
        raise Refusal("invalid_request", f"A password can be at most {MAX_PASSWORD_CHARS} characters.")
    return generate_password_hash(password)  # scrypt: slow on purpose


def set_item_password(svc: Services, media: dict, password: str) -> None:
    if password:
        svc.catalog.set_fields(media["id"], {"password_hash": hash_password(password)})
    else:
        svc.catalog.set_fields(media["id"], {}, remove=("password_hash",))


def unlock(svc: Services, media: dict, share: dict, attempt: str) -> None:
    """Check a password for a share (the share's own, else the item's); lock after repeated misses."""
    now = int(svc.clock())
    locked_until = share.get("locked_until", 0)
    if locked_until > now:
        minutes = max(1, (locked_until - now + 59) // 60)
        raise Refusal("too_many_attempts", f"Too many wrong passwords. Try again in {minutes} minutes.", 429)
    expected = share.get("password_hash") or media.get("password_hash")
    if expected and attempt and check_password_hash(expected, attempt[:MAX_PASSWORD_CHARS]):
        if share.get("password_failures"):
            svc.catalog.set_fields(media["id"], {"password_failures": 0}, sk=share_sk(share["share_id"]))
        return
    svc.catalog.note_password_failure(media["id"], share["share_id"], now, allowed=PASSWORD_ATTEMPTS,
                                      lock_seconds=LOCK_SECONDS)
    raise Refusal("wrong_password", "That password is not right.", 403)
