"""The one place that builds boto3 clients: endpoint, region, retries, timeouts.

boto3 itself is imported when the first client is made, not at start: importing
it costs about 200 ms, and a cold start that serves a page needs no AWS call.
"""

from __future__ import annotations

import datetime as dt
import functools
import platform
import threading

from webapp.config import Settings

LOCAL_CREDENTIALS = {"aws_access_key_id": "mediahub-local", "aws_secret_access_key": "mediahub-local"}
MAX_CONNECTIONS = 32


def parse_timestamp(value):
    """botocore's timestamp parser, with ISO 8601 strings read by the standard library first.

    Set through botocore's own hook (``set_parser_defaults``). Its default goes through
    dateutil for every value: about 45 us apiece, and ListParts carries one per part, so the
    parse was most of the CPU a completion spends reading a 128-part list (5 of 9 ms; a
    10,000-part list would spend almost half a second). The instant is the same; anything else
    (RFC 822 headers, epoch numbers, odd forms) still goes to botocore.
    """
    from botocore.utils import parse_timestamp as botocore_parse

    if isinstance(value, str) and value[:4].isdigit() and value[4:5] == "-":
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            if parsed.tzinfo is not None:
                return parsed
    return botocore_parse(value)


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


class AwsClients:
    """Clients created on first use and shared by the process (boto3 clients are thread-safe)."""

    def __init__(self, settings: Settings):
        self._settings = settings

    @functools.cached_property
    def _session(self):
        import boto3
        import botocore.session

        core = botocore.session.get_session()
        core.get_component("response_parser_factory").set_parser_defaults(timestamp_parser=parse_timestamp)
        return boto3.session.Session(botocore_session=core)

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
                # An unreachable or hung dependency must answer 503 well inside API Gateway's
                # 29 s. On AWS (Settings' defaults): two attempts in all (botocore's
                # ``total_max_attempts``; its ``max_attempts`` would count retries only, one
                # more attempt), each given 2 s to connect and 3 s to answer, with botocore's
                # standard backoff (at most 1 s before the second): at most 5 s when nothing
                # takes the connection, 7 s when it is taken and never answered. Every call the
                # app makes takes milliseconds when AWS is well.
                retries={"mode": "standard", "total_max_attempts": settings.aws_max_attempts},
                connect_timeout=settings.aws_connect_timeout,
                read_timeout=settings.aws_read_timeout,
                max_pool_connections=MAX_CONNECTIONS,
                **config,
            ),
        }
        if settings.aws_endpoint_url:
            kwargs["endpoint_url"] = settings.aws_endpoint_url
        if settings.local_mode:
            kwargs.update(LOCAL_CREDENTIALS)
        return self._session.client(service, **kwargs)

    def lazy(self, service: str) -> LazyClient:
        return LazyClient(lambda: getattr(self, service))

    @functools.cached_property
    def s3(self):
        # botocore picks virtual-hosted or path style per bucket (a name with dots cannot be
        # a TLS host name), and FIPS or dual-stack endpoints from AWS_USE_FIPS_ENDPOINT /
        # AWS_USE_DUALSTACK_ENDPOINT; pages take their storage origins from the URLs it makes.
        addressing = "path" if self._settings.aws_endpoint_url else "auto"
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
    def mediaconvert(self):
        # The package keeps its botocore model (exclude_glob in zappa_settings.json): the
        # processing function submits the rendition jobs. boto3 reaches MediaConvert's regional
        # endpoint; no DescribeEndpoints call is needed.
        return self._client("mediaconvert")


class OperatorClients:
    """Clients for the operator's commands (``python -m webapp.cli``), run from a checkout with
    the operator's credentials, never in the function: the package leaves these services'
    botocore models out (``exclude_glob`` in zappa_settings.json), so ``AwsClients`` has none."""

    def __init__(self, region: str | None = None, endpoint_url: str | None = None):
        self._region = region
        self._endpoint_url = endpoint_url

    def _client(self, service: str):
        import boto3

        return boto3.session.Session().client(service, region_name=self._region, endpoint_url=self._endpoint_url)

    @functools.cached_property
    def sts(self):
        return self._client("sts")

    @functools.cached_property
    def sqs(self):
        return self._client("sqs")

    @functools.cached_property
    def lambda_(self):
        return self._client("lambda")
