"""Idempotent creation of the bucket and the table. Each step reports what it did or found."""

from __future__ import annotations

from email.utils import parseaddr

from botocore.exceptions import ClientError

from webapp.catalog import TABLE_DEFINITION


def ensure_bucket(s3, bucket: str, *, region: str, cors_origins: list[str]) -> list[str]:
    done = []
    try:
        s3.head_bucket(Bucket=bucket)
        done.append(f"bucket {bucket}: exists")
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") not in ("404", "NoSuchBucket", "NotFound"):
            raise
        create = {"Bucket": bucket}
        if region != "us-east-1":
            create["CreateBucketConfiguration"] = {"LocationConstraint": region}
        s3.create_bucket(**create)
        done.append(f"bucket {bucket}: created")
    s3.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )
    s3.put_bucket_cors(
        Bucket=bucket,
        CORSConfiguration={
            "CORSRules": [
                {
                    "AllowedOrigins": cors_origins,
                    "AllowedMethods": ["POST", "PUT", "GET", "HEAD"],
                    "AllowedHeaders": ["*"],
                    "ExposeHeaders": ["ETag"],
                    "MaxAgeSeconds": 3600,
                }
            ]
        },
    )
    done.append(f"bucket {bucket}: public access blocked, encrypted, CORS for {', '.join(cors_origins)}")
    return done


def ensure_table(dynamodb, table: str) -> list[str]:
    try:
        dynamodb.describe_table(TableName=table)
        done = [f"table {table}: exists"]
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
            raise
        dynamodb.create_table(TableName=table, **TABLE_DEFINITION)
        dynamodb.get_waiter("table_exists").wait(TableName=table, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
        done = [f"table {table}: created"]
    ttl = dynamodb.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
    if ttl.get("TimeToLiveStatus") not in ("ENABLED", "ENABLING"):
        dynamodb.update_time_to_live(
            TableName=table, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"}
        )
        done.append(f"table {table}: TTL on expires_at enabled")
    return done


def ensure_sender(ses, sender: str) -> list[str]:
    """Verify the sender address (local mode; in AWS, verify the domain instead, see README)."""
    address = parseaddr(sender)[1]
    ses.verify_email_identity(EmailAddress=address)
    return [f"mail sender {address}: verification requested"]
