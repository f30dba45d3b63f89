"""Short share ids, signed share tokens and hashed secrets. Pure: no Flask, no AWS.

A share link carries a short id (``short_id_for``) the catalog looks up by its hash. Links made
before short ids carry a share token: one media item, one share record (one recipient) and an
expiry, signed with the app's secret key; they are still read until that expiry. The signature
stops forgery; the share record (looked up on every use) makes either revocable.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import secrets

from itsdangerous import BadSignature, URLSafeSerializer


@dataclasses.dataclass(frozen=True)
class ShareClaim:
    media_id: str
    share_id: str
    expires_at: int


class ShareTokens:
    def __init__(self, secret_key: str):
        self._serializer = URLSafeSerializer(secret_key, salt="mediahub.share")

    def issue(self, claim: ShareClaim) -> str:
        return self._serializer.dumps([claim.media_id, claim.share_id, claim.expires_at])

    def read(self, token: str) -> ShareClaim | None:
        """The claim if the signature is ours, else None. Expiry is the caller's check."""
        if not token or len(token) > 512:
            return None
        try:
            media_id, share_id, expires_at = self._serializer.loads(token)
        except (BadSignature, ValueError, TypeError):
            return None
        if not (isinstance(media_id, str) and isinstance(share_id, str) and isinstance(expires_at, int)):
            return None
        return ShareClaim(media_id, share_id, expires_at)


@dataclasses.dataclass(frozen=True)
class UploadClaim:
    """What an uploader declared, signed and stored with the object as ``x-amz-meta-mediahub``."""

    media_id: str
    filename: str
    content_type: str
    size: int
    name: str
    caption: str
    uploader_hash: str
    created_epoch: float
    retention_days: int
    max_downloads: int | None
    visibility: str
    owner: str = ""  # the signed-in person (or an upload link's creator) the item belongs to
    upload_link: str = ""  # the upload link it came through
    transfer_id: str = ""  # the transfer (the files chosen together) it belongs to

    @property
    def key(self) -> str:
        return f"uploads/{self.media_id}/{self.filename}"


@dataclasses.dataclass(frozen=True)
class MultipartTicket:
    """A multipart upload in progress, as its signed id carries it.

    S3 keeps no metadata we can read before completion, so what later calls need is here:
    the S3 upload id, who started it (the hash of their upload session), and the plan
    (size and part size), so parts are signed with their exact lengths without an AWS call.
    """

    media_id: str
    filename: str
    s3_upload_id: str
    uploader_hash: str
    size: int
    part_size: int
    checksum_algorithm: str

    @property
    def key(self) -> str:
        return f"uploads/{self.media_id}/{self.filename}"


MAX_MULTIPART_ID_CHARS = 4096


class UploadTickets:
    """Signed upload claims (stored with the object) and signed upload ids (for the callback).

    The signature is what makes the stored claim trustworthy even where the object store did
    not enforce the POST policy that pinned it.
    """

    def __init__(self, secret_key: str):
        self._claims = URLSafeSerializer(secret_key, salt="mediahub.upload-claim")
        self._ids = URLSafeSerializer(secret_key, salt="mediahub.upload-id")
        self._multipart = URLSafeSerializer(secret_key, salt="mediahub.multipart-id")

    def multipart_id(self, ticket: MultipartTicket) -> str:
        return self._multipart.dumps([getattr(ticket, field.name) for field in dataclasses.fields(ticket)])

    def read_multipart_id(self, upload_id: str) -> MultipartTicket | None:
        """The ticket of a signed multipart upload id, or None (forged, or a POST upload's id)."""
        if not upload_id or len(upload_id) > MAX_MULTIPART_ID_CHARS:
            return None
        try:
            values = self._multipart.loads(upload_id)
            ticket = MultipartTicket(*values)
        except (BadSignature, ValueError, TypeError):
            return None
        return ticket if all(isinstance(v, t) for v, t in zip(values, (str, str, str, str, int, int, str))) else None

    def claim(self, claim: UploadClaim) -> str:
        # A flat list in field order (dataclasses.astuple would deep-copy every value).
        return self._claims.dumps([getattr(claim, field.name) for field in dataclasses.fields(claim)])

    def read_claim(self, text: str | None) -> UploadClaim | None:
        if not text or len(text) > 4096:
            return None
        try:
            return UploadClaim(*self._claims.loads(text))
        except (BadSignature, ValueError, TypeError):
            return None

    def upload_id(self, media_id: str, filename: str) -> str:
        return self._ids.dumps([media_id, filename])

    def read_upload_id(self, upload_id: str) -> tuple[str, str] | None:
        """(media id, filename) of a signed upload id, or None if forged."""
        if not upload_id or len(upload_id) > 1024:
            return None
        try:
            media_id, filename = self._ids.loads(upload_id)
        except (BadSignature, ValueError, TypeError):
            return None
        return (media_id, filename) if isinstance(media_id, str) and isinstance(filename, str) else None


def new_id() -> str:
    """128 random bits, URL-safe, no padding."""
    return secrets.token_urlsafe(16)


SHORT_ID_CHARS = 22


def short_id_for(secret_key: str, share_id: str) -> str:
    """A share link's short id (a transfer's or one file's): 22 URL-safe characters (132 bits)
    of an HMAC of its share's random id under the site's secret key. The catalog keeps only its
    hash, so a leaked table opens nothing, while the owner's pages can show the link again (they
    know the share id and the site knows its key)."""
    import base64

    digest = hmac.new(secret_key.encode(), b"mediahub.short-link:" + share_id.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode()[:22]


def looks_like_short_id(value: str) -> bool:
    """Shaped like ``short_id_for``'s answer (an old signed share token is far longer)."""
    return len(value) == SHORT_ID_CHARS and looks_like_id(value)


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def secret_hash(secret: str) -> str:
    """Hash of a high-entropy random secret (manage links, uploader ids).

    These secrets carry 256 bits of randomness, so one SHA-256 suffices; slow
    hashes are for secrets people choose.
    """
    return hashlib.sha256(secret.encode()).hexdigest()


def secret_matches(secret: str | None, stored_hash: str | None) -> bool:
    if not secret or not stored_hash:
        return False
    return hmac.compare_digest(secret_hash(secret), stored_hash)


def looks_like_id(value: str) -> bool:
    return 16 <= len(value) <= 64 and all(ch.isalnum() or ch in "-_" for ch in value)
