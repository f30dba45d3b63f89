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


def put_around_policy(s3, bucket: str, policy: dict, data: bytes) -> None:
    """Store ``data`` at the policy's key with its type and metadata, skipping the policy's
    conditions (storage, like S3, refuses the POST itself): so the server's own checks on
    completion are proven for an object that got there some other way."""
    fields = policy["fields"]
    s3.put_object(Bucket=bucket, Key=fields["key"], Body=data, ContentType=fields["Content-Type"],
                  ContentDisposition=fields.get("Content-Disposition", ""),
                  Metadata={name.lower().removeprefix("x-amz-meta-"): value for name, value in fields.items()
                            if name.lower().startswith("x-amz-meta-")})


def upload_over_http(site: str, data: bytes, filename="photo.png", content_type="image/png", *,
                     session: requests.Session | None = None, **fields) -> dict:
    """The whole flow against a served site, as a script with a cookie jar would do it (give
    ``session`` to upload in a jar a browser then takes over)."""
    session = session or requests.Session()
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


class Relay:
    """A small HTTP relay on loopback, in front of moto's server or any HTTP endpoint.

    As a forward proxy (``HTTP_PROXY``) it takes absolute-URI requests; as a stand-in
    endpoint it forwards to ``upstream``. It records what passed (method, URL, the
    X-Amz-Target header), and ``rewrite(method, path, status, headers, body)`` may change
    an answer, e.g. to play S3 answering 403 where moto answers 404. ``hang`` makes it
    accept requests and never answer, like an AWS dependency that is down but reachable.
    """

    def __init__(self, upstream: str | None = None, rewrite=None, hang: bool = False):
        import http.server
        import threading

        relay = self
        self.upstream = upstream
        self.rewrite = rewrite
        self.hang = threading.Event()
        self.stopped = threading.Event()
        if hang:
            self.hang.set()
        self.seen: list[tuple[str, str, str]] = []
        self.session = requests.Session()
        self.session.trust_env = False  # never through the proxy it may itself be

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _relay(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                relay.seen.append((self.command, self.path, self.headers.get("X-Amz-Target", "")))
                if relay.hang.is_set():
                    relay.stopped.wait(60)  # never answers while the test runs
                    return
                target = self.path if self.path.startswith("http") else relay.upstream.rstrip("/") + self.path
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("proxy-connection", "connection")}
                answer = relay.session.request(self.command, target, headers=headers, data=body,
                                               allow_redirects=False, timeout=30)
                status, out_headers, out_body = answer.status_code, dict(answer.headers), answer.content
                if relay.rewrite is not None:
                    status, out_headers, out_body = relay.rewrite(self.command, target, status, out_headers, out_body)
                self.send_response(status)
                for name, value in out_headers.items():
                    if name.lower() not in ("content-length", "transfer-encoding", "connection", "content-encoding"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(out_body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(out_body)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _relay

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> "Relay":
        import threading

        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopped.set()
        self._server.shutdown()
        self._server.server_close()
