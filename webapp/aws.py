"""The one place that builds boto3 clients: endpoint, region, retries, timeouts.

boto3 itself is imported when the first client is made, not at start: importing
it costs about 200 ms, and a cold start that serves a page needs no AWS call.
"""

from __future__ import annotations

import functools
import platform
import threading
from urllib.parse import urlsplit

from webapp.config import Settings
from webapp.signing import AwsCredentials

LOCAL_CREDENTIALS = {"aws_access_key_id": "mediahub-local", "aws_secret_access_key": "mediahub-local"}
CONNECT_TIMEOUT_SECONDS = 3
READ_TIMEOUT_SECONDS = 10
MAX_ATTEMPTS = 3
MAX_CONNECTIONS = 32


class LazyClient:
    """Stands in for a client and creates it on first use.

    Creating a client costs tens of milliseconds (it loads the service model);
    a Lambda cold start that serves a page without touching S3 should not pay it.
    """

    def __init__(self, factory):
        self._factory = factory
        self._client = None
        self._lock = threading.Lock()

    def __getattr__(self, name):
        if self._client is None:
            with self._lock:
                if self._client is None:
                    self._client = self._factory()
        return getattr(self._client, name)


def storage_origins(settings: Settings) -> set[str]:
    """Where browsers post files to and fetch S3 links from, without building a client."""
    if settings.aws_endpoint_url:
        parts = urlsplit(settings.aws_endpoint_url)
        return {f"{parts.scheme}://{parts.netloc}"}
    bucket, region = settings.bucket, settings.region
    # botocore names us-east-1 buckets without the region, others with it.
    return {f"https://{bucket}.s3.amazonaws.com", f"https://{bucket}.s3.{region}.amazonaws.com"}


class AwsClients:
    """Clients created on first use and shared by the process (boto3 clients are thread-safe)."""

    def __init__(self, settings: Settings):
        self._settings = settings

    @functools.cached_property
    def _session(self):
        import boto3

        return boto3.session.Session()

    def _client(self, service: str, **config):
        import boto3
        from botocore.config import Config

        settings = self._settings
        kwargs = {
            "region_name": settings.region,
            "config": Config(
                # A fixed User-Agent: by default botocore rebuilds and sanitises it on every
                # request, the largest single CPU cost of a call (see bench/upload_cost.py).
                user_agent=f"mediahub/1.0 Boto3/{boto3.__version__} Python/{platform.python_version()}",
                # Every request is built by our code and exercised against moto and DynamoDB
                # Local; AWS validates again. Walking each request client-side cost ~1 ms a call.
                parameter_validation=False,
                retries={"mode": "standard", "max_attempts": MAX_ATTEMPTS},
                connect_timeout=CONNECT_TIMEOUT_SECONDS,
                read_timeout=READ_TIMEOUT_SECONDS,
                max_pool_connections=MAX_CONNECTIONS,
                **config,
            ),
        }
        if settings.aws_endpoint_url:
            kwargs["endpoint_url"] = settings.aws_endpoint_url
        if settings.local_mode:
            kwargs.update(LOCAL_CREDENTIALS)
        return self._session.client(service, **kwargs)

    def credentials(self):
        """The credentials clients sign with now (Lambda's role credentials refresh)."""
        if self._settings.local_mode:
            return AwsCredentials(LOCAL_CREDENTIALS["aws_access_key_id"], LOCAL_CREDENTIALS["aws_secret_access_key"])
        found = self._session.get_credentials()
        if found is None:
            from botocore.exceptions import NoCredentialsError

            raise NoCredentialsError()
        frozen = found.get_frozen_credentials()
        return AwsCredentials(frozen.access_key, frozen.secret_key, frozen.token)

    @functools.cached_property
    def _signed_http(self):
        from webapp.lean_aws import SignedHttp

        return SignedHttp(region=self._settings.region, credentials=self.credentials,
                          connect_timeout=CONNECT_TIMEOUT_SECONDS, read_timeout=READ_TIMEOUT_SECONDS,
                          max_attempts=MAX_ATTEMPTS, max_connections=MAX_CONNECTIONS)

    @functools.cached_property
    def lean_s3(self):
        """S3's GetObject for the upload path (see lean_aws); the bucket's URL is botocore's."""
        from webapp.lean_aws import LeanS3
        from webapp.storage import bucket_url

        return LeanS3(self._signed_http, bucket_url=lambda bucket: bucket_url(self.s3, bucket))

    @functools.cached_property
    def lean_dynamodb(self):
        """DynamoDB's TransactWriteItems for the upload path (see lean_aws); the endpoint is botocore's."""
        from webapp.lean_aws import LeanDynamoDB

        return LeanDynamoDB(self._signed_http, endpoint_url=lambda: self.dynamodb.meta.endpoint_url)

    def lazy(self, service: str) -> LazyClient:
        return LazyClient(lambda: getattr(self, service))

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
