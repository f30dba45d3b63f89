from flask import Blueprint, flash, redirect, render_template, request, session, url_for

from webapp import access, delivery, presenters, services, shares, verification
from webapp.pages import applied, back_to_manage, managed, render_manage
from webapp.presenters import absolute_url
from webapp.rules import Refusal
from webapp.sharing.forms import AnyoneLinkForm, ShareForm, UnlockForm, VerifyCodeForm
from webapp.sharing.mail import composer

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
        url = delivery.download(svc, token, viewer_of, request.remote_addr)
    except Refusal as refusal:
        if refusal.code not in ("password_required", "verification_required"):
            raise
        return redirect(url_for("sharing.share_page", token=token))
    response = redirect(url, code=302)
    response.headers["Cache-Control"] = "no-store"
    return response


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
        done, _ = applied(form.days, shares.new_link_for_anyone, svc, media, form.days.data)
        if done:
            flash("A new link for anyone is ready: copy it from the top of the page.")
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


@bp.after_request
def keep_tokens_private(response):
    """Share tokens live in these URLs: never send them on as a Referer, never cache."""
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers.setdefault("Cache-Control", "private, no-store")
    return response
