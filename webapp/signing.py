"""Signed download links. No network: signing is local computation.

``S3Links`` signs S3 presigned GETs; the CloudFront signer plugs in behind the
same ``url_for`` so views and flows never know which one delivers.
"""

from __future__ import annotations

import functools
import math
from typing import Protocol
from urllib.parse import urlsplit

from webapp import rules


class LinkSigner(Protocol):
    origin: str

    def url_for(self, key: str, *, filename: str, content_type: str, expires_at: int,
                inline: bool = False, now: float) -> str: ...


def delivery_headers(filename: str, content_type: str, *, inline: bool) -> tuple[str, str]:
    """Content-Disposition and Content-Type a download is served with.

    Active types (HTML, SVG, XML, JavaScript) are always attachments and are
    served as ``application/octet-stream`` so no browser renders them.
    """
    disposition = rules.content_disposition(filename, content_type, inline=inline)
    served_type = content_type if rules.may_render_inline(content_type) else "application/octet-stream"
    return disposition, served_type


class S3Links:
    """S3 presigned GET. Note: the URL dies with the credentials that signed it."""

    def __init__(self, s3_client, bucket: str):
        self._s3 = s3_client
        self._bucket = bucket

    @functools.cached_property
    def origin(self) -> str:
        parts = urlsplit(self._s3.generate_presigned_url("get_object", Params={"Bucket": self._bucket, "Key": "probe"}))
        return f"{parts.scheme}://{parts.netloc}"

    def url_for(self, key, *, filename, content_type, expires_at, inline=False, now):
        disposition, served_type = delivery_headers(filename, content_type, inline=inline)
        expires_in = max(1, math.ceil(expires_at - now))
        return self._s3.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self._bucket,
                "Key": key,
                "ResponseContentDisposition": disposition,
                "ResponseContentType": served_type,
                "ResponseCacheControl": "private, max-age=300",
            },
            ExpiresIn=min(expires_in, 7 * 86400),
        )
