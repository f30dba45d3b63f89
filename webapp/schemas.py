"""The JSON API's bodies as marshmallow schemas: the upload views parse requests with them,
and the OpenAPI document (``webapp/openapi.py``) is generated from them.

marshmallow, not pydantic: both libraries and apispec are pure Python, so the Lambda package
needs no compiled wheel matched to the runtime's glibc, and they are small to import. Not
flask-smorest: its blueprints and error handler would replace our thin views and our one
error shape (``{"error": {"code", "message"}}`` from ``Refusal``); apispec alone turns the
schemas into the document. The schemas check shape (types, required fields); what depends on
settings (size limit, allowed types) stays in ``rules.py``, with its stable codes.
"""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from webapp import parts, rules
from webapp.rules import Refusal


class Body(Schema):
    class Meta:
        unknown = EXCLUDE  # fields a newer client sends are ignored, not refused


def load(schema: type[Schema], data: object) -> dict:
    """A request body as its schema reads it, or ``invalid_request`` naming what is wrong."""
    if not isinstance(data, dict):
        raise Refusal("invalid_request", "Send a JSON object.")
    try:
        return schema().load(data)
    except ValidationError as error:
        problems = "; ".join(f"{field}: {_said(messages)}" for field, messages in sorted(error.normalized_messages().items()))
        raise Refusal("invalid_request", f"The request is not right: {problems}.") from None


def _said(messages) -> str:
    if isinstance(messages, dict):
        return "; ".join(f"{key}: {_said(value)}" for key, value in messages.items())
    if isinstance(messages, list):
        return " ".join(_said(message) for message in messages)
    return str(messages).rstrip(".")


# --- Requests -----------------------------------------------------------------------

class UploadRequest(Body):
    filename = fields.String(required=True, metadata={"example": "Sunset.png"})
    content_type = fields.String(allow_none=True, load_default=None, metadata={
        "example": "image/png", "description": "empty: taken from the file name's extension"})
    size = fields.Integer(strict=True, required=True, validate=validate.Range(min=1),
                          metadata={"description": "bytes; above the multipart threshold the file goes in parts"})
    name = fields.String(allow_none=True, load_default=None, metadata={"maxLength": rules.MAX_NAME_CHARS})
    caption = fields.String(allow_none=True, load_default=None, metadata={"maxLength": rules.MAX_CAPTION_CHARS})
    retention_days = fields.Integer(allow_none=True, load_default=None, validate=validate.Range(min=1))
    max_downloads = fields.Integer(allow_none=True, load_default=None,
                                   validate=validate.Range(min=1, max=rules.MAX_DOWNLOAD_LIMIT))
    visibility = fields.String(allow_none=True, load_default=None, validate=validate.OneOf(rules.VISIBILITIES))
    checksum_algorithm = fields.String(allow_none=True, load_default=None,
                                       validate=validate.OneOf(tuple(parts.CHECKSUM_ALGORITHMS)),
                                       metadata={"description": "for multipart uploads; SHA256 by default"})
    transfer_id = fields.String(allow_none=True, load_default=None, metadata={
        "description": "the transfer (POST /api/transfers) this file belongs to"})


class PartRequest(Schema):
    number = fields.Integer(strict=True, required=True, validate=validate.Range(min=1, max=parts.S3_MAX_PARTS))
    checksum = fields.String(required=True, metadata={"description": "base64 of the part's digest"})


class PartBatch(Body):
    parts = fields.List(fields.Nested(PartRequest), required=True,
                        validate=validate.Length(min=1, max=parts.MAX_PARTS_PER_BATCH))


class LinksRequest(Body):
    ids = fields.List(fields.String(), required=True, validate=validate.Length(min=1))


class PosterRequest(Body):
    size = fields.Integer(strict=True, required=True, validate=validate.Range(min=1), metadata={
        "description": "bytes of the JPEG the browser will post; at most the policy's `max_bytes`"})


# --- Answers -------------------------------------------------------------------------

class ErrorBody(Schema):
    code = fields.String(required=True)
    message = fields.String(required=True)


class Error(Schema):
    error = fields.Nested(ErrorBody, required=True)


class UploadPolicy(Schema):
    upload_id = fields.String(required=True)
    method = fields.String(required=True, validate=validate.OneOf(["post"]))
    url = fields.Url(required=True)
    fields_ = fields.Dict(keys=fields.String(), values=fields.String(), required=True, data_key="fields")
    expires_at = fields.DateTime(required=True)


class MultipartPlan(Schema):
    upload_id = fields.String(required=True)
    method = fields.String(required=True, validate=validate.OneOf(["multipart"]))
    key = fields.String(required=True)
    part_size = fields.Integer(required=True, validate=validate.Range(min=1))
    part_count = fields.Integer(required=True, validate=validate.Range(min=1, max=parts.S3_MAX_PARTS))
    checksum_algorithm = fields.String(required=True, validate=validate.OneOf(tuple(parts.CHECKSUM_ALGORITHMS)))


class SignedPart(Schema):
    number = fields.Integer(required=True)
    url = fields.Url(required=True)
    size = fields.Integer(required=True)
    headers = fields.Dict(keys=fields.String(), values=fields.String(), required=True)


class SignedParts(Schema):
    parts = fields.List(fields.Nested(SignedPart), required=True)
    expires_at = fields.DateTime(required=True)


class HeldPart(Schema):
    number = fields.Integer(required=True)
    size = fields.Integer(required=True)
    etag = fields.String(required=True)


class HeldParts(Schema):
    parts = fields.List(fields.Nested(HeldPart), required=True)
    part_size = fields.Integer(required=True)
    part_count = fields.Integer(required=True)


class PosterPolicy(Schema):
    url = fields.Url(required=True)
    fields_ = fields.Dict(keys=fields.String(), values=fields.String(), required=True, data_key="fields")
    key = fields.String(required=True, metadata={"example": "renditions/<media_id>/poster.jpg"})
    max_bytes = fields.Integer(required=True, validate=validate.Range(min=1))
    expires_at = fields.DateTime(required=True)


class MediaLinks(Schema):
    page = fields.Url(required=True)
    share = fields.Url()
    download = fields.Url()
    manage = fields.Url(metadata={"description": "shown once, to the session that uploaded"})
    thumbnail = fields.Url(metadata={"description": "signed 320 px JPEG thumbnail, when processing made one"})
    poster = fields.Url(metadata={"description": "signed poster frame, when there is one"})


class Media(Schema):
    id = fields.String(required=True)
    filename = fields.String(required=True)
    name = fields.String(required=True)
    caption = fields.String(required=True)
    content_type = fields.String(required=True)
    size = fields.Integer(required=True)
    created_at = fields.DateTime(required=True)
    expires_at = fields.DateTime(required=True)
    download_count = fields.Integer(required=True)
    width = fields.Integer(allow_none=True)
    height = fields.Integer(allow_none=True)
    duration_seconds = fields.Float(allow_none=True)
    pages = fields.Integer(allow_none=True)
    processing = fields.String(validate=validate.OneOf(["pending", "ready", "skipped", "failed"]))
    scan = fields.String(validate=validate.OneOf(["pending", "clean", "infected", "off"]))
    links = fields.Nested(MediaLinks, required=True)
    sent_to = fields.String(metadata={"description": "sent through an upload link: whom it went to. The file is "
                                      "theirs and private: its sender is answered `links.page` only"})


class MediaAnswer(Schema):
    media = fields.Nested(Media, required=True)


class Link(Schema):
    url = fields.Url(required=True)
    expires_at = fields.DateTime(required=True)


class LinksAnswer(Schema):
    links = fields.Dict(keys=fields.String(), values=fields.Nested(Link), required=True)
    errors = fields.Dict(keys=fields.String(), values=fields.Nested(ErrorBody), required=True)


class TransferRequest(Body):
    email = fields.String(allow_none=True, load_default=None, metadata={
        "description": "the uploader's address: the share and manage links are mailed there once (within the "
                       "site's recipients rule)", "example": "me@example.com"})
    link_seconds = fields.Integer(strict=True, allow_none=True, load_default=None, metadata={
        "description": "how long the share link works, from 3600; empty: as long as the files are kept. Longer "
                       "than the files (or MEDIAHUB_SHARE_TTL_SECONDS) is cut to it and `capped` says so"})
    retention_days = fields.Integer(strict=True, allow_none=True, load_default=None,
                                    metadata={"description": "how long the files will be kept (as each upload says)"})


class TransferStarted(Schema):
    transfer_id = fields.String(required=True, metadata={
        "description": "send it as `transfer_id` with each file's POST /api/uploads"})
    capped = fields.String(allow_none=True, metadata={"description": "why the link lasts less than asked"})


class TransferFile(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    filename = fields.String(required=True)
    size = fields.Integer(required=True)
    content_type = fields.String(required=True)
    page = fields.Url(required=True)


class TransferLinks(Schema):
    share = fields.Url(metadata={"description": "/s/<id>: the transfer's short share link"})
    manage = fields.Url(metadata={"description": "the manage page; shown this once (and mailed to `email`)"})


class Transfer(Schema):
    id = fields.String(required=True)
    files = fields.List(fields.Nested(TransferFile), required=True)
    links = fields.Nested(TransferLinks, required=True)
    link_expires_at = fields.DateTime(required=True)
    link_follows_files = fields.Boolean(required=True)
    files_expire_at = fields.DateTime(required=True)
    qr_svg = fields.String(allow_none=True, metadata={"description": "the share link as an SVG QR code"})
    mailed_to = fields.String(allow_none=True)


class TransferAnswer(Schema):
    transfer = fields.Nested(Transfer, required=True)


class Health(Schema):
    status = fields.String(required=True, validate=validate.OneOf(["ok"]))


# Nested schemas first: apispec then refers to them instead of registering them again.
COMPONENTS = (ErrorBody, Error, UploadRequest, UploadPolicy, MultipartPlan, PartRequest, PartBatch, SignedPart,
              SignedParts, HeldPart, HeldParts, MediaLinks, Media, MediaAnswer, Link, LinksRequest, LinksAnswer,
              PosterRequest, PosterPolicy, TransferRequest, TransferStarted, TransferFile, TransferLinks, Transfer,
              TransferAnswer, Health)
