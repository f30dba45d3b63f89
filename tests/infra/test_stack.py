"""The ``MediahubInfra-<stage>`` stack, read from its synthesised template."""

from __future__ import annotations

import json
import pathlib
import subprocess

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.conftest import missing_tool
from webapp.aws.catalog import TABLE_DEFINITION

from .conftest import DEV_CONTEXT, PLACEHOLDER

# CloudFront's managed policies: Managed-CachingOptimized and Managed-SecurityHeadersPolicy.
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
SECURITY_HEADERS = "67f7725c-6f97-4210-82d7-5512b31e9d03"
ZAPPA_PYTHON = pathlib.Path(__file__).resolve().parents[2] / ".venv-zappa" / "bin" / "python"
ALL_BLOCKED = {"BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True,
               "RestrictPublicBuckets": True}
SSE_S3 = {"ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]}
OUTPUTS = {"BucketName", "TableName", "CdnUrl", "CloudFrontKeyId", "CloudFrontKeysSecret", "SecretKeySecret",
           "RoleArn", "DeploymentBucket", "AlarmTopicArn", "LogGroupName", "DeadLetterQueueArn", "DeadLetterQueueUrl"}


def as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def uploads_bucket_id(synth) -> str:
    return synth.output_ref("BucketName")


def uploads_bucket(synth) -> dict:
    return synth.data["Resources"][uploads_bucket_id(synth)]


def log_bucket_id(synth) -> str:
    return uploads_bucket(synth)["Properties"]["LoggingConfiguration"]["DestinationBucketName"]["Ref"]


def test_one_stack_per_stage(dev, production):
    assert dev.stack.stack_name == "MediahubInfra-dev"
    assert production.stack.stack_name == "MediahubInfra-production"


def zappa_stack_names(stages: list[str]) -> dict[str, str]:
    """The CloudFormation stack Zappa keeps its API in, per stage, named by Zappa's own code
    (``zappa/cli.py``: ``lambda_name = slugify(project_name + "-" + api_stage)``)."""
    from infra.app import zappa_stage

    if not ZAPPA_PYTHON.exists():
        missing_tool(f"{ZAPPA_PYTHON} is missing; `make test` builds .venv-zappa")
    project = zappa_stage("base").get("project_name")
    names = {stage: f"{zappa_stage(stage).get('project_name') or project}-{stage}" for stage in stages}
    slugged = subprocess.run(
        [str(ZAPPA_PYTHON), "-c", "import json, sys, slugify; "
         "print(json.dumps({k: slugify.slugify(v) for k, v in json.load(sys.stdin).items()}))"],
        input=json.dumps(names), capture_output=True, text=True, check=True, timeout=60)
    return json.loads(slugged.stdout)


def test_no_stack_of_the_app_is_ever_a_stack_zappa_makes(cdk):
    """Zappa replaces the template of the stack named after its function: were the CDK stack
    that stack, `zappa deploy` would delete the bucket, table and role it just made."""
    from infra.app import create_app, zappa_stages

    stages = zappa_stages()
    assert {"dev", "production"} <= set(stages)
    every_zappa_stage = zappa_stages(processing=True)
    assert {"dev-processing", "production-processing"} <= set(every_zappa_stage)
    zappa_names = zappa_stack_names(every_zappa_stage + ["infra-dev", "mediahubinfra-dev"])
    for stage in stages:
        app = create_app({**PLACEHOLDER, "stage": stage})
        cdk_names = [child.stack_name for child in app.node.children if isinstance(child, cdk.Stack)]
        assert cdk_names, stage
        assert not set(cdk_names) & set(zappa_names.values()), (stage, cdk_names, zappa_names)
        # Zappa's names are slugs, all lower-case: a name with a capital can never be one,
        # whatever stage or project name comes later.
        assert all(name != name.lower() for name in cdk_names), cdk_names


@pytest.mark.parametrize("bad", ["Prod", "dev_1", "dev stage", ""])
def test_stage_names_are_checked(cdk, bad):
    from infra.app import create_app
    from infra.stack import ConfigError

    with pytest.raises(ConfigError, match=r"\[a-z0-9-\]\+"):
        create_app({**DEV_CONTEXT, "stage": bad})


# Uploads bucket ---------------------------------------------------------------------------


def test_uploads_bucket_is_private_encrypted_versioned_and_https_only(stage):
    properties = uploads_bucket(stage)["Properties"]
    assert properties["PublicAccessBlockConfiguration"] == ALL_BLOCKED
    assert properties["BucketEncryption"] == SSE_S3
    assert properties["VersioningConfiguration"] == {"Status": "Enabled"}
    _, policy = next((name, p) for name, p in stage.resources("AWS::S3::BucketPolicy").items()
                     if p["Properties"]["Bucket"] == {"Ref": stage.output_ref("BucketName")})
    deny = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"]
    assert deny and deny[0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_cors_allows_the_site_origin_only(production):
    assert uploads_bucket(production)["Properties"]["CorsConfiguration"] == {"CorsRules": [{
        "AllowedOrigins": ["https://media.example.com"],
        "AllowedMethods": ["POST", "PUT", "GET", "HEAD"],
        "AllowedHeaders": ["*"],
        "ExposedHeaders": ["ETag"],
        "MaxAge": 3600,
    }]}


def test_files_allow_the_site_origin_for_download_all_with_the_security_headers(production, dev):
    """Download all reads each file with fetch(): CloudFront answers the site's origin with CORS."""
    assert distribution_config(dev)["DefaultCacheBehavior"]["ResponseHeadersPolicyId"] == SECURITY_HEADERS
    policy_id, policy = production.one("AWS::CloudFront::ResponseHeadersPolicy")
    assert distribution_config(production)["DefaultCacheBehavior"]["ResponseHeadersPolicyId"] == {"Ref": policy_id}
    config = policy["Properties"]["ResponseHeadersPolicyConfig"]
    cors = config["CorsConfig"]
    assert cors["AccessControlAllowOrigins"] == {"Items": ["https://media.example.com"]}
    assert cors["AccessControlAllowMethods"] == {"Items": ["GET", "HEAD"]}
    assert cors["AccessControlAllowCredentials"] is False and cors["OriginOverride"] is True
    headers = config["SecurityHeadersConfig"]
    assert headers["ContentTypeOptions"] == {"Override": False}
    assert headers["FrameOptions"]["FrameOption"] == "SAMEORIGIN"
    assert headers["StrictTransportSecurity"]["AccessControlMaxAgeSec"] == 31536000
    assert headers["ReferrerPolicy"]["ReferrerPolicy"] == "strict-origin-when-cross-origin"


def test_without_a_domain_cors_allows_nothing_and_says_so(dev):
    assert "CorsConfiguration" not in uploads_bucket(dev)["Properties"]
    assert any("CORS allows no origin" in w for w in dev.warnings()), dev.warnings()


API_URL = "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/dev"


def test_without_a_domain_cors_allows_the_apis_own_origin_once_known(synth):
    """The deploy passes the API's URL once Zappa has made it: the site is served from there."""
    result = synth({**DEV_CONTEXT, "siteUrl": API_URL + "/"})
    [rule] = uploads_bucket(result)["Properties"]["CorsConfiguration"]["CorsRules"]
    assert rule["AllowedOrigins"] == ["https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com"]
    assert result.data["Outputs"]["ApiSiteUrl"]["Value"] == API_URL
    assert "SiteUrl" not in result.data["Outputs"] and not any("CORS" in w for w in result.warnings())


@pytest.mark.parametrize("extra", [{"siteUrl": "http://a1b2.execute-api.us-east-1.amazonaws.com/dev"},
                                   {"siteUrl": API_URL, "domain": "media.example.com"}])
def test_site_url_is_https_and_only_without_a_domain(cdk, extra):
    from infra.app import create_app
    from infra.stack import ConfigError

    with pytest.raises(ConfigError, match="siteUrl"):
        create_app({**DEV_CONTEXT, **extra})


def test_uploads_lifecycle(stage):
    rules = {r["Id"]: r for r in uploads_bucket(stage)["Properties"]["LifecycleConfiguration"]["Rules"]}
    assert all(r["Status"] == "Enabled" for r in rules.values())
    multipart = [r for r in rules.values() if "AbortIncompleteMultipartUpload" in r]
    assert [r["AbortIncompleteMultipartUpload"] for r in multipart] == [{"DaysAfterInitiation": 1}]
    assert "Prefix" not in multipart[0]
    noncurrent = [r for r in rules.values() if "NoncurrentVersionExpiration" in r]
    assert [r["NoncurrentVersionExpiration"] for r in noncurrent] == [{"NoncurrentDays": 7}]
    assert "Prefix" not in noncurrent[0]
    quarantine = [r for r in rules.values() if "ExpirationInDays" in r]
    assert [(r["Prefix"], r["ExpirationInDays"]) for r in quarantine] == [("quarantine/", 7)]
    assert len(rules) == 3


def test_uploads_access_logs_go_to_the_log_bucket(stage):
    logging = uploads_bucket(stage)["Properties"]["LoggingConfiguration"]
    log_bucket = stage.data["Resources"][logging["DestinationBucketName"]["Ref"]]
    assert log_bucket["Type"] == "AWS::S3::Bucket"
    assert logging["LogFilePrefix"]
    properties = log_bucket["Properties"]
    assert properties["PublicAccessBlockConfiguration"] == ALL_BLOCKED
    assert properties["BucketEncryption"] == SSE_S3
    # CloudFront's standard logging writes with ACLs: they must stay enabled, owner-preferred.
    assert properties["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerPreferred"}]}
    assert properties["LifecycleConfiguration"]["Rules"] == [
        {"Id": "expire-logs", "ExpirationInDays": 90, "Status": "Enabled"}]
    policy = next(p for p in stage.resources("AWS::S3::BucketPolicy").values()
                  if p["Properties"]["Bucket"] == {"Ref": logging["DestinationBucketName"]["Ref"]})
    delivery = [s for s in policy["Properties"]["PolicyDocument"]["Statement"]
                if s.get("Principal") == {"Service": "logging.s3.amazonaws.com"}]
    assert delivery and delivery[0]["Action"] == "s3:PutObject"
    assert delivery[0]["Condition"]["ArnLike"]["aws:SourceArn"] == {
        "Fn::GetAtt": [uploads_bucket_id(stage), "Arn"]}


def test_production_keeps_its_data(production, dev):
    for name in (uploads_bucket_id(production), log_bucket_id(production), production.output_ref("TableName"),
                 production.output_ref("DeploymentBucket"), production.output_ref("LogGroupName")):
        resource = production.data["Resources"][name]
        assert resource["DeletionPolicy"] == "Retain", name
        assert resource["UpdateReplacePolicy"] == "Retain", name
    assert dev.data["Resources"][dev.output_ref("TableName")]["DeletionPolicy"] == "Delete"


def test_no_bucket_is_ever_emptied_automatically(stage):
    assert not [r for r in stage.data["Resources"].values() if r["Type"].startswith("Custom::")]
    tags = uploads_bucket(stage)["Properties"].get("Tags", [])
    assert not [t for t in tags if t["Key"] == "aws-cdk:auto-delete-objects"]


# Table -------------------------------------------------------------------------------------


def test_table_is_on_demand_with_recovery_and_ttl(stage):
    table = stage.data["Resources"][stage.output_ref("TableName")]
    properties = table["Properties"]
    assert properties["TableName"] == stage.stack.config.name
    assert properties["BillingMode"] == "PAY_PER_REQUEST"
    assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert properties["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert "ProvisionedThroughput" not in properties


def test_table_keys_and_indexes_are_the_catalogs(stage):
    properties = stage.data["Resources"][stage.output_ref("TableName")]["Properties"]
    assert properties["KeySchema"] == TABLE_DEFINITION["KeySchema"]
    assert sorted(properties["AttributeDefinitions"], key=lambda a: a["AttributeName"]) == sorted(
        TABLE_DEFINITION["AttributeDefinitions"], key=lambda a: a["AttributeName"])
    indexes = {i["IndexName"]: i for i in properties["GlobalSecondaryIndexes"]}
    expected = {i["IndexName"]: i for i in TABLE_DEFINITION["GlobalSecondaryIndexes"]}
    assert indexes.keys() == expected.keys()
    for name, index in expected.items():
        assert indexes[name]["KeySchema"] == index["KeySchema"], name
        assert indexes[name]["Projection"] == index["Projection"], name
        assert "ProvisionedThroughput" not in indexes[name]


def test_deletion_protection_in_production_only(dev, production):
    def protected(synth):
        return synth.data["Resources"][synth.output_ref("TableName")]["Properties"]["DeletionProtectionEnabled"]

    assert protected(production) is True
    assert protected(dev) is False


# CloudFront --------------------------------------------------------------------------------


def distribution_config(synth) -> dict:
    return synth.one("AWS::CloudFront::Distribution")[1]["Properties"]["DistributionConfig"]


def test_distribution_reads_the_bucket_through_an_origin_access_control(stage):
    oac_id, oac = stage.one("AWS::CloudFront::OriginAccessControl")
    config = oac["Properties"]["OriginAccessControlConfig"]
    assert (config["OriginAccessControlOriginType"], config["SigningBehavior"], config["SigningProtocol"]) == (
        "s3", "always", "sigv4")
    (origin,) = distribution_config(stage)["Origins"]
    assert origin["DomainName"] == {"Fn::GetAtt": [uploads_bucket_id(stage), "RegionalDomainName"]}
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": [oac_id, "Id"]}
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}


def test_distribution_answers_signed_https_get_and_head_only(stage):
    behaviour = distribution_config(stage)["DefaultCacheBehavior"]
    key_group_id, key_group = stage.one("AWS::CloudFront::KeyGroup")
    public_key_id, _ = stage.one("AWS::CloudFront::PublicKey")
    assert behaviour["TrustedKeyGroups"] == [{"Ref": key_group_id}]
    assert key_group["Properties"]["KeyGroupConfig"]["Items"] == [{"Ref": public_key_id}]
    assert behaviour["CachePolicyId"] == CACHING_OPTIMIZED
    assert behaviour["ViewerProtocolPolicy"] == "https-only"
    assert behaviour["AllowedMethods"] == ["GET", "HEAD"]
    assert behaviour["CachedMethods"] == ["GET", "HEAD"]
    assert "CacheBehaviors" not in distribution_config(stage)


def test_distribution_logs_to_the_log_bucket(stage):
    assert distribution_config(stage)["Logging"] == {
        "Bucket": {"Fn::GetAtt": [log_bucket_id(stage), "RegionalDomainName"]}, "Prefix": "cloudfront/"}


def test_bucket_policy_lets_only_this_distribution_read(stage):
    distribution_id, _ = stage.one("AWS::CloudFront::Distribution")
    policy = next(p for p in stage.resources("AWS::S3::BucketPolicy").values()
                  if p["Properties"]["Bucket"] == {"Ref": uploads_bucket_id(stage)})
    (grant,) = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"]
    assert grant["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert grant["Action"] == "s3:GetObject"
    assert grant["Resource"] == {"Fn::Join": ["", [{"Fn::GetAtt": [uploads_bucket_id(stage), "Arn"]}, "/*"]]}
    source = grant["Condition"]["StringEquals"]["AWS:SourceArn"]
    assert source["Fn::Join"][1][-2:] == [":distribution/", {"Ref": distribution_id}]


def test_public_key_is_an_rsa_2048_public_key_and_a_placeholder_says_so(stage):
    _, public_key = stage.one("AWS::CloudFront::PublicKey")
    pem = public_key["Properties"]["PublicKeyConfig"]["EncodedKey"]
    key = serialization.load_pem_public_key(pem.encode())
    assert isinstance(key, rsa.RSAPublicKey) and key.key_size == 2048
    assert any("placeholder" in w for w in stage.warnings()), stage.warnings()


def test_missing_public_key_file_fails_clearly(cdk):
    from infra.app import create_app
    from infra.stack import ConfigError

    with pytest.raises(ConfigError, match=r"publicKeyFile=.*placeholderKey=true"):
        create_app({"stage": "dev"})
    with pytest.raises(ConfigError, match=r"publicKeyFile=.*placeholderKey=true"):
        create_app({"stage": "dev", "placeholderKey": "false"})


def test_public_key_file_is_registered_as_given(synth, tmp_path):
    from infra.app import create_app
    from infra.stack import ConfigError

    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    key_file = tmp_path / "public.pem"
    key_file.write_text(pem)
    result = synth({"stage": "dev", "region": "us-east-1", "publicKeyFile": str(key_file)})
    _, public_key = result.one("AWS::CloudFront::PublicKey")
    assert public_key["Properties"]["PublicKeyConfig"]["EncodedKey"] == pem
    assert not any("placeholder" in w for w in result.warnings())

    private_file = tmp_path / "private.pem"
    private_file.write_bytes(private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    with pytest.raises(ConfigError, match="private key"):
        create_app({"stage": "dev", "publicKeyFile": str(private_file)})
    with pytest.raises(ConfigError, match="cannot be read"):
        create_app({"stage": "dev", "publicKeyFile": str(tmp_path / "missing.pem")})


# Secrets, role, deployment bucket, logs ----------------------------------------------------


def test_secret_key_is_generated_by_cloudformation(stage):
    _, secret = stage.one("AWS::SecretsManager::Secret")
    properties = secret["Properties"]
    assert properties["Name"] == f"mediahub/{stage.stack.config.stage}/secret-key"
    generated = properties["GenerateSecretString"]
    assert generated["PasswordLength"] >= 32
    assert generated["ExcludePunctuation"] is True
    assert "SecretString" not in properties


def test_role_is_trusted_by_lambda_and_api_gateway_exactly(stage):
    _, role = stage.one("AWS::IAM::Role")
    properties = role["Properties"]
    assert properties["RoleName"] == f"{stage.stack.config.name}-lambda"
    statements = properties["AssumeRolePolicyDocument"]["Statement"]
    assert all(s["Effect"] == "Allow" and s["Action"] == "sts:AssumeRole" and "Condition" not in s
               for s in statements)
    principals = sorted(service for s in statements for service in as_list(s["Principal"]["Service"]))
    assert principals == ["apigateway.amazonaws.com", "lambda.amazonaws.com"]
    assert all(set(s["Principal"]) == {"Service"} for s in statements)
    assert "ManagedPolicyArns" not in properties
    assert len(properties["Policies"]) == 1
    assert not stage.resources("AWS::IAM::Policy")


def test_deployment_bucket(stage):
    bucket = stage.data["Resources"][stage.output_ref("DeploymentBucket")]["Properties"]
    assert bucket["PublicAccessBlockConfiguration"] == ALL_BLOCKED
    assert bucket["BucketEncryption"] == SSE_S3
    assert bucket["LifecycleConfiguration"]["Rules"] == [
        {"Id": "expire-packages", "ExpirationInDays": 30, "Status": "Enabled"}]


def test_each_functions_log_group_has_a_retention(dev, production):
    """The web function's and the processing stage's, which share the role."""
    for synth, days in ((dev, 90), (production, 365)):
        groups = synth.resources("AWS::Logs::LogGroup").values()
        name = synth.stack.config.name
        assert sorted(g["Properties"]["LogGroupName"] for g in groups) == [
            f"/aws/lambda/{name}", f"/aws/lambda/{name}-processing"]
        assert all(g["Properties"]["RetentionInDays"] == days for g in groups)


# Alarms ------------------------------------------------------------------------------------


def alarms(synth, processing: bool = False) -> dict[str, dict]:
    """Alarms by their single metric's name (the table's math expression as ThrottledRequests);
    the web function's, or with ``processing`` the processing function's."""
    found = {}
    for alarm in synth.resources("AWS::CloudWatch::Alarm").values():
        properties = alarm["Properties"]
        if ("-processing" in str(properties.get("Dimensions", ""))) != processing:
            continue
        if "MetricName" in properties:
            found[properties["MetricName"]] = properties
        else:
            (name,) = {m["MetricStat"]["Metric"]["MetricName"] for m in properties["Metrics"] if "MetricStat" in m}
            found[name] = properties
    return found


def dimensions(properties: dict) -> dict:
    return {d["Name"]: d["Value"] for d in properties["Dimensions"]}


def test_alarms_watch_the_api_the_function_and_the_table(stage):
    name = stage.stack.config.name
    found = alarms(stage)
    assert set(found) == {"5XXError", "Errors", "Throttles", "Duration", "ThrottledRequests",
                          "ApproximateNumberOfMessagesVisible"}
    topic_id, topic = stage.one("AWS::SNS::Topic")
    assert topic["Properties"]["TopicName"] == f"{name}-alarms"
    for metric, properties in found.items():
        assert properties["TreatMissingData"] == "notBreaching", metric
        assert properties["AlarmActions"] == [{"Ref": topic_id}], metric
        assert properties["ComparisonOperator"] == "GreaterThanOrEqualToThreshold", metric
        assert properties["EvaluationPeriods"] >= 1, metric
    api = found["5XXError"]
    assert (api["Namespace"], dimensions(api), api["Statistic"], api["Period"]) == (
        "AWS/ApiGateway", {"ApiName": name}, "Sum", 300)
    for metric in ("Errors", "Throttles", "Duration"):
        assert found[metric]["Namespace"] == "AWS/Lambda"
        assert dimensions(found[metric]) == {"FunctionName": name}
    duration = found["Duration"]
    assert duration["ExtendedStatistic"] == "p99"
    assert 20_000 <= duration["Threshold"] < 30_000  # near the 30 s timeout, before it
    table = found["ThrottledRequests"]
    stats = [m["MetricStat"] for m in table["Metrics"] if "MetricStat" in m]
    assert {s["Metric"]["Namespace"] for s in stats} == {"AWS/DynamoDB"}
    assert all({d["Name"]: d["Value"] for d in s["Metric"]["Dimensions"]}["TableName"]
               == {"Ref": stage.output_ref("TableName")} for s in stats)
    operations = {d["Value"] for s in stats for d in s["Metric"]["Dimensions"] if d["Name"] == "Operation"}
    assert {"GetItem", "PutItem", "UpdateItem", "Query", "TransactWriteItems"} <= operations
    (expression,) = [m for m in table["Metrics"] if "Expression" in m]
    assert expression["ReturnData"] is True
    queue_id, queue = stage.one("AWS::SQS::Queue")
    dead_letters = found["ApproximateNumberOfMessagesVisible"]
    assert (dead_letters["Namespace"], dead_letters["Threshold"]) == ("AWS/SQS", 1)
    assert dimensions(dead_letters) == {"QueueName": {"Fn::GetAtt": [queue_id, "QueueName"]}}
    assert queue["Properties"]["QueueName"] == f"{name}-dead-letters"
    assert queue["Properties"]["MessageRetentionPeriod"] == 14 * 86400


def test_the_processing_function_has_its_own_alarms(stage):
    found = alarms(stage, processing=True)
    assert set(found) == {"Errors", "Duration"}
    assert all(dimensions(a) == {"FunctionName": f"{stage.stack.config.name}-processing"} for a in found.values())
    assert 200_000 <= found["Duration"]["Threshold"] < 300_000  # near its 300 s timeout, before it


def test_cloudwatch_and_budgets_may_publish_to_the_alarm_topic_over_tls_only(stage):
    topic_id, _ = stage.one("AWS::SNS::Topic")
    [policy] = [p for p in stage.resources("AWS::SNS::TopicPolicy").values() if p["Properties"]["Topics"] == [{"Ref": topic_id}]]
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    [deny] = [s for s in statements if s["Effect"] == "Deny"]
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    allowed = {s["Principal"]["Service"]: s for s in statements if s["Effect"] == "Allow"}
    assert set(allowed) == {"cloudwatch.amazonaws.com", "budgets.amazonaws.com"}
    for statement in allowed.values():
        assert statement["Action"] == "sns:Publish" and statement["Resource"] == {"Ref": topic_id}
        assert statement["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}


def test_a_monthly_budget_tells_the_alarm_topic(stage):
    topic_id, _ = stage.one("AWS::SNS::Topic")
    _, budget = stage.one("AWS::Budgets::Budget")
    data = budget["Properties"]["Budget"]
    assert (data["BudgetType"], data["TimeUnit"], data["BudgetLimit"]["Unit"]) == ("COST", "MONTHLY", "USD")
    notifications = budget["Properties"]["NotificationsWithSubscribers"]
    assert {(n["Notification"]["NotificationType"], n["Notification"]["Threshold"]) for n in notifications} == {
        ("ACTUAL", 80), ("FORECASTED", 100)}
    assert all(n["Subscribers"] == [{"SubscriptionType": "SNS", "Address": {"Ref": topic_id}}] for n in notifications)


def test_alarm_mail_only_with_alarm_email(dev, production):
    assert not dev.resources("AWS::SNS::Subscription")
    _, subscription = production.one("AWS::SNS::Subscription")
    assert subscription["Properties"]["Protocol"] == "email"
    assert subscription["Properties"]["Endpoint"] == "ops@example.com"
    assert subscription["Properties"]["TopicArn"] == {"Ref": production.one("AWS::SNS::Topic")[0]}


# Domain ------------------------------------------------------------------------------------


def test_certificate_for_the_domain_validated_in_the_zone(production, dev):
    _, certificate = production.one("AWS::CertificateManager::Certificate")
    properties = certificate["Properties"]
    assert properties["DomainName"] == "media.example.com"
    assert properties["ValidationMethod"] == "DNS"
    assert properties["DomainValidationOptions"] == [
        {"DomainName": "media.example.com", "HostedZoneId": "Z0123456789EXAMPLE"}]
    assert not dev.resources("AWS::CertificateManager::Certificate")


def test_certificate_outside_us_east_1_is_refused(cdk):
    from infra.app import create_app
    from infra.stack import ConfigError

    with pytest.raises(ConfigError, match="us-east-1"):
        create_app({**DEV_CONTEXT, "domain": "media.example.com", "region": "eu-west-1"})


def test_certificate_region_unknown_until_deploy_is_a_warning(synth, monkeypatch):
    monkeypatch.delenv("CDK_DEFAULT_REGION", raising=False)
    # A stage zappa_settings.json does not have, so no aws_region from there either.
    result = synth({"stage": "qa", "placeholderKey": "true", "domain": "qa.media.example.com"})
    assert result.stack.stack_name == "MediahubInfra-qa"
    assert result.one("AWS::CertificateManager::Certificate")
    assert any("only known at deploy time" in w for w in result.warnings()), result.warnings()


def test_zone_lookup_without_an_account_is_refused(cdk, monkeypatch):
    from infra.app import create_app
    from infra.stack import ConfigError

    monkeypatch.delenv("CDK_DEFAULT_ACCOUNT", raising=False)
    with pytest.raises(ConfigError, match="hostedZoneId"):
        create_app({**DEV_CONTEXT, "domain": "media.example.com", "hostedZone": "example.com"})


def test_domain_outside_the_zone_is_refused(cdk):
    from infra.app import create_app
    from infra.stack import ConfigError

    with pytest.raises(ConfigError, match="not inside the hosted zone"):
        create_app({**DEV_CONTEXT, "domain": "media.example.org", "hostedZone": "example.com",
                    "hostedZoneId": "Z0123456789EXAMPLE"})


# Outputs -----------------------------------------------------------------------------------


def test_outputs_have_the_names_the_deploy_command_reads(dev, production):
    assert set(dev.data["Outputs"]) == OUTPUTS
    assert set(production.data["Outputs"]) == OUTPUTS | {"SiteUrl", "CertificateArn"}
    outputs = {key: value["Value"] for key, value in production.data["Outputs"].items()}
    assert outputs["CloudFrontKeysSecret"] == "mediahub/production/cloudfront-keys"
    assert outputs["SecretKeySecret"] == "mediahub/production/secret-key"
    assert outputs["SiteUrl"] == "https://media.example.com"
    distribution_id, _ = production.one("AWS::CloudFront::Distribution")
    assert outputs["CdnUrl"] == {"Fn::Join": ["", ["https://", {"Fn::GetAtt": [distribution_id, "DomainName"]}]]}
    assert outputs["CloudFrontKeyId"] == {"Ref": production.one("AWS::CloudFront::PublicKey")[0]}
    assert outputs["RoleArn"] == {"Fn::GetAtt": [production.one("AWS::IAM::Role")[0], "Arn"]}
    assert outputs["AlarmTopicArn"] == {"Ref": production.one("AWS::SNS::Topic")[0]}
    assert outputs["CertificateArn"] == {"Ref": production.one("AWS::CertificateManager::Certificate")[0]}
    for key in ("BucketName", "TableName", "DeploymentBucket", "LogGroupName"):
        assert set(outputs[key]) == {"Ref"}, key
