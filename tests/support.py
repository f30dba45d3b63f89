"""Helpers the test modules share: sample files and a small API client."""

from __future__ import annotations

import re
import struct
import zlib

import requests

CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)">')


def png_bytes(width: int = 2, height: int = 2, padding: int = 0) -> bytes:
    """A valid PNG (red pixels), optionally padded with a private chunk to a larger size."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    body = chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
    if padding:
        body += chunk(b"prVt", b"\x00" * padding)
    body += chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + body


HTML_BYTES = b"<!doctype html><html><script>alert(document.cookie)</script></html>"


class Api:
    """Drives the site's JSON API through a Flask test client, like the page's script does."""

    def __init__(self, client):
        self.client = client
        self.refresh_csrf()

    def refresh_csrf(self) -> None:
        page = self.client.get("/")
        self.csrf = CSRF_META.search(page.get_data(as_text=True)).group(1)

    def post(self, path: str, json=None, csrf: bool = True):
        headers = {"X-CSRFToken": self.csrf} if csrf else {}
        return self.client.post(path, json=json, headers=headers)

    def start(self, data: bytes, filename="photo.png", content_type="image/png", **extra):
        body = {"filename": filename, "content_type": content_type, "size": len(data), **extra}
        return self.post("/api/uploads", json=body)

    def complete(self, upload_id: str):
        return self.post(f"/api/uploads/{upload_id}/complete")

    def record(self, media_id: str) -> dict:
        """The media record as stored now."""
        return self.client.application.extensions["mediahub"].catalog.get_media(media_id)

    def upload(self, data: bytes, filename="photo.png", content_type="image/png", **extra):
        """The whole flow; returns the completion response."""
        started = self.start(data, filename, content_type, **extra)
        assert started.status_code == 201, started.get_json()
        policy = started.get_json()
        sent = post_to_storage(policy, data, filename, content_type)
        assert sent.status_code == 201, sent.text
        return self.complete(policy["upload_id"])


def post_to_storage(policy: dict, data: bytes, filename: str = "file", content_type: str | None = None):
    """A real multipart POST to the presigned URL, fields first and the file last, as a browser sends it."""
    files = {"file": (filename, data, content_type or policy["fields"].get("Content-Type"))}
    return requests.post(policy["url"], data=policy["fields"], files=files, timeout=30)


def upload_over_http(site: str, data: bytes, filename="photo.png", content_type="image/png", **fields) -> dict:
    """The whole flow against a served site, as a script with a cookie jar would do it."""
    session = requests.Session()
    csrf = CSRF_META.search(session.get(site + "/", timeout=10).text).group(1)
    headers = {"X-CSRFToken": csrf}
    body = {"filename": filename, "content_type": content_type, "size": len(data), **fields}
    policy = session.post(site + "/api/uploads", json=body, headers=headers, timeout=10).json()
    assert post_to_storage(policy, data, filename, content_type).status_code == 201
    done = session.post(f"{site}/api/uploads/{policy['upload_id']}/complete", headers=headers, timeout=10)
    assert done.status_code == 201, done.text
    return done.json()["media"]


def s3_event(bucket: str, *keys: str) -> dict:
    """An S3 ObjectCreated notification as Lambda receives it (keys URL-encoded, spaces as +)."""
    from urllib.parse import quote_plus

    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": "us-east-1",
                "eventName": "ObjectCreated:Post",
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "configurationId": "mediahub-dev",
                    "bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"},
                    "object": {"key": quote_plus(key, safe="/"), "size": 1},
                },
            }
            for key in keys
        ]
    }
