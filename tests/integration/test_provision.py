"""Provisioning against moto's server: what it creates, and that a second run changes nothing."""

import json

import pytest
from cryptography.hazmat.primitives import serialization

from webapp import provision, signing

SITE = "https://media.example.com"


@pytest.fixture
def aws_settings(settings):
    return settings.with_overrides(
        bucket="mediahub-prod-uploads",
        table="mediahub-prod",
        site_url=SITE,
        secret_key_secret="mediahub/prod/secret-key",
        cloudfront_keys_secret="mediahub/prod/cloudfront-keys",
        mail_from="Mediahub <noreply@media.example.com>",
    )


def test_resources_carry_the_settings(aws_settings, aws):
    lines = provision.run(aws_settings, aws)
    s3, bucket = aws.s3, aws_settings.bucket
    assert s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True}
    rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    [cors] = s3.get_bucket_cors(Bucket=bucket)["CORSRules"]
    assert cors["AllowedOrigins"] == [SITE] and sorted(cors["AllowedMethods"]) == ["GET", "HEAD", "POST", "PUT"]
    assert cors["ExposeHeaders"] == ["ETag"]
    rules = {r["ID"]: r for r in s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]}
    assert rules["abort-incomplete-multipart"]["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"] == 1
    assert "NoncurrentVersionExpiration" in rules["expire-noncurrent-versions"]
    assert rules["expire-quarantine"]["Filter"]["Prefix"] == "quarantine/"

    table = aws.dynamodb.describe_table(TableName=aws_settings.table)["Table"]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert {i["IndexName"] for i in table["GlobalSecondaryIndexes"]} == {"gsi1", "gsi2"}
    ttl = aws.dynamodb.describe_time_to_live(TableName=aws_settings.table)["TimeToLiveDescription"]
    assert ttl["AttributeName"] == "expires_at"
    backups = aws.dynamodb.describe_continuous_backups(TableName=aws_settings.table)["ContinuousBackupsDescription"]
    assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"

    secret = aws.secretsmanager.get_secret_value(SecretId="mediahub/prod/secret-key")["SecretString"]
    assert len(secret) >= 48
    [key] = signing.parse_signing_keys(
        aws.secretsmanager.get_secret_value(SecretId="mediahub/prod/cloudfront-keys")["SecretString"])
    registered = aws.cloudfront.get_public_key(Id=key.key_id)["PublicKey"]["PublicKeyConfig"]["EncodedKey"]
    assert registered.strip() == signing.public_key_pem(key).strip()
    assert key.private_key.key_size == 2048
    groups = aws.cloudfront.list_key_groups()["KeyGroupList"]["Items"]
    assert [g["KeyGroup"]["KeyGroupConfig"]["Items"] for g in groups] == [[key.key_id]]
    assert any("trusted key group" in line for line in lines)
    assert any("Managed-SecurityHeadersPolicy" in line for line in lines)


def test_second_run_changes_nothing(aws_settings, aws):
    provision.run(aws_settings, aws)
    keys_before = aws.secretsmanager.get_secret_value(SecretId="mediahub/prod/cloudfront-keys")["SecretString"]
    lines = provision.run(aws_settings, aws)
    changes = [line for line in lines if line.endswith((": set", ": created", "enabled")) or "created;" in line]
    assert changes == [], changes
    assert aws.secretsmanager.get_secret_value(SecretId="mediahub/prod/cloudfront-keys")["SecretString"] == keys_before
    assert len(aws.cloudfront.list_public_keys()["PublicKeyList"]["Items"]) == 1
    assert len(aws.cloudfront.list_key_groups()["KeyGroupList"]["Items"]) == 1


def test_a_changed_setting_is_put_back(aws_settings, aws):
    provision.run(aws_settings, aws)
    aws.s3.put_public_access_block(Bucket=aws_settings.bucket, PublicAccessBlockConfiguration={
        "BlockPublicAcls": False, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True})
    lines = provision.run(aws_settings, aws)
    assert f"bucket {aws_settings.bucket}: all four Block Public Access settings: set" in lines
    config = aws.s3.get_public_access_block(Bucket=aws_settings.bucket)["PublicAccessBlockConfiguration"]
    assert config["BlockPublicAcls"] is True


def test_dry_run_calls_no_aws(make_app, aws_settings):
    app = make_app()
    app.config["MEDIAHUB"] = aws_settings.with_overrides(aws_endpoint_url="http://127.0.0.1:9")
    result = app.test_cli_runner().invoke(args=["provision", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "would: bucket mediahub-prod-uploads" in result.output
    assert "would: CloudFront keys" in result.output


def test_cli_provisions(make_app, aws_settings, aws):
    app = make_app()
    app.config["MEDIAHUB"] = aws_settings
    result = app.test_cli_runner().invoke(args=["provision"])
    assert result.exit_code == 0, result.output
    assert "bucket mediahub-prod-uploads: created" in result.output


def test_iam_policy_has_exact_resources(make_app, aws_settings):
    app = make_app()
    app.config["MEDIAHUB"] = aws_settings
    result = app.test_cli_runner().invoke(args=["iam-policy", "--account-id", "123456789012"])
    assert result.exit_code == 0, result.output
    policy = json.loads(result.output)
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    for statement in policy["Statement"]:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        assert "*" not in resources
        if any(a.startswith(("s3:", "dynamodb:")) for a in actions):
            assert all(r.startswith(("arn:aws:s3:::mediahub-prod-uploads", "arn:aws:dynamodb:")) for r in resources)
            assert not any(a.endswith(":*") for a in actions)
    assert by_sid["UploadsObjects"]["Resource"] == "arn:aws:s3:::mediahub-prod-uploads/uploads/*"
    assert set(by_sid["UploadsObjects"]["Action"]) == {"s3:PutObject", "s3:GetObject", "s3:DeleteObject"}
    assert set(by_sid["CatalogItems"]["Action"]) == {  # every DynamoDB call the app makes, and no more
        "dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:PutItem", "dynamodb:UpdateItem",
        "dynamodb:DeleteItem", "dynamodb:Query"}
    assert by_sid["CatalogItems"]["Resource"] == [
        "arn:aws:dynamodb:us-east-1:123456789012:table/mediahub-prod",
        "arn:aws:dynamodb:us-east-1:123456789012:table/mediahub-prod/index/*",
    ]
    assert by_sid["SendMail"]["Action"] == "ses:SendEmail"
    secrets = [s["Resource"] for s in policy["Statement"] if s["Action"] == "secretsmanager:GetSecretValue"]
    assert secrets == [
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:mediahub/prod/cloudfront-keys-??????",
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:mediahub/prod/secret-key-??????",
    ]


def test_private_key_never_reaches_the_output(aws_settings, aws):
    lines = "\n".join(provision.run(aws_settings, aws))
    [key] = signing.parse_signing_keys(
        aws.secretsmanager.get_secret_value(SecretId="mediahub/prod/cloudfront-keys")["SecretString"])
    pem = key.private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption()).decode()
    assert "PRIVATE KEY" not in lines and pem.splitlines()[1] not in lines
