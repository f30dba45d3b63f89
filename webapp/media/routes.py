from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_wtf import FlaskForm

from webapp import delivery, embedding, ownership, services, shares
from webapp.media.forms import EmbedOriginsForm, ExpiryForm, ItemPasswordForm
from webapp.presenters import media_json
from webapp.sharing.forms import ShareForm
from webapp.uploads.routes import uploader_id

bp = Blueprint("media", __name__)


@bp.get("/media/<media_id>")
def result(media_id: str):
    svc = services()
    media = ownership.uploaded_by(svc, media_id, uploader_id())
    manage_token = session.pop("reveal_manage", {}).get(media_id)
    share = delivery.default_share(svc, media)
    return render_template(
        "media.html",
        media=media_json(svc, media, manage_token=manage_token),
        share_expires_at=share["expires_at"] if share else None,
    )


@bp.get("/gallery")
def gallery():
    items = embedding.gallery(services(), request.remote_addr)
    return render_template("gallery.html", items=items)


def render_manage(svc, media: dict, token: str, *, share_form=None, outcome=None, status=200):
    page = render_template(
        "manage.html",
        media=media_json(svc, media),
        record=media,
        shares=sorted(svc.catalog.shares_of(media["id"]), key=lambda s: s["created_at"], reverse=True),
        token=token,
        form=FlaskForm(),
        share_form=share_form or ShareForm(formdata=None),
        outcome=outcome,
        expiry_form=ExpiryForm(formdata=None),
        password_form=ItemPasswordForm(formdata=None),
        embed_form=EmbedOriginsForm(formdata=None, origins="\n".join(media.get("embed_origins") or [])),
        global_origins=svc.settings.embed_origins,
        recipients=svc.settings.recipients,
    )
    return page, status


def back_to_manage(media_id: str, token: str):
    return redirect(url_for("media.manage", media_id=media_id, token=token))


@bp.get("/manage/<media_id>/<token>")
def manage(media_id: str, token: str):
    svc = services()
    return render_manage(svc, ownership.managed_by(svc, media_id, token), token)


@bp.post("/manage/<media_id>/<token>/embed")
def embed_origins(media_id: str, token: str):
    svc = services()
    media = ownership.managed_by(svc, media_id, token)
    form = EmbedOriginsForm()
    form.validate_on_submit()
    origins = ownership.set_embed_origins(svc, media, form.origins.data or "")
    flash("Sites allowed to embed this file: " + (", ".join(origins) or "only the site-wide list") + ".")
    return back_to_manage(media_id, token)


@bp.post("/manage/<media_id>/<token>/expiry")
def expiry(media_id: str, token: str):
    svc = services()
    media = ownership.managed_by(svc, media_id, token)
    form = ExpiryForm()
    if not form.validate_on_submit():
        flash("Enter a whole number of days.")
        return back_to_manage(media_id, token)
    shares.change_expiry(svc, media, form.days.data)
    flash(f"The file is now kept for {form.days.data} more days.")
    return back_to_manage(media_id, token)


@bp.post("/manage/<media_id>/<token>/password")
def password(media_id: str, token: str):
    svc = services()
    media = ownership.managed_by(svc, media_id, token)
    form = ItemPasswordForm()
    form.validate_on_submit()
    shares.set_item_password(svc, media, form.password.data or "")
    flash("Every link now asks for the password." if form.password.data else "The password was removed.")
    return back_to_manage(media_id, token)


@bp.post("/manage/<media_id>/<token>/delete")
def delete(media_id: str, token: str):
    svc = services()
    media = ownership.managed_by(svc, media_id, token)
    ownership.delete_media(svc, media)
    flash(f"{media['name']} was deleted.")
    return redirect(url_for("uploads.index"))
