"""Signed delivery over HTTP: the local CloudFront stand-in, S3 presigned GET, limits and expiry."""

import json
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.support import Api, png_bytes
from webapp.local.cdn import LocalCdn
from webapp.aws.signing import CloudFrontLinks, new_signing_key


@pytest.fixture
def uploaded(make_app):
    """An app in the given delivery mode with one uploaded PNG."""

    def upload(upload_fields=None, **overrides):
        app = make_app(**overrides)
        api = Api(app.test_client())
        data = png_bytes(padding=3000)
        media = api.upload(data, filename="Fête.png", **(upload_fields or {})).get_json()["media"]
        return app, api, media, data

    return upload


@pytest.mark.parametrize("strip", [True, False], ids=["clean-copy", "original"])
@pytest.mark.parametrize("cdn", [True, False], ids=["cloudfront", "s3"])
def test_both_delivery_modes_serve_the_bytes_with_safe_headers(uploaded, cdn, strip):
    app, api, media, data = uploaded(local_cdn=cdn, strip_metadata=strip)
    location = api.client.get(media["links"]["download"]).headers["Location"]
    assert ("Key-Pair-Id=" in location) is cdn
    assert ("X-Amz-Signature=" in location) is not cdn
    assert ("/renditions/" in location) is strip
    fetched = requests.get(location, timeout=10)
    assert fetched.status_code == 200
    if strip:  # the clean copy: the same picture without the private chunk the original carries
        assert b"prVt" in data and b"prVt" not in fetched.content and fetched.content.startswith(b"\x89PNG")
    else:
        assert fetched.content == data
    assert fetched.headers["Content-Disposition"] == "attachment; filename=\"Fete.png\"; filename*=UTF-8''F%C3%AAte.png"
    assert fetched.headers["Content-Type"] == "image/png"
    if cdn:  # S3 presigned GET cannot add it; the CloudFront response-headers policy does
        assert fetched.headers["X-Content-Type-Options"] == "nosniff"


@pytest.fixture
def cdn(settings, aws, make_app):
    """A CloudFront stand-in with a fake clock, trusting one key, over a bucket holding one object."""
    make_app()  # creates bucket and table
    aws.s3.put_object(Bucket=settings.bucket, Key="uploads/x/a.png", Body=png_bytes(), ContentType="image/png")
    clock = {"now": time.time()}
    stand_in = LocalCdn(aws.s3, settings.bucket, clock=lambda: clock["now"])
    key = new_signing_key("K2CDNTEST")
    stand_in.trust(key.key_id, key.public_key)
    base = stand_in.start()
    links = CloudFrontLinks(base, key, window_seconds=60)
    yield stand_in, links, clock
    stand_in.stop()


def signed(links, clock, **kwargs):
    return links.url_for("uploads/x/a.png", filename="a.png", content_type="image/png",
                         expires_at=clock["now"] + 30, now=clock["now"], **kwargs)


def test_cdn_serves_a_valid_link(cdn):
    _, links, clock = cdn
    answer = requests.get(signed(links, clock), timeout=10)
    assert answer.status_code == 200 and answer.content == png_bytes()


def test_cdn_serves_ranges_for_video_seeking(cdn):
    _, links, clock = cdn
    answer = requests.get(signed(links, clock), headers={"Range": "bytes=0-7"}, timeout=10)
    assert answer.status_code == 206 and answer.content == b"\x89PNG\r\n\x1a\n"


def test_cdn_refuses_an_expired_link(cdn):
    _, links, clock = cdn
    url = signed(links, clock)
    clock["now"] += 3600
    answer = requests.get(url, timeout=10)
    assert answer.status_code == 403 and b"AccessDenied" in answer.content


@pytest.mark.parametrize(
    "tamper",
    [
        lambda u: u.replace("Signature=", "Signature=AAAA"),
        lambda u: u.replace("/uploads/x/a.png", "/uploads/x/b.png"),
        lambda u: u.split("?")[0],
        lambda u: u.replace("Key-Pair-Id=K2CDNTEST", "Key-Pair-Id=K2OTHER"),
    ],
    ids=["signature", "resource", "unsigned", "key-pair"],
)
def test_cdn_refuses_a_tampered_link(cdn, tamper):
    _, links, clock = cdn
    assert requests.get(tamper(signed(links, clock)), timeout=10).status_code == 403


def test_cdn_refuses_another_viewer_address(cdn):
    _, links, clock = cdn
    links.bind_ip = True
    assert requests.get(signed(links, clock, client_ip="127.0.0.1"), timeout=10).status_code == 200
    assert requests.get(signed(links, clock, client_ip="203.0.113.9"), timeout=10).status_code == 403


def test_download_limit_gives_410_after_the_last(uploaded):
    app, api, media, _ = uploaded({"max_downloads": 2})
    viewer = app.test_client()  # a recipient: the uploader's own downloads are not counted
    statuses = [viewer.get(media["links"]["download"]).status_code for _ in range(4)]
    assert statuses == [302, 302, 410, 410]
    page = viewer.get(media["links"]["download"]).get_data(as_text=True)
    assert "downloaded as many times as its owner allowed" in page


def test_expired_item_is_gone_everywhere_at_once(uploaded):
    app, api, media, _ = uploaded(embed_origins=("https://allowed.example",))
    services = app.extensions["mediahub"]
    services.clock = lambda: time.time() + 8 * 86400  # past the 7-day retention, before any TTL
    client = api.client
    headers = {"Referer": "https://allowed.example/post"}
    assert client.get(media["links"]["share"]).status_code == 410
    assert client.get(media["links"]["download"]).status_code == 410
    assert client.get(media["links"]["page"]).status_code == 410
    assert client.get(f"/embed/{media['id']}", headers=headers).status_code == 410
    assert client.get(f"/api/media/{media['id']}/link", headers={"Origin": "https://allowed.example"}).status_code == 410


def test_retention_is_chosen_per_upload_up_to_the_maximum(make_app):
    api = Api(make_app(max_retention_days=30).test_client())
    media = api.upload(png_bytes(), retention_days=30).get_json()["media"]
    assert media["expires_at"][:10] > time.strftime("%Y-%m-%d", time.gmtime(time.time() + 29 * 86400))
    too_long = api.start(png_bytes(), retention_days=31)
    assert too_long.status_code == 400 and "1 to 30 days" in too_long.get_json()["error"]["message"]


def test_signed_links_expire_with_the_item(uploaded):
    app, api, media, _ = uploaded()
    location = api.client.get(media["links"]["download"]).headers["Location"]
    policy = json.loads(__import__("base64").b64decode(
        parse_qs(urlsplit(location).query)["Policy"][0].replace("-", "+").replace("_", "=").replace("~", "/")))
    expiry = policy["Statement"][0]["Condition"]["DateLessThan"]["AWS:EpochTime"]
    assert time.time() < expiry <= time.time() + 600
