"""The share mail's words: composed here, sent by the flow (webapp/flows/shares.py)."""

from __future__ import annotations

from flask import render_template

from webapp.flows import shares
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


def transfer_composer(svc: Services):
    """The mails of a transfer: "uploaded" (to the uploader's own address: the share link and
    the manage link), "arrived" (to an upload link's maker: one mail for the batch) and
    "shared" (to a recipient: their own link)."""

    def compose(kind: str, transfer: dict, files: list, links: dict):
        count = len(files)
        what = (files[0].get("name") or files[0]["filename"]) if count == 1 else f"{count} files"
        subject = {
            "uploaded": f"Your upload: {what}",
            "arrived": f"{what} arrived through your upload link “{links.get('label', '')}”",
            "shared": svc.settings.mail_subject.replace("{name}", what),
        }[kind]
        where = f"{svc.settings.site_url}/me/uploads" if svc.settings.site_url else "“My uploads” on the site"
        values = dict(kind=kind, files=files, what=what, links=links, where=where,
                      expires_at=utc_text(links["expires_at"]) if links.get("expires_at") else "")
        return subject, render_template("email/transfer.txt", **values), render_template("email/transfer.html",
                                                                                          **values)

    return compose
