from flask import Blueprint, flash, redirect, render_template, session, url_for
from flask_wtf import FlaskForm

from webapp import delivery, ownership, services
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


@bp.get("/manage/<media_id>/<token>")
def manage(media_id: str, token: str):
    svc = services()
    media = ownership.managed_by(svc, media_id, token)
    shares = svc.catalog.shares_of(media_id)
    return render_template(
        "manage.html", media=media_json(svc, media), shares=shares, token=token, form=FlaskForm()
    )


@bp.post("/manage/<media_id>/<token>/delete")
def delete(media_id: str, token: str):
    svc = services()
    media = ownership.managed_by(svc, media_id, token)
    ownership.delete_media(svc, media)
    flash(f"{media['name']} was deleted.")
    return redirect(url_for("uploads.index"))
