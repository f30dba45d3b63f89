"""Local mode and tests only: a storage gate in front of moto's server that refuses what S3
refuses on the upload paths.

moto stores whatever arrives: a part whose bytes do not match the SHA-256 its URL signs, a
body of another length, a URL past its expiry or with a wrong signature, a POST beyond its
policy's size range. S3 refuses each of these, and the site's integrity rests on that (the
browser signs each part's checksum; the server pins length, type and key). So every request
that carries a presigned signature (``X-Amz-Signature`` in the query) or a browser POST
(a ``policy`` form field) is checked here first, as S3 checks it, and refused with S3's own
status, error code and XML body; what passes goes on to moto unchanged. Requests the app's
clients sign in the ``Authorization`` header go straight through (moto's own behaviour).

Signatures are recomputed with botocore's own signers (``S3SigV4QueryAuth`` for presigned
URLs, ``S3SigV4PostAuth`` for POST policies) fed with what the request carries, never with a
hand-written SigV4. What S3 documents and this gate follows:

- Query-string auth (sigv4-query-string-auth.html): an expired URL is ``403 AccessDenied``,
  "Request has expired"; ``X-Amz-Expires`` above a week is ``400 AuthorizationQueryParametersError``;
  a key S3 does not know is ``403 InvalidAccessKeyId``; any other mismatch is
  ``403 SignatureDoesNotMatch`` (a signed ``Content-Length`` that differs from the body's is one).
- Checksums (checking-object-integrity.html): a body whose SHA-256 (or MD5) is not the one
  sent is ``400 BadDigest``; a checksum header that is not a base64 SHA-256 is
  ``400 InvalidRequest``; a body shorter than its Content-Length is ``400 IncompleteBody``.
- POST policies (sigv4-HTTPPOSTConstructPolicy.html, RESTObjectPOST.html): a wrong signature is
  ``403 SignatureDoesNotMatch``; past ``expiration`` is ``403 AccessDenied`` "Invalid according to
  Policy: Policy expired."; a field outside a condition is ``403 AccessDenied`` "Invalid according
  to Policy: Policy Condition failed: [...]"; a field no condition names is "Extra input fields";
  a file outside ``content-length-range`` is ``400 EntityTooLarge`` / ``400 EntityTooSmall``.
"""

from __future__ import annotations

import base64
import binascii
import calendar
import hashlib
import io
import json
import secrets
import threading
import time
from datetime import datetime, timezone
from urllib.parse import parse_qsl, quote, urlencode
from xml.sax.saxutils import escape

from botocore.auth import S3SigV4PostAuth, S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from werkzeug.wrappers import Request, Response

from webapp.aws.clients import LOCAL_CREDENTIALS

SIGV4_TIMESTAMP = "%Y%m%dT%H%M%SZ"
MAX_EXPIRES = 7 * 24 * 3600
QUERY_AUTH_PARAMS = ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders",
                     "X-Amz-Security-Token", "X-Amz-Signature")
# Form fields S3 never asks a condition for (RESTObjectPOST.html).
UNCONDITIONED_FIELDS = ("policy", "x-amz-signature", "file")

_trusted_lock = threading.Lock()
_trusted: dict[str, str] = {LOCAL_CREDENTIALS["aws_access_key_id"]: LOCAL_CREDENTIALS["aws_secret_access_key"]}


def trust(access_key_id: str, secret_access_key: str) -> None:
    """Like creating an IAM access key: the gate then checks signatures made with it."""
    with _trusted_lock:
        _trusted[access_key_id] = secret_access_key


class S3Refusal(Exception):
    """One of S3's error answers: status, code, message and the extra elements S3 adds."""

    def __init__(self, status: int, code: str, message: str, **details):
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details = details

    def xml(self) -> str:
        extra = "".join(f"<{name}>{escape(str(value))}</{name}>" for name, value in self.details.items())
        request_id = secrets.token_hex(8).upper()
        return ('<?xml version="1.0" encoding="UTF-8"?>\n'
                f"<Error><Code>{escape(self.code)}</Code><Message>{escape(self.message)}</Message>{extra}"
                f"<RequestId>{request_id}</RequestId><HostId>{base64.b64encode(secrets.token_bytes(24)).decode()}</HostId>"
                "</Error>")


def signature_does_not_match() -> S3Refusal:
    return S3Refusal(403, "SignatureDoesNotMatch", "The request signature we calculated does not match the "
                     "signature you provided. Check your key and signing method.")


def _secret_for(access_key_id: str) -> str:
    with _trusted_lock:
        secret = _trusted.get(access_key_id)
    if secret is None:
        raise S3Refusal(403, "InvalidAccessKeyId",
                        "The AWS Access Key Id you provided does not exist in our records.",
                        AWSAccessKeyId=access_key_id)
    return secret


def _timestamp(value: str) -> float:
    try:
        return calendar.timegm(time.strptime(value, SIGV4_TIMESTAMP))
    except (TypeError, ValueError):
        raise S3Refusal(400, "AuthorizationQueryParametersError",
                        "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"") from None


def _scope(credential: str) -> tuple[str, str, str]:
    """(access key, date, region) from ``<key>/<yyyymmdd>/<region>/s3/aws4_request``."""
    parts = credential.split("/")
    if len(parts) != 5 or parts[3] != "s3" or parts[4] != "aws4_request":
        raise S3Refusal(400, "AuthorizationQueryParametersError",
                        "Error parsing the X-Amz-Credential parameter; the Credential is mal-formed; "
                        "expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\".")
    return parts[0], parts[1], parts[2]


def _signed_with(auth, request: AWSRequest, timestamp: str) -> str:
    """The signature botocore's signer gives ``request`` at ``timestamp``: the steps of its
    ``add_auth`` (which reads the clock itself), with the request's own time instead."""
    request.context["timestamp"] = timestamp
    auth._modify_request_before_signing(request)
    canonical = auth.canonical_request(request)
    return auth.signature(auth.string_to_sign(request, canonical), request)


class StorageGate:
    """WSGI middleware around moto's server application."""

    def __init__(self, app, clock=time.time):
        self._app = app
        self._clock = clock

    def __call__(self, environ, start_response):
        query = dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
        method = environ.get("REQUEST_METHOD", "GET").upper()
        try:
            if method == "OPTIONS":
                pass  # a CORS preflight: S3 answers it from the bucket's CORS rules, unsigned
            elif "X-Amz-Signature" in query:
                body = _buffer(environ)
                self.check_presigned(environ, query, body)
            elif method == "POST" and environ.get("CONTENT_TYPE", "").startswith("multipart/form-data"):
                body = _buffer(environ)
                self.check_post(environ, body)
        except S3Refusal as refusal:
            return self._refuse(environ, refusal)(environ, start_response)
        return self._app(environ, start_response)

    # --- presigned URLs (query-string auth) --------------------------------------------

    def check_presigned(self, environ, query: dict[str, str], body: bytes) -> None:
        if query.get("X-Amz-Algorithm") != "AWS4-HMAC-SHA256":
            raise S3Refusal(400, "AuthorizationQueryParametersError",
                            "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"")
        access_key, _, region = _scope(query.get("X-Amz-Credential", ""))
        signed_at = _timestamp(query.get("X-Amz-Date", ""))
        try:
            expires = int(query.get("X-Amz-Expires", ""))
        except ValueError:
            raise S3Refusal(400, "AuthorizationQueryParametersError",
                            "X-Amz-Expires should be a number") from None
        if expires > MAX_EXPIRES:
            raise S3Refusal(400, "AuthorizationQueryParametersError",
                            f"X-Amz-Expires must be less than a week (in seconds) that is; {MAX_EXPIRES}")
        now = self._clock()
        if now > signed_at + expires:
            raise S3Refusal(403, "AccessDenied", "Request has expired", **{
                "X-Amz-Expires": expires,
                "Expires": _iso(signed_at + expires),
                "ServerTime": _iso(now),
            })
        secret = _secret_for(access_key)

        headers = {name.lower(): value for name, value in _request_headers(environ).items()}
        signed_names = query.get("X-Amz-SignedHeaders", "").split(";")
        missing = [name for name in signed_names if name not in headers]
        if missing:
            raise signature_does_not_match()
        # The operation's own parameters; botocore's signer adds the X-Amz-* ones back itself.
        unsigned_url = _url(environ, [(k, v) for k, v in parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)
                                      if k not in QUERY_AUTH_PARAMS])
        request = AWSRequest(method=environ["REQUEST_METHOD"], url=unsigned_url,
                             headers={name: headers[name] for name in signed_names})
        auth = S3SigV4QueryAuth(Credentials(access_key, secret, query.get("X-Amz-Security-Token")), "s3", region,
                                expires=expires)
        expected = _signed_with(auth, request, query["X-Amz-Date"])
        if not secrets.compare_digest(expected, query["X-Amz-Signature"]):
            raise signature_does_not_match()
        _check_body(headers, body)

    # --- browser POSTs (POST policies) ----------------------------------------------

    def check_post(self, environ, body: bytes) -> None:
        form_environ = dict(environ, **{"wsgi.input": io.BytesIO(body)})
        request = Request(form_environ)
        request.max_form_memory_size = None
        fields = {name.lower(): value for name, value in request.form.items()}
        upload = request.files.get("file")
        if "policy" not in fields:
            # An anonymous POST: the bucket is private (public access blocked), so S3 refuses it.
            raise S3Refusal(403, "AccessDenied", "Access Denied")
        if upload is None:
            raise S3Refusal(400, "InvalidArgument", "POST requires exactly one file upload per request.",
                            ArgumentName="file", ArgumentValue="0")
        for required in ("x-amz-algorithm", "x-amz-credential", "x-amz-date", "x-amz-signature"):
            if required not in fields:
                raise S3Refusal(400, "InvalidArgument", f"Bucket POST must contain a field named '{required}'.  "
                                "If it is specified, please check the order of the fields.",
                                ArgumentName=required, ArgumentValue="")
        access_key, _, region = _scope(fields["x-amz-credential"])
        secret = _secret_for(access_key)
        auth = S3SigV4PostAuth(Credentials(access_key, secret, fields.get("x-amz-security-token")), "s3", region)
        signing = AWSRequest(method="POST", url=_url(environ, []))
        signing.context["timestamp"] = fields["x-amz-date"]
        if not secrets.compare_digest(auth.signature(fields["policy"], signing), fields["x-amz-signature"]):
            raise signature_does_not_match()

        try:
            policy = json.loads(base64.b64decode(fields["policy"], validate=True))
            expiration = datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00"))
            conditions = policy["conditions"]
        except (ValueError, KeyError, TypeError, binascii.Error):
            raise S3Refusal(400, "InvalidPolicyDocument",
                            "Invalid Policy: Invalid JSON.") from None
        if expiration.replace(tzinfo=expiration.tzinfo or timezone.utc).timestamp() < self._clock():
            raise _policy_refusal("Policy expired.")

        bucket = environ.get("PATH_INFO", "/").strip("/").split("/")[0]
        values = dict(fields, bucket=bucket)
        if "key" in values:
            values["key"] = values["key"].replace("${filename}", upload.filename or "")
        size = _length(upload)
        named = {"bucket"}
        for condition in conditions:
            named.add(_check_condition(condition, values, size))
        extra = [name for name in fields if name not in named and name not in UNCONDITIONED_FIELDS
                 and not name.startswith("x-ignore-")]
        if extra:
            raise _policy_refusal(f"Extra input fields: {', '.join(extra)}")

    # --- answers ------------------------------------------------------------------------

    def _refuse(self, environ, refusal: S3Refusal) -> Response:
        response = Response(refusal.xml(), status=refusal.status, content_type="application/xml")
        response.headers.update(self._cors(environ))
        return response

    def _cors(self, environ) -> dict[str, str]:
        """S3 answers an error with the bucket's CORS headers too, so the page can read it: ask
        moto's preflight for them (the bucket's own rules), as the browser would."""
        origin = environ.get("HTTP_ORIGIN")
        if not origin:
            return {}
        preflight = {key: value for key, value in environ.items() if not key.startswith("HTTP_")}
        preflight.update({
            "REQUEST_METHOD": "OPTIONS", "QUERY_STRING": "", "CONTENT_LENGTH": "0",
            "wsgi.input": io.BytesIO(b""), "HTTP_HOST": environ.get("HTTP_HOST", ""), "HTTP_ORIGIN": origin,
            "HTTP_ACCESS_CONTROL_REQUEST_METHOD": environ.get("REQUEST_METHOD", "GET"),
        })
        preflight.pop("CONTENT_TYPE", None)
        answered: dict[str, str] = {}

        def start_response(status, headers, exc_info=None):
            answered.update(headers)

        try:
            for _chunk in self._app(preflight, start_response):
                pass
        except Exception:  # no CORS headers: the browser then reports a network error, as S3's would
            return {}
        return {name: value for name, value in answered.items()
                if name.lower() in ("access-control-allow-origin", "access-control-expose-headers")} | {"Vary": "Origin"}


def _policy_refusal(reason: str) -> S3Refusal:
    return S3Refusal(403, "AccessDenied", f"Invalid according to Policy: {reason}")


def _check_condition(condition, values: dict[str, str], size: int) -> str:
    """Check one policy condition; answers the (lower-case) field it names."""
    if isinstance(condition, dict) and len(condition) == 1:
        ((name, expected),) = condition.items()
        operator, field = "eq", name.lower().lstrip("$")
        shown = ["eq", f"${name}", expected]
    elif isinstance(condition, list) and len(condition) == 3:
        operator, name, expected = condition
        operator = str(operator).lower()
        shown = condition
        if operator == "content-length-range":
            low, high = int(name), int(expected)
            if size > high:
                raise S3Refusal(400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size",
                                ProposedSize=size, MaxSizeAllowed=high)
            if size < low:
                raise S3Refusal(400, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size",
                                ProposedSize=size, MinSizeAllowed=low)
            return "content-length-range"
        field = str(name).lower().lstrip("$")
    else:
        raise S3Refusal(400, "InvalidPolicyDocument", "Invalid Policy: Invalid Condition.")
    value = values.get(field)
    if operator == "eq":
        ok = value == expected
    elif operator == "starts-with":
        ok = value is not None and value.startswith(str(expected))
    else:
        raise S3Refusal(400, "InvalidPolicyDocument", f"Invalid Policy: Invalid Condition operator: {operator}.")
    if not ok:
        raise _policy_refusal(f"Policy Condition failed: {json.dumps(shown, separators=(', ', ': '))}")
    return field


def _check_body(headers: dict[str, str], body: bytes) -> None:
    declared = headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) != len(body):
        raise S3Refusal(400, "IncompleteBody", "You did not provide the number of bytes specified by the "
                        "Content-Length HTTP header", NumberBytesExpected=declared, NumberBytesProvided=len(body))
    sent = headers.get("x-amz-checksum-sha256")
    if sent is not None:
        try:
            valid = len(base64.b64decode(sent, validate=True)) == hashlib.sha256().digest_size
        except (binascii.Error, ValueError):
            valid = False
        if not valid:
            raise S3Refusal(400, "InvalidRequest", "Value for x-amz-checksum-sha256 header is invalid.")
        if base64.b64encode(hashlib.sha256(body).digest()).decode() != sent:
            raise S3Refusal(400, "BadDigest", "The SHA256 you specified did not match the calculated checksum.")
    md5 = headers.get("content-md5")
    if md5 is not None and base64.b64encode(hashlib.md5(body).digest()).decode() != md5:
        raise S3Refusal(400, "BadDigest", "The Content-MD5 you specified did not match what we received.",
                        ExpectedDigest=md5)


def _buffer(environ) -> bytes:
    """Read the body once and put it back for moto (a part is at most what local mode allows)."""
    length = environ.get("CONTENT_LENGTH") or ""
    stream = environ["wsgi.input"]
    if length.isdigit():
        body = stream.read(int(length))
    elif environ.get("wsgi.input_terminated") or "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
        body = stream.read()
    else:
        return b""  # no body (a GET): reading would wait on the open connection
    environ["wsgi.input"] = io.BytesIO(body)
    return body


def _length(upload) -> int:
    stream = upload.stream
    stream.seek(0, io.SEEK_END)
    size = stream.tell()
    stream.seek(0)
    return size


def _request_headers(environ) -> dict[str, str]:
    headers = {key[5:].replace("_", "-"): value for key, value in environ.items() if key.startswith("HTTP_")}
    for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(key):
            headers[key.replace("_", "-")] = environ[key]
    return headers


def _url(environ, query: list[tuple[str, str]]) -> str:
    """The URL as the client sent it: its raw path (S3 signs the path as sent) and host."""
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI") or quote(environ.get("PATH_INFO", "/"))
    path = raw.split("?", 1)[0]
    host = environ.get("HTTP_HOST") or f"{environ['SERVER_NAME']}:{environ['SERVER_PORT']}"
    url = f"{environ.get('wsgi.url_scheme', 'http')}://{host}{path}"
    return f"{url}?{urlencode(query)}" if query else url


def _iso(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))
