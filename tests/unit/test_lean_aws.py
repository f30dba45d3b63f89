"""The lean AWS calls: signatures byte for byte as botocore's, retries and errors as boto3's."""

import datetime as dt
import http.server
import json
import threading
import time
import uuid
import zlib

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from webapp.lean_aws import LeanDynamoDB, LeanS3, SignedHttp
from webapp.signing import AwsCredentials, sigv4_headers

FROZEN = dt.datetime(2027, 3, 4, 5, 6, 7, tzinfo=dt.timezone.utc)

REQUESTS = {
    "s3 ranged get": dict(service="s3", method="GET", headers={"Range": "bytes=0-511"}, body=b"",
                          url="https://media-bucket.s3.amazonaws.com/uploads/abc/F%C3%AAte%20%2B%20x~1.png"),
    "s3 path style, port": dict(service="s3", method="GET", headers={"Range": "bytes=0-511"}, body=b"",
                                url="http://127.0.0.1:5123/media-bucket/uploads/abc/a.png"),
    "s3 query": dict(service="s3", method="GET", headers={}, body=b"",
                     url="https://media-bucket.s3.amazonaws.com/k?versionId=3&acl="),
    "dynamodb write": dict(service="dynamodb", method="POST",
                           headers={"Content-Type": "application/x-amz-json-1.0",
                                    "X-Amz-Target": "DynamoDB_20120810.TransactWriteItems"},
                           body=json.dumps({"TransactItems": [{"Put": {"Item": {"pk": {"S": "Fête  x"}}}}]}).encode(),
                           url="https://dynamodb.eu-west-1.amazonaws.com/"),
}


@pytest.mark.parametrize("token", [None, "session-token-from-the-lambda-role"])
@pytest.mark.parametrize("region", ["us-east-1", "eu-west-1"])
@pytest.mark.parametrize("name", REQUESTS)
def test_request_signature_is_byte_for_byte_botocores(monkeypatch, name, region, token):
    import botocore.auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    request = REQUESTS[name]
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: FROZEN.replace(tzinfo=None))
    theirs = AWSRequest(method=request["method"], url=request["url"], headers=dict(request["headers"]),
                        data=request["body"])
    signer = botocore.auth.S3SigV4Auth if request["service"] == "s3" else botocore.auth.SigV4Auth
    signer(Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG", token), request["service"], region).add_auth(theirs)

    ours = sigv4_headers(method=request["method"], url=request["url"], headers=request["headers"],
                         body=request["body"], service=request["service"], region=region,
                         credentials=AwsCredentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG", token), now=FROZEN)

    assert ours.pop("Host") == botocore.auth._host_from_url(request["url"])
    assert {k.lower(): v for k, v in ours.items()} == {k.lower(): v for k, v in theirs.headers.items()}


class Scripted:
    """A loopback HTTP server answering from a script of (status, headers, body), recording requests."""

    def __init__(self, script):
        self.script = list(script)
        self.requests = []
        scripted = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                scripted.requests.append((self.command, self.path, dict(self.headers), self.rfile.read(length)))
                status, headers, body = scripted.script.pop(0)
                headers = dict(headers)
                hang_up = headers.pop("hang-up", False)  # close after answering, though keep-alive was promised
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                self.close_connection = hang_up

            do_GET = do_POST = _answer

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def scripted():
    servers = []

    def start(*script):
        servers.append(Scripted(script))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def http_client(max_attempts=3, slept=None):
    ticks = iter(range(1000))
    return SignedHttp(region="us-east-1", credentials=lambda: AwsCredentials("AKID", "secret", "token"),
                      connect_timeout=1, read_timeout=2, max_attempts=max_attempts,
                      clock=lambda: FROZEN + dt.timedelta(seconds=next(ticks)),
                      sleep=(slept.append if slept is not None else lambda seconds: None))


def dynamodb_answer(status: int, document: dict, crc: int | None = None):
    body = json.dumps(document).encode()
    return status, {"x-amz-crc32": str(zlib.crc32(body) if crc is None else crc)}, body


def test_dynamodb_write_sends_the_wire_format_and_returns_the_answer(scripted):
    server = scripted(dynamodb_answer(200, {}))
    items = [{"Put": {"TableName": "t", "Item": {"pk": {"S": "MEDIA#1"}, "n": {"N": "1.5"}}}}]
    assert LeanDynamoDB(http_client(), lambda: server.url).transact_write_items(TransactItems=items) == {}
    (method, path, headers, body), = server.requests
    assert (method, path) == ("POST", "/")
    sent = json.loads(body)
    assert sent["TransactItems"] == items
    assert uuid.UUID(sent.pop("ClientRequestToken")) and sent == {"TransactItems": items}
    assert headers["X-Amz-Target"] == "DynamoDB_20120810.TransactWriteItems"
    assert headers["Content-Type"] == "application/x-amz-json-1.0"
    assert headers["X-Amz-Security-Token"] == "token"
    assert headers["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKID/")
    assert "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target," in headers["Authorization"]


def test_a_failed_condition_is_botocores_error_and_is_not_retried(scripted):
    server = scripted(dynamodb_answer(400, {
        "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
        "message": "Transaction cancelled, please refer cancellation reasons for specific reasons [ConditionalCheckFailed, None]"}))
    with pytest.raises(ClientError) as raised:
        LeanDynamoDB(http_client(), lambda: server.url).transact_write_items(TransactItems=[])
    assert raised.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert raised.value.operation_name == "TransactWriteItems"
    assert len(server.requests) == 1


@pytest.mark.parametrize("first", [
    dynamodb_answer(500, {"__type": "InternalServerError", "message": "try again"}),
    dynamodb_answer(400, {"__type": "com.amazonaws.dynamodb.v20120810#ThrottlingException", "message": "slow down"}),
    dynamodb_answer(429, {"message": "too many"}),
    dynamodb_answer(200, {}, crc=1),  # damaged on the way
], ids=["server error", "throttled", "429", "bad checksum"])
def test_retryable_answers_are_retried_with_backoff(scripted, first):
    server = scripted(first, dynamodb_answer(200, {}))
    slept = []
    assert LeanDynamoDB(http_client(slept=slept), lambda: server.url).transact_write_items(TransactItems=[]) == {}
    assert len(server.requests) == 2
    assert len(slept) == 1 and 0 <= slept[0] <= 1
    first_date, second_date = (headers["X-Amz-Date"] for _, _, headers, _ in server.requests)
    assert first_date != second_date  # each attempt is signed afresh
    first_token, second_token = (json.loads(body)["ClientRequestToken"] for _, _, _, body in server.requests)
    assert first_token == second_token  # so a write whose answer was lost is not refused as a duplicate


def test_a_connection_the_server_closed_while_idle_is_not_reused(scripted):
    status, headers, body = dynamodb_answer(200, {})
    server = scripted((status, {**headers, "hang-up": True}, body), dynamodb_answer(200, {}))
    slept = []
    lean = LeanDynamoDB(http_client(slept=slept), lambda: server.url)
    lean.transact_write_items(TransactItems=[])
    time.sleep(0.2)  # let the hang-up arrive
    lean.transact_write_items(TransactItems=[])
    assert len(server.requests) == 2 and slept == []  # no failed attempt, no backoff


def test_errors_botocore_would_not_retry_are_not_retried(scripted):
    server = scripted(dynamodb_answer(501, {"__type": "NotImplemented", "message": "no"}))
    with pytest.raises(ClientError) as raised:
        LeanDynamoDB(http_client(), lambda: server.url).transact_write_items(TransactItems=[])
    assert raised.value.response["Error"]["Code"] == "NotImplemented"
    assert len(server.requests) == 1


def test_retries_are_bounded_and_end_in_the_last_error(scripted):
    server = scripted(*[dynamodb_answer(503, {"__type": "ServiceUnavailable", "message": "down"})] * 3)
    with pytest.raises(ClientError) as raised:
        LeanDynamoDB(http_client(max_attempts=3), lambda: server.url).transact_write_items(TransactItems=[])
    assert raised.value.response["Error"] == {"Code": "ServiceUnavailable", "Message": "down"}
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    assert len(server.requests) == 3


def test_an_unreachable_endpoint_is_botocores_connection_error():
    slept = []
    with pytest.raises(EndpointConnectionError) as raised:
        LeanS3(http_client(max_attempts=2, slept=slept), lambda bucket: "http://127.0.0.1:9/" + bucket).get_object(
            Bucket="b", Key="uploads/x/secret-name.png")
    assert "http://127.0.0.1:9" in str(raised.value)
    assert "secret-name" not in str(raised.value)  # keys stay out of error messages and logs
    assert len(slept) == 1


def test_s3_read_answers_in_boto3s_shape(scripted):
    server = scripted((206, {"Content-Type": "image/png", "Content-Range": "bytes 0-3/9000", "ETag": '"abc"',
                             "Content-Disposition": "attachment", "x-amz-meta-mediahub": "claim"}, b"\x89PNG"))
    answer = LeanS3(http_client(), lambda bucket: f"{server.url}/{bucket}/").get_object(
        Bucket="b", Key="uploads/x/F\u00eate +1.png", Range="bytes=0-3")
    assert answer["Body"].read() == b"\x89PNG"
    assert (answer["ContentType"], answer["ContentRange"], answer["ETag"], answer["ContentDisposition"]) == (
        "image/png", "bytes 0-3/9000", '"abc"', "attachment")
    assert answer["Metadata"] == {"mediahub": "claim"}
    (method, path, headers, _), = server.requests
    assert (method, path) == ("GET", "/b/uploads/x/F%C3%AAte%20%2B1.png")
    assert headers["Range"] == "bytes=0-3"


def test_s3_errors_carry_s3s_code(scripted):
    server = scripted((404, {"Content-Type": "application/xml"},
                       b"<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>"))
    with pytest.raises(ClientError) as raised:
        LeanS3(http_client(), lambda bucket: server.url + "/" + bucket).get_object(Bucket="b", Key="k")
    assert raised.value.response["Error"]["Code"] == "NoSuchKey"
    assert len(server.requests) == 1
