"""Idempotent creation of everything the app needs in AWS, and the IAM policy it runs with.

Each step reads what is there, changes only what differs, and says what it did
or found; a second run changes nothing. ``plan`` describes the same steps
without calling AWS (``flask provision --dry-run``).
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import uuid
from email.utils import parseaddr

from botocore.exceptions import ClientError

from webapp.catalog import LIST_INDEX, PUBLIC_INDEX, TABLE_DEFINITION
from webapp.config import Settings
from webapp.keystore import read_secret
from webapp.signing import (
    SigningKey,
    new_signing_key,
    parse_signing_keys,
    public_key_pem,
    signing_keys_document,
)

QUARANTINE_PREFIX = "quarantine/"
UPLOAD_PREFIX = "uploads/"


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _contains(current, desired) -> bool:
    """True when every value in ``desired`` is present, equal, in ``current``."""
    if isinstance(desired, dict):
        return isinstance(current, dict) and all(k in current and _contains(current[k], v) for k, v in desired.items())
    if isinstance(desired, list):
        return (isinstance(current, list) and len(current) == len(desired)
                and all(_contains(c, d) for c, d in zip(current, desired)))
    return current == desired


def _apply(name: str, read, write, desired) -> str:
    try:
        current = read()
    except ClientError:
        current = None
    if current is not None and _contains(current, desired):
        return f"{name}: already set"
    write(desired)
    return f"{name}: set"


# --- the bucket -----------------------------------------------------------------

def bucket_settings(cors_origins: list[str]) -> dict:
    return {
        "public_access": {
            "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True,
        },
        "encryption": {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]},
        "versioning": {"Status": "Enabled"},
        "cors": {
            "CORSRules": [{
                "AllowedOrigins": cors_origins,
                "AllowedMethods": ["POST", "PUT", "GET", "HEAD"],
                "AllowedHeaders": ["*"],
                "ExposeHeaders": ["ETag"],
                "MaxAgeSeconds": 3600,
            }]
        },
        "lifecycle": {
            "Rules": [
                {"ID": "abort-incomplete-multipart", "Status": "Enabled", "Filter": {"Prefix": ""},
                 "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}},
                {"ID": "expire-noncurrent-versions", "Status": "Enabled", "Filter": {"Prefix": ""},
                 "NoncurrentVersionExpiration": {"NoncurrentDays": 7}},
                {"ID": "expire-quarantine", "Status": "Enabled", "Filter": {"Prefix": QUARANTINE_PREFIX},
                 "Expiration": {"Days": 7}},
            ]
        },
    }


def ensure_bucket(s3, bucket: str, *, region: str, cors_origins: list[str], versioning: bool = True) -> list[str]:
    done = []
    try:
        s3.head_bucket(Bucket=bucket)
        done.append(f"bucket {bucket}: exists")
    except ClientError as error:
        if _code(error) not in ("404", "NoSuchBucket", "NotFound"):
            raise
        create = {"Bucket": bucket}
        if region != "us-east-1":
            create["CreateBucketConfiguration"] = {"LocationConstraint": region}
        s3.create_bucket(**create)
        done.append(f"bucket {bucket}: created")
    wanted = bucket_settings(cors_origins)
    done.append(_apply(
        f"bucket {bucket}: all four Block Public Access settings",
        lambda: s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"],
        lambda d: s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=d),
        wanted["public_access"],
    ))
    done.append(_apply(
        f"bucket {bucket}: default encryption (SSE-S3)",
        lambda: s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"],
        lambda d: s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration=d),
        wanted["encryption"],
    ))
    done.append(_apply(
        f"bucket {bucket}: CORS for {', '.join(cors_origins)}",
        lambda: {"CORSRules": s3.get_bucket_cors(Bucket=bucket)["CORSRules"]},
        lambda d: s3.put_bucket_cors(Bucket=bucket, CORSConfiguration=d),
        wanted["cors"],
    ))
    if versioning:
        done.append(_apply(
            f"bucket {bucket}: versioning",
            lambda: {"Status": s3.get_bucket_versioning(Bucket=bucket).get("Status")},
            lambda d: s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration=d),
            wanted["versioning"],
        ))
        done.append(_apply(
            f"bucket {bucket}: lifecycle (abort multipart after 1 day, old versions after 7, quarantine after 7)",
            lambda: {"Rules": sorted(s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"], key=lambda r: r["ID"])},
            lambda d: s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration=d),
            {"Rules": sorted(wanted["lifecycle"]["Rules"], key=lambda r: r["ID"])},
        ))
    return done


# --- the table ------------------------------------------------------------------

def ensure_table(dynamodb, table: str, *, backups: bool = False) -> list[str]:
    try:
        description = dynamodb.describe_table(TableName=table)["Table"]
        done = [f"table {table}: exists"]
    except ClientError as error:
        if _code(error) != "ResourceNotFoundException":
            raise
        dynamodb.create_table(TableName=table, **TABLE_DEFINITION)
        dynamodb.get_waiter("table_exists").wait(TableName=table, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
        description = dynamodb.describe_table(TableName=table)["Table"]
        done = [f"table {table}: created (on-demand, indexes {LIST_INDEX} and {PUBLIC_INDEX})"]
    present = {index["IndexName"] for index in description.get("GlobalSecondaryIndexes", [])}
    for index in TABLE_DEFINITION["GlobalSecondaryIndexes"]:
        if index["IndexName"] not in present:
            dynamodb.update_table(
                TableName=table,
                AttributeDefinitions=TABLE_DEFINITION["AttributeDefinitions"],
                GlobalSecondaryIndexUpdates=[{"Create": index}],
            )
            done.append(f"table {table}: index {index['IndexName']} created")
    ttl = dynamodb.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
    if ttl.get("TimeToLiveStatus") in ("ENABLED", "ENABLING"):
        done.append(f"table {table}: TTL on expires_at already on")
    else:
        dynamodb.update_time_to_live(
            TableName=table, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"}
        )
        done.append(f"table {table}: TTL on expires_at enabled")
    if backups:
        status = dynamodb.describe_continuous_backups(TableName=table)["ContinuousBackupsDescription"]
        pitr = status.get("PointInTimeRecoveryDescription", {}).get("PointInTimeRecoveryStatus")
        if pitr == "ENABLED":
            done.append(f"table {table}: point-in-time recovery already on")
        else:
            dynamodb.update_continuous_backups(
                TableName=table, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
            )
            done.append(f"table {table}: point-in-time recovery enabled")
    return done


# --- secrets and CloudFront keys --------------------------------------------------

def _write_secret(clients, name: str, value: str, description: str) -> None:
    if name.startswith("ssm:"):
        clients.ssm.put_parameter(Name=name[4:], Value=value, Type="SecureString", Description=description)
    else:
        clients.secretsmanager.create_secret(Name=name, SecretString=value, Description=description)


def ensure_secret_key(clients, name: str) -> list[str]:
    if read_secret(clients, name) is not None:
        return [f"secret key {name}: exists"]
    _write_secret(clients, name, secrets.token_urlsafe(48), "Mediahub: signs sessions, CSRF and share tokens")
    return [f"secret key {name}: created"]


def ensure_cloudfront_keys(clients, settings: Settings) -> tuple[list[str], dict]:
    """An RSA-2048 key pair: private key in the secret, public key and key group in CloudFront."""
    name = settings.cloudfront_keys_secret
    cloudfront = clients.cloudfront
    prefix = settings.table
    done: list[str] = []
    document = read_secret(clients, name)
    if document is None:
        key = new_signing_key("pending")
        answer = cloudfront.create_public_key(PublicKeyConfig={
            "CallerReference": uuid.uuid4().hex,
            "Name": f"{prefix}-signing-{secrets.token_hex(4)}",
            "EncodedKey": public_key_pem(key),
            "Comment": "Mediahub signed URLs",
        })
        key_id = answer["PublicKey"]["Id"]
        registered = new_key_with_id(key, key_id)
        _write_secret(clients, name, signing_keys_document([registered]), "Mediahub: CloudFront signing keys")
        done.append(f"CloudFront public key {key_id}: created; private key stored in {name}")
        key_ids = [key_id]
    else:
        key_ids = [key.key_id for key in parse_signing_keys(document)]
        done.append(f"CloudFront signing keys in {name}: found ({', '.join(key_ids)})")
    group_name = f"{prefix}-key-group"
    groups = cloudfront.list_key_groups().get("KeyGroupList", {}).get("Items", [])
    group = next((g["KeyGroup"] for g in groups if g["KeyGroup"]["KeyGroupConfig"]["Name"] == group_name), None)
    if group is None:
        group = cloudfront.create_key_group(KeyGroupConfig={"Name": group_name, "Items": key_ids})["KeyGroup"]
        done.append(f"CloudFront key group {group_name}: created")
    else:
        done.append(f"CloudFront key group {group_name}: exists")
    oac_name = f"{settings.bucket}-oac"[:64]
    controls = cloudfront.list_origin_access_controls().get("OriginAccessControlList", {}).get("Items", [])
    oac = next((c for c in controls if c["Name"] == oac_name), None)
    if oac is None:
        oac = cloudfront.create_origin_access_control(OriginAccessControlConfig={
            "Name": oac_name, "SigningProtocol": "sigv4", "SigningBehavior": "always",
            "OriginAccessControlOriginType": "s3", "Description": "Mediahub: CloudFront reads the private bucket",
        })["OriginAccessControl"]
        done.append(f"origin access control {oac_name}: created")
    else:
        done.append(f"origin access control {oac_name}: exists")
    return done, {"key_group_id": group["Id"], "oac_id": oac["Id"]}


def new_key_with_id(key: SigningKey, key_id: str) -> SigningKey:
    """The generated key under the id CloudFront gave its public half, dated for rotation."""
    return SigningKey(key_id, key.private_key, dt.date.today().isoformat())


def distribution_needs(settings: Settings, ids: dict) -> list[str]:
    origin = f"{settings.bucket}.s3.{settings.region}.amazonaws.com"
    return [
        "The CloudFront distribution (create it once in the console or with your IaC tool):",
        f"  origin: {origin}, origin access control {ids['oac_id']}, no origin path",
        "  default behaviour: viewer protocol redirect-to-https, methods GET and HEAD,",
        f"    restrict viewer access: trusted key group {ids['key_group_id']},",
        "    cache policy Managed-CachingOptimized (no query strings forwarded),",
        "    response headers policy Managed-SecurityHeadersPolicy (adds X-Content-Type-Options: nosniff)",
        "  then allow it to read the bucket (bucket policy):",
        "    " + json.dumps(cloudfront_bucket_policy(settings, "<distribution ARN>")),
        "  and set MEDIAHUB_CDN_URL to https://<distribution domain>.",
    ]


def cloudfront_bucket_policy(settings: Settings, distribution_arn: str) -> dict:
    return {
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "CloudFrontReadsUploads",
            "Effect": "Allow",
            "Principal": {"Service": "cloudfront.amazonaws.com"},
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{settings.bucket}/{UPLOAD_PREFIX}*",
            "Condition": {"StringEquals": {"AWS:SourceArn": distribution_arn}},
        }],
    }


# --- the whole run ---------------------------------------------------------------

def loopback_origins(settings: Settings) -> list[str]:
    return [f"http://127.0.0.1:{settings.port}", f"http://localhost:{settings.port}"]


def site_origins(settings: Settings) -> list[str]:
    """Where the site's pages are served from: the origins the bucket's CORS allows."""
    return [settings.site_url] if settings.site_url else loopback_origins(settings)


def plan(settings: Settings) -> list[str]:
    steps = [
        f"bucket {settings.bucket} in {settings.region}: create if missing; block all public access; "
        f"SSE-S3 encryption; versioning; CORS for {', '.join(site_origins(settings))} (POST, PUT, GET, HEAD; "
        "exposes ETag); lifecycle: abort incomplete multipart uploads after 1 day, expire noncurrent "
        f"versions after 7 days, expire {QUARANTINE_PREFIX} after 7 days",
        f"table {settings.table}: create if missing, on-demand, indexes {LIST_INDEX} and {PUBLIC_INDEX}; "
        "TTL on expires_at; point-in-time recovery",
    ]
    if settings.secret_key_secret:
        steps.append(f"secret key {settings.secret_key_secret}: create with 48 random bytes if missing")
    if settings.cloudfront_keys_secret:
        steps.append(
            f"CloudFront keys: if {settings.cloudfront_keys_secret} is missing, generate an RSA-2048 key pair, "
            f"register the public key, store the private key there; key group {settings.table}-key-group; "
            f"origin access control {settings.bucket}-oac; print what the distribution needs"
        )
    if settings.mail_from:
        steps.append(f"mail sender {parseaddr(settings.mail_from)[1]}: verify (SES)")
    return steps


def run(settings: Settings, clients) -> list[str]:
    lines = ensure_bucket(clients.s3, settings.bucket, region=settings.region, cors_origins=site_origins(settings))
    lines += ensure_table(clients.dynamodb, settings.table, backups=True)
    if settings.secret_key_secret:
        lines += ensure_secret_key(clients, settings.secret_key_secret)
    if settings.cloudfront_keys_secret:
        key_lines, ids = ensure_cloudfront_keys(clients, settings)
        lines += key_lines + distribution_needs(settings, ids)
    if settings.mail_from:
        lines += ensure_sender(clients.ses, settings.mail_from)
    return lines


def ensure_sender(ses, sender: str) -> list[str]:
    address = parseaddr(sender)[1]
    status = ses.get_identity_verification_attributes(Identities=[address])["VerificationAttributes"]
    if address in status:
        return [f"mail sender {address}: verification {status[address]['VerificationStatus'].lower()}"]
    ses.verify_email_identity(EmailAddress=address)
    return [f"mail sender {address}: verification requested (check that mailbox, or verify the domain)"]


# --- the IAM policy the Lambda role needs --------------------------------------------

def _secret_arn(settings: Settings, account: str, name: str) -> tuple[str, str]:
    if name.startswith("ssm:"):
        return "ssm:GetParameter", f"arn:aws:ssm:{settings.region}:{account}:parameter/{name[4:].lstrip('/')}"
    # Secrets Manager appends six random characters to a secret's ARN.
    return "secretsmanager:GetSecretValue", f"arn:aws:secretsmanager:{settings.region}:{account}:secret:{name}-??????"


def iam_policy(settings: Settings, account: str, function_name: str = "mediahub-*") -> dict:
    table_arn = f"arn:aws:dynamodb:{settings.region}:{account}:table/{settings.table}"
    statements = [
        {
            "Sid": "UploadsObjects",
            "Effect": "Allow",
            # PutObject is what a presigned POST signed by this role is allowed to do.
            "Action": ["s3:PutObject", "s3:GetObject", "s3:DeleteObject"],
            "Resource": f"arn:aws:s3:::{settings.bucket}/{UPLOAD_PREFIX}*",
        },
        {
            "Sid": "UploadsListing",
            "Effect": "Allow",
            # Without it a HEAD of a missing object answers 403 instead of 404.
            "Action": "s3:ListBucket",
            "Resource": f"arn:aws:s3:::{settings.bucket}",
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
            "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": f"arn:aws:logs:{settings.region}:{account}:log-group:/aws/lambda/{function_name}:*",
        },
    ]
    if settings.mail_from:
        domain = parseaddr(settings.mail_from)[1].rpartition("@")[2]
        statements.append({
            "Sid": "SendMail",
            "Effect": "Allow",
            "Action": "ses:SendEmail",
            "Resource": [f"arn:aws:ses:{settings.region}:{account}:identity/{domain}",
                         f"arn:aws:ses:{settings.region}:{account}:identity/{parseaddr(settings.mail_from)[1]}"],
        })
    secret_names = [n for n in (settings.cloudfront_keys_secret, settings.secret_key_secret) if n]
    for index, name in enumerate(secret_names):
        action, arn = _secret_arn(settings, account, name)
        statements.append({"Sid": f"ReadSecret{index + 1}", "Effect": "Allow", "Action": action, "Resource": arn})
    return {"Version": "2012-10-17", "Statement": statements}
