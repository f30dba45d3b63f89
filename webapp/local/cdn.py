"""A local stand-in for CloudFront, for local mode and tests only.

It checks every signed URL exactly as CloudFront does (``signing.verify_cloudfront_url``:
key pair, signature, resource, time window, viewer IP) and answers 403 otherwise;
then it serves the object from the bucket with its stored headers, plus the
headers our CloudFront response-headers policy adds.
"""

from __future__ import annotations

import re
import threading
import time

from botocore.exceptions import ClientError
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response
from werkzeug.wsgi import wrap_file

from webapp.aws.signing import SignatureRefused, verify_cloudfront_url

RESPONSE_HEADERS_POLICY = {
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Resource-Policy": "cross-origin",
    "Referrer-Policy": "no-referrer",
}
LOOPBACK = "loopback"
LOOPBACK_ORIGIN = re.compile(r"http://(127\.0\.0\.1|localhost)(:\d{1,5})?")
PASSED_THROUGH = ("ContentType", "ContentDisposition", "ContentLength", "ETag", "ContentRange", "CacheControl")
HEADER_NAMES = {
    "ContentType": "Content-Type",
    "ContentDisposition": "Content-Disposition",
    "ContentLength": "Content-Length",
    "ETag": "ETag",
    "ContentRange": "Content-Range",
    "CacheControl": "Cache-Control",
}


class LocalCdn:
    def __init__(self, s3_client, bucket: str, clock=time.time):
        self._s3 = s3_client
        self._bucket = bucket
        self._public_keys: dict = {}
        self._origins: set[str] = set()
        self._clock = clock
        self._server = None
        self.base_url: str | None = None

    def trust(self, key_id: str, public_key) -> None:
        """Like adding a public key to the distribution's trusted key group."""
        self._public_keys[key_id] = public_key

    def allow_origin(self, site_url: str | None) -> None:
        """Like the distribution's CORS response headers: the site's pages may read the files
        (its "Download all" zips them in the browser). The signature stays the lock. Without a
        site URL (``make run``), pages on loopback at any port."""
        if site_url is None:
            self._origins.add(LOOPBACK)
            return
        parts = site_url.split("/")
        self._origins.add("/".join(parts[:3]))

    def _allowed(self, origin: str | None) -> bool:
        if not origin:
            return False
        return origin in self._origins or (LOOPBACK in self._origins and LOOPBACK_ORIGIN.fullmatch(origin) is not None)

    def __call__(self, environ, start_response):
        request = Request(environ)
        if request.method not in ("GET", "HEAD"):
            return _denied("MethodNotAllowed", 405)(environ, start_response)
        try:
            # As requested, byte for byte: CloudFront compares the raw URL with the policy.
            raw_uri = environ.get("RAW_URI") or environ.get("REQUEST_URI") or request.full_path
            url = f"{request.scheme}://{request.host}{raw_uri}"
            verify_cloudfront_url(url, self._public_keys, now=self._clock(), client_ip=request.remote_addr or "")
        except SignatureRefused:
            return _denied("AccessDenied", 403)(environ, start_response)
        key = request.path.lstrip("/")
        params = {"Bucket": self._bucket, "Key": key}
        if request.headers.get("Range"):
            params["Range"] = request.headers["Range"]
        try:
            answer = self._s3.get_object(**params)
        except ClientError as error:
            status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 502))
            return _denied("AccessDenied" if status in (403, 404) else "OriginError",
                           403 if status in (403, 404) else 502)(environ, start_response)
        headers = {HEADER_NAMES[k]: str(answer[k]) for k in PASSED_THROUGH if answer.get(k) is not None}
        headers.update(RESPONSE_HEADERS_POLICY)
        headers["Accept-Ranges"] = "bytes"
        if self._allowed(request.headers.get("Origin")):
            headers["Access-Control-Allow-Origin"] = request.headers["Origin"]
            headers["Vary"] = "Origin"
        status = 206 if "ContentRange" in answer else 200
        body = answer["Body"]
        if request.method == "HEAD":
            body.close()
            return Response(status=status, headers=headers)(environ, start_response)
        return Response(wrap_file(environ, body, 64 * 1024), status=status, headers=headers,
                        direct_passthrough=True)(environ, start_response)

    def start(self, port: int = 0) -> str:
        self._server = make_server("127.0.0.1", port, self, threaded=True)
        threading.Thread(target=self._server.serve_forever, daemon=True, name="local-cdn").start()
        self.base_url = f"http://127.0.0.1:{self._server.server_port}"
        return self.base_url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()


def _denied(code: str, status: int) -> Response:
    body = f"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code></Error>"
    return Response(body, status=status, content_type="text/xml", headers=RESPONSE_HEADERS_POLICY)
