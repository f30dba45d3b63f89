"""The one place that builds boto3 clients: endpoint, region, retries, timeouts."""

from __future__ import annotations

import functools

import boto3
from botocore.config import Config

from webapp.config import Settings

LOCAL_CREDENTIALS = {"aws_access_key_id": "mediahub-local", "aws_secret_access_key": "mediahub-local"}


class AwsClients:
    """Clients created on first use and shared by the process (boto3 clients are thread-safe)."""

    def __init__(self, settings: Settings):
        self._settings = settings
        self._session = boto3.session.Session()

    def _client(self, service: str, **config):
        settings = self._settings
        kwargs = {
            "region_name": settings.region,
            "config": Config(
                retries={"mode": "standard", "max_attempts": 3},
                connect_timeout=3,
                read_timeout=10,
                max_pool_connections=32,
                **config,
            ),
        }
        if settings.aws_endpoint_url:
            kwargs["endpoint_url"] = settings.aws_endpoint_url
        if settings.local_mode:
            kwargs.update(LOCAL_CREDENTIALS)
        return self._session.client(service, **kwargs)

    @functools.cached_property
    def s3(self):
        addressing = "path" if self._settings.aws_endpoint_url else "virtual"
        return self._client("s3", signature_version="s3v4", s3={"addressing_style": addressing})

    @functools.cached_property
    def dynamodb(self):
        return self._client("dynamodb")

    @functools.cached_property
    def ses(self):
        return self._client("ses")

    @functools.cached_property
    def secretsmanager(self):
        return self._client("secretsmanager")

    @functools.cached_property
    def ssm(self):
        return self._client("ssm")

    @functools.cached_property
    def cloudfront(self):
        return self._client("cloudfront")

    @functools.cached_property
    def sts(self):
        return self._client("sts")
