"""What a file really is, from its first bytes.

``matches(declared_type, head)`` answers whether the opening bytes of an object
are consistent with the type its uploader declared. Types we know no signature
for are refused: an allow-list of types is only as good as the check behind it.
"""

from __future__ import annotations

from typing import Callable

HEAD_BYTES = 512

_MP4_VIDEO_BRANDS = {b"isom", b"iso2", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"dash", b"M4V ", b"MSNV", b"3gp4", b"3gp5", b"mmp4"}
_MP4_AUDIO_BRANDS = {b"M4A ", b"M4B ", b"isom", b"mp42", b"mp41", b"dash"}


# HEIF (ISO/IEC 23008-12) brands: HEVC-coded images (HEIC) and the generic image brands.
_HEIC_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx"}
_HEIF_BRANDS = _HEIC_BRANDS | {b"mif1", b"msf1"}


def _ftyp_brand(head: bytes) -> bytes | None:
    if len(head) >= 12 and head[4:8] == b"ftyp":
        return head[8:12]
    return None


def _ftyp_brands(head: bytes) -> set[bytes]:
    """The major brand and the compatible brands of an ISO base media file's ``ftyp`` box."""
    major = _ftyp_brand(head)
    if major is None:
        return set()
    end = min(int.from_bytes(head[:4], "big"), len(head))
    return {major} | {head[i:i + 4] for i in range(16, end - 3, 4)}


def _heic(head: bytes) -> bool:
    """HEVC-coded HEIF: an HEIC major brand, or a generic image brand listing one."""
    major = _ftyp_brand(head)
    return major in _HEIC_BRANDS or (major in (b"mif1", b"msf1") and bool(_ftyp_brands(head) & _HEIC_BRANDS))


def _heif(head: bytes) -> bool:
    """Any HEIF image: the major brand says so (AVIF, also HEIF-based, names ``avif`` first)."""
    return _ftyp_brand(head) in _HEIF_BRANDS


def _quicktime(head: bytes) -> bool:
    """QuickTime: the ``qt  `` brand, or (older files, no ``ftyp``) a first atom QuickTime writes."""
    return _ftyp_brand(head) == b"qt  " or head[4:8] in (b"moov", b"mdat", b"wide", b"pnot")


def _riff(kind: bytes) -> Callable[[bytes], bool]:
    return lambda head: head[:4] == b"RIFF" and head[8:12] == kind


def _mp3(head: bytes) -> bool:
    if head.startswith(b"ID3"):
        return True
    return len(head) >= 2 and head[0] == 0xFF and (head[1] & 0xE0) == 0xE0 and (head[1] & 0x06) != 0


def _looks_like_text(head: bytes) -> bool:
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    lowered = text.lstrip().lower()
    if lowered.startswith(("<!doctype", "<html", "<script", "<?xml", "<svg")):
        return False
    return all(ch.isprintable() or ch in "\r\n\t\f" for ch in text)


def _svg(head: bytes) -> bool:
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return text.startswith(b"<svg") or (text.startswith(b"<?xml") and b"<svg" in text)


SIGNATURES: dict[str, Callable[[bytes], bool]] = {
    "image/png": lambda h: h.startswith(b"\x89PNG\r\n\x1a\n"),
    "image/jpeg": lambda h: h.startswith(b"\xff\xd8\xff"),
    "image/gif": lambda h: h.startswith((b"GIF87a", b"GIF89a")),
    "image/webp": _riff(b"WEBP"),
    "image/avif": lambda h: _ftyp_brand(h) in (b"avif", b"avis"),
    "image/heic": _heic,
    "image/heif": _heif,
    "image/svg+xml": _svg,
    "video/mp4": lambda h: _ftyp_brand(h) in _MP4_VIDEO_BRANDS,
    "video/quicktime": _quicktime,
    "video/webm": lambda h: h.startswith(b"\x1a\x45\xdf\xa3"),
    "video/ogg": lambda h: h.startswith(b"OggS"),
    "audio/webm": lambda h: h.startswith(b"\x1a\x45\xdf\xa3"),
    "audio/mpeg": _mp3,
    "audio/mp4": lambda h: _ftyp_brand(h) in _MP4_AUDIO_BRANDS,
    "audio/ogg": lambda h: h.startswith(b"OggS"),
    "audio/wav": _riff(b"WAVE"),
    "audio/x-wav": _riff(b"WAVE"),
    "audio/flac": lambda h: h.startswith(b"fLaC"),
    "application/pdf": lambda h: h.lstrip(b"\r\n\t ").startswith(b"%PDF-"),
    "text/plain": _looks_like_text,
}


def known_types() -> frozenset[str]:
    return frozenset(SIGNATURES)


def matches(declared_type: str, head: bytes) -> bool:
    check = SIGNATURES.get(declared_type)
    return bool(head) and check is not None and check(head)


def detect(head: bytes) -> str | None:
    """The first known type whose signature fits, for messages and logs."""
    for content_type, check in SIGNATURES.items():
        if content_type != "text/plain" and check(head):
            return content_type
    if head.lstrip().lower().startswith((b"<!doctype html", b"<html", b"<script")):
        return "text/html"
    return "text/plain" if _looks_like_text(head) else None
