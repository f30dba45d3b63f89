"""How the app's AWS calls travel: through an HTTP proxy, into a 503 for S3's 403,
and into a clear 503 within seconds when a dependency is down or hangs.

All through boto3 against moto's server; the relay in front of it plays the proxy, S3's
403, or a dependency that accepts connections and never answers.
"""

import time

import pytest

from tests.support import Api, Relay, png_bytes, post_to_storage
from webapp.aws.clients import AwsClients
from webapp.config import Settings

ON_AWS = {name: Settings.__dataclass_fields__[name].default
          for name in ("aws_connect_timeout", "aws_read_timeout", "aws_max_attempts")}
NO_PROXY_VARIABLES = ("NO_PROXY", "no_proxy", "HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY",
                      "all_proxy")


@pytest.fixture
def no_proxy_settings(monkeypatch):
    for name in NO_PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def test_the_upload_path_goes_through_the_proxy_in_the_environment(make_app, settings, monkeypatch, no_proxy_settings):
    with Relay() as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        app = make_app()
        api = Api(app.test_client())
        data = png_bytes()
        policy = api.start(data).get_json()
        assert post_to_storage(policy, data).status_code in (200, 201, 204)
        before = len(proxy.seen)
        assert api.complete(policy["upload_id"]).status_code == 201
    through = proxy.seen[before:]
    key = policy["fields"]["key"]
    assert any(method == "GET" and url.startswith(settings.aws_endpoint_url) and key in url
               for method, url, _ in through), through
    assert any(target == "DynamoDB_20120810.TransactWriteItems" for _, _, target in through), through


def s3_without_list_permission(method, url, status, headers, body):
    """What S3 answers a role that may not list the bucket: 403 AccessDenied, never 404."""
    if method in ("GET", "HEAD") and status == 404:
        denied = (b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code>'
                  b"<Message>Access Denied</Message></Error>")
        return 403, {"Content-Type": "application/xml"}, denied
    return status, headers, body


def test_a_403_from_s3_is_a_permission_mistake_never_a_missing_upload(make_app, settings, no_proxy_settings):
    """The role may list the bucket, so S3 answers a key not there yet with 404 (409
    upload_missing); a 403 means the role lacks a permission: 503, logged, never "not there"."""
    app = make_app()
    with Relay(upstream=settings.aws_endpoint_url, rewrite=s3_without_list_permission) as s3:
        svc = app.extensions["mediahub"]
        svc.storage._s3 = AwsClients(settings.with_overrides(aws_endpoint_url=s3.url)).s3
        api = Api(app.test_client())
        policy = api.start(png_bytes()).get_json()
        answer = api.complete(policy["upload_id"])
    assert answer.status_code == 503
    assert answer.get_json()["error"]["code"] == "storage_unavailable"


@pytest.mark.parametrize("failure", ["refused", "hangs"])
@pytest.mark.parametrize("down", ["dynamodb", "s3"])
def test_an_outage_is_a_clear_503_within_ten_seconds_and_loses_nothing(make_app, settings, bucket_keys, down,
                                                                       failure, no_proxy_settings):
    app = make_app()
    svc = app.extensions["mediahub"]
    api = Api(app.test_client())
    data = png_bytes()
    policy = api.start(data).get_json()
    post_to_storage(policy, data)
    with Relay(upstream=settings.aws_endpoint_url, hang=failure == "hangs") as relay:
        endpoint = relay.url if failure == "hangs" else "http://127.0.0.1:9"  # nothing listens on port 9
        # With the timeouts the app runs with on AWS (local mode's are longer).
        broken = AwsClients(settings.with_overrides(aws_endpoint_url=endpoint, **ON_AWS))
        if down == "dynamodb":
            working, svc.catalog._db = svc.catalog._db, broken.dynamodb
        else:
            working, svc.storage._s3 = svc.storage._s3, broken.s3
        started = time.monotonic()
        answer = api.complete(policy["upload_id"])
        took = time.monotonic() - started
    assert answer.status_code == 503
    assert answer.get_json()["error"] == {"code": "storage_unavailable", "message": "Storage is not answering right now."}
    assert took < 10, f"{down} {failure}: the 503 took {took:.1f} s"
    assert bucket_keys() == [policy["fields"]["key"]]  # the file is still there
    if down == "dynamodb":
        svc.catalog._db = working
    else:
        svc.storage._s3 = working
    assert api.complete(policy["upload_id"]).status_code == 201  # and the retry records it


def test_clients_parse_s3_timestamps_with_the_faster_parser(app, aws, settings):
    """A real ListParts through moto: its per-part timestamps come out as aware datetimes,
    read by the parser the clients install through botocore's own hook."""
    import datetime as dt

    key = "uploads/timestamps/parts.bin"
    upload = aws.s3.create_multipart_upload(Bucket=settings.bucket, Key=key)["UploadId"]
    try:
        aws.s3.upload_part(Bucket=settings.bucket, Key=key, UploadId=upload, PartNumber=1, Body=b"x")
        listed = aws.s3.list_parts(Bucket=settings.bucket, Key=key, UploadId=upload)["Parts"]
        stamp = listed[0]["LastModified"]
        assert isinstance(stamp, dt.datetime) and stamp.utcoffset() is not None
        assert abs(stamp.timestamp() - dt.datetime.now(dt.timezone.utc).timestamp()) < 300
        assert stamp.tzinfo is dt.timezone.utc  # fromisoformat's zone, not dateutil's tzlocal
    finally:
        aws.s3.abort_multipart_upload(Bucket=settings.bucket, Key=key, UploadId=upload)
