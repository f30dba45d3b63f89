from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_wtf import FlaskForm

from webapp import delivery, embedding, ownership, services
from webapp.media.forms import EmbedOriginsForm
from webapp.presenters import media_json
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


@bp.get("/manage/<media_id>/<token>")
def manage(media_id: str, token: str):
    svc = services()
    media = ownership.managed_by(svc, media_id, token)
    shares = svc.catalog.shares_of(media_id)
    return render_template(
        "manage.html",
        media=media_json(svc, media),
        record=media,
        shares=shares,
        token=token,
        form=FlaskForm(),
        embed_form=EmbedOriginsForm(origins="\n".join(media.get("embed_origins") or [])),
        global_origins=svc.settings.embed_origins,
    )


@bp.post("/manage/<media_id>/<token>/embed")
def embed_origins(media_id: str, token: str):
    svc = services()
    media = ownership.managed_by(svc, media_id, token)
    form = EmbedOriginsForm()
    form.validate_on_submit()
    origins = ownership.set_embed_origins(svc, media, form.origins.data or "")
    flash("Sites allowed to embed this file: " + (", ".join(origins) or "only the site-wide list") + ".")
    return redirect(url_for("media.manage", media_id=media_id, token=token))


@bp.post("/manage/<media_id>/<token>/delete")
def delete(media_id: str, token: str):
    svc = services()
    media = ownership.managed_by(svc, media_id, token)
    ownership.delete_media(svc, media)
    flash(f"{media['name']} was deleted.")
    return redirect(url_for("uploads.index"))
