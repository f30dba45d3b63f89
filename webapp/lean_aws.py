"""The two AWS calls every upload makes, without boto3's client machinery.

Recording an upload takes one ranged S3 GET and one DynamoDB write. For calls this
small, a boto3 client spends more CPU in its own machinery (endpoint rules, event
hooks, model-driven serialising and parsing) than in the HTTP exchange: about
1.4 ms against 0.5 ms per call here, most of the app's CPU per upload
(bench/upload_cost.py). These clients send the same requests over urllib3 (the
HTTP library botocore itself uses), signed by ``signing.sigv4_headers`` (byte for
byte what botocore signs, tested), with the same timeouts and retries, and answer
in boto3's shapes: the same dict for a success, botocore's ``ClientError`` for an
AWS error and ``EndpointConnectionError`` when AWS cannot be reached, so callers
cannot tell them apart. Everything else in the app uses boto3.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import json
import random
import threading
import time
import xml.etree.ElementTree as ElementTree
import zlib
from typing import Callable
from urllib.parse import quote, urlsplit

from botocore.exceptions import ClientError, EndpointConnectionError

from webapp.signing import AwsCredentials, sigv4_headers

USER_AGENT = "mediahub/1.0"
# What botocore's "standard" retry mode retries besides 5xx answers and lost connections.
THROTTLING_CODES = frozenset({
    "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
    "TooManyRequestsException", "ProvisionedThroughputExceededException", "TransactionInProgressException",
    "RequestLimitExceeded", "BandwidthLimitExceeded", "LimitExceededException", "RequestThrottled",
    "SlowDown", "PriorRequestNotComplete", "EC2ThrottledException", "RequestTimeout", "RequestTimeoutException",
})
MAX_BACKOFF_SECONDS = 20


@functools.cache
def _urllib3():
    import urllib3

    return urllib3


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class SignedHttp:
    """Signs, sends and retries AWS requests over one keep-alive connection pool."""

    def __init__(self, *, region: str, credentials: Callable[[], AwsCredentials], connect_timeout: float,
                 read_timeout: float, max_attempts: int, max_connections: int = 32,
                 clock: Callable[[], dt.datetime] = _now, sleep: Callable[[float], None] = time.sleep):
        self.region = region
        self._credentials = credentials
        self._timeouts = (connect_timeout, read_timeout)
        self._max_attempts = max_attempts
        self._max_connections = max_connections
        self._clock = clock
        self._sleep = sleep
        self._pool = None
        self._lock = threading.Lock()

    @property
    def pool(self):
        if self._pool is None:
            with self._lock:
                if self._pool is None:
                    from botocore.httpsession import get_cert_path

                    urllib3 = _urllib3()
                    self._pool = urllib3.PoolManager(
                        maxsize=self._max_connections, retries=False, ca_certs=get_cert_path(True),
                        timeout=urllib3.Timeout(connect=self._timeouts[0], read=self._timeouts[1]),
                    )
        return self._pool

    def send(self, operation: str, method: str, url: str, *, service: str, headers: dict[str, str] | None = None,
             body: bytes = b""):
        """The response to a 2xx, or the AWS error raised once retries are spent."""
        urllib3 = _urllib3()
        for attempt in range(self._max_attempts):
            signed = sigv4_headers(method=method, url=url, headers=headers or {}, body=body, service=service,
                                   region=self.region, credentials=self._credentials(), now=self._clock())
            signed["User-Agent"] = USER_AGENT
            last_attempt = attempt == self._max_attempts - 1
            try:
                response = self.pool.request(method, url, body=body or None, headers=signed, redirect=False)
            except urllib3.exceptions.HTTPError as error:
                if last_attempt:
                    parts = urlsplit(url)
                    raise EndpointConnectionError(endpoint_url=f"{parts.scheme}://{parts.netloc}", error=error)
            else:
                problem = _problem(service, response)
                if problem is None:
                    return response
                code, message, retryable = problem
                if last_attempt or not retryable:
                    raise ClientError({"Error": {"Code": code, "Message": message},
                                       "ResponseMetadata": {"HTTPStatusCode": response.status}}, operation)
            self._sleep(random.random() * min(MAX_BACKOFF_SECONDS, 2 ** attempt))
        raise AssertionError("unreachable")


def _problem(service: str, response) -> tuple[str, str, bool] | None:
    """(code, message, worth retrying) for an error answer; None for a good one."""
    if response.status < 300:
        if service == "dynamodb" and not _crc32_matches(response):
            return "CRC32CheckFailed", "The answer was damaged on the way.", True
        return None
    code, message = (_dynamodb_error if service == "dynamodb" else _xml_error)(response)
    return code, message, response.status >= 500 or code in THROTTLING_CODES


def _crc32_matches(response) -> bool:
    expected = response.headers.get("x-amz-crc32")
    return expected is None or int(expected) == zlib.crc32(response.data) & 0xFFFFFFFF


def _dynamodb_error(response) -> tuple[str, str]:
    try:
        answer = json.loads(response.data or b"{}")
    except ValueError:
        answer = {}
    code = str(answer.get("__type", "")).rpartition("#")[2] or str(response.status)
    return code, str(answer.get("message") or answer.get("Message") or "")


def _xml_error(response) -> tuple[str, str]:
    try:
        root = ElementTree.fromstring(response.data)
        return root.findtext("Code") or str(response.status), root.findtext("Message") or ""
    except ElementTree.ParseError:
        return str(response.status), ""


class LeanS3:
    """``get_object`` as boto3 answers it, for reading an upload's first bytes."""

    def __init__(self, http: SignedHttp, bucket_url: Callable[[str], str]):
        self._http = http
        self._bucket_url = functools.cache(bucket_url)

    def object_url(self, bucket: str, key: str) -> str:
        return self._bucket_url(bucket).rstrip("/") + "/" + quote(key, safe="/~")

    def get_object(self, *, Bucket: str, Key: str, Range: str | None = None) -> dict:
        headers = {"Range": Range} if Range else {}
        response = self._http.send("GetObject", "GET", self.object_url(Bucket, Key), service="s3", headers=headers)
        found = response.headers
        answer = {
            "Body": io.BytesIO(response.data),
            "ContentLength": int(found.get("Content-Length", len(response.data))),
            "ContentType": found.get("Content-Type"),
            "ContentRange": found.get("Content-Range"),
            "ContentDisposition": found.get("Content-Disposition"),
            "ETag": found.get("ETag"),
            "Metadata": {name.lower()[len("x-amz-meta-"):]: value for name, value in found.items()
                         if name.lower().startswith("x-amz-meta-")},
        }
        return {name: value for name, value in answer.items() if value is not None}


class LeanDynamoDB:
    """The DynamoDB writes on the upload path, taking and answering boto3's (wire-format) shapes."""

    def __init__(self, http: SignedHttp, endpoint_url: Callable[[], str]):
        self._http = http
        self._endpoint_url = functools.cache(endpoint_url)

    def _call(self, operation: str, params: dict) -> dict:
        body = json.dumps(params, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": f"DynamoDB_20120810.{operation}"}
        response = self._http.send(operation, "POST", self._endpoint_url().rstrip("/") + "/", service="dynamodb",
                                   headers=headers, body=body)
        return json.loads(response.data or b"{}")

    def transact_write_items(self, **params) -> dict:
        return self._call("TransactWriteItems", params)
