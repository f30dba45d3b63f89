"""`infra.keys` against moto's Secrets Manager, as an operator runs it (boto3 finds the endpoint
in AWS_ENDPOINT_URL, as it would a real one through the usual credential chain)."""

from __future__ import annotations

import datetime as dt
import json
import os
import pathlib
import subprocess
import sys

import boto3
import pytest
import requests
from cryptography.hazmat.primitives import serialization

from infra import keys

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture
def aws_env(moto_endpoint) -> dict:
    requests.post(f"{moto_endpoint}/moto-api/reset", timeout=10)
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    return {**env, "AWS_ENDPOINT_URL": moto_endpoint, "AWS_ACCESS_KEY_ID": "operator",
            "AWS_SECRET_ACCESS_KEY": "operator", "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull, "AWS_EC2_METADATA_DISABLED": "true"}


@pytest.fixture
def secretsmanager(moto_endpoint):
    return boto3.client("secretsmanager", region_name="eu-west-1", endpoint_url=moto_endpoint,
                        aws_access_key_id="operator", aws_secret_access_key="operator")


def run_keys(env: dict, out: pathlib.Path, stage: str = "production") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "infra.keys", "--stage", stage, "--region", "eu-west-1",
                           "--public-key-out", str(out)], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60)


def stored(secretsmanager, stage: str = "production") -> dict:
    return json.loads(secretsmanager.get_secret_value(SecretId=keys.secret_name(stage))["SecretString"])


def test_creates_the_key_once_and_writes_its_public_half(aws_env, secretsmanager, tmp_path):
    out = tmp_path / "state" / "cloudfront-public-key.pem"
    first = run_keys(aws_env, out)
    assert first.returncode == 0, first.stderr
    assert "created" in first.stdout

    document = stored(secretsmanager)
    [entry] = document["keys"]
    assert set(entry) == {"private_key", "created"}  # the id comes from the stack's output
    assert entry["created"] == dt.date.today().isoformat()
    private = serialization.load_pem_private_key(entry["private_key"].encode(), password=None)
    assert entry["private_key"].startswith("-----BEGIN PRIVATE KEY-----")  # PKCS#8
    assert private.key_size == 2048
    expected = private.public_key().public_bytes(serialization.Encoding.PEM,
                                                 serialization.PublicFormat.SubjectPublicKeyInfo)
    assert out.read_bytes() == expected

    description = secretsmanager.describe_secret(SecretId=keys.secret_name("production"))
    written, mtime = out.read_bytes(), out.stat().st_mtime_ns
    again = run_keys(aws_env, out)
    assert again.returncode == 0, again.stderr
    assert "exists" in again.stdout and "unchanged" in again.stdout
    assert stored(secretsmanager) == document
    assert secretsmanager.describe_secret(SecretId=keys.secret_name("production"))["VersionIdsToStages"] == \
        description["VersionIdsToStages"]
    assert out.read_bytes() == written and out.stat().st_mtime_ns == mtime

    # The private key never reaches the output, whole or in part.
    body = "".join(entry["private_key"].splitlines()[1:-1])
    for ran in (first, again):
        text = ran.stdout + ran.stderr
        assert "PRIVATE KEY" not in text and body[:40] not in text and body[-40:] not in text


def test_a_lost_public_key_file_is_written_again_from_the_secret(aws_env, secretsmanager, tmp_path):
    out = tmp_path / "public.pem"
    assert run_keys(aws_env, out).returncode == 0
    before = out.read_bytes()
    out.unlink()
    again = run_keys(aws_env, out)
    assert again.returncode == 0 and "written" in again.stdout
    assert out.read_bytes() == before


def test_the_newest_key_gives_the_public_key(secretsmanager, tmp_path):
    older = json.loads(keys.new_key_document(dt.date(2025, 1, 1)))["keys"][0]
    newer = json.loads(keys.new_key_document(dt.date(2026, 6, 1)))["keys"][0]
    secretsmanager.create_secret(Name=keys.secret_name("dev"), SecretString=json.dumps({"keys": [newer, older]}))
    out = tmp_path / "public.pem"
    lines = keys.ensure_keys(secretsmanager, "dev", out)
    assert "exists" in lines[0]
    newest = serialization.load_pem_private_key(newer["private_key"].encode(), password=None)
    assert serialization.load_pem_public_key(out.read_bytes()).public_numbers() == \
        newest.public_key().public_numbers()


def test_a_secret_that_holds_no_keys_is_reported_without_its_content(aws_env, secretsmanager, tmp_path):
    secretsmanager.create_secret(Name=keys.secret_name("production"), SecretString='{"not": "keys-s3cr3t"}')
    ran = run_keys(aws_env, tmp_path / "public.pem")
    assert ran.returncode == 1
    assert keys.secret_name("production") in ran.stderr and "s3cr3t" not in ran.stdout + ran.stderr
    assert not (tmp_path / "public.pem").exists()


def test_no_credentials_is_an_error_not_a_traceback(aws_env, tmp_path):
    env = {k: v for k, v in aws_env.items() if k not in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
    ran = run_keys(env, tmp_path / "public.pem")
    assert ran.returncode == 1 and "Traceback" not in ran.stderr and "credentials" in ran.stderr.lower()
