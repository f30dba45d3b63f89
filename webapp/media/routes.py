from flask import Blueprint, flash, jsonify, redirect, render_template, request, session, url_for

from webapp import presenters, services
from webapp.flows import embedding, ownership, shares, transfers
from webapp.media.forms import EmbedOriginsForm, ExpiryForm, ItemPasswordForm, VisibilityForm
from webapp.pages import applied, back_to_manage, managed, render_manage, uploader_id

bp = Blueprint("media", __name__)


@bp.get("/media/<media_id>")
def result(media_id: str):
    svc = services()
    media = ownership.uploaded_by(svc, media_id, uploader_id())
    manage_token = session.pop("reveal_manage", {}).get(media_id)
    return render_template("media.html", **presenters.result_page(svc, media, manage_token, request.remote_addr))


@bp.post("/api/media/<media_id>/poster")
def poster_policy(media_id: str):
    """A POST policy for the video's poster frame, for the browser that uploaded it."""
    from webapp import schemas
    from webapp.flows import posters

    body = schemas.load(schemas.PosterRequest, request.get_json(silent=True))
    return jsonify(posters.sign(services(), media_id, body, uploader_id()))


@bp.post("/api/media/<media_id>/poster/complete")
def poster_complete(media_id: str):
    """Check the posted frame, store the checked copy, record it (201; 200 when it was done before)."""
    from webapp.flows import posters

    svc = services()
    media, created = posters.complete(svc, media_id, uploader_id())
    return jsonify({"media": presenters.sender_json(svc, media)}), 201 if created else 200


@bp.get("/gallery")
def gallery():
    items = embedding.gallery(services(), request.remote_addr)
    return render_template("gallery.html", items=items)


@bp.get("/gallery/<media_id>")
def public_item(media_id: str):
    item = embedding.public_item(services(), media_id, request.remote_addr)
    return render_template("public_item.html", item=item)


@bp.get("/manage/<media_id>/<token>")
def manage(media_id: str, token: str):
    svc = services()
    return render_manage(svc, managed(svc, media_id, token), token)


@bp.get("/manage/<media_id>/<token>/original")
def original(media_id: str, token: str):
    svc = services()
    url = ownership.original_link(svc, managed(svc, media_id, token), request.remote_addr)
    response = redirect(url, code=302)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.post("/manage/<media_id>/<token>/embed")
def embed_origins(media_id: str, token: str):
    svc = services()
    media = managed(svc, media_id, token)
    form = EmbedOriginsForm()
    if form.validate_on_submit():
        done, origins = applied(form.origins, ownership.set_embed_origins, svc, media, form.origins.data or "")
        if done:
            flash("Sites allowed to embed this file: " + (", ".join(origins) or "only the site-wide list") + ".")
            return back_to_manage(media_id, token)
    return render_manage(svc, media, token, embed_form=form, status=400)


@bp.post("/manage/<media_id>/<token>/expiry")
def expiry(media_id: str, token: str):
    svc = services()
    media = managed(svc, media_id, token)
    form = ExpiryForm()
    if form.validate_on_submit():
        done, expires_at = applied(form.days, shares.change_expiry, svc, media, form.days.data)
        if done:
            transfers.file_kept_longer(svc, media, expires_at)
            flash(f"The file is now kept for {form.days.data} more days.")
            return back_to_manage(media_id, token)
    return render_manage(svc, media, token, expiry_form=form, status=400)


@bp.post("/manage/<media_id>/<token>/password")
def password(media_id: str, token: str):
    svc = services()
    media = managed(svc, media_id, token)
    form = ItemPasswordForm()
    if form.validate_on_submit():
        done, _ = applied(form.password, shares.set_item_password, svc, media, form.password.data or "")
        if done:
            flash("Every link now asks for the password." if form.password.data else "The password was removed.")
            return back_to_manage(media_id, token)
    return render_manage(svc, media, token, password_form=form, status=400)


@bp.post("/manage/<media_id>/<token>/visibility")
def visibility(media_id: str, token: str):
    svc = services()
    media = managed(svc, media_id, token)
    form = VisibilityForm()
    if form.validate_on_submit():
        done, _ = applied(form.visibility, shares.set_visibility, svc, media, form.visibility.data)
        if done:
            flash("The file is now listed in the public gallery." if form.visibility.data == "public"
                  else "The file is no longer listed in the public gallery.")
            return back_to_manage(media_id, token)
    return render_manage(svc, media, token, visibility_form=form, status=400)


@bp.post("/manage/<media_id>/<token>/delete")
def delete(media_id: str, token: str):
    svc = services()
    media = managed(svc, media_id, token)
    ownership.delete_media(svc, media)
    flash(f"{media['name']} was deleted.")
    return redirect(url_for("uploads.index"))
