"""The share mail's words: composed here, sent by the flow (webapp/shares.py)."""

from __future__ import annotations

from flask import render_template

from webapp import shares
from webapp.dates import utc_text
from webapp.services import Services


def composer(svc: Services, media: dict, request: shares.ShareRequest) -> shares.Composer:
    """Mail for one recipient. It says when a password is needed (never the password itself),
    and when the recipient will be asked to confirm their address, so nobody is surprised by a
    locked page. (The confirmation note rides in the mail's opening line, which both bodies show.)"""
    password_needed = bool(request.password or media.get("password_hash"))
    subject = svc.settings.mail_subject.replace("{name}", media["name"])

    def compose(address: str, link: str, expires_at: str):
        values = dict(media=media, link=link, message=request.message, expires_at=utc_text(expires_at),
                      password_needed=password_needed,
                      sender_note=f"A file was shared with you ({address}) through Mediahub." + (
                          " You will be asked to confirm your address: we will e-mail a code to it."
                          if request.verify else ""))
        return subject, render_template("email/share.txt", **values), render_template("email/share.html", **values)

    return compose
