"""The pages' Content-Security-Policy names the storage origins botocore really uses.

Browsers post files to the URL in the POST policy and fetch S3 links from botocore's
presigned URLs; a CSP built from assumptions (virtual-hosted names only) blocked uploads
to buckets with dots in their names, and to FIPS and dual-stack endpoints.
"""

import pytest

from tests.conftest import TEST_SECRET
from webapp import create_app
from webapp.config import Settings


@pytest.fixture(autouse=True)
def credentials(monkeypatch):
    # Signing is local computation; no AWS call is made by these tests.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "example")
    for name in ("AWS_USE_FIPS_ENDPOINT", "AWS_USE_DUALSTACK_ENDPOINT", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)


def page_and_policy(monkeypatch, bucket: str, region: str, **env) -> tuple[str, str]:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = Settings(secret_key=TEST_SECRET, local_mode=False, bucket=bucket, region=region)
    app = create_app(settings)
    client = app.test_client()
    csp = client.get("/").headers["Content-Security-Policy"]
    svc = app.extensions["mediahub"]
    url = svc.storage.post_policy("uploads/x/a.png", content_type="image/png", content_disposition="attachment",
                                  max_bytes=10, expires_in=60)["url"]
    return csp, url


def connect_sources(csp: str) -> set[str]:
    [directive] = [d for d in csp.split(";") if d.strip().startswith("connect-src")]
    return set(directive.split()[1:])


@pytest.mark.parametrize(("bucket", "region", "env", "expected"), [
    ("media-uploads", "eu-west-1", {}, "https://media-uploads.s3.amazonaws.com"),
    ("media.example.com", "eu-west-1", {}, "https://s3.eu-west-1.amazonaws.com"),
    ("media-uploads", "us-east-1", {"AWS_USE_FIPS_ENDPOINT": "true"}, "https://media-uploads.s3-fips.us-east-1.amazonaws.com"),
    ("media-uploads", "eu-west-1", {"AWS_USE_DUALSTACK_ENDPOINT": "true"},
     "https://media-uploads.s3.dualstack.eu-west-1.amazonaws.com"),
])
def test_csp_allows_where_botocore_sends_the_browser(monkeypatch, bucket, region, env, expected):
    csp, url = page_and_policy(monkeypatch, bucket, region, **env)
    assert url.startswith(expected + "/")
    assert expected in connect_sources(csp)
