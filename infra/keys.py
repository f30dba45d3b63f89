"""The stage's CloudFront signing key: made once, kept in Secrets Manager, public half to a file.

    python -m infra.keys --stage production [--region us-east-1] --public-key-out FILE

If the secret ``mediahub/<stage>/cloudfront-keys`` does not exist, this generates an RSA-2048
key and stores it there as ``{"keys": [{"private_key": "<PKCS#8 PEM>", "created": "YYYY-MM-DD"}]}``
(no key id: CloudFront assigns one when the stack registers the public key, and the app reads
it from ``MEDIAHUB_CLOUDFRONT_KEY_ID``). In every case it reads the secret and writes the public
key of the newest entry (by ``created``) to FILE, which the stack takes as its ``publicKeyFile``
context. Running it again changes nothing: the secret is left alone and the file is rewritten
only if its content would differ.

Why a command and not a CloudFormation custom resource: the private key is made here and goes
straight into Secrets Manager, so it never appears in a template, in the stack's parameters or
outputs, or in the event and logs of a Lambda function we would otherwise have to package and
deploy just for this. Only the public half travels through CloudFormation.

AWS access is boto3's own: the usual credential chain (environment, ``AWS_PROFILE``, SSO, role)
and, for tests, ``AWS_ENDPOINT_URL``. Nothing here prints or logs the private key.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import pathlib
import sys

SECRET_DESCRIPTION = "Mediahub: CloudFront signing keys (private keys; the newest signs)"


def secret_name(stage: str) -> str:
    return f"mediahub/{stage}/cloudfront-keys"


def new_key_document(today: dt.date) -> str:
    """A fresh RSA-2048 key as the secret's JSON document."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    return json.dumps({"keys": [{"private_key": pem, "created": today.isoformat()}]})


def newest_public_key_pem(document: str) -> str:
    """The public key (PEM) of the newest entry; the message of any error names no content."""
    from webapp.aws.signing import parse_signing_keys, public_key_pem

    # The app's own reader of this document: newest by ``created``, RSA only, no content echoed.
    # The id is only known once the stack registered the public half, and is not needed here.
    return public_key_pem(parse_signing_keys(document, default_id="unregistered")[-1])


def _code(error) -> str:
    return str(getattr(error, "response", {}).get("Error", {}).get("Code", ""))


def ensure_secret(secretsmanager, name: str, today: dt.date, tags: dict[str, str] | None = None) -> bool:
    """Create the secret with a new key unless it exists; True if it was created here."""
    from botocore.exceptions import ClientError

    try:
        secretsmanager.describe_secret(SecretId=name)
        return False
    except ClientError as error:
        if _code(error) != "ResourceNotFoundException":
            raise
    try:
        secretsmanager.create_secret(
            Name=name, Description=SECRET_DESCRIPTION, SecretString=new_key_document(today),
            Tags=[{"Key": key, "Value": value} for key, value in (tags or {}).items()],
        )
    except ClientError as error:
        if _code(error) == "ResourceExistsException":  # made meanwhile by another run: use that one
            return False
        raise
    return True


def write_if_changed(path: pathlib.Path, text: str) -> bool:
    if path.exists() and path.read_text() == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return True


def ensure_keys(secretsmanager, stage: str, public_key_out: pathlib.Path, *,
                today: dt.date | None = None) -> list[str]:
    """The whole command against a Secrets Manager client; returns what it did, one line each."""
    name = secret_name(stage)
    created = ensure_secret(secretsmanager, name, today or dt.date.today(),
                            tags={"project": "mediahub", "stage": stage})
    document = secretsmanager.get_secret_value(SecretId=name)["SecretString"]
    try:
        pem = newest_public_key_pem(document)
    except ValueError as error:
        raise ValueError(f"secret {name}: {error}") from None
    written = write_if_changed(public_key_out, pem)
    return [
        f"secret {name}: " + ("created with a new RSA-2048 key" if created else "exists, left as it is"),
        f"public key {public_key_out}: " + ("written" if written else "unchanged"),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.keys", description=__doc__.split("\n\n")[0])
    parser.add_argument("--stage", required=True)
    parser.add_argument("--region", help="default: boto3's (AWS_REGION, the profile's region)")
    parser.add_argument("--public-key-out", required=True, type=pathlib.Path, metavar="FILE")
    args = parser.parse_args(argv)

    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        client = boto3.session.Session(region_name=args.region).client("secretsmanager")
        lines = ensure_keys(client, args.stage, args.public_key_out)
    except (BotoCoreError, ClientError, ValueError, OSError) as error:
        # botocore's messages name the operation and the secret, never its value.
        print(f"infra.keys: {error}", file=sys.stderr)
        return 1
    for line in lines:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
