from flask import Blueprint, current_app, flash, jsonify, redirect, render_template, request, session, url_for

from webapp import access, presenters, services, tokens
from webapp.flows import delivery, shares, transfers, verification
from webapp.pages import applied, back_to_manage, managed, render_manage, signed_in, uploader_id, who_uploads
from webapp.presenters import absolute_url
from webapp.rules import Refusal
from webapp.sharing.forms import AnyoneLinkForm, ShareForm, TransferExpiryForm, UnlockForm, VerifyCodeForm
from webapp.sharing.mail import composer, transfer_composer

bp = Blueprint("sharing", __name__)

MAX_UNLOCKED = 50
MAX_VERIFIED = 20


def unlocked(share_id: str) -> bool:
    return share_id in session.get("unlocked", [])


def remember_unlocked(share_id: str) -> None:
    session["unlocked"] = (session.get("unlocked", []) + [share_id])[-MAX_UNLOCKED:]


def verified(address: str) -> bool:
    return address.lower() in session.get("verified", [])


def remember_verified(address: str) -> None:
    """A proved address opens every share for it in this browser (the newest few are kept)."""
    kept = [a for a in session.get("verified", []) if a != address.lower()]
    session["verified"] = (kept + [address.lower()])[-MAX_VERIFIED:]


def viewer_of(share: dict) -> access.Viewer:
    """This browser, as far as a share asks: whether it gave the share's password, and whether
    it proved the share's recipient address with a mailed code."""
    return access.Viewer(unlocked=unlocked(share["share_id"]), verified=verified(share.get("recipient", "")))


@bp.route("/s/<token>", methods=["GET", "POST"])
def share_page(token: str):
    svc = services()
    if delivery.names_a_transfer(svc, token):
        return _transfer_page(svc, token)
    opened = delivery.read_share(svc, token)
    refusal = delivery.refusal(svc, opened, viewer_of)
    if refusal is None:
        return render_template("share.html", **presenters.share_view(svc, opened, request.remote_addr))
    if refusal.code == "verification_required":
        return _verify(svc, opened, refusal)
    if refusal.code == "password_required":
        return _unlock(svc, opened)
    raise refusal


def _verify_page(media: dict, share: dict, form: VerifyCodeForm, status: int, error: str | None = None):
    return render_template("verify.html", media=media, form=form, error=error,
                           address=verification.masked(share["recipient"]),
                           code_minutes=verification.CODE_SECONDS // 60), status


def _verify(svc, opened: delivery.OpenShare, refusal: Refusal):
    """The code page (401 until the code is given); a POST here is the code typed in."""
    media, share = opened.media, opened.share
    form = VerifyCodeForm()
    if request.method == "POST" and form.validate_on_submit():
        try:
            address = verification.confirm(svc, media, share, form.code.data)
        except Refusal as wrong:
            form.code.data = ""
            return _verify_page(media, share, form, wrong.status, wrong.message)
        remember_verified(address)
        return redirect(url_for("sharing.share_page", token=opened.token))
    return _verify_page(media, share, form, refusal.status)


@bp.post("/s/<token>/code")
def send_code(token: str):
    """Mail a one-time code to the share's own recipient (never to an address typed here)."""
    svc = services()
    opened = delivery.read_share(svc, token)
    refusal = delivery.refusal(svc, opened, viewer_of)
    if refusal is None or refusal.code == "password_required":
        # Nothing to prove (any more) in this browser, or the password comes first: the share page.
        return redirect(url_for("sharing.share_page", token=token))
    if refusal.code != "verification_required":
        raise refusal
    try:
        address = verification.send_code(svc, opened.media, opened.share)
    except Refusal as refused:
        if not refused.retry_after:
            raise
        page, status = _verify_page(opened.media, opened.share, VerifyCodeForm(formdata=None), refused.status,
                                    refused.message)
        return page, status, {"Retry-After": str(refused.retry_after)}
    flash(f"We sent a code to {address}. It works for {verification.CODE_SECONDS // 60} minutes.")
    return redirect(url_for("sharing.share_page", token=token))


def _unlock(svc, opened: delivery.OpenShare):
    media, share = opened.media, opened.share
    form = UnlockForm()
    if request.method == "POST" and form.validate_on_submit():
        try:
            shares.unlock(svc, media, share, form.password.data)
        except Refusal as refusal:
            return render_template("unlock.html", media=media, form=form, error=refusal.message), refusal.status
        remember_unlocked(share["share_id"])
        return redirect(url_for("sharing.share_page", token=opened.token))
    return render_template("unlock.html", media=media, form=form)


@bp.get("/s/<token>/download")
def download(token: str):
    svc = services()
    try:
        url = delivery.download(svc, token, viewer_of, request.remote_addr, owns=_uploaded_here)
    except Refusal as refusal:
        if refusal.code not in ("password_required", "verification_required"):
            raise
        return redirect(url_for("sharing.share_page", token=token))
    response = redirect(url, code=302)
    response.headers["Cache-Control"] = "no-store"
    return response


def _uploaded_here(media: dict) -> bool:
    """The browser that uploaded the file (or its signed-in owner): not a recipient."""
    person = _person_id(services())
    return tokens.secret_matches(uploader_id(), media.get("uploader_hash")) or bool(
        person and media.get("owner") == person)


@bp.post("/manage/<media_id>/<token>/share")
def share_by_email(media_id: str, token: str):
    svc = services()
    media = managed(svc, media_id, token)
    form = ShareForm()
    outcome = None
    if form.validate_on_submit():
        request_ = shares.ShareRequest(
            recipients=form.recipients.data,
            message=(form.message.data or "").strip(),
            days=form.days.data,
            max_downloads=form.max_downloads.data,
            password=form.password.data or "",
            verify=bool(form.verify.data),
        )
        link_for = lambda share_token: absolute_url(svc, "sharing.share_page", token=share_token)  # noqa: E731
        _, outcome = applied(form.recipients, shares.share_by_email, svc, svc.mailer, media, request_,
                             composer(svc, media, request_), link_for)
    if outcome is not None:
        # Leave in the box only what still needs attention.
        form.recipients.data = "\n".join(address for address, _ in outcome.refused + outcome.failed)
    return render_manage(svc, media, token, share_form=form, outcome=outcome, status=200 if outcome else 400)


@bp.post("/manage/<media_id>/<token>/links")
def new_link(media_id: str, token: str):
    svc = services()
    media = managed(svc, media_id, token)
    form = AnyoneLinkForm()
    if form.validate_on_submit():
        done, made = applied(form.days, shares.new_link_for_anyone, svc, media, form.days.data)
        if done:
            flash("A new link for anyone is ready: copy it from the top of the page.")
            if made["expires_at"] < made["asked_until"]:
                flash(shares.capped_note(media, form.days.data))
            return back_to_manage(media_id, token)
    return render_manage(svc, media, token, anyone_form=form, status=400)


@bp.post("/manage/<media_id>/<token>/shares/<share_id>/revoke")
def revoke(media_id: str, token: str, share_id: str):
    svc = services()
    media = managed(svc, media_id, token)
    shares.revoke(svc, media, share_id)
    flash("The link was withdrawn; it now answers that it is no longer available.")
    return back_to_manage(media_id, token)


@bp.post("/manage/<media_id>/<token>/revoke-all")
def revoke_all(media_id: str, token: str):
    svc = services()
    media = managed(svc, media_id, token)
    count = shares.revoke_all(svc, media)
    flash(f"{count} link{'s' if count != 1 else ''} withdrawn.")
    return back_to_manage(media_id, token)


# Transfers: the files chosen together, one short link (/s/<id>) and one manage page.

REVEAL_TRANSFER = "reveal_transfer"
MAX_REVEALED = 5


def _person_id(svc) -> str | None:
    person = signed_in(svc)
    return person.id if person else None


def _transfer_viewer(svc, opened: transfers.OpenTransfer) -> access.Viewer:
    return access.Viewer(unlocked=unlocked(opened.share["share_id"]),
                         manage_token_ok=transfers.is_owner(opened.transfer, uploader_id(), _person_id(svc)))


@bp.post("/api/transfers")
def start_transfer():
    """Open a transfer for the files the page is about to send. Its links are kept in this
    browser's session until the page finishes the transfer (then shown once)."""
    from webapp import schemas  # marshmallow is imported by the first API call, not at start

    svc = services()
    uploader = who_uploads(svc)
    body = schemas.load(schemas.TransferRequest, request.get_json(silent=True))
    started = transfers.start(svc, body, uploader_id(create=True), owner=uploader.owner, link=uploader.link)
    transfer = started.transfer
    if uploader.link is None:  # through an upload link the holder gets no link: the files are the maker's
        kept = dict(list(session.get(REVEAL_TRANSFER, {}).items())[-(MAX_REVEALED - 1):])
        kept[transfer["id"]] = {"manage": started.manage_token, "short": started.short_id}
        session[REVEAL_TRANSFER] = kept
    return jsonify({"transfer_id": transfer["id"], "capped": started.capped or None}), 201


@bp.post("/api/transfers/<transfer_id>/finish")
def finish_transfer(transfer_id: str):
    """No more files: the page gets the share and manage links (this once), the uploader's
    address gets them by mail (once)."""
    svc = services()
    revealed = session.get(REVEAL_TRANSFER, {}).get(transfer_id)
    links = {}
    if revealed:
        links = {"share": absolute_url(svc, "sharing.share_page", token=revealed["short"]),
                 "manage": absolute_url(svc, "sharing.manage_transfer", transfer_id=transfer_id,
                                        token=revealed["manage"])}
    transfer = transfers.finish(svc, transfer_id, uploader_id() or "", transfer_composer(svc), links)
    kept = session.get(REVEAL_TRANSFER, {})
    if transfer_id in kept:
        session[REVEAL_TRANSFER] = {k: v for k, v in kept.items() if k != transfer_id}
    return jsonify({"transfer": presenters.transfer_json(svc, transfer, links)})


def _transfer_page(svc, short_id: str):
    opened = transfers.read_link(svc, short_id)
    viewer = _transfer_viewer(svc, opened)
    refusal = transfers.refusal(svc, opened, viewer)
    if refusal is None:
        return render_template("transfer.html", **presenters.transfer_view(svc, opened, viewer, request.remote_addr))
    if refusal.code != "password_required":
        raise refusal
    form = UnlockForm()
    if request.method == "POST" and form.validate_on_submit():
        try:
            transfers.unlock(svc, opened, form.password.data)
        except Refusal as wrong:
            return render_template("unlock.html", media={"name": "Shared files"}, form=form,
                                   error=wrong.message), wrong.status
        remember_unlocked(opened.share["share_id"])
        return redirect(url_for("sharing.share_page", token=short_id))
    return render_template("unlock.html", media={"name": "Shared files"}, form=form), 401


@bp.get("/s/<token>/files/<media_id>")
def transfer_file(token: str, media_id: str):
    """One file of a transfer: counted as one download (never for its owner), then the file."""
    svc = services()
    opened = transfers.read_link(svc, token)
    viewer = _transfer_viewer(svc, opened)
    try:
        _, url = transfers.file_link(svc, opened, media_id, viewer, counted=not viewer.manage_token_ok,
                                     client_ip=request.remote_addr)
    except Refusal as refusal:
        if refusal.code != "password_required":
            raise
        return redirect(url_for("sharing.share_page", token=token))
    response = redirect(url, code=302)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/s/<token>/files/<media_id>/thumb")
def transfer_thumbnail(token: str, media_id: str):
    """A file's thumbnail (or poster) on a transfer's page: a redirect to its signed URL, so the
    page carries short addresses and signs nothing for the rows a visitor never scrolls to."""
    svc = services()
    opened = transfers.read_link(svc, token, only=media_id)
    url = transfers.picture_link(svc, opened, media_id, _transfer_viewer(svc, opened), request.remote_addr)
    response = redirect(url, code=302)
    # The browser may reuse the redirect while the signature lasts (it lasts 5 minutes).
    response.headers["Cache-Control"] = "private, max-age=240"
    return response


@bp.get("/s/<token>/files.json")
def transfer_files(token: str):
    """What "Download all" fetches: each file's name and size (no link: each is asked for, and
    counted, as the zip reaches it)."""
    svc = services()
    opened = transfers.read_link(svc, token)
    refusal = transfers.refusal(svc, opened, _transfer_viewer(svc, opened))
    if refusal:
        raise refusal
    return jsonify(presenters.transfer_files_json(svc, opened))


@bp.get("/s/<token>/files/<media_id>/link")
def transfer_file_link(token: str, media_id: str):
    """A signed URL for one file of a transfer (counted as one download, never for its owner)."""
    svc = services()
    opened = transfers.read_link(svc, token)
    viewer = _transfer_viewer(svc, opened)
    media, url = transfers.file_link(svc, opened, media_id, viewer, counted=not viewer.manage_token_ok,
                                     client_ip=request.remote_addr)
    return jsonify({"url": url, "filename": media["filename"], "size": media["size"]})


@bp.get("/s/<token>/all.zip")
def transfer_zip(token: str):
    """Reached only where the page's service worker is not running: the zip is made in the
    browser, never here, so the page says how to save the files instead."""
    flash("Saving every file at once needs a browser with service workers; save each file instead.")
    return redirect(url_for("sharing.share_page", token=token))


@bp.get("/s/download-all.js")
def download_all_worker():
    """The service worker that streams "Download all" as a zip (its scope is /s/)."""
    from webapp import assets

    name = assets.bundled("download-all-sw.js")
    if not name:
        raise Refusal("not_found", "The download script is not built.", 404)
    response = current_app.send_static_file(name)
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Service-Worker-Allowed"] = "/s/"
    return response


def _managed_transfer(svc, transfer_id: str, token: str) -> dict:
    return transfers.managed(svc, transfer_id, token, _person_id(svc))


def _back(transfer_id: str, token: str):
    return redirect(url_for("sharing.manage_transfer", transfer_id=transfer_id, token=token, _anchor="main"))


def _render_transfer_manage(svc, transfer: dict, token: str, status: int = 200, **forms):
    page = render_template("manage_transfer.html",
                           **presenters.transfer_manage_view(svc, transfer, token, request.remote_addr, **forms))
    return page, status, {"Cache-Control": "no-store"}


@bp.get("/t/<transfer_id>/<token>")
def manage_transfer(transfer_id: str, token: str):
    svc = services()
    return _render_transfer_manage(svc, _managed_transfer(svc, transfer_id, token), token)


@bp.post("/t/<transfer_id>/<token>/share")
def share_transfer(transfer_id: str, token: str):
    svc = services()
    transfer = _managed_transfer(svc, transfer_id, token)
    form = ShareForm()
    outcome = None
    if form.validate_on_submit():
        request_ = shares.ShareRequest(recipients=form.recipients.data, message=(form.message.data or "").strip(),
                                       days=form.days.data, password=form.password.data or "")
        link_for = lambda short: absolute_url(svc, "sharing.share_page", token=short)  # noqa: E731
        _, outcome = applied(form.recipients, transfers.share_by_email, svc, transfer, request_,
                             transfer_composer(svc), link_for)
    if outcome is not None:
        form.recipients.data = "\n".join(address for address, _ in outcome.refused + outcome.failed)
    return _render_transfer_manage(svc, transfer, token, share_form=form, outcome=outcome,
                                   status=200 if outcome else 400)


@bp.post("/t/<transfer_id>/<token>/password")
def transfer_password(transfer_id: str, token: str):
    from webapp.media.forms import ItemPasswordForm

    svc = services()
    transfer = _managed_transfer(svc, transfer_id, token)
    form = ItemPasswordForm()
    if form.validate_on_submit():
        done, _ = applied(form.password, transfers.set_password, svc, transfer, form.password.data or "")
        if done:
            flash("The link now asks for the password." if form.password.data else "The password was removed.")
            return _back(transfer_id, token)
    return _render_transfer_manage(svc, transfer, token, password_form=form, status=400)


@bp.post("/t/<transfer_id>/<token>/expiry")
def transfer_expiry(transfer_id: str, token: str):
    svc = services()
    transfer = _managed_transfer(svc, transfer_id, token)
    form = TransferExpiryForm()
    if form.validate_on_submit():
        done, answer = applied(form.days, transfers.change_expiry, svc, transfer, form.days.data)
        if done:
            _, capped = answer
            flash(capped or f"The files are now kept for {form.days.data} more days.")
            return _back(transfer_id, token)
    return _render_transfer_manage(svc, transfer, token, expiry_form=form, status=400)


@bp.post("/t/<transfer_id>/<token>/withdraw")
def withdraw_transfer(transfer_id: str, token: str):
    svc = services()
    count = transfers.withdraw(svc, _managed_transfer(svc, transfer_id, token))
    flash(f"{count} link{'s' if count != 1 else ''} withdrawn: they now say the files are no longer shared.")
    return _back(transfer_id, token)


@bp.post("/t/<transfer_id>/<token>/files/<media_id>/delete")
def delete_transfer_file(transfer_id: str, token: str, media_id: str):
    svc = services()
    media = transfers.delete_file(svc, _managed_transfer(svc, transfer_id, token), media_id)
    flash(f"{media['name'] or media['filename']} was deleted.")
    return _back(transfer_id, token)


@bp.post("/t/<transfer_id>/<token>/delete")
def delete_transfer(transfer_id: str, token: str):
    svc = services()
    count = transfers.delete(svc, _managed_transfer(svc, transfer_id, token))
    flash(f"The transfer and its {count} file{'s' if count != 1 else ''} were deleted.")
    return redirect(url_for("uploads.index"))


@bp.after_request
def keep_tokens_private(response):
    """Share tokens live in these URLs: never send them on as a Referer, never cache."""
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers.setdefault("Cache-Control", "private, no-store")
    return response
