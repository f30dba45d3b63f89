from flask import Blueprint, g, jsonify, make_response, redirect, render_template, request, session, url_for
from flask_wtf import FlaskForm

from webapp import assets, rules, services
from webapp.flows import arrivals, upload_links, uploading
from webapp.pages import uploader_id, who_uploads
from webapp.rules import Refusal
from webapp.presenters import sender_json
from webapp.uploads.forms import UploadForm

bp = Blueprint("uploads", __name__)


@bp.get("/")
def index():
    svc = services()
    try:
        uploader = who_uploads(svc)
    except Refusal as refusal:
        return render_template("upload_closed.html", refusal=refusal), refusal.status
    g.posts_to_storage = True  # the page's script sends files to the bucket: its CSP must allow it
    # Named now, not on the first upload: the page starts several uploads at once, and each
    # would otherwise make an upload session of its own, leaving all but one unable to complete.
    uploader_id(create=True)
    config = upload_links.page_config(uploading.page_config(svc.settings), uploader.link)
    return render_template("index.html", form=UploadForm(), settings=svc.settings, uploader=uploader,
                           upload_config=config)


@bp.route("/u/<token>", methods=["GET", "POST"])
def upload_link(token: str):
    """An upload link: what it takes and for whom, and a button that makes this browser upload
    through it. Only that POST (with its CSRF token) switches it on, so no other site can send
    a browser here to have its next uploads land in someone else's account."""
    svc = services()
    try:
        link = upload_links.open_link(svc, token)
    except Refusal as refusal:
        response = make_response(render_template("upload_closed.html", refusal=refusal), refusal.status)
    else:
        if request.method == "POST" and FlaskForm().validate_on_submit():
            session[upload_links.SESSION_KEY] = link["id"]
            return redirect(url_for("uploads.index"))
        kinds = rules.type_words(link.get("types") or svc.settings.allowed_types)
        response = make_response(render_template("upload_link.html", link=link, form=FlaskForm(), kinds=kinds,
                                                 largest=min(svc.settings.max_upload_bytes,
                                                             upload_links.bytes_left(link))))
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/upload-link/stop")
def stop_upload_link():
    """Upload as oneself again (or not at all), no longer through the link."""
    session.pop(upload_links.SESSION_KEY, None)
    return redirect(url_for("uploads.index"))


@bp.post("/")
def index_without_script():
    """The form posts here only when JavaScript is off: the file cannot be sent from here."""
    form = UploadForm()
    form.validate_on_submit()
    config = uploading.page_config(services().settings)
    return render_template("index.html", form=form, needs_script=True, upload_config=config), 400


@bp.app_template_global()
def bundled(name: str) -> str | None:
    return assets.bundled(name)


@bp.after_app_request
def cache_bundled_files(response):
    """Hashed bundle files never change under their name: browsers may keep them a year."""
    if response.status_code == 200 and assets.is_bundled_file(request.path):
        response.headers["Cache-Control"] = assets.IMMUTABLE
    return response


@bp.post("/api/uploads")
def create_upload():
    from webapp import schemas  # marshmallow is imported by the first API call, not at start

    svc = services()
    uploader = who_uploads(svc)
    body = schemas.load(schemas.UploadRequest, request.get_json(silent=True))
    answer = uploading.start_upload(svc, body, uploader_id(create=True), identity=uploader.identity,
                                    owner=uploader.owner, link=uploader.link)
    return jsonify(answer), 201


@bp.post("/api/uploads/<upload_id>/parts")
def sign_parts(upload_id: str):
    from webapp import schemas

    body = schemas.load(schemas.PartBatch, request.get_json(silent=True))
    return jsonify(uploading.sign_parts(services(), upload_id, body, uploader_id() or ""))


@bp.get("/api/uploads/<upload_id>/parts")
def list_parts(upload_id: str):
    return jsonify(uploading.list_parts(services(), upload_id, uploader_id() or ""))


@bp.delete("/api/uploads/<upload_id>")
def abort_upload(upload_id: str):
    uploading.abort_upload(services(), upload_id, uploader_id() or "")
    return "", 204


@bp.post("/api/uploads/<upload_id>/complete")
def complete_upload(upload_id: str):
    svc = services()
    completion = uploading.complete_upload(svc, upload_id, uploader_id() or "")
    media = arrivals.upload_completed(svc, completion)  # local mode processes now; on AWS the S3 event does
    if completion.manage_token:
        # Shown once, on the result page this browser is sent to next.
        session["reveal_manage"] = {completion.media["id"]: completion.manage_token}
    body = {"media": sender_json(svc, media, manage_token=completion.manage_token, share=completion.share)}
    return jsonify(body), 201 if completion.created else 200


@bp.get("/api/health")
def health():
    """For load balancers and uptime checks: answers without touching AWS."""
    return jsonify(status="ok")


@bp.get("/api/openapi.json")
def openapi():
    from webapp.openapi import document

    return jsonify(document())
