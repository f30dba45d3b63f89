"""The function role's policy: exact resources, every action the app uses and no more, and a
CLI that prints it without starting the app (so no secret has to exist yet)."""

import json

from click.testing import CliRunner

from webapp.cli import main

STAGE_ENV = {
    "MEDIAHUB_BUCKET": "mediahub-prod-uploads",
    "MEDIAHUB_UPLOADERS": "anyone",
    "MEDIAHUB_TABLE": "mediahub-prod",
    "MEDIAHUB_SECRET_KEY_SECRET": "mediahub/prod/secret-key",
    "MEDIAHUB_CDN_URL": "https://d111111abcdef8.cloudfront.net",
    "MEDIAHUB_CLOUDFRONT_KEYS_SECRET": "mediahub/prod/cloudfront-keys",
    "MEDIAHUB_MAIL_FROM": "Mediahub <noreply@media.example.com>",
    "AWS_REGION": "eu-west-1",
}


def printed_policy(monkeypatch, *options: str) -> dict:
    for name, value in STAGE_ENV.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(main, ["iam-policy", "--stage", "production", "--account-id", "123456789012",
                                       *options])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def test_every_resource_is_exact(monkeypatch):
    policy = printed_policy(monkeypatch, "--malware-scan")
    for statement in policy["Statement"]:
        assert "*" not in as_list(statement["Resource"])
        assert not any(action.endswith(":*") for action in as_list(statement["Action"]))
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    assert by_sid["UploadsObjects"]["Resource"] == "arn:aws:s3:::mediahub-prod-uploads/uploads/*"
    assert set(by_sid["UploadsObjects"]["Action"]) == {
        "s3:PutObject", "s3:GetObject", "s3:DeleteObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"}
    # Thumbnails and clean copies: written, read and deleted under renditions/ only, never listed.
    assert by_sid["RenditionsObjects"]["Resource"] == "arn:aws:s3:::mediahub-prod-uploads/renditions/*"
    assert set(by_sid["RenditionsObjects"]["Action"]) == {"s3:PutObject", "s3:GetObject", "s3:DeleteObject"}
    # The malware gate: read the scanner's verdict tag on uploads, move infected ones to quarantine/.
    assert (by_sid["ScanVerdicts"]["Action"], by_sid["ScanVerdicts"]["Resource"]) == (
        "s3:GetObjectTagging", "arn:aws:s3:::mediahub-prod-uploads/uploads/*")
    assert (by_sid["QuarantineObjects"]["Action"], by_sid["QuarantineObjects"]["Resource"]) == (
        "s3:PutObject", "arn:aws:s3:::mediahub-prod-uploads/quarantine/*")
    # Listing is what makes S3 answer 404 (not 403) for a key not there yet (storage._is_missing).
    assert (by_sid["BucketListing"]["Action"], by_sid["BucketListing"]["Resource"]) == (
        "s3:ListBucket", "arn:aws:s3:::mediahub-prod-uploads")
    assert set(by_sid["CatalogItems"]["Action"]) == {  # every DynamoDB call the app makes, and no more
        "dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:PutItem", "dynamodb:UpdateItem",
        "dynamodb:DeleteItem", "dynamodb:Query"}
    assert by_sid["CatalogItems"]["Resource"] == [
        "arn:aws:dynamodb:eu-west-1:123456789012:table/mediahub-prod",
        "arn:aws:dynamodb:eu-west-1:123456789012:table/mediahub-prod/index/*",
    ]
    assert by_sid["SendMail"]["Resource"] == ["arn:aws:ses:eu-west-1:123456789012:identity/media.example.com",
                                              "arn:aws:ses:eu-west-1:123456789012:identity/noreply@media.example.com"]
    secrets = [s["Resource"] for s in policy["Statement"] if s["Action"] == "secretsmanager:GetSecretValue"]
    assert secrets == [
        "arn:aws:secretsmanager:eu-west-1:123456789012:secret:mediahub/prod/cloudfront-keys-??????",
        "arn:aws:secretsmanager:eu-west-1:123456789012:secret:mediahub/prod/secret-key-??????",
    ]


def test_logs_and_invocation_name_this_stage_only(monkeypatch):
    """A wildcard such as mediahub-* would let one stage's role write another stage's logs."""
    by_sid = {s["Sid"]: s for s in printed_policy(monkeypatch)["Statement"]}
    assert by_sid["Logs"]["Resource"] == \
        ["arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/mediahub-production:*"]
    # Zappa hands this role to API Gateway, which must be allowed to invoke the function.
    assert by_sid["InvokeItself"]["Action"] == "lambda:InvokeFunction"
    assert by_sid["InvokeItself"]["Resource"] == [
        "arn:aws:lambda:eu-west-1:123456789012:function:mediahub-production",
        "arn:aws:lambda:eu-west-1:123456789012:function:mediahub-production:*",
    ]


def test_ssm_secrets_are_read_as_parameters(monkeypatch):
    monkeypatch.setattr("tests.unit.test_iam.STAGE_ENV",
                        {**STAGE_ENV, "MEDIAHUB_SECRET_KEY_SECRET": "ssm:/mediahub/prod/secret-key"})
    policy = printed_policy(monkeypatch)
    [ssm] = [s for s in policy["Statement"] if s["Action"] == "ssm:GetParameter"]
    assert ssm["Resource"] == "arn:aws:ssm:eu-west-1:123456789012:parameter/mediahub/prod/secret-key"


def test_scanning_permissions_only_when_the_stage_scans(monkeypatch):
    sids = {s["Sid"] for s in printed_policy(monkeypatch, "--no-malware-scan")["Statement"]}
    assert not sids & {"ScanVerdicts", "QuarantineObjects"}
    sids = {s["Sid"] for s in printed_policy(monkeypatch, "--malware-scan")["Statement"]}
    assert {"ScanVerdicts", "QuarantineObjects"} <= sids


MEDIACONVERT_ENV = {
    "MEDIAHUB_VIDEO_RENDITIONS": "mediaconvert",
    "MEDIAHUB_MEDIACONVERT_ROLE_ARN": "arn:aws:iam::123456789012:role/mediahub-production-mediaconvert",
    "MEDIAHUB_MEDIACONVERT_QUEUE_ARN":
        "arn:aws:mediaconvert:eu-west-1:123456789012:queues/mediahub-production-renditions",
}


def test_mediaconvert_permissions_only_when_the_stage_makes_renditions_with_it(monkeypatch):
    sids = {s["Sid"] for s in printed_policy(monkeypatch)["Statement"]}
    assert not sids & {"SubmitRenditionJobs", "PassRoleToMediaConvert"}
    assert not [s for s in printed_policy(monkeypatch)["Statement"] if "mediaconvert" in json.dumps(s)]
    monkeypatch.setattr("tests.unit.test_iam.STAGE_ENV", {**STAGE_ENV, **MEDIACONVERT_ENV})
    by_sid = {s["Sid"]: s for s in printed_policy(monkeypatch)["Statement"]}
    # Jobs go to the stage's own queue; the function hands MediaConvert its role and no other, to no one else.
    assert (by_sid["SubmitRenditionJobs"]["Action"], by_sid["SubmitRenditionJobs"]["Resource"]) == (
        "mediaconvert:CreateJob", MEDIACONVERT_ENV["MEDIAHUB_MEDIACONVERT_QUEUE_ARN"])
    assert (by_sid["PassRoleToMediaConvert"]["Action"], by_sid["PassRoleToMediaConvert"]["Resource"]) == (
        "iam:PassRole", MEDIACONVERT_ENV["MEDIAHUB_MEDIACONVERT_ROLE_ARN"])
    assert by_sid["PassRoleToMediaConvert"]["Condition"] == {
        "StringEquals": {"iam:PassedToService": "mediaconvert.amazonaws.com"}}
    sids = {s["Sid"] for s in printed_policy(monkeypatch, "--no-video-renditions")["Statement"]}
    assert not sids & {"SubmitRenditionJobs", "PassRoleToMediaConvert"}


def test_mediaconvert_permissions_need_the_queue_and_the_role(monkeypatch):
    monkeypatch.setattr("tests.unit.test_iam.STAGE_ENV", {
        **STAGE_ENV, **MEDIACONVERT_ENV, "MEDIAHUB_MEDIACONVERT_QUEUE_ARN": ""})
    for name, value in STAGE_ENV.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(main, ["iam-policy", "--account-id", "123456789012"])
    assert result.exit_code == 2 and "MEDIAHUB_MEDIACONVERT_QUEUE_ARN" in result.output


def test_every_arn_is_in_the_partition_it_runs_in(monkeypatch):
    policy = printed_policy(monkeypatch, "--partition", "aws-cn", "--malware-scan")
    resources = [r for s in policy["Statement"] for r in as_list(s["Resource"])]
    assert resources and all(r.startswith("arn:aws-cn:") for r in resources), resources
