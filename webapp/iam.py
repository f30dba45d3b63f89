"""The least-privilege IAM policy of the function's role, as plain values.

One source for both places that state it: ``flask iam-policy`` prints it, and the
CDK stack (``infra/``) attaches the same statements to the role it creates, so the
two cannot drift. Pure: no Flask, no boto3. ``account``, ``region`` and ``partition`` may be
CloudFormation tokens when the stack calls it (``aws``, ``aws-cn`` or ``aws-us-gov``: every
ARN is built with the partition it runs in).
"""

from __future__ import annotations

from email.utils import parseaddr

UPLOAD_PREFIX = "uploads/"
QUARANTINE_PREFIX = "quarantine/"
# Thumbnails and clean copies: outside uploads/, so writing them fires no ObjectCreated event.
RENDITIONS_PREFIX = "renditions/"


def secret_statement(*, sid: str, name: str, region: str, account: str, partition: str = "aws") -> dict:
    """Reading one secret: Secrets Manager by name, or an SSM SecureString for ``ssm:/name``."""
    if name.startswith("ssm:"):
        action = "ssm:GetParameter"
        resource = f"arn:{partition}:ssm:{region}:{account}:parameter/{name[4:].lstrip('/')}"
    else:
        action = "secretsmanager:GetSecretValue"
        # Secrets Manager appends six random characters to a secret's ARN.
        resource = f"arn:{partition}:secretsmanager:{region}:{account}:secret:{name}-??????"
    return {"Sid": sid, "Effect": "Allow", "Action": action, "Resource": resource}


def role_statements(*, bucket: str, table: str, region: str, account: str, function_name: str,
                    mail_from: str | None = None, secret_names: tuple[str, ...] | list[str] = (),
                    partition: str = "aws", malware_scan: bool = False,
                    dead_letter_queue: str | None = None, mediaconvert_queue: str | None = None,
                    mediaconvert_role: str | None = None) -> list[dict]:
    """What the function does, and nothing else: the verdict and quarantine permissions only
    when the stage scans for malware, sending to the dead-letter queue only when it has one,
    MediaConvert jobs only when the stage makes video renditions with it (``mediaconvert_queue``
    and ``mediaconvert_role``: the stack's queue and the role MediaConvert assumes, both or none).

    ``lambda:InvokeFunction`` on itself is there because Zappa gives this same role to
    API Gateway (the integration's credentials); without it the API answers 500 without
    invoking the function. ``function_name`` may be several (the web and processing stages'
    functions share the role), comma-separated.
    """
    table_arn = f"arn:{partition}:dynamodb:{region}:{account}:table/{table}"
    bucket_arn = f"arn:{partition}:s3:::{bucket}"
    names = [name.strip() for name in function_name.split(",") if name.strip()]
    function_arns = [f"arn:{partition}:lambda:{region}:{account}:function:{name}" for name in names]
    statements = [
        {
            "Sid": "UploadsObjects",
            "Effect": "Allow",
            # PutObject is what a presigned POST or part URL signed by this role is allowed to do
            # (it covers creating and completing multipart uploads); cancelling one and listing
            # its parts (to resume, and to complete from S3's own list) are separate actions.
            "Action": ["s3:PutObject", "s3:GetObject", "s3:DeleteObject",
                       "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
            "Resource": f"{bucket_arn}/{UPLOAD_PREFIX}*",
        },
        {
            "Sid": "RenditionsObjects",
            "Effect": "Allow",
            # Processing writes thumbnails and clean copies, reads them back, and deletes them with
            # their item (DeleteObjects checks s3:DeleteObject per key).
            "Action": ["s3:PutObject", "s3:GetObject", "s3:DeleteObject"],
            "Resource": f"{bucket_arn}/{RENDITIONS_PREFIX}*",
        },
        {
            "Sid": "BucketListing",
            "Effect": "Allow",
            # The hourly cleanup walks uploads/. Without a condition on the prefix on purpose: S3
            # answers a GET of a missing key with 404 only to a caller that may list the bucket
            # (403 otherwise), and the app reads "not arrived yet" from a 404 alone, so a 403
            # stays what it is, a permission mistake (webapp/aws/storage.py: _is_missing).
            "Action": "s3:ListBucket",
            "Resource": bucket_arn,
        },
        {
            "Sid": "CatalogItems",
            "Effect": "Allow",
            # Transactions need the item actions they contain; cleanup checks ids in batches.
            "Action": ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:PutItem", "dynamodb:UpdateItem",
                       "dynamodb:DeleteItem", "dynamodb:Query"],
            "Resource": [table_arn, f"{table_arn}/index/*"],
        },
        {
            "Sid": "Logs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": [f"arn:{partition}:logs:{region}:{account}:log-group:/aws/lambda/{name}:*" for name in names],
        },
        {
            "Sid": "InvokeItself",
            "Effect": "Allow",
            "Action": "lambda:InvokeFunction",
            "Resource": [arn for function_arn in function_arns for arn in (function_arn, f"{function_arn}:*")],
        },
    ]
    if malware_scan:
        statements[2:2] = [
            {
                "Sid": "ScanVerdicts",
                "Effect": "Allow",
                # The malware scanner's verdict is a tag on the object (GuardDutyMalwareScanStatus);
                # the record step reads it when the verdict came before the record.
                "Action": "s3:GetObjectTagging",
                "Resource": f"{bucket_arn}/{UPLOAD_PREFIX}*",
            },
            {
                "Sid": "QuarantineObjects",
                "Effect": "Allow",
                # An infected upload is copied here (CopyObject: GetObject on the source, PutObject on
                # the target, no tags) and deleted from uploads/; the lifecycle removes it after a week.
                "Action": "s3:PutObject",
                "Resource": f"{bucket_arn}/{QUARANTINE_PREFIX}*",
            },
        ]
    if bool(mediaconvert_queue) != bool(mediaconvert_role):
        raise ValueError("MediaConvert renditions need both the queue and the role MediaConvert assumes")
    if mediaconvert_queue:
        statements += [
            {
                "Sid": "SubmitRenditionJobs",
                "Effect": "Allow",
                # Jobs go to the stage's own queue only (webapp/aws/mediaconvert.py: CreateJob).
                "Action": "mediaconvert:CreateJob",
                "Resource": mediaconvert_queue,
            },
            {
                "Sid": "PassRoleToMediaConvert",
                "Effect": "Allow",
                # A job names the role MediaConvert reads uploads/ and writes renditions/ with;
                # the function may hand over that role only, and only to MediaConvert.
                "Action": "iam:PassRole",
                "Resource": mediaconvert_role,
                "Condition": {"StringEquals": {"iam:PassedToService": "mediaconvert.amazonaws.com"}},
            },
        ]
    if dead_letter_queue:
        statements.append({
            "Sid": "DeadLetters",
            "Effect": "Allow",
            # Lambda sends an event that failed all its attempts here, with the function's role.
            "Action": "sqs:SendMessage",
            "Resource": dead_letter_queue,
        })
    if mail_from:
        address = parseaddr(mail_from)[1]
        domain = address.rpartition("@")[2]
        statements.append({
            "Sid": "SendMail",
            "Effect": "Allow",
            "Action": "ses:SendEmail",
            "Resource": [f"arn:{partition}:ses:{region}:{account}:identity/{domain}",
                         f"arn:{partition}:ses:{region}:{account}:identity/{address}"],
        })
    for index, name in enumerate(secret_names):
        statements.append(secret_statement(sid=f"ReadSecret{index + 1}", name=name, region=region, account=account,
                                           partition=partition))
    return statements


def policy_document(**kwargs) -> dict:
    """``role_statements`` as an IAM policy document."""
    return {"Version": "2012-10-17", "Statement": role_statements(**kwargs)}
