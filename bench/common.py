"""Shared by the benchmark scripts: medians, tables, an AWS stand-in, serving an app in a process."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
SECRET = "bench-secret-key-0123456789abcdef0123456789"


def median(values) -> float:
    return statistics.median(values)


def table(headers: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def machine() -> str:
    return f"{os.cpu_count()} cores, Python {sys.version.split()[0]}, {time.strftime('%Y-%m-%d')}"


@contextlib.contextmanager
def running(command: list[str], probe_url: str, env: dict | None = None):
    """Start a server process, wait until ``probe_url`` answers, stop it afterwards."""
    process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while True:
        try:
            requests.get(probe_url, timeout=2)
            break
        except requests.ConnectionError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"{command[-1]} did not start: {process.stderr.read().decode()[-2000:]}")
            time.sleep(0.1)
    try:
        yield
    finally:
        process.terminate()
        process.wait(timeout=20)


@contextlib.contextmanager
def moto_process():
    """moto in a process of its own (one gunicorn threaded worker: keep-alive, in-memory state)."""
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--worker-class", "gthread",
               "--workers", "1", "--threads", "16", "--keep-alive", "30", "--log-level", "warning",
               "bench.moto_app:app"]
    with running(command, endpoint + "/moto-api/data.json"):
        yield endpoint


@contextlib.contextmanager
def aws_stack(cdn: bool = False):
    """moto's server on loopback with the bucket, table and (optionally) CloudFront keys, and the
    environment an AWS-mode app needs to use them."""
    from webapp.aws import signing
    from webapp.local import resources
    from webapp.aws.clients import AwsClients
    from webapp.config import LOCAL_AWS_TIMEOUTS, Settings

    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    stack = contextlib.ExitStack()
    endpoint = stack.enter_context(moto_process())
    settings = Settings(secret_key=SECRET, local_mode=False, bucket="bench-uploads", table="bench",
                        aws_endpoint_url=endpoint, max_upload_bytes=1_000_000_000, **LOCAL_AWS_TIMEOUTS)
    clients = AwsClients(settings)
    resources.ensure_bucket(clients.s3, settings.bucket, region=settings.region, cors_origins=["http://127.0.0.1"])
    resources.ensure_table(clients.dynamodb, settings.table)
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "MEDIAHUB_BUCKET": settings.bucket,
        "MEDIAHUB_TABLE": settings.table,
        "MEDIAHUB_SECRET_KEY": SECRET,
        # Measures the upload itself: no quota (one more DynamoDB write per upload when on).
        "MEDIAHUB_UPLOADERS": "anyone", "MEDIAHUB_UPLOADS_PER_HOUR": "0", "MEDIAHUB_UPLOAD_BYTES_PER_DAY": "0",
        "MEDIAHUB_AWS_ENDPOINT_URL": endpoint,
        "MEDIAHUB_MAX_UPLOAD_BYTES": str(settings.max_upload_bytes),
        # The stand-in is a local process that may be slow under load: a long read, one retry
        # (two attempts of 3 + 10 s stay inside API Gateway's 29 s, which the settings check).
        "MEDIAHUB_AWS_READ_TIMEOUT": "10", "MEDIAHUB_AWS_MAX_ATTEMPTS": "2",
    }
    if cdn:
        clients.secretsmanager.create_secret(
            Name="bench/keys", SecretString=signing.signing_keys_document([signing.new_signing_key("K2BENCH")]))
        env.update(MEDIAHUB_CDN_URL="https://d111111abcdef8.cloudfront.net", MEDIAHUB_CLOUDFRONT_KEYS_SECRET="bench/keys")
    with stack:
        yield settings, env


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def serve(app_path: str, env: dict, *, workers: int = 1):
    """Serve ``module:app`` on loopback under gunicorn, the production server, with ``workers``
    sync workers (one: a single process does all the app's work, for CPU and memory accounting).
    Yields the base URL."""
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
               "--log-level", "warning", f"bench.serve:measured('{app_path}')"]
    base = f"http://127.0.0.1:{port}"
    with running(command, base + "/api/health", env):
        yield base


def usage(base: str) -> dict:
    """CPU seconds and peak RSS of the (single) worker process (bench.serve answers this)."""
    return json.loads(requests.get(base + "/__bench/usage", timeout=10).text)
