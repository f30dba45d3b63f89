"""Page helpers more than one blueprint uses, so no blueprint imports another's routes."""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import Callable, TypeVar

from flask import flash, redirect, render_template, request, session, url_for

from webapp import access, config, identity, limits, presenters, tokens
from webapp.flows import delivery, ownership, scanning, upload_links
from webapp.media.forms import EmbedOriginsForm, ExpiryForm, ItemPasswordForm, VisibilityForm
from webapp.rules import Refusal
from webapp.services import Services
from webapp.sharing.forms import AnyoneLinkForm, ShareForm

T = TypeVar("T")


def applied(field, step: Callable[..., T], *args) -> tuple[bool, T | None]:
    """Run one flow step for a form; a refusal of what was typed (400) becomes the field's own
    error, so the page shows it beside the field with everything typed still there.

    Other refusals (not yours, gone, storage down) are not the typist's mistake: they go on to
    the error page.
    """
    try:
        return True, step(*args)
    except Refusal as refusal:
        if refusal.status != 400:
            raise
        field.errors = [*field.errors, refusal.message]
        return False, None


def render_manage(svc: Services, media: dict, token: str, *, status: int = 200, **forms):
    """The manage page. A form passed in (after a failed submit) keeps what was typed and its
    errors; the others start fresh."""
    fresh = {
        "share_form": lambda: ShareForm(formdata=None),
        "anyone_form": lambda: AnyoneLinkForm(formdata=None),
        "expiry_form": lambda: ExpiryForm(formdata=None, days=days_left(svc, media)),
        "password_form": lambda: ItemPasswordForm(formdata=None),
        "embed_form": lambda: EmbedOriginsForm(formdata=None, origins="\n".join(media.get("embed_origins") or [])),
        "visibility_form": lambda: VisibilityForm(formdata=None),
    }
    outcome = forms.pop("outcome", None)
    values = {name: forms.get(name) or make() for name, make in fresh.items()}
    rows = presenters.share_rows(svc, media)
    shown = presenters.media_json(svc, media)
    page = render_template(
        "manage.html",
        media=shown,
        scan_text=presenters.SCAN_TEXT[shown["scan"]],
        record=media,
        shares=rows,
        # The link for anyone that lasts longest: the one worth handing on.
        anyone_link=max((row for row in rows if row["url"]), key=lambda row: row["expires_at"], default=None),
        token=token,
        outcome=outcome,
        embed_url=presenters.absolute_url(svc, "embed.embed", media_id=media["id"]),
        embed_snippet=presenters.embed_snippet(svc, media),
        global_origins=svc.settings.embed_origins,
        recipients=svc.settings.recipients,
        withheld=delivery.withheld(media, svc.settings.strip_metadata),
        viewers_told=access.viewers_told(media, now=svc.clock(), scan_mode=scanning.mode(svc)),
        **values,
    )
    # The page holds the secret manage link and every recipient's: no cache may keep it.
    return page, status, {"Cache-Control": "no-store"}


def days_left(svc: Services, media: dict) -> int:
    """Whole days the file has left, rounded up: the expiry form starts from what is true now."""
    return max(1, math.ceil((media["expires_at"] - svc.clock()) / 86400))


def back_to_manage(media_id: str, token: str):
    """After a change, back to the top of the manage page, where its notice is. The forms post
    to their own section (#...); without a fragment of its own the redirect would keep theirs."""
    return redirect(url_for("media.manage", media_id=media_id, token=token, _anchor="main"))


def uploader_id(create: bool = False) -> str | None:
    """A random id for this browser's upload session, kept in the signed session cookie."""
    if "uploader" not in session and create:
        session.permanent = True
        session["uploader"] = tokens.new_secret()
    return session.get("uploader")


def signed_in(svc: Services) -> identity.Person | None:
    """The signed-in person, when sign-in is on."""
    return identity.current(svc.clock()) if svc.settings.sign_in_on else None


def managed(svc: Services, media_id: str, token: str) -> dict:
    """The guard every manage view calls first: the manage link's holder, or the signed-in
    owner at /manage/<id>/mine."""
    person = signed_in(svc)
    return ownership.managed_by(svc, media_id, token, person.id if person else None)


@dataclasses.dataclass(frozen=True)
class Uploader:
    """Who is uploading, as MEDIAHUB_UPLOADERS lets them: whom the file will belong to
    (``owner``), the upload link it comes through, and who is charged for it (``identity``)."""

    person: identity.Person | None
    link: dict | None
    identity: str
    owner: str


def who_uploads(svc: Services) -> Uploader:
    """This browser as an uploader, or the refusal that says what it needs (a sign-in, a link).

    An upload link this browser opened comes first: whoever holds it uploads to its creator.
    Anonymous clients are counted by the address API Gateway saw, never by a header.
    """
    modes = svc.settings.uploader_modes
    person = signed_in(svc)
    closed = None
    if config.INVITED in modes:
        link, closed = upload_links.current(svc, session.get(upload_links.SESSION_KEY))
        if closed is not None and person is not None:
            session.pop(upload_links.SESSION_KEY, None)  # a signed-in person uploads as themselves again
        if link is not None:
            owner = "" if link["creator"] == upload_links.ADMIN_CREATOR else link["creator"]
            return Uploader(person, link, "link:" + link["id"], owner)
    address = limits.address_identity(limits.source_address(request.environ))
    if config.ANYONE in modes:
        # Where anyone may upload, signing in (perhaps with an account made a minute ago) is no
        # way to a fresh allowance: the address stays the one charged.
        return Uploader(person, None, address, person.id if person else "")
    if person is not None and config.SIGNED_IN in modes:
        return Uploader(person, None, "person:" + person.id, person.id)
    if closed is not None:  # the upload link this browser came with is used up, expired or withdrawn
        raise closed
    if config.SIGNED_IN in modes:
        raise Refusal("sign_in_required", "Sign in to upload here.", 401)
    raise Refusal("upload_link_required", "Uploading here needs an upload link: ask someone who uses this "
                  "site to send you one.", 403)


REVEAL_UPLOAD_LINK = "reveal_upload_link"


def upload_links_of(svc: Services, creator: str) -> list[dict]:
    """A creator's upload links for "My uploads" or the admin area, each open one with its
    address to copy again."""
    links = upload_links.of_creator(svc, creator)
    for link in links:
        token = link.pop("token", None)
        link["url"] = presenters.absolute_url(svc, "uploads.upload_link", token=token) if token else None
    return links


def create_upload_link(svc: Services, form, *, creator: str, creator_email: str = "", creator_name: str = "") -> bool:
    """The upload-link form of "My uploads" and of the admin area: make the link and keep its
    address for the next page, which shows it at the top (the list can show it again)."""
    create = functools.partial(upload_links.create, creator=creator, creator_email=creator_email,
                               creator_name=creator_name)
    done, made = applied(form.label, create, svc, form.link_request(svc.settings.allowed_types))
    if done:
        session[REVEAL_UPLOAD_LINK] = presenters.absolute_url(svc, "uploads.upload_link", token=made[1])
        flash("The upload link is ready: copy it below. While it is open, you can copy it again from the list.")
    return done
