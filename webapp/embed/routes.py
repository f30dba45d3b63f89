"""Other sites: ``/embed/<id>``, the player, and the link API (CORS for allowed origins only)."""

from flask import Blueprint, jsonify, make_response, redirect, render_template, request

from webapp import access, rules, services
from webapp.flows import embedding
from webapp.errors import json_object
from webapp.extensions import csrf
from webapp.rules import Refusal

bp = Blueprint("embed", __name__)

PLACEHOLDER = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="320" height="180" viewBox="0 0 320 180">'
    '<rect width="320" height="180" fill="#e9ecf1"/>'
    '<text x="160" y="95" font-family="sans-serif" font-size="14" fill="#5b6573" text-anchor="middle">'
    "{message}</text></svg>"
)


NO_ANCESTORS = "'none'"
PLACEHOLDER_MESSAGES = {403: "Not available on this site", 410: "No longer available",
                        409: "Being prepared: try again in a minute", 423: "Being checked: try again in a minute"}


def requesting_origin() -> str | None:
    return rules.origin_from_headers(request.headers.get("Origin"), request.headers.get("Referer"))


def placeholder(refusal: Refusal):
    message = PLACEHOLDER_MESSAGES.get(refusal.status, "Not found")
    response = make_response(PLACEHOLDER.format(message=message), refusal.status)
    response.headers["Content-Type"] = "image/svg+xml"
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    response.headers["X-Error-Code"] = refusal.code
    return no_store(response)


def no_store(response):
    response.headers["Cache-Control"] = "no-store"
    response.headers["Vary"] = "Origin, Referer"
    return response


@bp.get("/embed/<media_id>")
def embed(media_id: str):
    try:
        size = embedding.embed_size(request.args.get("w"))
        answer = embedding.embed_link(services(), media_id, requesting_origin(), request.remote_addr, size)
    except Refusal as refusal:
        return placeholder(refusal)
    return no_store(redirect(answer["url"], code=302))


@bp.get("/embed/<media_id>/player")
def player(media_id: str):
    svc = services()
    try:
        answer = embedding.player(svc, media_id, requesting_origin(), request.remote_addr)
    except Refusal as refusal:
        return refused_player(refusal)
    response = make_response(render_template("player.html", **answer))
    response.headers["Content-Security-Policy"] = (
        f"default-src 'none'; media-src {' '.join(sorted(svc.links.origins))}; "
        f"img-src {' '.join(sorted(svc.links.origins))}; style-src 'self'; "
        f"frame-ancestors {' '.join(answer['ancestors']) or NO_ANCESTORS}"
    )
    return no_store(response)


def refused_player(refusal: Refusal):
    """The player's refusal is shown inside the other site's frame, so any page may frame it:
    a placeholder that says why, instead of the browser's broken-frame icon. It carries no file
    and no link, so framing it gives nothing away."""
    response = make_response(render_template("player.html", refusal=refusal,
                                             message=PLACEHOLDER_MESSAGES.get(refusal.status, "Not found")), refusal.status)
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'self'; frame-ancestors *"
    response.headers["X-Error-Code"] = refusal.code
    return no_store(response)


def cors(response, origin: str | None, allowed: bool):
    response.headers["Vary"] = "Origin"
    if allowed and origin:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Methods"] = "GET"
        response.headers["Access-Control-Max-Age"] = "600"
    return response


@bp.route("/api/media/<media_id>/link", methods=["OPTIONS"])
def link_preflight(media_id: str):
    svc = services()
    origin = request.headers.get("Origin")
    try:
        media = embedding.embeddable(svc, media_id)
        allowed = rules.origin_allowed(origin, embedding.allowed_origins(svc, media))
    except Refusal:
        allowed = False
    return cors(make_response("", 204), origin, allowed)


@bp.get("/api/media/<media_id>/link")
def media_link(media_id: str):
    svc = services()
    origin = request.headers.get("Origin")
    key = embedding.api_key_valid(svc, request.headers.get("Authorization"))
    if key is False:
        raise Refusal("api_key_invalid", "The API key is not valid.", 401)
    if key:
        return jsonify(embedding.link(svc, embedding.allowed(svc, access.LINK, media_id), request.remote_addr))
    answer = embedding.embed_link(svc, media_id, requesting_origin(), request.remote_addr)
    return cors(jsonify(answer), origin, allowed=True)


@bp.post("/api/links")
@csrf.exempt  # authenticated by API key, never by cookies
def many_links():
    svc = services()
    if not embedding.api_key_valid(svc, request.headers.get("Authorization")):
        raise Refusal("api_key_invalid", "Send a valid API key as Authorization: Bearer <key>.", 401)
    from webapp import schemas  # marshmallow is imported by the first API call, not at start

    body = schemas.load(schemas.LinksRequest, json_object())
    return jsonify(embedding.links_for_ids(svc, body["ids"], request.remote_addr))
