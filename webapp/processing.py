"""After an upload is recorded: measure it and make what viewers get (thumbnails, a clean copy).

Runs on Lambda from the S3 ObjectCreated event (``webapp.events.object_created``) right after the
record step, and in local mode when the upload completes (``webapp.arrivals.upload_completed``):
one function, so both paths behave alike.

Idempotent per object. Rendition keys follow from the item's id alone
(``renditions/<id>/thumb-320.jpg``...), and their bytes from the object's, so processing twice
writes the same objects again; the record is updated by one conditional write that only succeeds
while ``processing`` is still pending, so it is updated once. Renditions live outside
``uploads/``, so writing them fires no ObjectCreated event.

A file that cannot be processed (corrupt, over a limit) stays usable: the record says
``processing: failed``, one log line says what kind of failure (never which file) and the
``ProcessingFailed`` metric counts it. Storage and database errors are not such failures: they
raise, so the event is retried.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Callable

from webapp import media_info, rules
from webapp.dates import iso
from webapp.iam import RENDITIONS_PREFIX
from webapp.logs import count, emit
from webapp.media_info import RangedFile, Rendition, Unprocessable
from webapp.services import Services

log = logging.getLogger(__name__)

PENDING, READY, FAILED = "pending", "ready", "failed"
# Every name a rendition can have: deleting an item deletes all of them, whatever was made.
# The poster the uploader's browser posts (never served), and the re-encoding of it that is.
POSTER_NAMES = ("poster.jpg", "poster-clean.jpg")
RENDITION_NAMES = tuple(f"thumb-{size}.jpg" for size in media_info.THUMBNAIL_SIZES) + (
    "clean.jpg", "clean.png", "clean.webp", "clean.gif") + POSTER_NAMES


def rendition_key(media_id: str, name: str) -> str:
    return f"{RENDITIONS_PREFIX}{media_id}/{name}"


def rendition_field(name: str) -> str:
    """The record's name for a rendition: ``thumb_320``, ``clean``."""
    return name.rsplit(".", 1)[0].replace("-", "_") if name.startswith("thumb-") else "clean"


class RenditionStore:
    """S3 reads and writes of processing: ranges of originals, and renditions with their headers.

    It uses the S3 client the app's ``Storage`` was given (built by ``webapp.aws.clients``), so it shares
    its endpoint, timeouts and retries.
    """

    def __init__(self, s3_client, bucket: str):
        self._s3 = s3_client
        self.bucket = bucket

    @classmethod
    def of(cls, svc: Services) -> "RenditionStore":
        return cls(svc.storage.client, svc.storage.bucket)

    def read_range(self, key: str, start: int, length: int) -> bytes:
        if length <= 0:
            return b""
        answer = self._s3.get_object(Bucket=self.bucket, Key=key, Range=f"bytes={start}-{start + length - 1}")
        with answer["Body"] as body:
            return body.read()

    def read_all(self, key: str) -> bytes:
        answer = self._s3.get_object(Bucket=self.bucket, Key=key)
        with answer["Body"] as body:
            return body.read()

    def put(self, key: str, body: bytes, *, content_type: str, content_disposition: str) -> None:
        self._s3.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType=content_type,
                            ContentDisposition=content_disposition)

    def delete(self, keys: list[str]) -> None:
        """One DeleteObjects call (needs only s3:DeleteObject); missing keys are not an error."""
        if keys:
            self._s3.delete_objects(Bucket=self.bucket,
                                    Delete={"Objects": [{"Key": key} for key in keys], "Quiet": True})


@dataclasses.dataclass
class Derived:
    fields: dict
    renditions: list[Rendition]


def derive(read: RangedFile, media: dict, whole: Callable[[], bytes]) -> Derived:
    """What to record and store for one item, from its bytes. Pure apart from ``read``/``whole``.

    ``whole()`` returns the whole object (images: decoding needs all of it, within the byte cap).
    """
    content_type = media["content_type"]
    if content_type in media_info.IMAGE_TYPES:
        if media["size"] > media_info.MAX_DECODE_BYTES:
            raise Unprocessable("the image is larger than the decoding limit")
        result = media_info.process_image(whole(), content_type)
        return Derived({"width": result.width, "height": result.height,
                        "metadata_stripped": result.metadata_stripped}, result.renditions)
    if content_type in media_info.ISO_VIDEO_TYPES:
        return Derived(media_info.iso_video_info(read), [])
    if content_type in media_info.EBML_TYPES:
        return Derived(media_info.ebml_info(read), [])
    if content_type in media_info.AUDIO_TYPES or content_type == "video/ogg":  # mutagen reads Ogg Theora too
        return Derived(media_info.audio_info(read), [])
    if content_type == media_info.PDF_TYPE:
        if media["size"] > media_info.MAX_DECODE_BYTES:
            raise Unprocessable("the PDF is larger than the parsing limit")
        return Derived({"pages": media_info.pdf_pages(read)}, [])
    return Derived({}, [])  # nothing to measure here (text, SVG, AVIF): ready as it is


def process(svc: Services, media_id: str) -> str:
    """Process one recorded item: ``ready``, ``failed``, ``already`` (done before, or by a
    concurrent run) or ``skipped`` (no ready record)."""
    media = svc.catalog.get_media(media_id)
    if media is None or media.get("status") != "ready":
        return "skipped"
    if media.get("processing", PENDING) != PENDING:
        return "already"
    store = RenditionStore.of(svc)
    key = media["s3_key"]
    reader = RangedFile(lambda start, length: store.read_range(key, start, length), int(media["size"]),
                        name=media.get("filename", ""))
    try:
        derived = derive(reader, media, lambda: store.read_all(key))
    except Exception as error:  # noqa: BLE001 - any decoder's error means "this file", not "this run"
        if _is_storage_error(error):
            raise
        return _failed(svc, media, error)
    renditions = {}
    for rendition in derived.renditions:
        rendition_key_ = rendition_key(media_id, rendition.name)
        store.put(rendition_key_, rendition.body, content_type=rendition.content_type,
                  content_disposition=_disposition(media, rendition))
        renditions[rendition_field(rendition.name)] = rendition_key_
    fields = {**derived.fields, "processing": READY, "processed_at": iso(svc.clock())}
    if renditions:
        fields["renditions"] = renditions
    return READY if svc.catalog.finish_processing(media_id, fields) else "already"


def _failed(svc: Services, media: dict, error: Exception) -> str:
    emit("processing failed", content_type=media.get("content_type"), error=type(error).__name__,
         reason=str(error) if isinstance(error, Unprocessable) else "decoder error")
    count("ProcessingFailed")
    updated = svc.catalog.finish_processing(media["id"], {"processing": FAILED, "processed_at": iso(svc.clock())})
    return FAILED if updated else "already"


def _is_storage_error(error: BaseException) -> bool:
    """An AWS or network error, possibly wrapped by a parser: the run failed, not the file."""
    from botocore.exceptions import BotoCoreError, ClientError

    seen = 0
    while error is not None and seen < 5:
        if isinstance(error, (ClientError, BotoCoreError)):
            return True
        error = error.__cause__ or error.__context__
        seen += 1
    return False


def _disposition(media: dict, rendition: Rendition) -> str:
    """As the original: an attachment named after it (with the rendition's own extension), so a
    direct visit downloads and never renders in the site's context."""
    stem = media.get("filename", "file").rsplit(".", 1)[0] or "file"
    extension = rendition.name.rsplit(".", 1)[1]
    name = f"{stem}.{extension}" if rendition.name.startswith("clean") else f"{stem}-{rendition.name}"
    return rules.content_disposition(name, rendition.content_type, inline=False)


def delete_renditions(svc: Services, media: dict) -> None:
    """Every rendition an item can have, in one call (an item being deleted or expiring)."""
    RenditionStore.of(svc).delete([rendition_key(media["id"], name) for name in RENDITION_NAMES])
