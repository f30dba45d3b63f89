"""Shared fixtures: moto's server over HTTP, a fresh bucket and table per test, the app."""

from __future__ import annotations

import os

import pytest
import requests

from webapp import create_app, prepare_local_resources
from webapp.aws.clients import AwsClients
from webapp.config import LOCAL_AWS_TIMEOUTS, Settings
from webapp.local.stack import start_moto_server

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"


def missing_tool(reason: str):
    """Tests that need a real tool fail in CI when it is missing, and skip loudly elsewhere."""
    if IN_CI:
        pytest.fail(f"{reason} (required in CI)")
    pytest.skip(f"SKIPPED LOCALLY: {reason}")


@pytest.fixture(scope="session")
def moto_endpoint():
    server, endpoint = start_moto_server()
    yield endpoint
    server.stop()


@pytest.fixture
def settings(moto_endpoint) -> Settings:
    requests.post(f"{moto_endpoint}/moto-api/reset", timeout=10)
    return Settings(
        secret_key=TEST_SECRET,
        local_mode=True,
        aws_endpoint_url=moto_endpoint,
        max_upload_bytes=1_000_000,
        **LOCAL_AWS_TIMEOUTS,
    )


@pytest.fixture
def make_app(settings):
    def make(**overrides):
        configured = settings.with_overrides(**overrides)
        prepare_local_resources(configured)
        app = create_app(configured)
        app.config["TESTING"] = True
        return app

    return make


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def aws(settings) -> AwsClients:
    return AwsClients(settings)


@pytest.fixture
def bucket_keys(aws, settings):
    def keys() -> list[str]:
        listing = aws.s3.list_objects_v2(Bucket=settings.bucket)
        return [item["Key"] for item in listing.get("Contents", [])]

    return keys


@pytest.fixture
def table_items(aws, settings):
    def items() -> list[dict]:
        from webapp.aws.catalog import from_item

        return [from_item(item) for item in aws.dynamodb.scan(TableName=settings.table)["Items"]]

    return items
