"""Turning refusals and failures into JSON for the API and pages for people."""

from __future__ import annotations

import logging

from botocore.exceptions import BotoCoreError, ClientError
from flask import Flask, current_app, g, jsonify, make_response, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from webapp.logs import count
from webapp.rules import Refusal

log = logging.getLogger(__name__)

TITLES = {
    400: "That did not work",
    403: "Not allowed",
    404: "Not found",
    409: "Not ready yet",
    410: "No longer available",
    413: "Too much data",
    422: "Upload refused",
    429: "Too many requests",
    503: "Storage unavailable",
}

WHAT_TO_DO = {
    400: "Check what you entered and try again.",
    403: "If you think you should have access, ask the person who gave you the link.",
    404: "Check that the address was copied whole.",
    409: "Wait a moment and try again.",
    410: "Ask the person who shared it for a new link.",
    413: "Send less data.",
    422: "Check the file and upload it again.",
    429: "Wait a while, then try again.",
    503: "Nothing was changed. Try again in a minute.",
}


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def error_response(status: int, code: str, message: str, what_to_do: str = ""):
    """JSON for the API, a page for people. Refusal messages already say what to do."""
    if wants_json():
        return jsonify(error={"code": code, "message": message}), status
    title = TITLES.get(status, "Something went wrong")
    page = render_template(
        "error.html", status=status, code=code, title=title, message=message, what_to_do=what_to_do
    )
    return page, status


# Methods whose request may carry a body; a body on any of them must be a JSON object.
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def has_body() -> bool:
    return bool(request.content_length) or "chunked" in request.headers.get("Transfer-Encoding", "").lower()


def json_object() -> dict | None:
    """The request's JSON object; None when there is no body at all.

    The one place the API reads a body's shape: a string, a list, a number, ``true``, ``null``,
    broken JSON or another content type is ``invalid_request`` (400) here, before a view's
    schema or flow can trip over it (``"x".get(...)`` would be a 500).
    """
    if not has_body():
        return None
    if not request.is_json:
        raise Refusal("invalid_request", "Send a JSON object, with Content-Type: application/json.")
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise Refusal("invalid_request", "Send a JSON object: this body is not one.")
    return data


def register(app: Flask) -> None:
    @app.before_request
    def api_bodies_are_json_objects():
        """Every API endpoint, including those that take no fields (``{}`` or nothing),
        refuses a body that is not a JSON object: one rule, not one per view."""
        if request.method in BODY_METHODS and request.path.startswith("/api/"):
            json_object()

    @app.errorhandler(Refusal)
    def refusal(error: Refusal):
        count("Refusals", code=error.code)
        body, status = error_response(error.status, error.code, error.message)
        response = make_response(body, status)
        if error.retry_after:  # a limit, a scan or a rendition says when to come back
            response.headers["Retry-After"] = str(error.retry_after)
        return response

    @app.errorhandler(CSRFError)
    def csrf_failed(error: CSRFError):
        count("Refusals", code="csrf_failed")
        return error_response(
            400, "csrf_failed", "The form's security token is missing or stale. Reload the page and try again."
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        code = (error.name or "error").lower().replace(" ", "_")
        status = error.code or 500
        return error_response(status, code, error.description or error.name, WHAT_TO_DO.get(status, ""))

    @app.errorhandler(ClientError)
    @app.errorhandler(BotoCoreError)
    def aws_failed(error: Exception):
        # The exception text names the operation and the code, never credentials.
        log.error("AWS call failed: %s", error)
        code = error.response.get("Error", {}).get("Code", "unknown") if isinstance(error, ClientError) else \
            type(error).__name__
        count("AwsErrors", code=str(code))
        return error_response(
            503, "storage_unavailable", "Storage is not answering right now.", WHAT_TO_DO[503]
        )


def security_headers(response):
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if "frame-ancestors" not in response.headers.get("Content-Security-Policy", ""):
        response.headers.setdefault("X-Frame-Options", "DENY")
    if response.mimetype == "text/html":
        svc = current_app.extensions["mediahub"]
        posts = g.get("posts_to_storage", False)
        storage_origins = " ".join(sorted(svc.browser_origins(posts_to_storage=posts)))
        # The upload page plays the chosen video from a blob: URL to capture its poster frame.
        local_media = " blob:" if posts else ""
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; "
            f"connect-src 'self' {storage_origins}; "
            f"img-src 'self' data: {storage_origins}; "
            f"media-src 'self' {storage_origins}{local_media}; "
            "script-src 'self'; style-src 'self'; object-src 'none'; "
            "base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        )
    return response
