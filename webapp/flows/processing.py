"""After an upload is recorded: measure it and make what viewers get (thumbnails, a clean copy).

Runs on Lambda from the S3 ObjectCreated event (``webapp.events.object_created``) right after the
record step, and in local mode when the upload completes (``webapp.flows.arrivals.upload_completed``):
one function, so both paths behave alike.

Idempotent per object. Rendition keys follow from the item's id alone
(``renditions/<id>/thumb-320.jpg``...), and their bytes from the object's, so processing twice
writes the same objects again; the record is updated by one conditional write that only succeeds
while ``processing`` is still pending, so it is updated once. Renditions live outside
``uploads/``, so writing them fires no ObjectCreated event.

A file that cannot be processed says so on its record: ``processing: failed`` (corrupt) or
``skipped`` (over a limit set for the function's memory and time, ``media_info.DECODE_LIMITS``),
with ``processing_reason`` for its owner; one log line says what kind (never which file) and the
``ProcessingFailed``/``ProcessingSkipped`` metrics count them. Metadata is removed at the container
level before anything is decoded, so such an image still goes to viewers clean; one that cannot
be cleaned is withheld from them (``webapp.flows.delivery.viewer_copy``). Storage and database errors
are not such failures: they raise, so the event is retried (and lands in the dead-letter queue;
``python -m webapp.cli reprocess`` runs it again).
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Callable

from webapp import media_info, rules
from webapp.flows import renditions as renditions_
from webapp.dates import epoch_of, iso
from webapp.iam import RENDITIONS_PREFIX
from webapp.logs import count, emit
from webapp.media_info import RangedFile, Rendition, Unprocessable
from webapp.services import Services

log = logging.getLogger(__name__)

PENDING = "pending"
# The function that processes: the `<stage>-processing` Zappa stage of the same code, for events
# only (zappa_settings.json; infra/stack.py's alarms read the timeout here, and a test holds the
# three together). Every format within its decode limit peaks under 400 MB over the idle process,
# so memory is not what sizes it; CPU is: Lambda gives one vCPU per 1,769 MB, so 2,048 MB turns a
# large HEIC's ~6 CPU-s into ~5 s (at the web stage's 512 MB, 0.29 vCPU, about 20 s of its 30).
# The timeout leaves minutes for a video's poster and anything slower than measured
# (bench/processing.py; README table).
PROCESSING_MEMORY_MB = 2048
PROCESSING_TIMEOUT_SECONDS = 300
READY, SKIPPED, FAILED = media_info.READY, media_info.SKIPPED, media_info.FAILED
# Every name a rendition can have: deleting an item deletes all of them, whatever was made.
# The poster the uploader's browser posts (never served), and the re-encoding of it that is.
POSTER_NAMES = ("poster.jpg", "poster-clean.jpg")
RENDITION_NAMES = tuple(f"thumb-{size}.jpg" for size in media_info.THUMBNAIL_SIZES) + (
    "clean.jpg", "clean.png", "clean.webp", "clean.gif") + POSTER_NAMES + renditions_.NAMES


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
    """What processing found: fields for the record, and how it went (``ready``; ``skipped`` over
    a limit; ``failed``) with a reason the owner is shown (never the file's name)."""

    fields: dict
    state: str = READY
    reason: str | None = None


def derive(read: RangedFile, media: dict, whole: Callable[[], bytes],
           keep: Callable[[Rendition], None] = lambda rendition: None) -> Derived:
    """What to record for one item, from its bytes; each rendition goes to ``keep`` as it is made.
    Pure apart from ``read``/``whole``/``keep``.

    ``whole()`` returns the whole object (images: decoding needs all of it, within the format's
    byte limit, checked before it is read).
    """
    content_type = media["content_type"]
    limit = media_info.decode_limit(content_type)
    if content_type in media_info.IMAGE_TYPES:
        if media["size"] > limit.bytes:
            return Derived({"metadata_stripped": False}, SKIPPED,
                           f"the image is over {limit.bytes // 1_048_576} MB, the most processing reads")
        result = media_info.process_image(whole(), content_type, keep)
        fields = {"metadata_stripped": result.metadata_stripped}
        if result.width and result.height:
            fields.update(width=result.width, height=result.height)
        return Derived(fields, result.state, result.reason)
    if content_type in media_info.ISO_VIDEO_TYPES:
        return Derived(media_info.iso_video_info(read))
    if content_type in media_info.EBML_TYPES:
        return Derived(media_info.ebml_info(read))
    if content_type in media_info.AUDIO_TYPES or content_type == "video/ogg":  # mutagen reads Ogg Theora too
        return Derived(media_info.audio_info(read))
    if content_type == media_info.PDF_TYPE:
        if media["size"] > limit.bytes:
            return Derived({}, SKIPPED, f"the PDF is over {limit.bytes // 1_048_576} MB, the most processing reads")
        pages = media_info.pdf_pages(read)
        try:  # the first page as thumbnails: what the gallery, the share page and link previews show
            for size, body in sorted(media_info.pdf_first_page(whole()).items()):
                keep(Rendition(f"thumb-{size}.jpg", body, "image/jpeg"))
        except Unprocessable:
            pass  # a page pdfium cannot draw (a password, a broken stream): counted, not previewed
        return Derived({"pages": pages})
    return Derived({})  # nothing to measure here (text, SVG, AVIF): ready as it is


def process(svc: Services, media_id: str) -> str:
    """Process one recorded item: ``ready``, ``skipped``, ``failed``, ``already`` (done before,
    or by a concurrent run) or ``ignored`` (no ready record)."""
    media = svc.catalog.get_media(media_id)
    if media is None or media.get("status") != "ready":
        return "ignored"
    if media.get("processing", PENDING) != PENDING:
        return "already"
    store = RenditionStore.of(svc)
    key = media["s3_key"]
    reader = RangedFile(lambda start, length: store.read_range(key, start, length), int(media["size"]),
                        name=media.get("filename", ""))
    renditions = dict(media.get("renditions") or {})  # a poster the browser sent stays

    def keep(rendition: Rendition) -> None:
        """Stored at once, so its bytes are dropped before the next rendition is made."""
        stored_key = rendition_key(media_id, rendition.name)
        store.put(stored_key, rendition.body, content_type=rendition.content_type,
                  content_disposition=_disposition(media, rendition))
        renditions[rendition_field(rendition.name)] = stored_key

    try:
        derived = derive(reader, media, lambda: store.read_all(key), keep)
    except Exception as error:  # noqa: BLE001 - any decoder's error means "this file", not "this run"
        if _is_storage_error(error):
            raise
        derived = Derived({}, FAILED, str(error) if isinstance(error, Unprocessable) else "the file cannot be read")
    fields = {**derived.fields, "processing": derived.state, "processed_at": iso(svc.clock())}
    if derived.reason:
        fields["processing_reason"] = derived.reason
    if renditions:
        fields["renditions"] = renditions
    if derived.state != READY:
        _note(media, derived)
    if not svc.catalog.finish_processing(media_id, fields):
        return "already"
    if derived.state == READY:
        renditions_.start(svc, {**media, **fields})  # a video every browser plays, made elsewhere
    return derived.state


STUCK_AFTER_SECONDS = 900  # pending this long: its event failed (the dead-letter queue holds it)


def needs_another_run(media: dict, now: float) -> bool:
    """Failed processing, a failed video rendition, or processing still pending long after the
    upload (its event ran out of memory or time, or raised until it went to the dead-letter queue)."""
    if media.get("status") != "ready":
        return False
    if media.get("processing") == FAILED or media.get("video_rendition") == renditions_.FAILED:
        return True
    created = media.get("created_at")
    stuck = media.get("processing", PENDING) == PENDING and created is not None
    return bool(stuck and epoch_of(created) < now - STUCK_AFTER_SECONDS)


def reprocess_failed(svc: Services, months: list[str], limit: int = 1000) -> dict[str, str]:
    """``reprocess --failed``: every live item of ``months`` that ``needs_another_run``, run again."""
    now = svc.clock()
    items = svc.catalog.newest(public_only=False, now=int(now), limit=limit, months=months)
    return {media["id"]: reprocess(svc, media["id"]) for media in items if needs_another_run(media, now)}


def _note(media: dict, derived: Derived) -> None:
    """One log line and one metric per failed or skipped file: what kind, never which."""
    emit(f"processing {derived.state}", content_type=media.get("content_type"), reason=derived.reason)
    count("ProcessingFailed" if derived.state == FAILED else "ProcessingSkipped")


def reprocess(svc: Services, media_id: str) -> str:
    """Run processing again for one item (``webapp.cli reprocess``): its state goes back to
    pending, then as a first run. Renditions are written again under the same keys."""
    media = svc.catalog.get_media(media_id)
    if media is None or media.get("status") != "ready":
        return "ignored"
    svc.catalog.set_fields(media_id, {"processing": PENDING}, remove=("processing_reason",))
    return process(svc, media_id)


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
