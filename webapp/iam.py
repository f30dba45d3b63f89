"""The least-privilege IAM policy of the function's role, as plain values.

One source for both places that state it: ``flask iam-policy`` prints it, and the
CDK stack (``infra/``) attaches the same statements to the role it creates, so the
two cannot drift. Pure: no Flask, no boto3. ``account`` and ``region`` may be
CloudFormation tokens when the stack calls it.
"""

from __future__ import annotations

from email.utils import parseaddr

UPLOAD_PREFIX = "uploads/"
QUARANTINE_PREFIX = "quarantine/"
# Thumbnails and clean copies: outside uploads/, so writing them fires no ObjectCreated event.
RENDITIONS_PREFIX = "renditions/"


def secret_statement(*, sid: str, name: str, region: str, account: str) -> dict:
    """Reading one secret: Secrets Manager by name, or an SSM SecureString for ``ssm:/name``."""
    if name.startswith("ssm:"):
        action = "ssm:GetParameter"
        resource = f"arn:aws:ssm:{region}:{account}:parameter/{name[4:].lstrip('/')}"
    else:
        action = "secretsmanager:GetSecretValue"
        # Secrets Manager appends six random characters to a secret's ARN.
        resource = f"arn:aws:secretsmanager:{region}:{account}:secret:{name}-??????"
    return {"Sid": sid, "Effect": "Allow", "Action": action, "Resource": resource}


def role_statements(*, bucket: str, table: str, region: str, account: str, function_name: str,
                    mail_from: str | None = None, secret_names: tuple[str, ...] | list[str] = ()) -> list[dict]:
    """What the function does, and nothing else.

    ``lambda:InvokeFunction`` on itself is there because Zappa gives this same role to
    API Gateway (the integration's credentials) and to EventBridge (the schedule's
    RoleArn); without it the API answers 500 without invoking the function.
    """
    table_arn = f"arn:aws:dynamodb:{region}:{account}:table/{table}"
    function_arn = f"arn:aws:lambda:{region}:{account}:function:{function_name}"
    statements = [
        {
            "Sid": "UploadsObjects",
            "Effect": "Allow",
            # PutObject is what a presigned POST or part URL signed by this role is allowed to do
            # (it covers creating and completing multipart uploads); cancelling one and listing
            # its parts (to resume, and to complete from S3's own list) are separate actions.
            "Action": ["s3:PutObject", "s3:GetObject", "s3:DeleteObject",
                       "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
            "Resource": f"arn:aws:s3:::{bucket}/{UPLOAD_PREFIX}*",
        },
        {
            "Sid": "RenditionsObjects",
            "Effect": "Allow",
            # Processing writes thumbnails and clean copies, reads them back, and deletes them with
            # their item (DeleteObjects checks s3:DeleteObject per key).
            "Action": ["s3:PutObject", "s3:GetObject", "s3:DeleteObject"],
            "Resource": f"arn:aws:s3:::{bucket}/{RENDITIONS_PREFIX}*",
        },
        {
            "Sid": "ScanVerdicts",
            "Effect": "Allow",
            # The malware scanner's verdict is a tag on the object (GuardDutyMalwareScanStatus); the
            # record step reads it when the verdict came before the record.
            "Action": "s3:GetObjectTagging",
            "Resource": f"arn:aws:s3:::{bucket}/{UPLOAD_PREFIX}*",
        },
        {
            "Sid": "QuarantineObjects",
            "Effect": "Allow",
            # An infected upload is copied here (CopyObject: GetObject on the source, PutObject on the
            # target, no tags) and deleted from uploads/; the bucket's lifecycle removes it after a week.
            "Action": "s3:PutObject",
            "Resource": f"arn:aws:s3:::{bucket}/{QUARANTINE_PREFIX}*",
        },
        {
            "Sid": "UploadsListing",
            "Effect": "Allow",
            # The hourly cleanup walks uploads/. GetObject of a missing key still answers 403
            # (this condition does not cover it); storage.peek reads that as "not there".
            "Action": "s3:ListBucket",
            "Resource": f"arn:aws:s3:::{bucket}",
            "Condition": {"StringLike": {"s3:prefix": f"{UPLOAD_PREFIX}*"}},
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
            "Resource": f"arn:aws:logs:{region}:{account}:log-group:/aws/lambda/{function_name}:*",
        },
        {
            "Sid": "InvokeItself",
            "Effect": "Allow",
            "Action": "lambda:InvokeFunction",
            "Resource": [function_arn, f"{function_arn}:*"],
        },
    ]
    if mail_from:
        address = parseaddr(mail_from)[1]
        domain = address.rpartition("@")[2]
        statements.append({
            "Sid": "SendMail",
            "Effect": "Allow",
            "Action": "ses:SendEmail",
            "Resource": [f"arn:aws:ses:{region}:{account}:identity/{domain}",
                         f"arn:aws:ses:{region}:{account}:identity/{address}"],
        })
    for index, name in enumerate(secret_names):
        statements.append(secret_statement(sid=f"ReadSecret{index + 1}", name=name, region=region, account=account))
    return statements


def policy_document(**kwargs) -> dict:
    """``role_statements`` as an IAM policy document."""
    return {"Version": "2012-10-17", "Statement": role_statements(**kwargs)}
