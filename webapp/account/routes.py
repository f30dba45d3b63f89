"""Signing in with OpenID Connect, signing out, "My uploads" and the upload links people make."""

import re

from flask import Blueprint, flash, redirect, render_template, request, session, url_for

from webapp import access, config, identity, presenters, services
from webapp.flows import scanning, transfers, upload_links
from webapp.account.forms import UploadLinkForm
from webapp.dates import iso
from webapp.flows.ownership import MINE
from webapp.pages import REVEAL_UPLOAD_LINK, create_upload_link, upload_links_of, signed_in
from webapp.rules import Refusal

bp = Blueprint("account", __name__)

NEXT_KEY = "signin_next"
SIGNED_OUT_KEY = "signed_out"
MY_UPLOADS_SHOWN = 100


def sign_in_on(svc) -> None:
    if not svc.settings.sign_in_on:
        raise Refusal("signin_off", "Sign-in is off on this site.", 404)


# A path on this site: one slash, then no slash or backslash, and no control character or space
# anywhere (browsers and urlsplit drop tabs and newlines, which would turn "/\t/evil" into "//evil").
LOCAL_PATH = re.compile(r"/(?![/\\])[^\x00-\x20\x7f\\]*")


def local_path(target: str | None) -> str:
    """Only a path on this site to go back to after signing in (never another site)."""
    return target if target and LOCAL_PATH.fullmatch(target) else "/"


def person_required(svc):
    person = signed_in(svc)
    if person is None:
        raise Refusal("sign_in_required", "Sign in to see this page.", 401)
    return person


@bp.get("/signin")
def sign_in():
    svc = services()
    sign_in_on(svc)
    session[NEXT_KEY] = local_path(request.args.get("next"))
    callback = presenters.absolute_url(svc, "account.callback")
    # After signing out here, the provider asks again rather than signing the browser straight
    # back in with its own session (a shared computer).
    extra = {"prompt": "login"} if session.pop(SIGNED_OUT_KEY, False) else {}
    return identity.client().authorize_redirect(callback, **extra)


@bp.get("/signin/callback")
def callback():
    svc = services()
    sign_in_on(svc)
    target = local_path(session.get(NEXT_KEY))
    from authlib.integrations.base_client import OAuthError
    from joserfc.errors import JoseError

    try:
        token = identity.client().authorize_access_token()
    except (OAuthError, JoseError) as error:  # the provider's refusal, or an ID token that failed a check
        raise identity.failed(error) from None
    person = identity.person_from_claims(svc.settings, token.get("userinfo") or {}, svc.clock())
    identity.remember(person)
    if person.email:
        svc.catalog.remember_person(person.id, email=person.email, name=person.name, at=iso(svc.clock()))
    if person.admin:
        session["admin"] = person.until  # the admin area, for as long as this sign-in counts
    flash(f"Signed in as {person.email or person.name}.")
    return redirect(target)


@bp.post("/signout")
def sign_out():
    identity.forget()
    session[SIGNED_OUT_KEY] = True
    flash("You are signed out.")
    return redirect(url_for("uploads.index"))


@bp.get("/me/uploads")
def my_uploads():
    svc = services()
    sign_in_on(svc)
    person = signed_in(svc)
    if person is None:
        return redirect(url_for("account.sign_in", next=request.path))
    return _page(svc, person, UploadLinkForm(formdata=None))


def _page(svc, person, form, status: int = 200):
    now = svc.clock()
    scan_mode = scanning.mode(svc)
    items, _ = svc.catalog.owned_by("OWNER#" + person.id, cursor=None, size=MY_UPLOADS_SHOWN, now=int(now))
    mine = access.manageable(items, access.Viewer(person=person.id), now=now, scan_mode=scan_mode)
    links = upload_links_of(svc, person.id) if config.INVITED in svc.settings.uploader_modes else None
    labels = {link["id"]: link["label"] for link in links or []}
    new_link = session.pop(REVEAL_UPLOAD_LINK, None)
    sent = [t for t in transfers.of_owner(svc, person.id) if t["files"]]
    return render_template("account/my_uploads.html", items=mine, links=links, labels=labels, form=form,
                           new_link=new_link, mine=MINE, transfers=sent), status


@bp.post("/me/links")
def new_upload_link():
    svc = services()
    person = person_required(svc)
    if config.INVITED not in svc.settings.uploader_modes:
        raise Refusal("upload_links_off", "Upload links are off on this site (MEDIAHUB_UPLOADERS).", 404)
    form = UploadLinkForm()
    if form.validate_on_submit() and create_upload_link(svc, form, creator=person.id, creator_email=person.email,
                                                        creator_name=person.name):
        return redirect(url_for("account.my_uploads") + "#links-heading")
    return _page(svc, person, form, status=400)


@bp.post("/me/links/<link_id>/revoke")
def revoke_upload_link(link_id: str):
    svc = services()
    person = person_required(svc)
    upload_links.revoke(svc, link_id, person.id)
    flash("The upload link was withdrawn: it takes no more files.")
    return redirect(url_for("account.my_uploads") + "#links-heading")


@bp.after_request
def private(response):
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
