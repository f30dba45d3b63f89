"""The very package Zappa builds: built from a clean virtualenv, unzipped, its handler called
with API Gateway, S3 and schedule events against moto's server."""

from __future__ import annotations

import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import zipfile

import pytest

from tests.conftest import missing_tool
from tests.support import png_bytes, post_to_storage, s3_event
from webapp import provision
from webapp.catalog import Catalog

ROOT = pathlib.Path(__file__).resolve().parents[2]
LAMBDA_VENV = ROOT / ".venv-lambda"
DRIVER = pathlib.Path(__file__).with_name("lambda_driver.py")
STAGE = "dev"
ZIP_LIMIT = 25_000_000


def stage_settings() -> dict:
    return json.loads((ROOT / "zappa_settings.json").read_text())[STAGE]


@pytest.fixture(scope="module")
def package(tmp_path_factory) -> pathlib.Path:
    zappa = LAMBDA_VENV / "bin" / "zappa"
    if not zappa.exists():
        missing_tool(f"{LAMBDA_VENV} is missing; `make test` builds it (requirements.txt + zappa)")
    project = tmp_path_factory.mktemp("project")
    tracked = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True,
                             text=True, check=True).stdout.split()
    for name in tracked:
        if (ROOT / name).is_file():
            (project / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, project / name)
    archive = tmp_path_factory.mktemp("dist") / "mediahub-dev.zip"
    env = {**os.environ, "VIRTUAL_ENV": str(LAMBDA_VENV), "PATH": f"{LAMBDA_VENV / 'bin'}:{os.environ['PATH']}"}
    built = subprocess.run([str(zappa), "package", STAGE, "-o", str(archive)], cwd=project, env=env,
                           capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    return archive


@pytest.fixture(scope="module")
def unzipped(package, tmp_path_factory) -> pathlib.Path:
    target = tmp_path_factory.mktemp("lambda")
    with zipfile.ZipFile(package) as archive:
        archive.extractall(target)
    return target


def test_package_is_lean(package, unzipped):
    assert package.stat().st_size < ZIP_LIMIT, f"{package.stat().st_size / 1e6:.1f} MB"
    names = {p.name for p in unzipped.iterdir()}
    assert {"handler.py", "wsgi.py", "webapp", "templates", "static", "flask", "boto3", "cryptography"} <= names
    assert not names & {"tests", "bench", "moto", "pytest", "playwright", "troposphere", "node_modules", ".venv"}
    assert not (unzipped / "webapp" / "local").exists()
    models = {p.name for p in (unzipped / "botocore" / "data").iterdir()}
    assert {"s3", "dynamodb", "ses", "secretsmanager", "ssm"} <= models


@pytest.fixture
def deployed(settings, aws):
    """The dev stage's resources, provisioned in moto, and the environment Lambda would give."""
    stage_env = stage_settings()["environment_variables"]
    cloud = settings.with_overrides(
        local_mode=False,
        bucket=stage_env["MEDIAHUB_BUCKET"],
        table=stage_env["MEDIAHUB_TABLE"],
        site_url=stage_env["MEDIAHUB_SITE_URL"],
        secret_key_secret=stage_env["MEDIAHUB_SECRET_KEY_SECRET"],
        cloudfront_keys_secret=stage_env["MEDIAHUB_CLOUDFRONT_KEYS_SECRET"],
        mail_from=stage_env["MEDIAHUB_MAIL_FROM"],
    )
    provision.run(cloud, aws)
    env = {
        "PATH": os.environ["PATH"],
        "MEDIAHUB_AWS_ENDPOINT_URL": settings.aws_endpoint_url,
        "AWS_ACCESS_KEY_ID": "lambda-role", "AWS_SECRET_ACCESS_KEY": "lambda-role",
        "AWS_SESSION_TOKEN": "lambda-session", "AWS_REGION": "us-east-1",
        **stage_env,
    }
    return cloud, env


def invoke(unzipped: pathlib.Path, env: dict, events: list[dict], tmp_path: pathlib.Path) -> list:
    events_file = tmp_path / "events.json"
    events_file.write_text(json.dumps(events))
    ran = subprocess.run([sys.executable, "-S", str(DRIVER), str(unzipped), str(events_file)], env=env,
                         capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr[-3000:]
    [line] = [line for line in ran.stdout.splitlines() if line.startswith("RESULTS ")]
    return json.loads(line[len("RESULTS "):])


def api_gateway_event(method: str, path: str, *, host: str, headers: dict | None = None, body: str | None = None):
    all_headers = {"Host": host, "X-Forwarded-Proto": "https", "X-Forwarded-Port": "443",
                   "Referer": f"https://{host}/", **(headers or {})}
    return {
        "resource": "/{proxy+}", "path": path, "httpMethod": method, "headers": all_headers,
        "multiValueHeaders": {k: [v] for k, v in all_headers.items()},
        "queryStringParameters": None, "multiValueQueryStringParameters": None, "pathParameters": {"proxy": path[1:]},
        "stageVariables": None, "body": body, "isBase64Encoded": False,
        "requestContext": {"resourcePath": "/{proxy+}", "httpMethod": method, "path": path, "stage": STAGE,
                           "requestId": "req-1", "identity": {"sourceIp": "203.0.113.5", "userAgent": "test"}},
    }


def test_handler_serves_the_app_and_the_events(unzipped, deployed, aws, tmp_path):
    cloud, env = deployed
    host = cloud.site_url.split("://")[1]

    [page] = invoke(unzipped, env, [api_gateway_event("GET", "/", host=host)], tmp_path)
    assert page["statusCode"] == 200
    assert "Upload a file" in page["body"] and "Local mode" not in page["body"]
    cookie = page["multiValueHeaders"]["Set-Cookie"][0].split(";")[0]
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', page["body"]).group(1)

    data = png_bytes(padding=100)
    body = json.dumps({"filename": "from-lambda.png", "content_type": "image/png", "size": len(data), "name": "L"})
    [created] = invoke(unzipped, env, [api_gateway_event(
        "POST", "/api/uploads", host=host, body=body,
        headers={"Content-Type": "application/json", "X-CSRFToken": csrf, "Cookie": cookie})], tmp_path)
    assert created["statusCode"] == 201, created["body"]
    policy = json.loads(created["body"])
    assert policy["url"].startswith(cloud.aws_endpoint_url)
    assert "x-amz-security-token" in policy["fields"]  # signed with the role's session credentials
    assert post_to_storage(policy, data, "from-lambda.png").status_code == 201

    schedule = {"version": "0", "id": "e-1", "detail-type": "Scheduled Event", "source": "aws.events",
                "account": "123456789012", "time": "2026-11-22T00:00:00Z", "region": "us-east-1",
                "resources": ["arn:aws:events:us-east-1:123456789012:rule/mediahub-dev-webapp.events.cleanup"],
                "detail": {}}
    recorded, cleaned = invoke(unzipped, env, [s3_event(cloud.bucket, policy["fields"]["key"]), schedule], tmp_path)
    assert recorded == {"recorded": 1, "already": 0, "rejected": 0, "removed": 0, "ignored": 0}
    assert cleaned == {"expired": 0, "abandoned": 0}
    media = Catalog(aws.dynamodb, cloud.table).get_media(policy["fields"]["key"].split("/")[1])
    assert media["status"] == "ready" and media["name"] == "L"
