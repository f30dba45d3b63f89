"""Pure decisions about uploads and downloads: no Flask, no boto3.

Every refusal is a ``Refusal`` carrying a stable ``code`` and a message a
person can act on; views turn it into JSON or a page.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import unicodedata
from urllib.parse import quote

MAX_NAME_CHARS = 200
MAX_CAPTION_CHARS = 500  # stored with the object, inside S3's 2 KB of metadata
MAX_FILENAME_BYTES = 150

# Extensions a file of each type may carry. A name with another known extension
# is refused before anything is signed (``photo.html`` declared as image/png).
EXTENSIONS = {
    "image/png": {"png"},
    "image/jpeg": {"jpg", "jpeg", "jpe", "jfif"},
    "image/gif": {"gif"},
    "image/webp": {"webp"},
    "image/avif": {"avif"},
    "image/heic": {"heic"},
    "image/heif": {"heif", "hif", "heic"},
    "image/svg+xml": {"svg"},
    "video/mp4": {"mp4", "m4v"},
    "video/webm": {"webm"},
    "video/quicktime": {"mov", "qt"},
    "video/ogg": {"ogv", "ogg"},
    "audio/mpeg": {"mp3", "mpga"},
    "audio/mp4": {"m4a", "mp4", "aac"},
    "audio/ogg": {"ogg", "oga", "opus"},
    "audio/wav": {"wav"},
    "audio/x-wav": {"wav"},
    "audio/webm": {"webm", "weba"},
    "audio/flac": {"flac"},
    "application/pdf": {"pdf"},
    "text/plain": {"txt", "text", "log"},
}
# How a person reads each type, in the order they are listed, grouped by family
# (``type_words``): the page's note, its refusals and the server's say the same words.
TYPE_WORDS = {
    "image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WebP", "image/gif": "GIF", "image/avif": "AVIF",
    "image/heic": "HEIC", "image/heif": "HEIF", "image/svg+xml": "SVG",
    "video/mp4": "MP4", "video/quicktime": "MOV", "video/webm": "WebM", "video/ogg": "Ogg",
    "audio/mpeg": "MP3", "audio/mp4": "M4A", "audio/ogg": "Ogg", "audio/wav": "WAV", "audio/x-wav": "WAV",
    "audio/webm": "WebM", "audio/flac": "FLAC",
    "application/pdf": "PDF", "text/plain": "plain text",
}
TYPE_FAMILIES = (("image/", "images"), ("video/", "video"), ("audio/", "audio"),
                 ("application/pdf", "PDF documents"), ("text/plain", "plain text files"))


def type_words(types) -> str:
    """The allowed types as a person reads them, grouped: "images (JPEG, PNG), video (MP4)
    and PDF documents". A family of one kind that names itself (PDF) carries no list."""
    groups = []
    for prefix, family in TYPE_FAMILIES:
        members = sorted((t for t in types if t.startswith(prefix)), key=lambda t: list(TYPE_WORDS).index(t)
                         if t in TYPE_WORDS else len(TYPE_WORDS))
        words = list(dict.fromkeys(TYPE_WORDS.get(t, t) for t in members))
        if words:
            groups.append(family if prefix in ("application/pdf", "text/plain") else f"{family} ({', '.join(words)})")
    others = [t for t in types if not any(t.startswith(prefix) for prefix, _ in TYPE_FAMILIES)]
    groups.extend(others)
    return groups[0] if len(groups) == 1 else ", ".join(groups[:-1]) + " and " + groups[-1] if groups else "nothing"


# Names browsers and systems give the same type: stored and checked under one name.
TYPE_ALIASES = {
    "audio/x-m4a": "audio/mp4",
    "audio/m4a": "audio/mp4",
    "video/x-quicktime": "video/quicktime",
    "image/x-png": "image/png",
    "image/pjpeg": "image/jpeg",
    "audio/mp3": "audio/mpeg",
    "audio/x-flac": "audio/flac",
}
# What a browser says when it does not know a type (Chromium on Linux sends "" for .MOV):
# the type is then taken from the extension, and the bytes are checked as always.
UNKNOWN_TYPES = ("", "application/octet-stream")
KNOWN_EXTENSIONS = set().union(*EXTENSIONS.values()) | {
    "html", "htm", "xhtml", "js", "mjs", "xml", "exe", "bat", "cmd", "sh", "php", "svgz",
}

# Types a browser could run or render as a document of our origin: always
# delivered as an attachment, never inline.
ACTIVE_TYPES = {
    "text/html",
    "application/xhtml+xml",
    "image/svg+xml",
    "text/xml",
    "application/xml",
    "text/javascript",
    "application/javascript",
}
PREVIEW_FAMILIES = ("image/", "video/", "audio/")


class Refusal(Exception):
    """A request refused for a reason the caller can act on: a stable ``code``, a readable
    ``message``, the HTTP status, and, when waiting helps, seconds until it may (``Retry-After``)."""

    def __init__(self, code: str, message: str, status: int = 400, retry_after: int | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.retry_after = retry_after


@dataclasses.dataclass(frozen=True)
class UploadRequest:
    filename: str
    content_type: str
    size: int
    name: str
    caption: str
    retention_days: int = 7
    max_downloads: int | None = None
    visibility: str = "private"


MAX_DOWNLOAD_LIMIT = 1_000_000
VISIBILITIES = ("private", "public")


def check_upload_request(
    data: object,
    *,
    allowed_types: tuple[str, ...],
    max_bytes: int,
    retention_days: int = 7,
    max_retention_days: int = 30,
) -> UploadRequest:
    """Validate the JSON body of ``POST /api/uploads``; return clean values."""
    if not isinstance(data, dict):
        raise Refusal("invalid_request", "Send a JSON object with filename, content_type and size.")
    raw_filename = data.get("filename")
    if not isinstance(raw_filename, str) or not raw_filename.strip():
        raise Refusal("invalid_request", "Choose a file to upload.")
    filename = clean_filename(raw_filename)

    size = data.get("size")
    if isinstance(size, bool) or not isinstance(size, int):
        raise Refusal("invalid_request", "The file size must be a whole number of bytes.")
    if size < 1:
        raise Refusal("invalid_request", "The file is empty; choose a file with something in it.")
    if size > max_bytes:
        raise Refusal(
            "file_too_large",
            f"The file is {human_size(size)}; the largest file you can upload is {human_size(max_bytes)}.",
        )

    content_type = normalize_content_type(data.get("content_type"))
    if content_type in UNKNOWN_TYPES:
        content_type = type_from_extension(file_extension(filename), allowed_types) or content_type
    if content_type not in allowed_types:
        shown = content_type or "an unknown type"
        raise Refusal(
            "type_not_allowed",
            f"Files of type {shown} cannot be uploaded here: only {type_words(allowed_types)}.",
        )
    extension = file_extension(filename)
    allowed_extensions = EXTENSIONS.get(content_type)
    if extension in KNOWN_EXTENSIONS and allowed_extensions and extension not in allowed_extensions:
        raise Refusal(
            "type_not_allowed",
            f"The file name ends in .{extension}, which does not match the type {content_type}.",
        )

    name = _clean_text(data.get("name"), "name", MAX_NAME_CHARS, keep_newlines=False)
    caption = _clean_text(data.get("caption"), "caption", MAX_CAPTION_CHARS, keep_newlines=True)
    keep_days = _optional_whole(data.get("retention_days"), "retention_days", 1, max_retention_days,
                                f"Files can be kept from 1 to {max_retention_days} days.")
    limit = _optional_whole(data.get("max_downloads"), "max_downloads", 1, MAX_DOWNLOAD_LIMIT,
                            "The download limit must be a whole number from 1 up, or empty for no limit.")
    visibility = data.get("visibility") or "private"
    if visibility not in VISIBILITIES:
        raise Refusal("invalid_request", "Visibility must be private or public.")
    if visibility == "public" and limit is not None:
        raise Refusal("invalid_request", "A file in the public gallery cannot have a download limit.")
    return UploadRequest(
        filename, content_type, size, name or filename, caption,
        retention_days=keep_days or retention_days, max_downloads=limit, visibility=visibility,
    )


def _optional_whole(value: object, field: str, low: int, high: int, message: str) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise Refusal("invalid_request", message)
    return value


def normalize_content_type(value: object) -> str:
    if not isinstance(value, str):
        return ""
    content_type = value.split(";", 1)[0].strip().lower()
    return TYPE_ALIASES.get(content_type, content_type)


def type_from_extension(extension: str, allowed_types) -> str | None:
    """The first allowed type a file with this extension may be (``mov`` → video/quicktime;
    ``mp4`` → video/mp4 before audio/mp4, in the order the types are allowed)."""
    for content_type in allowed_types:
        if extension and extension in EXTENSIONS.get(content_type, ()):
            return content_type
    return None


def _clean_text(value: object, field: str, limit: int, *, keep_newlines: bool) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise Refusal("invalid_request", f"The {field} must be text.")
    keep = {"\n"} if keep_newlines else set()
    text = "".join(
        ch for ch in unicodedata.normalize("NFC", value.replace("\r\n", "\n"))
        if ch in keep or unicodedata.category(ch)[0] != "C"
    ).strip()
    if len(text) > limit:
        raise Refusal("invalid_request", f"The {field} is {len(text)} characters; the limit is {limit}.")
    return text


_UNSAFE_IN_NAME = re.compile(r'[<>:"|?*\x00-\x1f\x7f]')
_SPACES = re.compile(r"\s+")


def clean_filename(raw: str) -> str:
    """A filename safe for an S3 key and a header that still reads as the original.

    Drops any path, control and format characters (CR/LF, bidi overrides),
    characters Windows refuses, leading dots; trims to ``MAX_FILENAME_BYTES`` of
    UTF-8 while keeping the extension. Never returns an empty string.
    """
    name = unicodedata.normalize("NFC", raw)
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(
        " " if unicodedata.category(ch) == "Zs" else ch
        for ch in name
        if unicodedata.category(ch)[0] != "C" and unicodedata.category(ch) not in ("Zl", "Zp")
    )
    name = _UNSAFE_IN_NAME.sub("_", name)
    name = _SPACES.sub(" ", name).strip(" .")
    if not name:
        return "file"
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem or len(extension) > 16:
        stem, extension = name, ""
    suffix = f".{extension}" if extension else ""
    budget = MAX_FILENAME_BYTES - len(suffix.encode())
    stem_bytes = stem.encode()
    if len(stem_bytes) > budget:
        stem = stem_bytes[:budget].decode("utf-8", "ignore").rstrip(" .") or "file"
    return stem + suffix


def file_extension(filename: str) -> str:
    stem, dot, extension = filename.rpartition(".")
    return extension.lower() if dot and stem else ""


def object_key(media_id: str, filename: str) -> str:
    return f"uploads/{media_id}/{filename}"


def media_id_from_key(key: str) -> str | None:
    parts = key.split("/")
    if len(parts) == 3 and parts[0] == "uploads" and parts[1] and parts[2]:
        return parts[1]
    return None


def content_disposition(filename: str, content_type: str, *, inline: bool = False) -> str:
    """RFC 6266 header value: an ASCII fallback plus the UTF-8 name (RFC 5987)."""
    disposition = "inline" if inline and may_render_inline(content_type) else "attachment"
    extension = file_extension(filename)
    stem = filename[: -len(extension) - 1] if extension else filename
    fallback = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode()
    fallback = re.sub(r"[^A-Za-z0-9._ ()+,=@!#$&~-]", "_", fallback).strip(" ._") or "download"
    if extension:
        fallback += "." + re.sub(r"[^a-z0-9]", "", extension)
    header = f'{disposition}; filename="{fallback}"'
    if fallback != filename:
        header += f"; filename*=UTF-8''{quote(filename, safe='')}"
    return header


def may_render_inline(content_type: str) -> bool:
    return content_type not in ACTIVE_TYPES and content_type.startswith(PREVIEW_FAMILIES + ("application/pdf",))


# Stored and delivered, but most browsers cannot show them (only Safari decodes HEIC).
NOT_PREVIEWED = {"image/heic", "image/heif"}


def preview_kind(content_type: str) -> str | None:
    if content_type in ACTIVE_TYPES or content_type in NOT_PREVIEWED:
        return None
    for family in PREVIEW_FAMILIES:
        if content_type.startswith(family):
            return family.rstrip("/")
    return None


def human_size(size: int) -> str:
    """Decimal units, as file managers and S3's console show them."""
    if size < 1000:
        return f"{size} byte" + ("" if size == 1 else "s")
    value = float(size)
    for unit in ("kB", "MB", "GB", "TB"):
        value /= 1000
        if value < 1000 or unit == "TB":
            return f"{value:.1f} {unit}".replace(".0 ", " ")
    raise AssertionError("unreachable")


def human_duration(seconds: int) -> str:
    """Whole days when it is days, else hours: "5 days", "1 hour"."""
    if seconds >= 86400 and seconds % 86400 == 0:
        days = seconds // 86400
        return f"{days} day" + ("" if days == 1 else "s")
    hours = max(1, round(seconds / 3600))
    return f"{hours} hour" + ("" if hours == 1 else "s")


# --- Origins allowed to embed ------------------------------------------------

DEFAULT_PORTS = {"http": 80, "https": 443}
_HOST = re.compile(r"^(\*\.)?([a-z0-9]([a-z0-9-]*[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$|^\[[0-9a-f:.]+\]$")


def _split_origin(value: str) -> tuple[str, str, int]:
    scheme, sep, rest = value.strip().partition("://")
    scheme = scheme.lower()
    if not sep or scheme not in DEFAULT_PORTS or not rest or any(c in rest for c in "/?#@\\ "):
        raise ValueError(f"{value!r} is not an origin like https://example.com or https://*.example.com")
    host, port = rest.lower(), DEFAULT_PORTS[scheme]
    if not host.endswith("]") and ":" in host:
        host, _, port_text = host.rpartition(":")
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise ValueError(f"{value!r} has a bad port")
        port = int(port_text)
    elif host.startswith("[") and "]:" in host:
        host, _, port_text = host.rpartition(":")
        port = int(port_text) if port_text.isdigit() else -1
    if not _HOST.match(host) or port < 1:
        raise ValueError(f"{value!r} has a bad host")
    return scheme, host, port


@functools.lru_cache(maxsize=1024)
def parse_origin_pattern(pattern: str) -> tuple[str, str, int]:
    """``scheme://host[:port]``, or ``scheme://*.domain[:port]`` for its subdomains only.

    Cached: the allowed patterns are few and checked on every embed request.
    """
    return _split_origin(pattern)


def origin_from_headers(origin: str | None, referer: str | None) -> str | None:
    """The requesting page's origin: the Origin header, else the Referer's scheme, host and port."""
    if origin:
        return origin.strip()
    if referer:
        parts = referer.strip().split("/")
        if len(parts) >= 3 and parts[0].endswith(":") and parts[1] == "":
            return f"{parts[0]}//{parts[2]}"
    return None


def origin_allowed(origin: str | None, patterns) -> bool:
    """Exact scheme, host and port; ``*.`` patterns match subdomains, never the bare domain.

    A ``null`` origin (sandboxed frames, file: pages, some redirects) is never allowed.
    """
    if not origin or origin.strip().lower() == "null":
        return False
    try:
        scheme, host, port = _split_origin(origin)
    except ValueError:
        return False
    if host.startswith("*."):
        return False
    for pattern in patterns:
        try:
            p_scheme, p_host, p_port = parse_origin_pattern(pattern)
        except ValueError:
            continue
        if (p_scheme, p_port) != (scheme, port):
            continue
        if p_host.startswith("*."):
            if host.endswith(p_host[1:]) and len(host) > len(p_host) - 1:
                return True
        elif host == p_host:
            return True
    return False


def canonical_origin(origin: str) -> str:
    scheme, host, port = _split_origin(origin)
    return f"{scheme}://{host}" + ("" if DEFAULT_PORTS[scheme] == port else f":{port}")


# --- Recipients ----------------------------------------------------------------

MAX_EMAIL_CHARS = 254
MAX_RECIPIENTS = 20
_LOCAL_PART = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_DOMAIN = re.compile(r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def parse_email(raw: str) -> str:
    """One plain ASCII address, lower-cased domain; refuses anything that could carry a second
    address or a header (CR/LF, commas, angle brackets, spaces) and non-ASCII look-alikes."""
    if any(ch in raw for ch in "\r\n\x00"):
        raise ValueError("contains a line break")
    address = raw.strip()
    if not address:
        raise ValueError("is empty")
    if len(address) > MAX_EMAIL_CHARS:
        raise ValueError(f"is longer than {MAX_EMAIL_CHARS} characters")
    if any(ch in address for ch in ",; <>\"()[]\\\t"):
        raise ValueError("holds more than one address or characters an address cannot have")
    if not address.isascii():
        raise ValueError("has characters outside plain ASCII")
    local, at, domain = address.rpartition("@")
    if not at or not local or "@" in local:
        raise ValueError("is not an email address")
    domain = domain.lower()
    if len(local) > 64 or not _LOCAL_PART.match(local) or not _DOMAIN.match(domain):
        raise ValueError("is not an email address")
    return f"{local}@{domain}"


def is_address_or_domain(entry: str) -> bool:
    """An allowlist entry: a plain address, or ``@domain`` (recipients, and who may sign in)."""
    try:
        if entry.startswith("@"):
            return bool(_DOMAIN.match(entry[1:]))
        parse_email(entry)
    except ValueError:
        return False
    return True


def recipient_allowed(address: str, allowlist) -> bool:
    """Exact addresses (case-insensitive) and ``@domain`` entries (that domain exactly, no subdomains)."""
    local, _, domain = address.rpartition("@")
    for entry in allowlist:
        entry = entry.strip().lower()
        if entry.startswith("@"):
            if domain == entry[1:]:
                return True
        elif address.lower() == entry:
            return True
    return False


def split_recipients(text: str) -> list[str]:
    """One address per line. Commas and semicolons are kept, so a line naming two addresses
    is refused as a whole rather than half-sent."""
    return [line for line in text.split("\n") if line.strip()]


def check_recipients(text: str, allowlist) -> tuple[list[str], list[tuple[str, str]]]:
    """(allowed addresses, [(what was entered, why refused)]), without duplicates."""
    lines = split_recipients(text.replace("\r\n", "\n"))
    if len(lines) > MAX_RECIPIENTS:
        raise Refusal("invalid_request", f"Share with at most {MAX_RECIPIENTS} people at a time.")
    allowed, refused = [], []
    for line in lines:
        shown = line.strip()[:80]
        try:
            address = parse_email(line)
        except ValueError as error:
            refused.append((shown, f"This {error}."))
            continue
        if not recipient_allowed(address, allowlist):
            refused.append((address, "This address is not on the list of allowed recipients."))
        elif address not in allowed:
            allowed.append(address)
    return allowed, refused


def event_details(event: dict, detail_type: str) -> list[dict]:
    """The ``detail`` of each EventBridge event of one type in a Lambda event: EventBridge's own
    shape (as local mode's stand-ins send it), or the same events delivered through SNS
    (``Records[].Sns.Message``), which is how Zappa routes them. A message that is not JSON is
    not one of them."""
    import json

    events = [event]
    for record in event.get("Records", []):
        message = record.get("Sns", {}).get("Message")
        if message:
            try:
                events.append(json.loads(message))
            except ValueError:
                continue
    return [item.get("detail", {}) for item in events
            if isinstance(item, dict) and item.get("detail-type") == detail_type]
