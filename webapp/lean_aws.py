"""The two AWS calls every upload makes, without boto3's client machinery.

Recording an upload takes one ranged S3 GET and one DynamoDB write. For calls this
small, a boto3 client spends more CPU in its own machinery (endpoint rules, event
hooks, model-driven serialising and parsing) than in the HTTP exchange: about
1.4 ms per call here, against 0.3 ms for the exchange itself, and most of the app's
CPU per upload (bench/upload_cost.py). These clients send the same requests over
keep-alive http.client connections, signed by ``signing.sigv4_headers`` (byte for
byte botocore's SigV4, tested), with botocore's timeouts, retry rules, idempotency
token and CA bundle, and answer in boto3's shapes: the same dict for a success,
botocore's ``ClientError`` for an AWS error and ``EndpointConnectionError`` when AWS
cannot be reached, so callers cannot tell them apart. Endpoints are botocore's.
They do not go through HTTP(S)_PROXY. Everything else in the app uses boto3.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import http.client
import io
import json
import random
import select
import threading
import time
import uuid
import xml.etree.ElementTree as ElementTree
import zlib
from typing import Callable
from urllib.parse import quote, urlsplit

from botocore.exceptions import ClientError, EndpointConnectionError

from webapp.signing import AwsCredentials, sigv4_headers

USER_AGENT = "mediahub/1.0"
# What botocore's "standard" retry mode retries, besides lost connections.
RETRIED_STATUSES = frozenset({429, 500, 502, 503, 504})
RETRIED_CODES = frozenset({
    "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
    "TooManyRequestsException", "ProvisionedThroughputExceededException", "TransactionInProgressException",
    "RequestLimitExceeded", "BandwidthLimitExceeded", "LimitExceededException", "RequestThrottled",
    "SlowDown", "PriorRequestNotComplete", "EC2ThrottledException", "RequestTimeout", "RequestTimeoutException",
})
MAX_BACKOFF_SECONDS = 20


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


@dataclasses.dataclass(frozen=True)
class Answer:
    status: int
    headers: http.client.HTTPMessage  # case-insensitive get
    data: bytes


class Connections:
    """Keep-alive HTTP(S) connections per origin, on the standard library's http.client.

    urllib3 spent twice http.client's CPU on each of these small requests. An idle
    connection the server has closed is noticed before reuse and dropped.
    """

    def __init__(self, *, connect_timeout: float, read_timeout: float, max_idle: int):
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._max_idle = max_idle
        self._idle: dict[tuple, list[http.client.HTTPConnection]] = {}
        self._lock = threading.Lock()

    @functools.cached_property
    def _tls(self):
        import ssl

        from botocore.httpsession import get_cert_path

        return ssl.create_default_context(cafile=get_cert_path(True))  # the CA bundle boto3 uses

    def request(self, method: str, url: str, *, headers: dict[str, str], body: bytes) -> Answer:
        parts = urlsplit(url)
        origin = (parts.scheme, parts.hostname, parts.port)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        connection = self._reuse(origin) or self._connect(origin)
        try:
            connection.request(method, target, body=body or None, headers=headers)
            response = connection.getresponse()
            answer = Answer(response.status, response.headers, response.read())
        except BaseException:
            connection.close()
            raise
        if response.will_close:
            connection.close()
        else:
            self._keep(origin, connection)
        return answer

    def _reuse(self, origin: tuple) -> http.client.HTTPConnection | None:
        with self._lock:
            idle = self._idle.get(origin, [])
            while idle:
                connection = idle.pop()
                if connection.sock is not None and not select.select([connection.sock], [], [], 0)[0]:
                    return connection
                connection.close()  # readable while idle: the server closed it
        return None

    def _keep(self, origin: tuple, connection: http.client.HTTPConnection) -> None:
        with self._lock:
            idle = self._idle.setdefault(origin, [])
            if len(idle) < self._max_idle:
                idle.append(connection)
                return
        connection.close()

    def _connect(self, origin: tuple) -> http.client.HTTPConnection:
        scheme, host, port = origin
        if scheme == "https":
            connection = http.client.HTTPSConnection(host, port, timeout=self._connect_timeout, context=self._tls)
        else:
            connection = http.client.HTTPConnection(host, port, timeout=self._connect_timeout)
        connection.connect()
        connection.sock.settimeout(self._read_timeout)
        return connection


class SignedHttp:
    """Signs, sends and retries AWS requests over keep-alive connections."""

    def __init__(self, *, region: str, credentials: Callable[[], AwsCredentials], connect_timeout: float,
                 read_timeout: float, max_attempts: int, max_connections: int = 32,
                 clock: Callable[[], dt.datetime] = _now, sleep: Callable[[float], None] = time.sleep):
        self.region = region
        self._credentials = credentials
        self._connections = Connections(connect_timeout=connect_timeout, read_timeout=read_timeout,
                                        max_idle=max_connections)
        self._max_attempts = max_attempts
        self._clock = clock
        self._sleep = sleep

    def send(self, operation: str, method: str, url: str, *, service: str, headers: dict[str, str] | None = None,
             body: bytes = b"") -> Answer:
        """The answer to a 2xx, or the AWS error raised once retries are spent."""
        for attempt in range(self._max_attempts):
            signed = sigv4_headers(method=method, url=url, headers=headers or {}, body=body, service=service,
                                   region=self.region, credentials=self._credentials(), now=self._clock())
            signed["User-Agent"] = USER_AGENT
            last_attempt = attempt == self._max_attempts - 1
            try:
                answer = self._connections.request(method, url, headers=signed, body=body)
            except (OSError, http.client.HTTPException) as error:
                if last_attempt:
                    parts = urlsplit(url)
                    raise EndpointConnectionError(endpoint_url=f"{parts.scheme}://{parts.netloc}", error=error)
            else:
                problem = _problem(service, answer)
                if problem is None:
                    return answer
                code, message, retryable = problem
                if last_attempt or not retryable:
                    raise ClientError({"Error": {"Code": code, "Message": message},
                                       "ResponseMetadata": {"HTTPStatusCode": answer.status}}, operation)
            self._sleep(random.random() * min(MAX_BACKOFF_SECONDS, 2 ** attempt))
        raise AssertionError("unreachable")


def _problem(service: str, answer: Answer) -> tuple[str, str, bool] | None:
    """(code, message, worth retrying) for an error answer; None for a good one."""
    if answer.status < 300:
        if service == "dynamodb" and not _crc32_matches(answer):
            return "CRC32CheckFailed", "The answer was damaged on the way.", True
        return None
    code, message = (_dynamodb_error if service == "dynamodb" else _xml_error)(answer)
    return code, message, answer.status in RETRIED_STATUSES or code in RETRIED_CODES


def _crc32_matches(answer: Answer) -> bool:
    expected = answer.headers.get("x-amz-crc32")
    return expected is None or int(expected) == zlib.crc32(answer.data) & 0xFFFFFFFF


def _dynamodb_error(answer: Answer) -> tuple[str, str]:
    try:
        document = json.loads(answer.data or b"{}")
    except ValueError:
        document = {}
    code = str(document.get("__type", "")).rpartition("#")[2] or str(answer.status)
    return code, str(document.get("message") or document.get("Message") or "")


def _xml_error(answer: Answer) -> tuple[str, str]:
    try:
        root = ElementTree.fromstring(answer.data)
        return root.findtext("Code") or str(answer.status), root.findtext("Message") or ""
    except ElementTree.ParseError:
        return str(answer.status), ""


class LeanS3:
    """``get_object`` as boto3 answers it, for reading an upload's first bytes."""

    def __init__(self, http: SignedHttp, bucket_url: Callable[[str], str]):
        self._http = http
        self._bucket_url = functools.cache(bucket_url)

    def object_url(self, bucket: str, key: str) -> str:
        return self._bucket_url(bucket).rstrip("/") + "/" + quote(key, safe="/~")

    def get_object(self, *, Bucket: str, Key: str, Range: str | None = None) -> dict:
        headers = {"Range": Range} if Range else {}
        answer = self._http.send("GetObject", "GET", self.object_url(Bucket, Key), service="s3", headers=headers)
        found = answer.headers
        shaped = {
            "Body": io.BytesIO(answer.data),
            "ContentLength": int(found.get("Content-Length", len(answer.data))),
            "ContentType": found.get("Content-Type"),
            "ContentRange": found.get("Content-Range"),
            "ContentDisposition": found.get("Content-Disposition"),
            "ETag": found.get("ETag"),
            "Metadata": {name.lower()[len("x-amz-meta-"):]: value for name, value in found.items()
                         if name.lower().startswith("x-amz-meta-")},
        }
        return {name: value for name, value in shaped.items() if value is not None}


class LeanDynamoDB:
    """The DynamoDB writes on the upload path, taking and answering boto3's (wire-format) shapes."""

    def __init__(self, http: SignedHttp, endpoint_url: Callable[[], str]):
        self._http = http
        self._endpoint_url = functools.cache(endpoint_url)

    def _call(self, operation: str, params: dict) -> dict:
        body = json.dumps(params, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": f"DynamoDB_20120810.{operation}"}
        answer = self._http.send(operation, "POST", self._endpoint_url().rstrip("/") + "/", service="dynamodb",
                                 headers=headers, body=body)
        return json.loads(answer.data or b"{}")

    def transact_write_items(self, **params) -> dict:
        # As botocore does: one token for all attempts, so a retry after a lost answer
        # succeeds again instead of failing its own write's condition.
        params.setdefault("ClientRequestToken", str(uuid.uuid4()))
        return self._call("TransactWriteItems", params)
