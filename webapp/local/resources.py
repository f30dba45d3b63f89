"""Local mode's bucket, table and mail sender, made in the AWS stand-in at start.

On AWS these come from the CDK stack (``infra/stack.py``); here each step reads what
is there, changes only what differs and says what it did, so a second start (or a
test that makes them again) changes nothing. Only the parts local mode needs.
"""

from __future__ import annotations

from email.utils import parseaddr

from botocore.exceptions import ClientError

from webapp.aws.catalog import TABLE_DEFINITION
from webapp.aws.storage import error_code as _code


def loopback_origins(port: int) -> list[str]:
    return [f"http://127.0.0.1:{port}", f"http://localhost:{port}"]


def ensure_bucket(s3, bucket: str, *, region: str, cors_origins: list[str]) -> list[str]:
    """The bucket, private, with CORS for the site's origins (the browser posts straight to it)."""
    try:
        s3.head_bucket(Bucket=bucket)
        done = [f"bucket {bucket}: exists"]
    except ClientError as error:
        if _code(error) not in ("404", "NoSuchBucket", "NotFound"):
            raise
        create = {"Bucket": bucket}
        if region != "us-east-1":
            create["CreateBucketConfiguration"] = {"LocationConstraint": region}
        s3.create_bucket(**create)
        done = [f"bucket {bucket}: created"]
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True,
    })
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [{
        "AllowedOrigins": cors_origins,
        "AllowedMethods": ["POST", "PUT", "GET", "HEAD"],
        "AllowedHeaders": ["*"],
        "ExposeHeaders": ["ETag"],
        "MaxAgeSeconds": 3600,
    }]})
    return done


def ensure_table(dynamodb, table: str) -> list[str]:
    """The table with its indexes and TTL, created and waited for when missing."""
    try:
        dynamodb.describe_table(TableName=table)
        return [f"table {table}: exists"]
    except ClientError as error:
        if _code(error) != "ResourceNotFoundException":
            raise
    dynamodb.create_table(TableName=table, **TABLE_DEFINITION)
    dynamodb.get_waiter("table_exists").wait(TableName=table, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    dynamodb.update_time_to_live(TableName=table,
                                 TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"})
    return [f"table {table}: created"]


def ensure_sender(ses, sender: str) -> list[str]:
    """The stand-in's SES accepts mail only from a verified sender, as SES does."""
    address = parseaddr(sender)[1]
    status = ses.get_identity_verification_attributes(Identities=[address])["VerificationAttributes"]
    if address in status:
        return [f"mail sender {address}: verification {status[address]['VerificationStatus'].lower()}"]
    ses.verify_email_identity(EmailAddress=address)
    return [f"mail sender {address}: verification requested"]
