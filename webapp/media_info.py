"""What a media file holds, and copies of it a viewer may have: pure helpers, no AWS, no Flask.

Everything here takes bytes, or a ``read(offset, length)`` callable over an object, and answers
plain values. Images are measured and reduced with Pillow; the clean copies of JPEG, PNG and WebP
are made by dropping metadata segments byte for byte, so the pixels a viewer sees are exactly the
uploader's (no second lossy encoding) and no decode is needed at all. Video is measured by walking
ISO-BMFF boxes over ranged reads (the ``moov`` box may sit at the end, after gigabytes of ``mdat``
that are never read), or WebM's EBML elements before its first cluster; audio by mutagen and PDF
by pypdf, both through a file object that reads only the ranges they ask for.

The limits are here, in one place: a file over them is not decoded at all.
Pillow, mutagen and pypdf are imported on first use: a cold start that serves a page needs none.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import io
import struct
import threading
from typing import Callable

# Decoding limits. Processing decodes one image at a time per process (``_DECODING``), and its
# peak memory over the idle process is about the decoded picture (width x height x bands) plus the
# file's bytes and its clean copy: bench/processing.py measures it per format at these limits and
# the README's "Processing and malware scanning" table has the figures. Each stays under 400 MB,
# so the 512 MB web stage could process any accepted file; the processing stage has room to spare.
MAX_IMAGE_PIXELS = 50_000_000  # the most any format decodes (Pillow's bomb check uses it too)
MAX_DECODE_BYTES = 100 * 1024 * 1024  # the most of one object read whole (images, PDF)


@dataclasses.dataclass(frozen=True)
class DecodeLimit:
    """How far processing goes for one format: pictures over ``pixels`` are not decoded
    (no thumbnails; JPEG, PNG, WebP and GIF are still cleaned, as that needs no decode), files
    over ``bytes`` are not read at all."""

    pixels: int
    bytes: int


DECODE_LIMITS = {
    # JPEG decodes at 1/8 scale (draft): a 50 MP photo costs a few MB of pixels.
    "image/jpeg": DecodeLimit(50_000_000, 100 * 1024 * 1024),
    # PNG decodes in full, RGBA at 4 bytes a pixel: 50 MP is 200 MB.
    "image/png": DecodeLimit(50_000_000, 60 * 1024 * 1024),
    # WebP: Pillow keeps libwebp's canvas, a copy of it and the picture (about 12 bytes a pixel).
    "image/webp": DecodeLimit(25_000_000, 60 * 1024 * 1024),
    # GIF: the first frame only, its palette expanded to RGBA.
    "image/gif": DecodeLimit(50_000_000, 60 * 1024 * 1024),
    # HEIF: libheif decodes the whole picture (its tiles, then RGB) and pillow-heif copies it
    # into Pillow: about 7.7 MB a megapixel at the peak, 422 MB over idle for a 50 MP HEIC.
    # Its clean copy is a JPEG of that decode, so one over this limit is withheld.
    "image/heic": DecodeLimit(45_000_000, 60 * 1024 * 1024),
    "image/heif": DecodeLimit(45_000_000, 60 * 1024 * 1024),
    # PDF: pypdf's page count and pypdfium2's first page, rendered at most 1280 px.
    "application/pdf": DecodeLimit(MAX_IMAGE_PIXELS, 100 * 1024 * 1024),
}


def decode_limit(content_type: str) -> DecodeLimit:
    """This format's limits, never above the global ones."""
    own = DECODE_LIMITS.get(content_type, DecodeLimit(MAX_IMAGE_PIXELS, MAX_DECODE_BYTES))
    return DecodeLimit(min(own.pixels, MAX_IMAGE_PIXELS), min(own.bytes, MAX_DECODE_BYTES))


# What ranged parsers (video boxes, audio tags, PDF structure) may read of one object in all.
MAX_PARSE_READ_BYTES = 64 * 1024 * 1024
RANGE_BLOCK_BYTES = 256 * 1024
MAX_MOOV_BYTES = 32 * 1024 * 1024
MAX_TOP_LEVEL_BOXES = 1000
THUMBNAIL_SIZES = (320, 1280)
THUMBNAIL_QUALITY = 82
CLEAN_JPEG_QUALITY = 92  # only for HEIC, which browsers other than Safari cannot show as it is
MAX_TAG_CHARS = 200
AUDIO_TAGS = ("title", "artist", "album", "date", "genre")
_ID3_FRAMES = {"title": "TIT2", "artist": "TPE1", "album": "TALB", "date": "TDRC", "genre": "TCON"}

IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/gif", "image/heic", "image/heif"})
ISO_VIDEO_TYPES = frozenset({"video/mp4", "video/quicktime"})
AUDIO_TYPES = frozenset({"audio/mpeg", "audio/mp4", "audio/ogg", "audio/wav", "audio/x-wav", "audio/flac"})
PDF_TYPE = "application/pdf"
HEIF_TYPES = frozenset({"image/heic", "image/heif"})

EXIF_ORIENTATION = 0x0112
# Turning a picture upright by its EXIF orientation, as ImageOps.exif_transpose does; applied to
# the reduced picture only, never to a full-size copy.
_TRANSPOSE = {2: "FLIP_LEFT_RIGHT", 3: "ROTATE_180", 4: "FLIP_TOP_BOTTOM", 5: "TRANSPOSE", 6: "ROTATE_270",
              7: "TRANSVERSE", 8: "ROTATE_90"}

READY, SKIPPED, FAILED = "ready", "skipped", "failed"


class Unprocessable(Exception):
    """The file cannot be measured or reduced (corrupt, or over a limit). The message is generic:
    it never names the file; the owner is shown it."""


class Skipped(Unprocessable):
    """Over a limit set for this function's memory and time: left alone by design, not broken."""


@dataclasses.dataclass(frozen=True)
class Rendition:
    """One derived file: its name under the item's renditions prefix, bytes and type."""

    name: str
    body: bytes
    content_type: str


@dataclasses.dataclass
class ImageResult:
    """What processing made of one image. ``state``: ``ready``; ``skipped`` (over a limit: no
    thumbnails); ``failed`` (the picture could not be read). Whatever the state, a clean copy
    made at the container level was kept (``metadata_stripped``); without one, viewers get nothing."""

    width: int | None
    height: int | None
    renditions: list[Rendition]
    metadata_stripped: bool
    state: str = READY
    reason: str | None = None


@functools.cache
def _pillow():
    """Pillow with its decoding cap set, and the HEIF opener registered (pillow-heif)."""
    from PIL import Image, ImageOps

    Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
    try:
        import pillow_heif
    except ImportError:  # pragma: no cover - pillow-heif is a runtime requirement
        pass
    else:
        pillow_heif.register_heif_opener()
    return Image, ImageOps


# One decode at a time in a process: the memory figures hold per process whatever the threads do,
# and Pillow's LOAD_TRUNCATED_IMAGES (a module global) is on only while this lock is held.
_DECODING = threading.Lock()


@contextlib.contextmanager
def _decoding(*, truncated_ok: bool):
    """Decode under the lock; with ``truncated_ok`` Pillow reads what arrived of a file cut short
    (the rest of the picture grey) instead of raising "image file is truncated"."""
    from PIL import ImageFile

    with _DECODING:
        before = ImageFile.LOAD_TRUNCATED_IMAGES
        ImageFile.LOAD_TRUNCATED_IMAGES = truncated_ok
        try:
            yield
        finally:
            ImageFile.LOAD_TRUNCATED_IMAGES = before


# Images ------------------------------------------------------------------------------------


def _open(data: bytes, limit: DecodeLimit | None = None):
    """Open (read the header of) an image within the limits; no pixels are decoded yet.
    Over a limit: ``Skipped``; not an image Pillow reads: ``Unprocessable``."""
    Image, _ = _pillow()
    limit = limit or DecodeLimit(MAX_IMAGE_PIXELS, MAX_DECODE_BYTES)
    if len(data) > limit.bytes:
        raise Skipped(f"the image is over {limit.bytes // 1_048_576} MB, the most processing reads")
    try:
        image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as error:
        raise Skipped(f"the image has more than {limit.pixels // 1_000_000} million pixels, the most "
                      "processing decodes") from error
    except Exception as error:  # noqa: BLE001 - any opener's error means "this file"
        raise Unprocessable("the image cannot be read") from error
    width, height = image.size
    if width * height > limit.pixels:
        raise Skipped(f"the image has more than {limit.pixels // 1_000_000} million pixels, the most "
                      "processing decodes")
    if width < 1 or height < 1:
        raise Unprocessable("the image has no pixels")
    return image


def _orientation(image) -> int:
    try:
        value = int(image.getexif().get(EXIF_ORIENTATION, 1))
    except Exception:  # a broken EXIF block: show the pixels as stored
        return 1
    return value if 1 <= value <= 8 else 1


def image_size(data: bytes) -> tuple[int, int]:
    """Width and height as a viewer sees them (EXIF orientation applied), from the header only."""
    image = _open(data)
    width, height = image.size
    return (height, width) if _orientation(image) in (5, 6, 7, 8) else (width, height)


def thumbnails(data: bytes, sizes: tuple[int, ...] = THUMBNAIL_SIZES, *, draft: bool = True,
               limit: DecodeLimit | None = None) -> dict[int, bytes]:
    """JPEG thumbnails that fit in ``size`` x ``size``, upright, with no metadata but the colour profile."""
    image = _open(data, limit)
    return _thumbnails_of(image, sizes, draft=draft)


def _thumbnails_of(image, sizes: tuple[int, ...], *, draft: bool = True,
                   keep_full: Callable | None = None) -> dict[int, bytes]:
    """Thumbnails of an opened image, decoding as little as the largest size needs.

    A JPEG decodes at a reduced scale (``draft``: libjpeg decodes 1/2, 1/4 or 1/8 of each side,
    the biggest saving in time and memory). Other formats decode in full (``keep_full`` sees
    that picture once: HEIF's clean copy), are reduced at once by a whole factor (``reduce``:
    a box filter) to at least twice the largest size, and the full picture is released before
    anything else is made. Then the small copy is turned upright, laid on white where it is
    transparent (the thumbnail is a JPEG), and each size is resampled from it. Only the first
    frame of an animation. Never enlarged. A file cut short gives what arrived.
    """
    Image, _ = _pillow()
    largest = max(sizes)
    orientation = _orientation(image)
    icc = image.info.get("icc_profile")
    if draft and image.format == "JPEG":
        # The size the largest thumbnail will have, not its square box: a 6000x4000 photo needs
        # 1280x853, which a quarter-scale decode (1500x1000) still covers; asking for 1280x1280
        # would allow only half scale, four times the pixels.
        width, height = image.size
        ratio = min(largest / width, largest / height, 1)
        image.draft("RGB", (max(1, round(width * ratio)), max(1, round(height * ratio))))
    try:
        with _decoding(truncated_ok=True):
            image.seek(0)
            image.load()
            if keep_full is not None:
                keep_full(image)
            small = _reduced(image, 2 * largest)
    except Image.DecompressionBombError as error:
        raise Skipped("the image has more pixels than the decoding limit") from error
    finally:
        image.close()  # frees the full-size picture
    if orientation in _TRANSPOSE:
        small = small.transpose(getattr(Image.Transpose, _TRANSPOSE[orientation]))
    if small.mode in ("RGBA", "LA"):
        flat = Image.new("RGB", small.size, (255, 255, 255))
        flat.paste(small, mask=small.getchannel("A"))
        small = flat
    elif small.mode != "RGB":
        small = small.convert("RGB")
        icc = None  # a CMYK or grey profile no longer applies
    made: dict[int, bytes] = {}
    for size in sorted(sizes, reverse=True):
        current = small.copy()
        current.thumbnail((size, size), Image.Resampling.LANCZOS)
        out = io.BytesIO()
        # comment=b"": Pillow would copy the source JPEG's comment (free text, often a camera's
        # or an editor's) into every thumbnail.
        options = {"quality": THUMBNAIL_QUALITY, "optimize": True, "comment": b""}
        if icc:
            options["icc_profile"] = icc
        current.save(out, "JPEG", **options)
        made[size] = out.getvalue()
    return made


def _reduced(image, at_least: int):
    """A copy whose longer side is still ``at_least`` (or the whole picture), by a whole-factor
    box reduction; palette and odd modes are expanded first (indices cannot be averaged).

    Reduced a band of rows at a time: Pillow reduces RGBA through a premultiplied copy of the
    whole picture (200 MB more at 50 MP), which a band keeps to a few MB.
    """
    Image, _ = _pillow()
    if image.mode in ("P", "PA", "1") or image.mode.startswith("I;16"):
        transparent = image.mode == "PA" or "transparency" in image.info
        image = image.convert("RGBA" if transparent else ("L" if image.mode.startswith("I;16") else "RGB"))
    elif image.mode not in ("RGB", "RGBA", "L", "LA", "CMYK"):
        image = image.convert("RGB")
    factor = max(1, max(image.size) // at_least)
    if factor == 1:
        return image.copy()
    width, height = image.size
    out = Image.new(image.mode, (width // factor, height // factor))
    band = factor * max(1, REDUCE_BAND_ROWS // factor)
    for top in range(0, (height // factor) * factor, band):
        rows = image.crop((0, top, (width // factor) * factor, min(top + band, (height // factor) * factor)))
        out.paste(rows.reduce(factor), (0, top // factor))
    return out


REDUCE_BAND_ROWS = 512


def _minimal_exif(orientation: int) -> bytes:
    """An EXIF block holding nothing but the orientation, so browsers still show the photo upright."""
    Image, _ = _pillow()
    exif = Image.Exif()
    exif[EXIF_ORIENTATION] = orientation
    return exif.tobytes()  # starts with b"Exif\0\0"


def _exif_orientation(payload: bytes) -> int:
    """The orientation in an APP1 EXIF payload (``Exif\\0\\0`` + TIFF), read by Pillow's EXIF
    parser without opening the picture; 1 when unreadable."""
    Image, _ = _pillow()
    try:
        exif = Image.Exif()
        exif.load(bytes(payload))
        value = int(exif.get(EXIF_ORIENTATION, 1))
    except Exception:  # noqa: BLE001 - a broken EXIF block: show the pixels as stored
        return 1
    return value if 1 <= value <= 8 else 1


# JPEG markers kept in a clean copy; everything else before the scan (EXIF and XMP in APP1, IPTC
# in APP13, maker notes, comments, MPF's appended images) is left out.
_JPEG_KEPT_APPS = {0xE0: (b"JFIF\0", b"JFXX\0"), 0xE2: (b"ICC_PROFILE\0",), 0xEE: (b"Adobe",)}


def _jpeg_segments(data: bytes):
    """(marker, start, end) of each segment before the first scan; the last one is SOS."""
    position = 2
    length = len(data)
    while True:
        if position + 4 > length or data[position] != 0xFF:
            raise Unprocessable("the JPEG's structure is broken")
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        if marker == 0xD9:
            raise Unprocessable("the JPEG has no image data")
        size = int.from_bytes(data[position + 2:position + 4], "big")
        if size < 2 or position + 2 + size > length:
            raise Unprocessable("the JPEG's structure is broken")
        yield marker, position, position + 2 + size
        if marker == 0xDA:
            return
        position += 2 + size


def strip_jpeg(data: bytes) -> bytes:
    """The same JPEG without metadata: the compressed image data is copied untouched, and nothing
    is decoded, so a picture no decoder reads is cleaned all the same.

    Kept: JFIF, the ICC profile and Adobe's colour transform marker (they change how pixels look),
    tables and frames. Dropped: every other APPn segment and comments, and whatever follows the
    image's end (phones append further images, each with its own EXIF). A non-upright photo gets
    an EXIF block with only its orientation. A file cut short inside its image data (an upload
    that stopped, or an encoder that never wrote the end marker) keeps what arrived and gets
    its end marker: browsers show such files as they are.
    """
    if not data.startswith(b"\xff\xd8"):
        raise Unprocessable("not a JPEG")
    view = memoryview(data)
    segments = list(_jpeg_segments(data))
    orientation = next((_exif_orientation(view[start + 4:end]) for marker, start, end in segments
                        if marker == 0xE1 and view[start + 4:start + 10] == b"Exif\0\0"), 1)
    kept = [b"\xff\xd8"]
    inserted = orientation == 1
    for marker, start, end in segments:
        segment = view[start:end]
        is_app = 0xE0 <= marker <= 0xEF
        if marker == 0xFE or (is_app and not bytes(segment[4:16]).startswith(_JPEG_KEPT_APPS.get(marker, (b"\0\0\0",)))):
            continue
        if not inserted and marker != 0xE0:
            exif = _minimal_exif(orientation)
            kept.append(b"\xff\xe1" + (len(exif) + 2).to_bytes(2, "big") + exif)
            inserted = True
        if marker == 0xDA:
            stop, complete = _jpeg_scan_end(data, start)
            kept.append(view[start:stop])
            if not complete:
                kept.append(b"\xff\xd9")
            return b"".join(kept)
        kept.append(segment)
    raise Unprocessable("the JPEG has no image data")  # pragma: no cover - _jpeg_segments ends at SOS


def _jpeg_scan_end(data: bytes, position: int) -> tuple[int, bool]:
    """Where the image ends (just after EOI), from the first scan on, following markers between
    progressive scans by their lengths and entropy-coded data by its byte stuffing; and whether
    the end marker was there. Cut short: where the last whole piece ends, and False."""
    length = len(data)
    while position + 2 <= length:
        marker = data[position + 1]
        if marker == 0xD9:
            return position + 2, True
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            position += 2
        elif position + 4 <= length and position + 2 + int.from_bytes(data[position + 2:position + 4], "big") <= length:
            position += 2 + int.from_bytes(data[position + 2:position + 4], "big")
        else:
            return position, False  # a segment cut short: left out
        if marker == 0xDA or 0xD0 <= marker <= 0xD7:
            # Entropy-coded data: 0xFF is followed by 0x00 (a stuffed byte) or a marker.
            while True:
                found = data.find(b"\xff", position)
                if found < 0:
                    return length, False
                if found + 1 >= length:
                    return found, False
                following = data[found + 1]
                if following == 0x00 or following == 0xFF:
                    position = found + (2 if following == 0x00 else 1)
                    continue
                position = found
                break
        if position >= length:
            return position, False
        if data[position] != 0xFF:
            raise Unprocessable("the JPEG's structure is broken")
    return position, False


# Chunks that change how a PNG (or APNG) looks; text, time and EXIF chunks are not among them.
_PNG_KEPT = {b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"cHRM", b"gAMA", b"iCCP", b"sBIT", b"sRGB",
             b"cICP", b"mDCv", b"cLLi", b"bKGD", b"pHYs", b"acTL", b"fcTL", b"fdAT"}
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def strip_png(data: bytes) -> bytes:
    """The same PNG with only the chunks that draw it: no eXIf, text (tEXt, zTXt, iTXt) or tIME."""
    if not data.startswith(_PNG_SIGNATURE):
        raise Unprocessable("not a PNG")
    view = memoryview(data)  # chunks are views: one copy of the file in all, the joined one
    kept = [_PNG_SIGNATURE]
    position = len(_PNG_SIGNATURE)
    while position + 12 <= len(data):
        size = int.from_bytes(data[position:position + 4], "big")
        kind = data[position + 4:position + 8]
        chunk = view[position:position + 12 + size]
        if len(chunk) != 12 + size:
            break
        if kind in _PNG_KEPT:
            kept.append(chunk)
        position += len(chunk)
        if kind == b"IEND":
            return b"".join(kept)
    raise Unprocessable("the PNG ends before its IEND chunk")


def strip_webp(data: bytes) -> bytes:
    """The same WebP without its EXIF and XMP chunks (and their flags in the VP8X header)."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise Unprocessable("not a WebP")
    view = memoryview(data)
    chunks = []
    position = 12
    end = min(len(data), 8 + int.from_bytes(data[4:8], "little"))
    while position + 8 <= end:
        kind = data[position:position + 4]
        size = int.from_bytes(data[position + 4:position + 8], "little")
        chunk = view[position:position + 8 + size + (size & 1)]
        if len(chunk) < 8 + size:
            raise Unprocessable("the WebP's structure is broken")
        if kind == b"VP8X":
            flags = chunk[8] & ~0x0C  # bit 3 EXIF, bit 2 XMP
            chunk = bytes(chunk[:8]) + bytes([flags]) + bytes(chunk[9:])
        if kind not in (b"EXIF", b"XMP "):
            chunks.append(chunk)
        position += len(chunk)
    if not chunks:
        raise Unprocessable("the WebP has no image data")
    size = 4 + sum(len(chunk) for chunk in chunks)
    return b"".join([b"RIFF", size.to_bytes(4, "little"), b"WEBP", *chunks])


# GIF application extensions that change how it plays (looping) or looks (colour profile).
_GIF_KEPT_APPLICATIONS = (b"NETSCAPE2.0", b"ANIMEXTS1.0", b"ICCRGBG1012")


def _gif_sub_blocks_end(data: bytes, position: int) -> int:
    """Where a chain of size-prefixed sub-blocks ends (after its zero-length terminator)."""
    while True:
        if position >= len(data):
            raise Unprocessable("the GIF ends inside a block")
        size = data[position]
        position += 1 + size
        if size == 0:
            return position


def strip_gif(data: bytes) -> bytes:
    """The same GIF, every frame and the looping kept, without comments or XMP (application
    extensions other than looping and the colour profile)."""
    if data[:6] not in (b"GIF87a", b"GIF89a") or len(data) < 13:
        raise Unprocessable("not a GIF")
    position = 13
    if data[10] & 0x80:
        position += 3 * (2 << (data[10] & 0x07))
    view = memoryview(data)
    kept = [view[:position]]
    while position < len(data):
        introducer = data[position]
        if introducer == 0x3B:
            kept.append(b"\x3b")
            return b"".join(kept)
        if introducer == 0x2C:  # an image: descriptor, local colour table, LZW data
            start = position
            if position + 10 > len(data):
                raise Unprocessable("the GIF ends inside an image")
            flags = data[position + 9]
            position += 10 + (3 * (2 << (flags & 0x07)) if flags & 0x80 else 0) + 1
            position = _gif_sub_blocks_end(data, position)
            kept.append(view[start:position])
        elif introducer == 0x21 and position + 1 < len(data):
            start, label = position, data[position + 1]
            position = _gif_sub_blocks_end(data, position + 2)
            block = view[start:position]
            is_kept_application = label == 0xFF and bytes(block[3:14]) in _GIF_KEPT_APPLICATIONS
            if label in (0xF9, 0x01) or is_kept_application:  # graphic control, plain text
                kept.append(block)
        else:
            raise Unprocessable("the GIF's structure is broken")
    raise Unprocessable("the GIF ends before its trailer")


def _heif_clean(image, orientation: int, icc: bytes | None) -> bytes:
    """HEIC/HEIF as a JPEG without metadata (most browsers cannot show HEIF at all), from the
    picture already decoded for the thumbnails: stored as decoded, with an EXIF block holding
    only the orientation, so no turned full-size copy is ever made."""
    out = io.BytesIO()
    options = {"quality": CLEAN_JPEG_QUALITY}
    if icc:
        options["icc_profile"] = icc
    if orientation != 1:
        options["exif"] = _minimal_exif(orientation)
    image.save(out, "JPEG", **options)
    return out.getvalue()


_STRIPPERS = {"image/jpeg": ("clean.jpg", strip_jpeg), "image/png": ("clean.png", strip_png),
              "image/webp": ("clean.webp", strip_webp), "image/gif": ("clean.gif", strip_gif)}


def clean_copy(data: bytes, content_type: str) -> Rendition | None:
    """A copy a viewer may have, made at the container level (no decode): no GPS, camera or other
    EXIF/XMP, comments or text; None for a type cleaned nowhere here (HEIF is cleaned by
    ``process_image``, which must decode it). Raises ``Unprocessable`` when the structure is broken."""
    if content_type not in _STRIPPERS:
        return None
    name, strip = _STRIPPERS[content_type]
    return Rendition(name, strip(data), content_type)


def process_image(data: bytes, content_type: str, keep: Callable[[Rendition], None] | None = None) -> ImageResult:
    """Size, clean copy and thumbnails of one image, each handed to ``keep`` as soon as it is made
    (so it can be stored and dropped before the next one is decoded).

    The clean copy comes first and needs no decode, so a picture no decoder reads, or one over
    the decoding limits, still goes to viewers without its metadata. HEIF cannot be cleaned
    without decoding: it is cleaned from the same decode as its thumbnails, or not at all.
    """
    made: list[Rendition] = []
    keep = keep or made.append
    stripped, state, reason = False, READY, None
    try:
        clean = clean_copy(data, content_type)
    except Unprocessable as error:
        state, reason = FAILED, f"its metadata cannot be removed: {error}"
    else:
        if clean is not None:
            keep(clean)
            stripped = True
        del clean
    limit = decode_limit(content_type)
    try:
        image = _open(data, limit)
    except Unprocessable as error:
        return ImageResult(None, None, made, stripped, state if state == FAILED else
                           (SKIPPED if isinstance(error, Skipped) else FAILED), reason or str(error))
    width, height = image.size
    orientation = _orientation(image)
    if orientation in (5, 6, 7, 8):
        width, height = height, width
    heif_clean: list[bool] = []
    icc = image.info.get("icc_profile")

    def keep_full(full):
        """HEIF's clean copy, from the one full-size decode, handed on at once (25 MB at 48 MP)."""
        if content_type in HEIF_TYPES:
            keep(Rendition("clean.jpg", _heif_clean(full if full.mode in ("RGB", "L") else full.convert("RGB"),
                                                    orientation, icc), "image/jpeg"))
            heif_clean.append(True)

    try:
        thumbs = _thumbnails_of(image, THUMBNAIL_SIZES, keep_full=keep_full)
    except Unprocessable as error:
        return ImageResult(width, height, made, stripped, SKIPPED if isinstance(error, Skipped) else FAILED,
                           reason or str(error))
    except Exception as error:  # noqa: BLE001 - any decoder's error means "this file"
        return ImageResult(width, height, made, stripped, FAILED, reason or "the picture cannot be decoded")
    if heif_clean:
        stripped = True
    for size, body in sorted(thumbs.items()):
        keep(Rendition(f"thumb-{size}.jpg", body, "image/jpeg"))
    return ImageResult(width, height, made, stripped, state, reason)


# Reading ranges ----------------------------------------------------------------------------


class RangedFile(io.RawIOBase):
    """A read-only, seekable file over ``read(offset, length)``: only the blocks parsers ask for
    are fetched, a few are kept, and the total fetched is capped (``Unprocessable`` past it)."""

    def __init__(self, read: Callable[[int, int], bytes], size: int, *, name: str = "",
                 budget: int = MAX_PARSE_READ_BYTES, block: int = RANGE_BLOCK_BYTES, kept_blocks: int = 8):
        super().__init__()
        self._read = read
        self.size = size
        self.name = name
        self._budget = budget
        self._block = block
        self._kept = kept_blocks
        self._blocks: dict[int, bytes] = {}
        self._position = 0
        self.fetched = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self.size}[whence]
        self._position = max(0, base + offset)
        return self._position

    def _block_at(self, index: int) -> bytes:
        if index not in self._blocks:
            start = index * self._block
            length = min(self._block, self.size - start)
            self.fetched += length
            if self.fetched > self._budget:
                raise Unprocessable("the file needs more reading than the limit allows")
            if len(self._blocks) >= self._kept:
                self._blocks.pop(next(iter(self._blocks)))
            self._blocks[index] = self._read(start, length)
        return self._blocks[index]

    def readinto(self, buffer) -> int:
        view = memoryview(buffer).cast("B")
        wanted = min(len(view), max(0, self.size - self._position))
        done = 0
        while done < wanted:
            index, within = divmod(self._position, self._block)
            block = self._block_at(index)
            piece = block[within:within + wanted - done]
            if not piece:
                break
            view[done:done + len(piece)] = piece
            done += len(piece)
            self._position += len(piece)
        return done

    def pread(self, offset: int, length: int) -> bytes:
        self.seek(offset)
        return self.read(length) or b""


# Video: ISO base media (MP4, QuickTime) --------------------------------------------------------


def _boxes(data: bytes, start: int = 0, end: int | None = None):
    """(type, payload start, payload end) of each box in ``data[start:end]``."""
    end = len(data) if end is None else end
    position = start
    while position + 8 <= end:
        size, kind = struct.unpack(">I4s", data[position:position + 8])
        header = 8
        if size == 1:
            if position + 16 > end:
                return
            size = struct.unpack(">Q", data[position + 8:position + 16])[0]
            header = 16
        elif size == 0:
            size = end - position
        if size < header or position + size > end:
            return
        yield kind, position + header, position + size
        position += size


def _find_moov(file: RangedFile) -> bytes:
    """The ``moov`` box, wherever it is among the top-level boxes (16 bytes read per box)."""
    position = 0
    for _ in range(MAX_TOP_LEVEL_BOXES):
        if position + 8 > file.size:
            break
        header = file.pread(position, 16)
        if len(header) < 8:
            break
        size, kind = struct.unpack(">I4s", header[:8])
        header_size = 8
        if size == 1:
            size, header_size = struct.unpack(">Q", header[8:16])[0], 16
        elif size == 0:
            size = file.size - position
        if size < header_size:
            break
        if kind == b"moov":
            if size > MAX_MOOV_BYTES:
                raise Unprocessable("the video's index is larger than the limit")
            return file.pread(position + header_size, size - header_size)
        position += size
    raise Unprocessable("the video has no moov box")


def _full_box(payload: bytes) -> tuple[int, bytes]:
    return payload[0], payload[4:]


def _duration(payload: bytes) -> tuple[int, int]:
    """(timescale, duration) of an ``mvhd`` or ``mdhd`` box."""
    version, body = _full_box(payload)
    if version == 1:
        timescale, duration = struct.unpack(">IQ", body[16:28])
    else:
        timescale, duration = struct.unpack(">II", body[8:16])
    return timescale, duration


def _track_size(payload: bytes) -> tuple[int, int]:
    """Display width and height of a ``tkhd`` box, swapped when its matrix turns the picture."""
    version, body = _full_box(payload)
    matrix_at = (32 if version == 1 else 20) + 16  # after times, id, duration, reserved, layer...
    a, b = struct.unpack(">ii", body[matrix_at:matrix_at + 8])
    width, height = struct.unpack(">II", body[matrix_at + 36:matrix_at + 44])
    width, height = width >> 16, height >> 16
    return (height, width) if a == 0 and abs(b) == 0x10000 else (width, height)


def iso_video_info(file: RangedFile) -> dict:
    """Width, height and duration of an MP4 or QuickTime file from its ``moov`` box."""
    moov = _find_moov(file)
    info: dict = {}
    fragment_duration = None
    for kind, start, end in _boxes(moov):
        if kind == b"mvhd":
            timescale, duration = _duration(moov[start:end])
            if timescale and duration and duration != 0xFFFFFFFF:
                info["duration_seconds"] = round(duration / timescale, 3)
            info["_timescale"] = timescale
        elif kind == b"mvex":
            for inner, inner_start, inner_end in _boxes(moov, start, end):
                if inner == b"mehd":
                    version, body = _full_box(moov[inner_start:inner_end])
                    fragment_duration = struct.unpack(">Q" if version == 1 else ">I", body[:8 if version == 1 else 4])[0]
        elif kind == b"trak":
            size, handler = None, None
            for inner, inner_start, inner_end in _boxes(moov, start, end):
                if inner == b"tkhd":
                    size = _track_size(moov[inner_start:inner_end])
                elif inner == b"mdia":
                    for part, part_start, part_end in _boxes(moov, inner_start, inner_end):
                        if part == b"hdlr":
                            handler = moov[part_start + 8:part_start + 12]
            if handler == b"vide" and size and size[0] and size[1] and "width" not in info:
                info["width"], info["height"] = size
            elif handler == b"soun":
                info["has_audio"] = True
    timescale = info.pop("_timescale", 0)
    if "duration_seconds" not in info and fragment_duration and timescale:
        info["duration_seconds"] = round(fragment_duration / timescale, 3)
    if not info:
        raise Unprocessable("the video's index holds no track or duration")
    return info


# Video and audio: Matroska and WebM (EBML) ----------------------------------------------------

EBML_TYPES = frozenset({"video/webm", "audio/webm"})
_EBML_HEADER, _SEGMENT, _CLUSTER = 0x1A45DFA3, 0x18538067, 0x1F43B675
_INFO, _TRACKS, _TRACK_ENTRY, _VIDEO = 0x1549A966, 0x1654AE6B, 0xAE, 0xE0
_TIMESTAMP_SCALE, _DURATION, _TRACK_TYPE, _PIXEL_WIDTH, _PIXEL_HEIGHT = 0x2AD7B1, 0x4489, 0x83, 0xB0, 0xBA
MAX_EBML_ELEMENTS = 2000


def _vint(data: bytes, position: int, *, keep_marker: bool) -> tuple[int | None, int]:
    """An EBML variable-length integer: (value, its length); value None for "unknown size"."""
    if position >= len(data):
        raise Unprocessable("the file ends inside an element header")
    first = data[position]
    length = 9 - first.bit_length() if first else 9
    if length > 8 or position + length > len(data):
        raise Unprocessable("the file's element header is broken")
    value = int.from_bytes(data[position:position + length], "big")
    if keep_marker:
        return value, length
    value &= (1 << (7 * length)) - 1
    return (None if value == (1 << (7 * length)) - 1 else value), length


def _ebml_children(data: bytes, start: int, end: int):
    """(id, payload start, payload end) of each element in ``data[start:end]``; an element of
    unknown size (a live recording's Segment or Cluster) runs to ``end``."""
    position = start
    for _ in range(MAX_EBML_ELEMENTS):
        if position >= end:
            return
        try:
            element, id_length = _vint(data, position, keep_marker=True)
            size, size_length = _vint(data, position + id_length, keep_marker=False)
        except Unprocessable:
            return  # cut off by the end of what was read: what came before still counts
        payload = position + id_length + size_length
        stop = end if size is None else payload + size
        yield element, payload, min(stop, end)
        if size is None:
            return
        position = stop


def _uint(data: bytes) -> int:
    return int.from_bytes(data, "big")


def ebml_info(file: RangedFile, head_bytes: int = 1024 * 1024) -> dict:
    """Width, height and duration of a WebM or Matroska file from its Info and Tracks elements,
    which precede the first Cluster: only the file's first ``head_bytes`` are read. Recordings
    made by browsers (MediaRecorder) often carry no duration; then there is none to report."""
    data = file.pread(0, min(head_bytes, file.size))
    info: dict = {}
    segment = None
    for element, start, end in _ebml_children(data, 0, len(data)):
        if element == _SEGMENT:
            segment = (start, end)
            break
        if element != _EBML_HEADER:
            raise Unprocessable("not a Matroska or WebM file")
    if segment is None:
        raise Unprocessable("the file has no Segment")
    scale, duration = 1_000_000, None
    for element, start, end in _ebml_children(data, *segment):
        if element == _CLUSTER:
            break
        if element == _INFO:
            for inner, inner_start, inner_end in _ebml_children(data, start, end):
                if inner == _TIMESTAMP_SCALE:
                    scale = _uint(data[inner_start:inner_end]) or scale
                elif inner == _DURATION and inner_end - inner_start in (4, 8):
                    duration = struct.unpack(">f" if inner_end - inner_start == 4 else ">d", data[inner_start:inner_end])[0]
        elif element == _TRACKS:
            for entry, entry_start, entry_end in _ebml_children(data, start, end):
                if entry != _TRACK_ENTRY:
                    continue
                fields = {inner: (inner_start, inner_end) for inner, inner_start, inner_end
                          in _ebml_children(data, entry_start, entry_end)}
                kind = _uint(data[slice(*fields[_TRACK_TYPE])]) if _TRACK_TYPE in fields else None
                if kind == 2:
                    info["has_audio"] = True
                if kind == 1 and _VIDEO in fields and "width" not in info:
                    video = {inner: _uint(data[inner_start:inner_end]) for inner, inner_start, inner_end
                             in _ebml_children(data, *fields[_VIDEO])}
                    if video.get(_PIXEL_WIDTH) and video.get(_PIXEL_HEIGHT):
                        info["width"], info["height"] = video[_PIXEL_WIDTH], video[_PIXEL_HEIGHT]
    if duration and duration > 0:
        info["duration_seconds"] = round(duration * scale / 1e9, 3)
    elif segment[1] - segment[0] > 0:
        last = _last_block_time(file, scale)
        if last:
            info["duration_seconds"] = last
    return info


_TIMESTAMP, _SIMPLE_BLOCK, _BLOCK_GROUP, _BLOCK, _BLOCK_DURATION = 0xE7, 0xA3, 0xA0, 0xA1, 0x9B
_CLUSTER_ID = _CLUSTER.to_bytes(4, "big")
TAIL_READS = (1024 * 1024, 8 * 1024 * 1024)


def _last_block_time(file: RangedFile, scale: int) -> float | None:
    """A browser recording's duration, which MediaRecorder never writes in the header: the time of
    the last frame, from the last Cluster (its Timestamp plus its blocks' relative times, and a
    block's own duration when it has one). Reads the file's tail only (1 MB, then 8 MB if the last
    Cluster starts before that); None when no Cluster is found there."""
    for tail in TAIL_READS:
        start = max(0, file.size - tail)
        data = file.pread(start, file.size - start)
        position = len(data)
        while True:
            position = data.rfind(_CLUSTER_ID, 0, position)
            if position < 0:
                break
            found = _cluster_end_time(data, position)
            if found is not None:
                return round(found * scale / 1e9, 3)
        if start == 0:
            break
    return None


def _cluster_end_time(data: bytes, position: int) -> int | None:
    """The latest block time in the Cluster at ``position`` (in TimestampScale units), or None
    when these bytes are not a Cluster (its first child must be its Timestamp)."""
    try:
        _, id_length = _vint(data, position, keep_marker=True)
        size, size_length = _vint(data, position + id_length, keep_marker=False)
    except Unprocessable:
        return None
    payload = position + id_length + size_length
    end = len(data) if size is None else min(len(data), payload + size)
    base, latest = None, None
    for element, start, stop in _ebml_children(data, payload, end):
        if base is None:
            if element != _TIMESTAMP or not 1 <= stop - start <= 8:
                return None
            base = _uint(data[start:stop])
            latest = base
            continue
        block, duration = None, 0
        if element == _SIMPLE_BLOCK:
            block = (start, stop)
        elif element == _BLOCK_GROUP:
            for inner, inner_start, inner_stop in _ebml_children(data, start, stop):
                if inner == _BLOCK:
                    block = (inner_start, inner_stop)
                elif inner == _BLOCK_DURATION:
                    duration = _uint(data[inner_start:inner_stop])
        elif element == _CLUSTER:
            break
        if block is None:
            continue
        try:
            _, track_length = _vint(data, block[0], keep_marker=False)
        except Unprocessable:
            break
        if block[0] + track_length + 2 > len(data):
            break
        relative = struct.unpack(">h", data[block[0] + track_length:block[0] + track_length + 2])[0]
        latest = max(latest, base + relative + duration)
    return latest


# Audio and PDF ---------------------------------------------------------------------------------


def audio_info(file: RangedFile) -> dict:
    """Duration and the common tags (title, artist, album, date, genre), by mutagen."""
    import mutagen

    try:
        found = mutagen.File(file, easy=True)
    except mutagen.MutagenError as error:
        raise Unprocessable("the audio file cannot be read") from error
    if found is None or getattr(found, "info", None) is None:
        raise Unprocessable("the audio file's format is not recognised")
    info: dict = {}
    length = getattr(found.info, "length", None)
    if length:
        info["duration_seconds"] = round(float(length), 3)
    tags = {}
    source = found.tags
    if source is not None and hasattr(source, "getall"):  # ID3 inside WAV or AIFF: no "easy" view
        source = {name: [str(frame) for frame in source.getall(frame_id)] for name, frame_id in _ID3_FRAMES.items()}
    for name in AUDIO_TAGS:
        values = source.get(name) if source is not None else None
        if values:
            text = str(values[0] if isinstance(values, list) else values).strip()
            if text:
                tags[name] = text[:MAX_TAG_CHARS]
    if tags:
        info["tags"] = tags
    return info


def pdf_first_page(data: bytes, sizes: tuple[int, ...] = THUMBNAIL_SIZES) -> dict[int, bytes]:
    """The PDF's first page drawn by PDFium (pypdfium2) to fit the largest size, as JPEG thumbnails.

    Only that page is parsed and drawn, straight at the size wanted (never a full-resolution
    page), without forms or scripts (PDFium runs no JavaScript unless a form environment is made).
    The images on the page are decoded by PDFium at their own size: bench/processing.py
    measures a page that is one full A4 photo at 300 dpi.
    """
    import pypdfium2 as pdfium

    Image, _ = _pillow()
    largest = max(sizes)
    with _decoding(truncated_ok=False):
        try:
            document = pdfium.PdfDocument(data)
        except pdfium.PdfiumError as error:
            raise Unprocessable("the PDF's first page cannot be drawn") from error
        try:
            if len(document) < 1:
                raise Unprocessable("the PDF has no pages")
            page = document[0]
            width, height = page.get_size()
            if width <= 0 or height <= 0:
                raise Unprocessable("the PDF's first page has no size")
            scale = min(largest / width, largest / height)
            drawn = page.render(scale=scale, may_draw_forms=False).to_pil().convert("RGB")
        except pdfium.PdfiumError as error:
            raise Unprocessable("the PDF's first page cannot be drawn") from error
        finally:
            document.close()
    made: dict[int, bytes] = {}
    for size in sorted(sizes, reverse=True):
        current = drawn.copy()
        current.thumbnail((size, size), Image.Resampling.LANCZOS)
        out = io.BytesIO()
        current.save(out, "JPEG", quality=THUMBNAIL_QUALITY, optimize=True)
        made[size] = out.getvalue()
    return made


def pdf_pages(file: RangedFile) -> int:
    """How many pages a PDF has, by pypdf (cross-reference tables and streams, object streams)."""
    import logging

    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # its warnings would name nothing useful
    try:
        reader = PdfReader(file, strict=False)
        if reader.is_encrypted:
            reader.decrypt("")
        pages = len(reader.pages)
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError, struct.error) as error:
        raise Unprocessable("the PDF cannot be read") from error
    if pages < 1:
        raise Unprocessable("the PDF has no pages")
    return pages
