"""Verified recipients: a share that only opens once the browser proves the recipient's address.

The owner may ask that a named recipient confirm their address before the link opens (the share
record carries ``"verify": True``; ``webapp.access`` refuses it with ``verification_required``
until the viewer is ``verified``). Proof is a six-digit one-time code mailed to the share's own
recipient address, never to an address the visitor types: whoever holds a forwarded link still
needs the recipient's mailbox.

The code itself is never stored or logged. The share record keeps only a keyed hash of it
(HMAC-SHA256 with the app's secret, bound to the share), when it stops working, how many wrong
codes were tried, and when it was sent:

- a code works for ``CODE_SECONDS`` (10 minutes), and once: it is removed when it is used;
- ``MAX_WRONG`` wrong codes void it, and a new one must be asked for (a million codes, five
  guesses each, one new code a minute: guessing is hopeless);
- a new code is sent at most once per ``RESEND_SECONDS`` per share, so the link cannot be used to
  flood the recipient's mailbox.

The rules (``new_code``, ``code_hash``, ``stored_fields``, ``resend_wait``, ``check``) are pure: no
Flask, no boto3, no clock; the caller passes ``now``. ``send_code`` and ``confirm`` are the flow
steps: they read and write the share record through ``svc.catalog`` and mail through
``svc.mailer``, like ``webapp.flows.shares``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from typing import Callable

from webapp.limits import Limited
from webapp.rules import Refusal

CODE_DIGITS = 6
CODE_SECONDS = 10 * 60
MAX_WRONG = 5
RESEND_SECONDS = 60
# Codes one share may have in all: each new code brings MAX_WRONG fresh guesses, so this bounds
# what a forwarded link's holder can try (50 guesses at a million codes) however long it lasts.
MAX_CODES = 10

# The fields a pending code leaves on the share record.
HASH, EXPIRES, WRONG, SENT_AT = "verify_code_hash", "verify_code_expires", "verify_code_wrong", "verify_code_sent_at"
CODES_SENT = "verify_codes_sent"
CODE_FIELDS = (HASH, EXPIRES, WRONG)

# What ``check`` can say about a typed code.
RIGHT, WRONG_CODE, VOIDED, EXPIRED, NO_CODE = "right", "wrong", "voided", "expired", "no_code"


def new_code() -> str:
    """Six random digits from the system's CSPRNG (leading zeros kept: every code is six long)."""
    return f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"


def code_hash(secret: str, share_id: str, code: str) -> str:
    """What the record keeps instead of the code. Keyed, so a copy of the table alone cannot try
    the million codes against it; bound to the share, so a hash copied onto another share's
    record proves nothing there."""
    return hmac.new(secret.encode(), f"{share_id}:{code}".encode(), hashlib.sha256).hexdigest()


def normalized(typed: str | None) -> str:
    """The digits a person typed, forgiving spaces and dashes ("123 456", "123-456")."""
    return re.sub(r"[\s-]", "", typed or "")


def stored_fields(secret: str, share_id: str, code: str, now: float) -> dict:
    """The share record's fields for a freshly sent code: any earlier code is replaced by it."""
    return {HASH: code_hash(secret, share_id, code), EXPIRES: int(now) + CODE_SECONDS, WRONG: 0,
            SENT_AT: int(now)}


def resend_wait(share: dict, now: float) -> int:
    """Seconds until this share may send another code (0: now)."""
    sent_at = share.get(SENT_AT)
    if sent_at is None:
        return 0
    return max(0, int(sent_at) + RESEND_SECONDS - int(now))


def check(secret: str, share: dict, typed: str | None, now: float) -> str:
    """What a typed code is worth against the share's pending code: ``RIGHT``, ``WRONG_CODE``
    (a miss that leaves tries), ``VOIDED`` (the miss that used up the last try), ``EXPIRED`` or
    ``NO_CODE`` (none pending, or voided earlier). Compared in constant time, and a code is
    hashed even when it cannot be right, so the answer's timing says nothing about it."""
    expected = share.get(HASH)
    attempt = code_hash(secret, share.get("share_id", ""), normalized(typed)[:CODE_DIGITS * 2])
    if not expected:
        return NO_CODE
    if int(share.get(EXPIRES, 0)) <= now:
        return EXPIRED
    if int(share.get(WRONG, 0)) >= MAX_WRONG:
        return NO_CODE
    if hmac.compare_digest(expected, attempt):
        return RIGHT
    return VOIDED if int(share.get(WRONG, 0)) + 1 >= MAX_WRONG else WRONG_CODE


def tries_left(share: dict) -> int:
    """Wrong codes the pending code still tolerates after one more miss."""
    return max(0, MAX_WRONG - int(share.get(WRONG, 0)) - 1)


def masked(address: str) -> str:
    """The recipient's address as the code page shows it: enough for the recipient to recognise,
    not enough to hand the address to whoever was forwarded the link ("a•••@example.com")."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}•••@{domain}" if domain else "the recipient's address"


def code_mail(code: str) -> tuple[str, str, str]:
    """The code mail: subject, text and HTML. Short, and no more than the recipient needs: the
    code, how long it works, and that it is safe to ignore if they did not ask for it."""
    minutes = CODE_SECONDS // 60
    subject = f"Your Mediahub code: {code}"
    text = (f"Your code to open the shared file is {code}.\n\n"
            f"It works for {minutes} minutes, once.\n\n"
            "If you did not ask for this code, you can ignore this mail: nothing is opened without it.\n")
    html = ("<!doctype html>\n<html lang=\"en\"><body style=\"font-family: sans-serif; color: #1d232b;\">\n"
            f"<p>Your code to open the shared file is</p>\n"
            f"<p style=\"font-size: 1.6em; font-weight: bold; letter-spacing: .15em;\">{code}</p>\n"
            f"<p>It works for {minutes} minutes, once.</p>\n"
            "<p style=\"color: #5b6573;\">If you did not ask for this code, you can ignore this mail: "
            "nothing is opened without it.</p>\n</body></html>")
    return subject, text, html


# The flow steps: they read and write the share record and send mail. They import the catalog's
# and the mailer's names themselves, so the rules above load without botocore.

def code_recently_sent(wait: int) -> Limited:
    return Limited("code_recently_sent",
                   f"A code was sent less than a minute ago: check your mail, or wait {wait} seconds "
                   "before asking for another.", wait)


def too_many_codes() -> Refusal:
    return Refusal("too_many_codes", "This link has had all the codes it allows. Ask the person who shared it "
                   "for a new link.", 403)


def send_code(svc, media: dict, share: dict, *, new: Callable[[], str] = new_code) -> str:
    """Mail a new code to the share's recipient and keep only its hash; returns the masked address
    it went to. Refused while a code sent less than ``RESEND_SECONDS`` ago stands (429), and when
    mail is off (503). A failed send leaves no code behind and does not hold back the next try."""
    from webapp.aws.catalog import share_sk
    from webapp.aws.mailer import SendFailed

    if svc.mailer is None:
        raise Refusal("mail_not_configured", "Codes cannot be mailed: MEDIAHUB_MAIL_FROM is not set.", 503)
    now = svc.clock()
    wait = resend_wait(share, now)
    sk = share_sk(share["share_id"])
    if int(share.get(CODES_SENT, 0)) >= MAX_CODES:
        raise too_many_codes()
    if wait or not svc.catalog.stamp_unless_recent(media["id"], sk, field=SENT_AT, now=int(now),
                                                   every=RESEND_SECONDS, counter=CODES_SENT, most=MAX_CODES):
        raise code_recently_sent(wait or RESEND_SECONDS)
    address = share["recipient"]
    code = new()
    svc.catalog.set_fields(media["id"], stored_fields(svc.settings.secret_key, share["share_id"], code, now), sk=sk)
    try:
        svc.mailer.send(address, *code_mail(code))
    except SendFailed:
        svc.catalog.set_fields(media["id"], {}, sk=sk, remove=(*CODE_FIELDS, SENT_AT))
        raise Refusal("mail_failed", "The code could not be mailed just now. Try again in a minute.", 503,
                      retry_after=60) from None
    return masked(address)


def confirm(svc, media: dict, share: dict, typed: str | None) -> str:
    """Check a typed code against the share's pending one. Right: the code is used up and the
    recipient's lower-cased address is returned, for the caller to remember as proved. Wrong: the
    miss is counted on the record and a refusal says what to do next."""
    from webapp.aws.catalog import share_sk

    now = svc.clock()
    sk = share_sk(share["share_id"])
    outcome = check(svc.settings.secret_key, share, typed, now)
    if outcome in (RIGHT, WRONG_CODE, VOIDED) and not svc.catalog.take_try(
            media["id"], sk, counter=WRONG, allowed=MAX_WRONG, holder=HASH, value=share[HASH]):
        # Parallel tries took the last ones (or a new code replaced this one) since it was read.
        raise Refusal("code_voided", "That code was tried too many times: it no longer works. Ask for a new code.",
                      403)
    if outcome == RIGHT:
        if not svc.catalog.remove_if_holds(media["id"], sk, CODE_FIELDS, holder=HASH, value=share[HASH]):
            raise Refusal("no_code", "That code was used already. Ask for a new code.", 403)
        return share["recipient"].lower()
    if outcome == WRONG_CODE:
        left = tries_left(share)
        raise Refusal("wrong_code", f"That code is not right. {left} more tr{'y' if left == 1 else 'ies'} "
                      "before it stops working.", 403)
    if outcome == VOIDED:
        svc.catalog.set_fields(media["id"], {}, sk=sk, remove=CODE_FIELDS)
        raise Refusal("code_voided", "That code is not right, and it was tried too many times: it no longer "
                      "works. Ask for a new code.", 403)
    if outcome == EXPIRED:
        raise Refusal("code_expired", "That code has expired. Ask for a new code.", 403)
    raise Refusal("no_code", "There is no code waiting for this link. Ask for a new code.", 403)
