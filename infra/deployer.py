"""The least IAM policy an operator's credentials need for ``make deploy``, step by step.

``python -m webapp.cli deployer-policy --stage production`` prints it. It is derived from the
deploy's own plan (``infra.deploy.Plan.steps``): every step the plan would run is matched to the
permissions of that step below, and a step with no entry here is an error, so the policy cannot
fall behind the plan. The CDK deploys through the roles ``cdk bootstrap`` made (the operator
only assumes them); Zappa calls Lambda, API Gateway, CloudFormation (its API stack),
EventBridge and S3 with the operator's own credentials, and passes the stack's role.

So the stack's optional parts (GuardDuty's plan, MediaConvert's queue and role) need nothing of
the operator: CloudFormation makes them with the bootstrap's execution role. What Zappa does
for them is here: subscribing the processing stage to their topics. Nothing of the deploy calls
``mediaconvert:DescribeEndpoints`` (boto3 reaches MediaConvert at its regional endpoint).
"""

from __future__ import annotations

import pathlib

from infra.deploy import Plan, Step
from infra.zappa_stage import processing_stage, read_stage, stack_name

BOOTSTRAP_QUALIFIER = "hnb659fds"  # the CDK's default


def _statement(sid: str, actions: list[str], resources: list[str] | str) -> dict:
    return {"Sid": sid, "Effect": "Allow", "Action": sorted(set(actions)),
            "Resource": resources if isinstance(resources, list) else [resources]}


def step_permissions(step: Step, *, stage: str, account: str, region: str, partition: str) -> list[dict]:
    """What one step of the plan calls, as policy statements (none for a local step)."""
    arn = f"arn:{partition}"
    command = " ".join(step.command)
    project = read_stage(stage).get("project_name") or "mediahub"
    functions = [f"{project}-{stage}"] + ([f"{project}-{processing_stage(stage)}"]
                                          if read_stage(processing_stage(stage)) else [])
    cdk_roles = f"{arn}:iam::{account}:role/cdk-{BOOTSTRAP_QUALIFIER}-*-{account}-{region}"
    deployment_buckets = f"{arn}:s3:::{stack_name(stage).lower()}-zappapackagesbucket*"
    uploads_buckets = f"{arn}:s3:::{stack_name(stage).lower()}-uploadsbucket*"
    if " bootstrap " in f" {command} ":
        return [
            _statement("BootstrapStack", ["cloudformation:CreateChangeSet", "cloudformation:DescribeChangeSet",
                                          "cloudformation:ExecuteChangeSet", "cloudformation:DeleteChangeSet",
                                          "cloudformation:DescribeStacks", "cloudformation:DescribeStackEvents",
                                          "cloudformation:GetTemplate"],
                       f"{arn}:cloudformation:{region}:{account}:stack/CDKToolkit/*"),
            _statement("BootstrapResources", ["s3:CreateBucket", "s3:PutBucketPolicy", "s3:PutBucketVersioning",
                                              "s3:PutEncryptionConfiguration", "s3:PutLifecycleConfiguration",
                                              "s3:PutBucketPublicAccessBlock", "s3:GetBucketLocation",
                                              "s3:PutBucketTagging"],
                       f"{arn}:s3:::cdk-{BOOTSTRAP_QUALIFIER}-assets-{account}-{region}"),
            _statement("BootstrapRoles", ["iam:CreateRole", "iam:GetRole", "iam:PutRolePolicy", "iam:GetRolePolicy",
                                          "iam:AttachRolePolicy", "iam:TagRole", "iam:UpdateAssumeRolePolicy"],
                       cdk_roles),
            _statement("BootstrapRepository", ["ecr:CreateRepository", "ecr:DescribeRepositories",
                                               "ecr:PutLifecyclePolicy", "ecr:SetRepositoryPolicy",
                                               "ecr:PutImageTagMutability", "ecr:TagResource"],
                       f"{arn}:ecr:{region}:{account}:repository/cdk-{BOOTSTRAP_QUALIFIER}-container-assets-*"),
            _statement("BootstrapVersion", ["ssm:PutParameter", "ssm:GetParameter", "ssm:GetParameters",
                                            "ssm:AddTagsToResource"],
                       f"{arn}:ssm:{region}:{account}:parameter/cdk-bootstrap/{BOOTSTRAP_QUALIFIER}/version"),
        ]
    if "infra.keys" in command:
        return [_statement("CloudFrontSigningKey", ["secretsmanager:CreateSecret", "secretsmanager:DescribeSecret",
                                                    "secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue",
                                                    "secretsmanager:TagResource"],
                           f"{arn}:secretsmanager:{region}:{account}:secret:{project}/{stage}/cloudfront-keys-*")]
    if " deploy " in f" {command} " and "cdk" in step.command:
        # The CDK CLI assumes the bootstrap's deploy and publishing roles; CloudFormation then
        # acts with the bootstrap's execution role, never with the operator's credentials.
        return [_statement("CdkDeployRoles", ["sts:AssumeRole", "iam:PassRole"], cdk_roles),
                _statement("CdkBootstrapVersion", ["ssm:GetParameter"],
                           f"{arn}:ssm:{region}:{account}:parameter/cdk-bootstrap/{BOOTSTRAP_QUALIFIER}/version")]
    if "infra.zappa_stage" in command or "lambda-venv" in command:
        return []  # files on the operator's machine only
    if "infra.package" in command:
        return [_statement("UploadPackage", ["s3:PutObject"], f"{deployment_buckets}/*")]
    if "zappa" in command and (" update " in f" {command} " or " deploy " in f" {command} "):
        function_arns = [f"{arn}:lambda:{region}:{account}:function:{name}" for name in functions]
        return [
            _statement("Function", ["lambda:CreateFunction", "lambda:GetFunction", "lambda:GetFunctionConfiguration",
                                    "lambda:UpdateFunctionCode", "lambda:UpdateFunctionConfiguration",
                                    "lambda:ListVersionsByFunction", "lambda:PublishVersion",
                                    "lambda:DeleteFunction", "lambda:AddPermission", "lambda:RemovePermission",
                                    "lambda:GetPolicy", "lambda:PutFunctionConcurrency",
                                    "lambda:DeleteFunctionConcurrency", "lambda:ListFunctionUrlConfigs",
                                    "lambda:GetFunctionUrlConfig", "lambda:DeleteFunctionUrlConfig",
                                    "lambda:ListTags", "lambda:TagResource"],
                       function_arns + [f"{name}:*" for name in function_arns]),
            _statement("PassTheStacksRole", ["iam:PassRole"], f"{arn}:iam::{account}:role/{project}-{stage}-lambda"),
            _statement("ReadTheStacksRole", ["iam:GetRole"], f"{arn}:iam::{account}:role/{project}-{stage}-lambda"),
            _statement("ApiStack", ["cloudformation:CreateStack", "cloudformation:UpdateStack",
                                    "cloudformation:DescribeStacks", "cloudformation:DescribeStackResource",
                                    "cloudformation:ListStackResources", "cloudformation:DescribeStackEvents"],
                       [f"{arn}:cloudformation:{region}:{account}:stack/{name}/*" for name in functions]),
            _statement("Api", ["apigateway:GET", "apigateway:POST", "apigateway:PUT", "apigateway:PATCH",
                               "apigateway:DELETE"], [f"{arn}:apigateway:{region}::/restapis", f"{arn}:apigateway:{region}::/restapis/*"]),
            _statement("Schedules", ["events:PutRule", "events:DescribeRule", "events:PutTargets",
                                     "events:ListTargetsByRule", "events:RemoveTargets", "events:DeleteRule"],
                       [f"{arn}:events:{region}:{account}:rule/{name}-*" for name in functions]),
            _statement("ListSchedules", ["events:ListRules", "events:ListRuleNamesByTarget"], "*"),
            _statement("UploadNotifications", ["s3:GetBucketNotification", "s3:PutBucketNotification"],
                       uploads_buckets),
            _statement("ZappaTemplates", ["s3:PutObject", "s3:GetObject", "s3:DeleteObject", "s3:ListBucket",
                                          "s3:GetBucketLocation"], [deployment_buckets, f"{deployment_buckets}/*"]),
            _statement("ScanVerdictTopic", ["sns:Subscribe", "sns:Unsubscribe", "sns:ListSubscriptionsByTopic",
                                            "sns:GetTopicAttributes"],
                       f"{arn}:sns:{region}:{account}:{project}-{stage}-scan-results"),
            # With VIDEO_RENDITIONS=mediaconvert the processing stage subscribes to the topic of
            # MediaConvert's job events (infra/mediaconvert.py), as it does to the scan verdicts'.
            _statement("RenditionEventsTopic", ["sns:Subscribe", "sns:Unsubscribe", "sns:ListSubscriptionsByTopic",
                                                "sns:GetTopicAttributes"],
                       f"{arn}:sns:{region}:{account}:{project}-{stage}-rendition-events"),
        ]
    if "infra.throttle" in command:
        return [_statement("ApiThrottling", ["apigateway:GET", "apigateway:PATCH"],
                           [f"{arn}:apigateway:{region}::/restapis", f"{arn}:apigateway:{region}::/restapis/*"])]
    if " certify " in f" {command} ":
        return [
            _statement("CustomDomain", ["apigateway:GET", "apigateway:POST", "apigateway:PATCH", "apigateway:DELETE"],
                       [f"{arn}:apigateway:{region}::/domainnames", f"{arn}:apigateway:{region}::/domainnames/*"]),
            _statement("DomainCertificate", ["acm:DescribeCertificate", "acm:ListCertificates"], "*"),
            _statement("EdgeDistribution", ["cloudfront:UpdateDistribution"], "*"),
            _statement("DomainRecord", ["route53:ListHostedZones", "route53:ChangeResourceRecordSets",
                                        "route53:GetChange", "route53:ListResourceRecordSets"], "*"),
        ]
    raise LookupError(f"infra.deployer has no permissions for the deploy step {step.title!r}: add them here")


def deployer_policy(*, stage: str, account: str, region: str, partition: str = "aws",
                    domain: str | None = None) -> dict:
    """The policy for every step of ``make deploy STAGE=<stage>`` (with a domain: ``zappa certify``)."""
    plan = Plan(stage=stage, region=region, domain=domain, hosted_zone=None, alarm_email=None,
                state=pathlib.Path(".deploy") / stage)
    statements = [_statement("WhoAmI", ["sts:GetCallerIdentity"], "*"),
                  # infra.deploy asks whether the function and its API exist before its steps.
                  _statement("DeployChecks", ["lambda:GetFunction"],
                             f"arn:{partition}:lambda:{region}:{account}:function:{plan.function_name}"),
                  _statement("FindTheApi", ["apigateway:GET"], f"arn:{partition}:apigateway:{region}::/restapis")]
    seen = set()
    for step in plan.steps(account):
        for statement in step_permissions(step, stage=stage, account=account, region=region, partition=partition):
            if statement["Sid"] not in seen:
                seen.add(statement["Sid"])
                statements.append(statement)
    return {"Version": "2012-10-17", "Statement": statements}
