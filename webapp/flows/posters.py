"""Video posters: a frame the uploader's browser captures, checked here before anyone sees it.

Lambda has no ffmpeg, so the browser that uploaded a video draws one of its frames to a canvas
and sends it as a JPEG. It asks ``sign`` for a POST policy of its own: one exact key
(``renditions/<id>/poster.jpg``), ``image/jpeg`` and at most ``MAX_POSTER_BYTES``, expiring in
``POLICY_SECONDS``; only the browser that uploaded the video may ask, and only while the video
has no poster. Then ``complete`` reads what arrived (size and first bytes in one ranged GET, then
the body, capped), checks that it is a JPEG Pillow decodes within ``MAX_POSTER_SIDE``, and
re-encodes it with the thumbnails' code (no metadata, at most 1280 px) into a key of its own
(``renditions/<id>/poster-clean.jpg``), which is what the record names. The browser's own
object is deleted either way, so its bytes are never served: not even if it posts again under
its policy while the policy is still valid. Anything wrong answers 422 ``poster_rejected``.
"""

from __future__ import annotations

import io
import logging

from webapp import access, media_info, rules, sniff
from webapp.flows import delivery, ownership
from webapp.dates import iso
from webapp.logs import count
from webapp.flows.processing import POSTER_NAMES, RenditionStore, rendition_key
from webapp.rules import Refusal
from webapp.services import Services
from webapp.flows.uploading import stored_disposition

log = logging.getLogger(__name__)

POSTER_TYPE = "image/jpeg"
MAX_POSTER_BYTES = 2 * 1024 * 1024  # what the policy lets in, and the most completion reads
MAX_POSTER_SIDE = 4096  # a larger frame is refused before its pixels are decoded
SERVED_SIDE = max(media_info.THUMBNAIL_SIZES)  # the re-encoded poster fits in 1280 x 1280
POLICY_SECONDS = 120
# Where the browser posts (never served), and the re-encoding the record names; deleting,
# expiring or quarantining an item deletes both with its other renditions.
RECEIVED_NAME, SERVED_NAME = POSTER_NAMES
NAMES = POSTER_NAMES
# What the size and type checks say, before the body is read and after.
TOO_LARGE = f"The poster frame is over {rules.human_size(MAX_POSTER_BYTES)}."
NOT_A_JPEG = "The poster frame is not a JPEG image."


def received_key(media_id: str) -> str:
    return rendition_key(media_id, RECEIVED_NAME)


def served_key(media_id: str) -> str:
    return rendition_key(media_id, SERVED_NAME)


def _disposition(media: dict) -> str:
    """As the other renditions: an attachment named after the video."""
    stem = media.get("filename", "file").rsplit(".", 1)[0] or "file"
    return stored_disposition(f"{stem}-poster.jpg", POSTER_TYPE)


def _video_of(svc: Services, media_id: str, uploader_id: str | None) -> dict:
    """The uploading browser's own video (404 for anyone else, as the result page)."""
    media = ownership.uploaded_by(svc, media_id, uploader_id)
    if rules.preview_kind(media["content_type"]) != "video":
        raise Refusal("not_a_video", "Only a video has a poster frame.", 409)
    if media.get("scan") == access.SCAN_INFECTED:
        raise access.media_infected()
    return media


def sign(svc: Services, media_id: str, body: dict, uploader_id: str | None) -> dict:
    """A POST policy for the poster: exact key, JPEG only, 1 byte to ``MAX_POSTER_BYTES``."""
    media = _video_of(svc, media_id, uploader_id)
    if delivery.poster(media) is not None:
        raise Refusal("poster_exists", "This video already has a poster frame.", 409)
    if body["size"] > MAX_POSTER_BYTES:
        raise Refusal("poster_too_large",
                      f"A poster frame may be at most {rules.human_size(MAX_POSTER_BYTES)}.", 400)
    key = received_key(media_id)
    policy = svc.storage.post_policy(key, content_type=POSTER_TYPE, content_disposition=_disposition(media),
                                     max_bytes=MAX_POSTER_BYTES, expires_in=POLICY_SECONDS)
    return {"url": policy["url"], "fields": policy["fields"], "key": key, "max_bytes": MAX_POSTER_BYTES,
            "expires_at": iso(svc.clock() + POLICY_SECONDS)}


def complete(svc: Services, media_id: str, uploader_id: str | None) -> tuple[dict, bool]:
    """Check the posted frame, store its re-encoding and record it: (media, recorded now).

    Idempotent: once the video has a poster, the same record comes back. Refusals: 409
    ``poster_missing`` (nothing posted yet), 422 ``poster_rejected`` (the object is deleted).
    Storage errors raise (503): they say nothing about the frame.
    """
    media = _video_of(svc, media_id, uploader_id)
    if delivery.poster(media) is not None:
        return media, False
    key = received_key(media_id)
    stored = svc.storage.peek(key, sniff.HEAD_BYTES)
    if stored is None:
        again = svc.catalog.get_media(media_id)  # a concurrent completion may have taken it
        if again is not None and delivery.poster(again) is not None:
            return again, False
        raise Refusal("poster_missing", "No poster frame has arrived yet. Send it, then try again.", 409)
    problem = _problem_with(stored)
    body = b""
    renditions_store = RenditionStore.of(svc)
    if problem is None:
        data = renditions_store.read_range(key, 0, MAX_POSTER_BYTES + 1)  # never more than the cap
        try:
            body = reencode(data)
        except Rejected as error:
            problem = str(error)
    if problem is not None:
        svc.storage.delete(key)
        log.warning("poster rejected: %s", problem)
        count("PostersRejected")
        raise Refusal("poster_rejected", problem, 422)
    served = served_key(media_id)
    renditions_store.put(served, body, content_type=POSTER_TYPE, content_disposition=_disposition(media))
    svc.storage.delete(key)
    renditions = {**(media.get("renditions") or {}), "poster": served}
    svc.catalog.set_fields(media_id, {"renditions": renditions})
    count("PostersRecorded")
    return {**media, "renditions": renditions}, True


class Rejected(Exception):
    """The posted frame is not a JPEG this site serves; the message says why, for the uploader."""


def _problem_with(stored) -> str | None:
    if stored.size > MAX_POSTER_BYTES:
        return TOO_LARGE
    if rules.normalize_content_type(stored.content_type) != POSTER_TYPE:
        return f"The poster frame was stored as {stored.content_type or 'no type'}, not {POSTER_TYPE}."
    if not sniff.matches(POSTER_TYPE, stored.head):
        return NOT_A_JPEG
    return None


def reencode(data: bytes) -> bytes:
    """A JPEG's pixels, decoded and encoded again as the thumbnails are (no metadata but the
    colour profile), at most ``SERVED_SIDE`` on the long side.
    Pure; raises ``Rejected``."""
    if len(data) > MAX_POSTER_BYTES:
        raise Rejected(TOO_LARGE)
    if not sniff.matches(POSTER_TYPE, data[:sniff.HEAD_BYTES]):
        raise Rejected(NOT_A_JPEG)
    try:
        width, height = media_info.image_size(data)  # the header only, within the decoding limits
        from PIL import Image

        if Image.open(io.BytesIO(data)).format != "JPEG":
            raise Rejected(NOT_A_JPEG)
        if max(width, height) > MAX_POSTER_SIDE:
            raise Rejected(f"The poster frame is larger than {MAX_POSTER_SIDE} pixels on a side.")
        # Encoded as the thumbnails are: no metadata but the colour profile.
        return media_info.thumbnails(data, (SERVED_SIDE,))[SERVED_SIDE]
    except Rejected:
        raise
    except Exception as error:  # noqa: BLE001 - any decoder error means "this frame"
        raise Rejected("The poster frame could not be read as an image.") from error
