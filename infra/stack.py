"""One stage of Mediahub on AWS: everything Zappa's function needs around it.

Zappa creates the function and its REST API (both named ``mediahub-<stage>``, the API in a
CloudFormation stack of that name); this stack, ``MediahubInfra-<stage>``, creates what they use and what must exist first: the private uploads bucket, the table, the
CloudFront distribution that serves the bucket only through signed links, the app's secret key,
the role Zappa gives the function, the bucket Zappa uploads its packages to, the function's log
group, alarms, and optionally the certificate of the site's own domain.

The function's permissions come from ``webapp.iam`` and the table's keys and indexes from
``webapp.aws.catalog``: the same values the app and ``flask iam-policy`` use, so they cannot drift.
"""

from __future__ import annotations

import dataclasses
import re
from urllib.parse import urlsplit

from aws_cdk import (
    Annotations,
    Aws,
    CfnOutput,
    Duration,
    RemovalPolicy,
    Stack,
    Tags,
    Token,
)
from aws_cdk import aws_budgets as budgets
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as events_targets
from aws_cdk import aws_guardduty as guardduty
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import mediaconvert
from infra.zappa_stage import stack_name
from webapp.aws.catalog import TABLE_DEFINITION
from webapp.flows.processing import PROCESSING_TIMEOUT_SECONDS
from webapp.iam import QUARANTINE_PREFIX, UPLOAD_PREFIX, role_statements
from webapp.flows.scanning import SCAN_RESULT_DETAIL_TYPE, SCAN_TAG

PROJECT = "mediahub"
PRODUCTION_STAGE = "production"
STAGE_PATTERN = re.compile(r"[a-z0-9-]+")
DOMAIN_PATTERN = re.compile(r"(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]")
# An edge-optimised API Gateway custom domain (what `zappa certify` sets up) only accepts a
# certificate from us-east-1, and CloudFormation creates certificates in the stack's region.
CERTIFICATE_REGION = "us-east-1"
# What the function's own calls may take; the Duration alarm fires well before this.
DEFAULT_TIMEOUT_SECONDS = 30
DEFAULT_MONTHLY_BUDGET_USD = 50


class ConfigError(Exception):
    """The stage cannot be synthesised as asked; the message says what to change."""


@dataclasses.dataclass(frozen=True)
class StageConfig:
    """What varies between stages, already read and checked by ``infra.app``."""

    stage: str
    public_key_pem: str
    placeholder_key: bool = False
    domain: str | None = None
    hosted_zone: str | None = None
    hosted_zone_id: str | None = None
    alarm_email: str | None = None
    # Without a domain: the URL API Gateway serves the site at (https://<api>.execute-api...
    # /<stage>), which the deploy reads once Zappa has made the API.
    site_url: str | None = None
    mail_from: str | None = None
    timeout_seconds: int = DEFAULT_TIMEOUT_SECONDS
    malware_scan: bool = False
    # Video renditions with AWS Elemental MediaConvert (infra/mediaconvert.py).
    video_renditions: bool = False
    # What the whole account may spend in a month before the alarm topic hears of it (USD).
    monthly_budget_usd: int = DEFAULT_MONTHLY_BUDGET_USD
    # Functions that share the role and log to their own groups: the web stage's, and the
    # processing stage's when there is one (``<stage>-processing`` in zappa_settings.json).
    processing_function: str | None = None
    processing_timeout_seconds: int = PROCESSING_TIMEOUT_SECONDS

    @property
    def production(self) -> bool:
        return self.stage == PRODUCTION_STAGE

    @property
    def name(self) -> str:
        """Zappa's name for the function and its REST API: ``<project_name>-<stage>``."""
        return f"{PROJECT}-{self.stage}"

    @property
    def function_names(self) -> list[str]:
        return [self.name] + ([self.processing_function] if self.processing_function else [])

    @property
    def stack_name(self) -> str:
        """The CDK stack's own name, never one Zappa uses (``infra.zappa_stage.stack_name``)."""
        return stack_name(self.stage)

    @property
    def cloudfront_keys_secret(self) -> str:
        """Written once, before the first deploy, by the deploy command; never by this stack."""
        return f"{PROJECT}/{self.stage}/cloudfront-keys"

    @property
    def secret_key_secret(self) -> str:
        return f"{PROJECT}/{self.stage}/secret-key"

    @property
    def site_origin(self) -> str | None:
        """Where the site's pages are served from: the only origin the bucket's CORS admits."""
        if self.domain:
            return f"https://{self.domain}"
        if self.site_url:
            parts = urlsplit(self.site_url)
            return f"{parts.scheme}://{parts.netloc}"
        return None


def check_config(config: StageConfig) -> None:
    """Refuse values CloudFormation would accept and the site would trip over later."""
    if not STAGE_PATTERN.fullmatch(config.stage):
        raise ConfigError(f"stage {config.stage!r} must match [a-z0-9-]+ (it names the stack and its resources)")
    if config.domain is not None and not DOMAIN_PATTERN.fullmatch(config.domain):
        raise ConfigError(f"domain {config.domain!r} is not a lower-case host name such as media.example.com")
    if config.site_url is not None and (config.domain or not config.site_url.startswith("https://")
                                        or not urlsplit(config.site_url).hostname):
        raise ConfigError(f"siteUrl {config.site_url!r} must be an https:// URL, and only without a domain "
                          "(with a domain the site is at https://<domain>)")
    if config.hosted_zone_id and not config.hosted_zone:
        raise ConfigError("hostedZoneId is given without hostedZone (the zone's name)")
    if config.hosted_zone and not config.domain:
        raise ConfigError("hostedZone is given without domain: the zone only validates the domain's certificate")
    if config.hosted_zone and config.domain:
        zone = config.hosted_zone.rstrip(".")
        if config.domain != zone and not config.domain.endswith("." + zone):
            raise ConfigError(f"domain {config.domain} is not inside the hosted zone {zone}")


def _table_key(key_schema: list[dict], attribute_types: dict[str, str], key_type: str) -> dynamodb.Attribute | None:
    for key in key_schema:
        if key["KeyType"] == key_type:
            name = key["AttributeName"]
            return dynamodb.Attribute(name=name, type=dynamodb.AttributeType(
                {"S": "STRING", "N": "NUMBER", "B": "BINARY"}[attribute_types[name]]))
    return None


class MediahubStack(Stack):
    """``MediahubInfra-<stage>``: the bucket, table, distribution, keys, role, logs and alarms of one stage."""

    def __init__(self, scope: Construct, config: StageConfig, **kwargs) -> None:
        check_config(config)
        super().__init__(
            scope, config.stack_name, stack_name=config.stack_name,
            description=f"Mediahub {config.stage}: uploads bucket, table, CloudFront, secrets, Lambda role, alarms",
            **kwargs,
        )
        self.config = config
        # Production keeps its data when a resource leaves the stack or the stack is deleted.
        # Other stages clean up, except that a bucket still holding objects makes the delete
        # fail (nothing here empties a bucket automatically): empty it first, on purpose.
        self.removal_policy = RemovalPolicy.RETAIN if config.production else RemovalPolicy.DESTROY
        Tags.of(self).add("project", PROJECT)
        Tags.of(self).add("stage", config.stage)

        self.log_bucket = self._access_log_bucket()
        self.uploads = self._uploads_bucket()
        self.table = self._table()
        self.distribution, self.public_key = self._distribution()
        self.secret_key = self._secret_key()
        self.dead_letters = self._dead_letter_queue()
        # Before the function's role, whose policy names MediaConvert's queue and role.
        self.renditions = mediaconvert.add(self, name=config.name, stage=config.stage, bucket=self.uploads) \
            if config.video_renditions else None
        self.role = self._lambda_role()
        self.deployment_bucket = self._deployment_bucket()
        self.log_groups = self._log_groups()
        self.log_group = self.log_groups[0]
        self.alarm_topic = self._alarms()
        self._budget()
        self.certificate = self._certificate()
        self.scan_results = self._malware_protection()
        self._outputs()

    # Storage -------------------------------------------------------------------------------

    def _access_log_bucket(self) -> s3.Bucket:
        """Where S3 server access logs and CloudFront standard logs go.

        CloudFront's standard logging writes through ACLs, so ACLs stay enabled here with the
        bucket owner owning every object (BucketOwnerPreferred); S3 server access logs are
        granted by bucket policy.
        """
        return s3.Bucket(
            self, "AccessLogBucket",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
            lifecycle_rules=[s3.LifecycleRule(id="expire-logs", expiration=Duration.days(90))],
            removal_policy=self.removal_policy,
        )

    def _uploads_bucket(self) -> s3.Bucket:
        """The private bucket browsers upload into directly and CloudFront reads from.

        CORS admits the site's own origin only: browsers POST (policy uploads) and PUT (parts)
        straight to S3 and need ETag to complete a multipart upload. Without a domain the
        site's origin is its API Gateway URL, known once Zappa has made the API: until the
        deploy passes it (``siteUrl``), nothing cross-origin is allowed.
        """
        cors = None
        if self.config.site_origin:
            cors = [s3.CorsRule(
                allowed_origins=[self.config.site_origin],
                allowed_methods=[s3.HttpMethods.POST, s3.HttpMethods.PUT, s3.HttpMethods.GET, s3.HttpMethods.HEAD],
                allowed_headers=["*"],
                exposed_headers=["ETag"],
                max_age=3600,
            )]
        else:
            Annotations.of(self).add_warning_v2(
                "mediahub:cors-without-domain",
                "No context 'domain' or 'siteUrl': the uploads bucket's CORS allows no origin, so browsers "
                "cannot upload until the stack is deployed with either (make deploy passes the API's URL "
                "once Zappa has made it).",
            )
        return s3.Bucket(
            self, "UploadsBucket",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            versioned=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            cors=cors,
            lifecycle_rules=[
                # Multipart uploads a browser abandoned still cost storage until aborted.
                s3.LifecycleRule(id="abort-incomplete-multipart-uploads",
                                 abort_incomplete_multipart_upload_after=Duration.days(1)),
                # Versioning protects against a mistaken delete for a week, then frees the space.
                s3.LifecycleRule(id="expire-noncurrent-versions",
                                 noncurrent_version_expiration=Duration.days(7),
                                 expired_object_delete_marker=True),
                # Objects that failed the checks are kept a week for a look, then go.
                s3.LifecycleRule(id="expire-quarantine", prefix=QUARANTINE_PREFIX,
                                 expiration=Duration.days(7)),
            ],
            server_access_logs_bucket=self.log_bucket,
            server_access_logs_prefix="s3/uploads/",
            # Never emptied by the stack: uploads are people's files.
            auto_delete_objects=False,
            removal_policy=self.removal_policy,
        )

    def _table(self) -> dynamodb.Table:
        """The one table, with the keys and indexes ``webapp.aws.catalog`` creates in local mode."""
        definition = TABLE_DEFINITION
        types = {a["AttributeName"]: a["AttributeType"] for a in definition["AttributeDefinitions"]}
        if definition.get("BillingMode") != "PAY_PER_REQUEST":
            raise ConfigError("webapp.aws.catalog.TABLE_DEFINITION is expected to be on-demand (PAY_PER_REQUEST)")
        table = dynamodb.Table(
            self, "Table",
            table_name=self.config.name,
            partition_key=_table_key(definition["KeySchema"], types, "HASH"),
            sort_key=_table_key(definition["KeySchema"], types, "RANGE"),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True),
            time_to_live_attribute="expires_at",
            deletion_protection=self.config.production,
            removal_policy=self.removal_policy,
        )
        for index in definition.get("GlobalSecondaryIndexes", []):
            projection = index.get("Projection", {"ProjectionType": "ALL"})
            table.add_global_secondary_index(
                index_name=index["IndexName"],
                partition_key=_table_key(index["KeySchema"], types, "HASH"),
                sort_key=_table_key(index["KeySchema"], types, "RANGE"),
                projection_type=dynamodb.ProjectionType(projection["ProjectionType"]),
                non_key_attributes=projection.get("NonKeyAttributes"),
            )
        return table

    # Delivery ------------------------------------------------------------------------------

    def _distribution(self) -> tuple[cloudfront.Distribution, cloudfront.PublicKey]:
        """CloudFront in front of the private bucket, answering signed requests only.

        The origin access control lets only this distribution read the bucket (it writes the
        bucket policy statement); the trusted key group makes every viewer request carry a
        signature from the private key the app holds. The key pair is made outside the stack
        so that its private half never passes through CloudFormation.
        """
        if self.config.placeholder_key:
            Annotations.of(self).add_warning_v2(
                "mediahub:placeholder-public-key",
                "The CloudFront public key is a placeholder generated at synth time; its private half "
                "was thrown away, so no link signed by the app would verify. Deploy with "
                "-c publicKeyFile=<PEM> instead.",
            )
        public_key = cloudfront.PublicKey(
            self, "CloudFrontPublicKey",
            encoded_key=self.config.public_key_pem,
            comment=f"Mediahub {self.config.stage}: verifies the links the app signs",
        )
        key_group = cloudfront.KeyGroup(
            self, "CloudFrontKeyGroup", items=[public_key],
            comment=f"Mediahub {self.config.stage}: the app's signing key",
        )
        distribution = cloudfront.Distribution(
            self, "Distribution",
            comment=f"Mediahub {self.config.stage}: uploaded media through signed links",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(self.uploads),
                trusted_key_groups=[key_group],
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
                cached_methods=cloudfront.CachedMethods.CACHE_GET_HEAD,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                response_headers_policy=self._response_headers(),
                compress=True,
            ),
            enable_logging=True,
            log_bucket=self.log_bucket,
            log_file_prefix="cloudfront/",
        )
        return distribution, public_key

    def _response_headers(self) -> cloudfront.IResponseHeadersPolicy:
        """The managed security headers, plus CORS for the site's own origin once it is known.

        A transfer's Download all fetches each file from its signed URL and zips it in the
        browser, so the files need ``Access-Control-Allow-Origin`` for the site (GET and HEAD,
        no credentials: the signature is in the URL). The headers are the managed
        SecurityHeadersPolicy's, written out because a policy with CORS cannot extend a managed one.
        Without a known origin the managed policy stays and Download all cannot read the files
        (the bucket's CORS warning says the same).
        """
        if not self.config.site_origin:
            return cloudfront.ResponseHeadersPolicy.SECURITY_HEADERS
        return cloudfront.ResponseHeadersPolicy(
            self, "ResponseHeaders",
            comment=f"Mediahub {self.config.stage}: security headers, and CORS for the site",
            cors_behavior=cloudfront.ResponseHeadersCorsBehavior(
                access_control_allow_origins=[self.config.site_origin],
                access_control_allow_methods=["GET", "HEAD"],
                access_control_allow_headers=["*"],
                access_control_expose_headers=["Content-Length", "ETag"],
                access_control_allow_credentials=False,
                access_control_max_age=Duration.hours(1),
                origin_override=True,
            ),
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=False),
                frame_options=cloudfront.ResponseHeadersFrameOptions(
                    frame_option=cloudfront.HeadersFrameOption.SAMEORIGIN, override=False),
                referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                    referrer_policy=cloudfront.HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN, override=False),
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=Duration.days(365), override=False),
                xss_protection=cloudfront.ResponseHeadersXSSProtection(protection=True, mode_block=True,
                                                                       override=False),
            ),
        )

    # Secrets and permissions ---------------------------------------------------------------

    def _secret_key(self) -> secretsmanager.Secret:
        """Flask's secret key, generated by CloudFormation: nobody ever sees or types it."""
        return secretsmanager.Secret(
            self, "SecretKey",
            secret_name=self.config.secret_key_secret,
            description=f"Mediahub {self.config.stage}: the Flask secret key (sessions, CSRF, signed claims)",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                password_length=64, exclude_punctuation=True, include_space=False),
            removal_policy=self.removal_policy,
        )

    def _dead_letter_queue(self) -> sqs.Queue:
        """Where an event the function failed on lands after Lambda's own retries (S3 uploads,
        scan verdicts, the cleanup: all asynchronous). Zappa's ``dead_letter_arn`` names it;
        ``python -m webapp.cli replay-dead-letters`` sends what it holds back to the function,
        and an alarm says when it is not empty. 14 days, SQS's longest retention."""
        return sqs.Queue(
            self, "DeadLetterQueue",
            queue_name=f"{self.config.name}-dead-letters",
            retention_period=Duration.days(14),
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            removal_policy=self.removal_policy,
        )

    def _lambda_role(self) -> iam.Role:
        """The role named in Zappa's ``role_arn`` (``manage_roles: false``).

        Zappa also gives it to API Gateway as the integration's credentials, hence the two
        services it trusts (the schedule's EventBridge rule invokes through the function's
        resource policy, not this role). Its policy is exactly ``webapp.iam.role_statements``,
        the same statements ``python -m webapp.cli iam-policy`` prints, for what this stage
        uses: the scan verdict and quarantine permissions only with malware scanning, submitting
        jobs to MediaConvert's queue and passing it its role only with video renditions.
        """
        statements = role_statements(
            bucket=self.uploads.bucket_name,
            table=self.table.table_name,
            region=Aws.REGION,
            account=Aws.ACCOUNT_ID,
            partition=Aws.PARTITION,
            function_name=",".join(self.config.function_names),
            mail_from=self.config.mail_from,
            secret_names=(self.config.cloudfront_keys_secret, self.config.secret_key_secret),
            malware_scan=self.config.malware_scan,
            dead_letter_queue=self.dead_letters.queue_arn,
            mediaconvert_queue=self.renditions.queue.attr_arn if self.renditions else None,
            mediaconvert_role=self.renditions.role.role_arn if self.renditions else None,
        )
        return iam.Role(
            self, "LambdaRole",
            role_name=f"{self.config.name}-lambda",
            description=f"Mediahub {self.config.stage}: the function and its API integration",
            assumed_by=iam.CompositePrincipal(
                iam.ServicePrincipal("lambda.amazonaws.com"),
                iam.ServicePrincipal("apigateway.amazonaws.com"),
            ),
            inline_policies={
                "mediahub": iam.PolicyDocument(
                    statements=[iam.PolicyStatement.from_json(statement) for statement in statements]),
            },
        )

    def _deployment_bucket(self) -> s3.Bucket:
        """Zappa's ``s3_bucket``: it uploads each package here before updating the function."""
        return s3.Bucket(
            self, "ZappaPackagesBucket",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=[s3.LifecycleRule(id="expire-packages", expiration=Duration.days(30))],
            removal_policy=self.removal_policy,
        )

    # Operations ----------------------------------------------------------------------------

    def _log_groups(self) -> list[logs.LogGroup]:
        """Each function's log group, made before Zappa makes the function, so it has a retention
        (Lambda would otherwise create it on first run, keeping logs forever) and the role needs
        no ``logs:CreateLogGroup``."""
        retention = logs.RetentionDays.ONE_YEAR if self.config.production else logs.RetentionDays.THREE_MONTHS
        return [logs.LogGroup(self, "FunctionLogGroup" if index == 0 else "ProcessingLogGroup",
                              log_group_name=f"/aws/lambda/{name}", retention=retention,
                              removal_policy=self.removal_policy)
                for index, name in enumerate(self.config.function_names)]

    def _alarms(self) -> sns.Topic:
        """Alarms on what users would notice, to one topic (mailed when ``alarmEmail`` is given).

        Missing data is not breaching: a quiet site sends no metrics and is not in trouble.
        """
        topic = sns.Topic(self, "AlarmTopic", topic_name=f"{self.config.name}-alarms",
                          display_name=f"Mediahub {self.config.stage} alarms", enforce_ssl=True)
        # enforce_ssl leaves a topic policy whose only statement denies plain HTTP: without an
        # Allow, CloudWatch (and Budgets) could not publish, and no alarm would reach anyone.
        # Both publish over TLS; only from this account's alarms and budgets.
        for sid, service, source in (
                ("CloudWatchAlarmsPublish", "cloudwatch.amazonaws.com",
                 f"arn:{Aws.PARTITION}:cloudwatch:{Aws.REGION}:{Aws.ACCOUNT_ID}:alarm:*"),
                ("BudgetsPublish", "budgets.amazonaws.com", f"arn:{Aws.PARTITION}:budgets::{Aws.ACCOUNT_ID}:*")):
            topic.add_to_resource_policy(iam.PolicyStatement(
                sid=sid, principals=[iam.ServicePrincipal(service)], actions=["sns:Publish"],
                resources=[topic.topic_arn],
                conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID},
                            "ArnLike": {"aws:SourceArn": source}}))
        if self.config.alarm_email:
            topic.add_subscription(subscriptions.EmailSubscription(self.config.alarm_email))
        action = cloudwatch_actions.SnsAction(topic)
        five_minutes = Duration.minutes(5)
        name = self.config.name
        # Alarm when p99 comes within a sixth of the timeout (25 s for 30 s).
        slow_ms = self.config.timeout_seconds * 1000 * 5 // 6

        def lambda_metric(metric_name: str, statistic: str, function: str = name) -> cloudwatch.Metric:
            return cloudwatch.Metric(namespace="AWS/Lambda", metric_name=metric_name,
                                     dimensions_map={"FunctionName": function}, statistic=statistic,
                                     period=five_minutes)

        alarms = {
            "ApiServerErrorsAlarm": dict(
                metric=cloudwatch.Metric(namespace="AWS/ApiGateway", metric_name="5XXError",
                                         dimensions_map={"ApiName": name}, statistic="Sum", period=five_minutes),
                threshold=5, evaluation_periods=1,
                description="The API answered 5 or more 5XX errors within 5 minutes."),
            "FunctionErrorsAlarm": dict(
                metric=lambda_metric("Errors", "Sum"), threshold=5, evaluation_periods=1,
                description="The function raised 5 or more errors within 5 minutes."),
            "FunctionThrottlesAlarm": dict(
                metric=lambda_metric("Throttles", "Sum"), threshold=1, evaluation_periods=1,
                description="The function was throttled (account or reserved concurrency exhausted)."),
            "FunctionDurationAlarm": dict(
                metric=lambda_metric("Duration", "p99"), threshold=slow_ms, evaluation_periods=3,
                datapoints_to_alarm=2,
                description=f"The function's p99 duration reached {slow_ms} ms (timeout "
                            f"{self.config.timeout_seconds} s) in 2 of 3 five-minute periods."),
            **({} if not self.config.processing_function else {
                "ProcessingErrorsAlarm": dict(
                    metric=lambda_metric("Errors", "Sum", self.config.processing_function), threshold=5,
                    evaluation_periods=1,
                    description="The processing function raised 5 or more errors within 5 minutes."),
                "ProcessingDurationAlarm": dict(
                    metric=lambda_metric("Duration", "p99", self.config.processing_function),
                    threshold=self.config.processing_timeout_seconds * 1000 * 5 // 6, evaluation_periods=3,
                    datapoints_to_alarm=2,
                    description=f"The processing function's p99 duration reached five sixths of its "
                                f"{self.config.processing_timeout_seconds} s timeout in 2 of 3 five-minute periods."),
            }),
            "DeadLettersAlarm": dict(
                metric=self.dead_letters.metric_approximate_number_of_messages_visible(
                    period=five_minutes, statistic="Maximum"),
                threshold=1, evaluation_periods=1,
                description="An event failed every attempt and waits in the dead-letter queue: see why in the "
                            "function's logs, fix, then run python -m webapp.cli replay-dead-letters."),
            "TableThrottlesAlarm": dict(
                metric=self.table.metric_throttled_requests_for_operations(
                    operations=[dynamodb.Operation.GET_ITEM, dynamodb.Operation.BATCH_GET_ITEM,
                                dynamodb.Operation.PUT_ITEM, dynamodb.Operation.UPDATE_ITEM,
                                dynamodb.Operation.DELETE_ITEM, dynamodb.Operation.QUERY,
                                dynamodb.Operation.TRANSACT_WRITE_ITEMS],
                    period=five_minutes),
                threshold=1, evaluation_periods=1,
                description="DynamoDB throttled requests to the table within 5 minutes."),
        }
        for construct_id, spec in alarms.items():
            alarm = cloudwatch.Alarm(
                self, construct_id,
                alarm_name=f"{name}-{re.sub(r'(?<!^)(?=[A-Z])', '-', construct_id.removesuffix('Alarm')).lower()}",
                alarm_description=f"Mediahub {self.config.stage}: {spec['description']}",
                metric=spec["metric"],
                threshold=spec["threshold"],
                evaluation_periods=spec["evaluation_periods"],
                datapoints_to_alarm=spec.get("datapoints_to_alarm"),
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
            alarm.add_alarm_action(action)
            alarm.add_ok_action(action)
        return topic

    def _budget(self) -> None:
        """A monthly cost budget for the account, told to the alarm topic at 80 % spent and when
        the month's forecast passes it: reserved concurrency and API throttling bound how fast
        the bill can grow, this says that it does."""
        amount = self.config.monthly_budget_usd
        subscribers = [budgets.CfnBudget.SubscriberProperty(subscription_type="SNS", address=self.alarm_topic.topic_arn)]
        budget = budgets.CfnBudget(
            self, "MonthlyBudget",
            budget=budgets.CfnBudget.BudgetDataProperty(
                budget_name=f"{self.config.name}-monthly", budget_type="COST", time_unit="MONTHLY",
                budget_limit=budgets.CfnBudget.SpendProperty(amount=amount, unit="USD")),
            notifications_with_subscribers=[
                budgets.CfnBudget.NotificationWithSubscribersProperty(
                    notification=budgets.CfnBudget.NotificationProperty(
                        notification_type=kind, comparison_operator="GREATER_THAN", threshold=threshold,
                        threshold_type="PERCENTAGE"),
                    subscribers=subscribers)
                for kind, threshold in (("ACTUAL", 80), ("FORECASTED", 100))],
        )
        # The topic's policy must let Budgets publish before the budget is made.
        budget.node.add_dependency(self.alarm_topic.node.find_child("Policy"))

    def _certificate(self) -> acm.Certificate | None:
        """The certificate for the site's domain, for ``zappa certify`` (an edge API's domain).

        Edge-optimised API Gateway domains only take certificates from us-east-1, and
        CloudFormation creates the certificate in the stack's own region.
        """
        if not self.config.domain:
            return None
        region = Stack.of(self).region
        if Token.is_unresolved(region):
            Annotations.of(self).add_warning_v2(
                "mediahub:certificate-region",
                f"The stack's region is only known at deploy time; the certificate for {self.config.domain} "
                f"is only usable by the API's custom domain if the stack is deployed to {CERTIFICATE_REGION}.",
            )
        elif region != CERTIFICATE_REGION:
            raise ConfigError(
                f"the certificate for {self.config.domain} must be made in {CERTIFICATE_REGION} (an edge "
                f"API's custom domain only takes certificates from there), but the stack's region is {region}: "
                f"deploy {self.config.stack_name} to {CERTIFICATE_REGION}")
        if self.config.hosted_zone:
            if self.config.hosted_zone_id:
                zone = route53.HostedZone.from_hosted_zone_attributes(
                    self, "HostedZone", hosted_zone_id=self.config.hosted_zone_id,
                    zone_name=self.config.hosted_zone.rstrip("."))
            else:
                if Token.is_unresolved(Stack.of(self).account):
                    raise ConfigError(
                        f"looking up the hosted zone {self.config.hosted_zone} needs the account: deploy with "
                        "AWS credentials (the CDK CLI passes their account), or give -c account=... or "
                        "-c hostedZoneId=<the zone's id>")
                zone = route53.HostedZone.from_lookup(self, "HostedZone",
                                                      domain_name=self.config.hosted_zone.rstrip("."))
            validation = acm.CertificateValidation.from_dns(zone)
        else:
            validation = acm.CertificateValidation.from_dns()
            Annotations.of(self).add_warning_v2(
                "mediahub:certificate-manual-validation",
                f"No context 'hostedZone': the deploy waits until the DNS record that validates the certificate "
                f"for {self.config.domain} is created by hand (ACM's console shows it).",
            )
        return acm.Certificate(self, "Certificate", domain_name=self.config.domain, validation=validation)

    # Malware scanning ----------------------------------------------------------------------

    def _malware_protection(self) -> sns.Topic | None:
        """With context ``malwareScan=guardduty``: GuardDuty Malware Protection for the bucket's
        ``uploads/``, and its verdicts on their way to the function.

        GuardDuty scans each new object, tags it ``GuardDutyMalwareScanStatus`` and publishes an
        "Object Scan Result" event. A rule sends those of this bucket to an SNS topic, which the
        function subscribes to through Zappa (an ``events`` entry naming the topic's ARN, the
        ``ScanResultsTopicArn`` output, and ``webapp.events.scan_result``): Zappa's handler routes
        SNS records to a function, and has no route for a bare EventBridge event. CloudFront is
        refused any upload not tagged clean, whatever the app decides.
        """
        if not self.config.malware_scan:
            return None
        bucket_arn = self.uploads.bucket_arn
        managed_rule = f"arn:{Aws.PARTITION}:events:{Aws.REGION}:{Aws.ACCOUNT_ID}:rule/" \
                       "DO-NOT-DELETE-AmazonGuardDutyMalwareProtectionS3*"
        role = iam.Role(
            self, "MalwareProtectionRole",
            description=f"Mediahub {self.config.stage}: GuardDuty Malware Protection scans and tags uploads",
            assumed_by=iam.ServicePrincipal("malware-protection-plan.guardduty.amazonaws.com"),
            inline_policies={"malware-protection": iam.PolicyDocument(statements=[
                iam.PolicyStatement(
                    sid="AllowManagedRuleToSendS3EventsToGuardDuty",
                    actions=["events:PutRule", "events:DeleteRule", "events:PutTargets", "events:RemoveTargets"],
                    resources=[managed_rule],
                    conditions={"StringLike": {"events:ManagedBy": "malware-protection-plan.guardduty.amazonaws.com"}}),
                iam.PolicyStatement(
                    sid="AllowGuardDutyToMonitorEventBridgeManagedRule",
                    actions=["events:DescribeRule", "events:ListTargetsByRule"], resources=[managed_rule]),
                iam.PolicyStatement(
                    sid="AllowPostScanTag",
                    actions=["s3:PutObjectTagging", "s3:GetObjectTagging", "s3:PutObjectVersionTagging",
                             "s3:GetObjectVersionTagging"],
                    resources=[f"{bucket_arn}/{UPLOAD_PREFIX}*"]),
                iam.PolicyStatement(
                    sid="AllowEnableS3EventBridgeEvents",
                    actions=["s3:PutBucketNotification", "s3:GetBucketNotification"], resources=[bucket_arn]),
                iam.PolicyStatement(
                    sid="AllowPutValidationObject",
                    actions=["s3:PutObject"], resources=[f"{bucket_arn}/malware-protection-resource-validation-object"]),
                iam.PolicyStatement(sid="AllowCheckBucketOwnership", actions=["s3:ListBucket"], resources=[bucket_arn]),
                iam.PolicyStatement(
                    sid="AllowMalwareScan",
                    actions=["s3:GetObject", "s3:GetObjectVersion"], resources=[f"{bucket_arn}/{UPLOAD_PREFIX}*"]),
            ])},
        )
        plan = guardduty.CfnMalwareProtectionPlan(
            self, "MalwareProtectionPlan",
            role=role.role_arn,
            protected_resource=guardduty.CfnMalwareProtectionPlan.CFNProtectedResourceProperty(
                s3_bucket=guardduty.CfnMalwareProtectionPlan.S3BucketProperty(
                    bucket_name=self.uploads.bucket_name, object_prefixes=[UPLOAD_PREFIX])),
            actions=guardduty.CfnMalwareProtectionPlan.CFNActionsProperty(
                tagging=guardduty.CfnMalwareProtectionPlan.CFNTaggingProperty(status="ENABLED")),
        )
        # GuardDuty checks the role's permissions when the plan is made: the policy must exist first.
        plan.node.add_dependency(role)
        topic = sns.Topic(self, "ScanResultsTopic", topic_name=f"{self.config.name}-scan-results",
                          display_name=f"Mediahub {self.config.stage} malware scan results", enforce_ssl=True)
        events.Rule(
            self, "ScanResultsRule",
            description=f"Mediahub {self.config.stage}: GuardDuty's scan results for the uploads bucket, to the function",
            event_pattern=events.EventPattern(
                source=["aws.guardduty"],
                detail_type=[SCAN_RESULT_DETAIL_TYPE],
                detail={"s3ObjectDetails": {"bucketName": [self.uploads.bucket_name]}},
            ),
            targets=[events_targets.SnsTopic(topic)],
        )
        # Only objects GuardDuty found clean leave the bucket through CloudFront.
        self.uploads.add_to_resource_policy(iam.PolicyStatement(
            sid="ServeOnlyScannedUploads",
            effect=iam.Effect.DENY,
            principals=[iam.ServicePrincipal("cloudfront.amazonaws.com")],
            actions=["s3:GetObject"],
            resources=[f"{bucket_arn}/{UPLOAD_PREFIX}*"],
            conditions={"StringNotEquals": {f"s3:ExistingObjectTag/{SCAN_TAG}": "NO_THREATS_FOUND"}},
        ))
        return topic

    # Outputs -------------------------------------------------------------------------------

    def _outputs(self) -> None:
        """What the deploy command copies into Zappa's settings; the ids are its keys."""
        outputs = {
            "BucketName": (self.uploads.bucket_name, "MEDIAHUB_BUCKET"),
            "TableName": (self.table.table_name, "MEDIAHUB_TABLE"),
            "CdnUrl": (f"https://{self.distribution.distribution_domain_name}", "MEDIAHUB_CDN_URL"),
            "CloudFrontKeyId": (self.public_key.public_key_id, "the key id the app signs links with"),
            "CloudFrontKeysSecret": (self.config.cloudfront_keys_secret,
                                     "MEDIAHUB_CLOUDFRONT_KEYS_SECRET (written by the deploy command, not the stack)"),
            "SecretKeySecret": (self.config.secret_key_secret, "MEDIAHUB_SECRET_KEY_SECRET"),
            "RoleArn": (self.role.role_arn, "Zappa's role_name is this role's name"),
            "DeploymentBucket": (self.deployment_bucket.bucket_name, "Zappa's s3_bucket"),
            "AlarmTopicArn": (self.alarm_topic.topic_arn, "where the alarms go"),
            "LogGroupName": (self.log_group.log_group_name, "the function's logs"),
            "DeadLetterQueueArn": (self.dead_letters.queue_arn, "Zappa's dead_letter_arn: events that failed"),
            "DeadLetterQueueUrl": (self.dead_letters.queue_url, "what replay-dead-letters reads"),
        }
        if self.config.domain:
            outputs["SiteUrl"] = (self.config.site_origin, "MEDIAHUB_SITE_URL")
        elif self.config.site_url:
            outputs["ApiSiteUrl"] = (self.config.site_url, "MEDIAHUB_SITE_URL: the site at API Gateway's own URL")
        if self.scan_results is not None:
            outputs["ScanResultsTopicArn"] = (self.scan_results.topic_arn,
                                              "Zappa events: webapp.events.scan_result subscribes to it")
        outputs.update(self.renditions.outputs() if self.renditions else {})
        if self.certificate is not None:
            outputs["CertificateArn"] = (self.certificate.certificate_arn, "Zappa's certificate_arn (zappa certify)")
        for key, (value, description) in outputs.items():
            CfnOutput(self, key, value=value, description=description)
