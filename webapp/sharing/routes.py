from flask import Blueprint, redirect, render_template, request

from webapp import delivery, rules, services

bp = Blueprint("sharing", __name__)


@bp.get("/s/<token>")
def share_page(token: str):
    svc = services()
    opened = delivery.open_share(svc, token)
    media = opened.media
    kind = rules.preview_kind(media["content_type"])
    preview = (
        delivery.signed_url(svc, media, svc.clock(), inline=True, client_ip=request.remote_addr) if kind else None
    )
    return render_template("share.html", media=media, token=token, preview=preview, preview_kind=kind)


@bp.get("/s/<token>/download")
def download(token: str):
    response = redirect(delivery.download(services(), token, request.remote_addr), code=302)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.after_request
def keep_tokens_private(response):
    """Share tokens live in these URLs: never send them on as a Referer, never cache."""
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers.setdefault("Cache-Control", "private, no-store")
    return response
