import functools

from flask import Blueprint, flash, make_response, redirect, render_template, request, session, url_for
from flask_wtf import FlaskForm

from webapp import config, limits, services
from webapp.flows import admin_area, upload_links
from webapp.account.forms import UploadLinkForm
from webapp.admin.forms import LoginForm
from webapp.errors import wants_json
from webapp.pages import REVEAL_UPLOAD_LINK, create_upload_link, upload_links_of
from webapp.logs import count
from webapp.rules import Refusal

bp = Blueprint("admin", __name__, url_prefix="/admin")


def admin_required(view):
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        svc = services()
        if not admin_area.enabled(svc) and not admin_area.by_group(svc):
            raise Refusal("admin_off", "The admin area is off: set MEDIAHUB_ADMIN_USER and MEDIAHUB_ADMIN_PASSWORD_HASH, "
                          "or MEDIAHUB_ADMIN_GROUP with sign-in.", 404)
        if not admin_area.session_is_admin(session.get("admin"), svc.clock()):
            return redirect(url_for("admin.login", next=request.full_path))
        return view(*args, **kwargs)

    return wrapped


@bp.route("/login", methods=["GET", "POST"])
def login():
    svc = services()
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        try:
            signed_in = admin_area.enabled(svc) and admin_area.sign_in(
                svc, form.username.data, form.password.data,
                limits.address_identity(limits.source_address(request.environ)))
        except limits.Limited as refusal:
            if wants_json():
                raise
            return _locked_page(form, refusal)
        if signed_in:
            session.clear()
            session["admin"] = True
            target = request.args.get("next", "")
            return redirect(target if target.startswith("/admin") else url_for("admin.index"))
        error = "That user name and password do not match."
    status = 401 if error else 200
    return render_template("admin/login.html", form=form, error=error, enabled=admin_area.enabled(svc),
                           by_group=admin_area.by_group(svc)), status


def _locked_page(form, refusal: limits.Limited):
    """The sign-in page again, saying why and for how long (429 with Retry-After)."""
    count("Refusals", code=refusal.code)
    page = render_template("admin/login.html", form=form, error=refusal.message, code=refusal.code, enabled=True)
    response = make_response(page, refusal.status)
    response.headers["Retry-After"] = str(refusal.retry_after)
    return response


@bp.post("/logout")
def logout():
    session.pop("admin", None)
    return redirect(url_for("uploads.index"))


@bp.get("/")
@admin_required
def index():
    return _index(services(), UploadLinkForm(formdata=None))


def _index(svc, link_form, status: int = 200):
    search = request.args.get("q", "")
    order = request.args.get("order") or "newest"
    items, next_cursor = admin_area.listing(svc, request.args.get("cursor"), search, order, request.remote_addr)
    links = (upload_links_of(svc, upload_links.ADMIN_CREATOR)
             if config.INVITED in svc.settings.uploader_modes else None)
    return render_template("admin/index.html", items=items, next_cursor=next_cursor, search=search, form=FlaskForm(),
                           order=order, orders=admin_area.ORDERS, sorted_at_most=admin_area.SORTED_AT_MOST,
                           first_page=not request.args.get("cursor"),
                           links=links, link_form=link_form,
                           labels={link["id"]: link["label"] for link in links or []},
                           new_link=session.pop(REVEAL_UPLOAD_LINK, None)), status


@bp.post("/links")
@admin_required
def new_upload_link():
    """Upload links the site's administrators make: what arrives belongs to nobody's "My
    uploads" and is listed here."""
    svc = services()
    form = UploadLinkForm()
    if form.validate_on_submit() and create_upload_link(svc, form, creator=upload_links.ADMIN_CREATOR,
                                                        creator_name="the site's administrators"):
        return redirect(url_for("admin.index") + "#links-heading")
    return _index(svc, form, status=400)


@bp.post("/links/<link_id>/revoke")
@admin_required
def revoke_upload_link(link_id: str):
    upload_links.revoke(services(), link_id, upload_links.ADMIN_CREATOR)
    flash("The upload link was withdrawn: it takes no more files.")
    return redirect(url_for("admin.index") + "#links-heading")


@bp.post("/media/<media_id>/delete")
@admin_required
def delete(media_id: str):
    media = admin_area.delete(services(), media_id)
    flash(f"Deleted {media['name']}.")
    return redirect(url_for("admin.index"))


@bp.post("/media/<media_id>/lift")
@admin_required
def lift(media_id: str):
    media = admin_area.lift_withdrawal(services(), media_id)
    flash(f"Lifted the withdrawal of {media['name'] or media['filename']}: its owner can share it again. "
          "Links withdrawn with it stay withdrawn.")
    return redirect(url_for("admin.index"))


@bp.get("/media/<media_id>")
@admin_required
def open_item(media_id: str):
    """The item itself, through a signed link of a few minutes (not counted as a download)."""
    return redirect(admin_area.original_link(services(), media_id, request.remote_addr), code=302)


@bp.app_context_processor
def admin_link():
    """Every page's header links to the admin area while this browser is signed in to it."""
    svc = services()
    return {"is_admin": admin_area.session_is_admin(session.get("admin"), svc.clock())}


@bp.post("/media/<media_id>/revoke")
@admin_required
def revoke(media_id: str):
    count = admin_area.revoke_all(services(), media_id)
    flash(f"Withdrew {count} link{'s' if count != 1 else ''}.")
    return redirect(url_for("admin.index"))


@bp.after_request
def private(response):
    """The admin pages hold the upload links' addresses and signed links: no cache keeps them."""
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
