"""Where the CloudFront private keys come from: Secrets Manager, SSM, a file or the environment.

Read once per process and kept in memory; never logged. A failure names the
source, never the content.
"""

from __future__ import annotations

import pathlib

from botocore.exceptions import BotoCoreError, ClientError

from webapp.config import ConfigError, Settings
from webapp.aws.signing import SigningKey, parse_signing_keys


MISSING_CODES = ("ResourceNotFoundException", "ParameterNotFound")


def read_secret(clients, name: str) -> str | None:
    """A Secrets Manager secret's string, or an SSM SecureString for ``ssm:/name``; None if absent."""
    try:
        if name.startswith("ssm:"):
            return clients.ssm.get_parameter(Name=name[4:], WithDecryption=True)["Parameter"]["Value"]
        return clients.secretsmanager.get_secret_value(SecretId=name)["SecretString"]
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in MISSING_CODES:
            return None
        raise


def load_secret(clients, name: str) -> str:
    """``read_secret`` for a secret the app cannot run without."""
    try:
        value = read_secret(clients, name)
    except (ClientError, BotoCoreError) as error:
        raise ConfigError(f"the secret {name} could not be read: {error}") from None
    if value is None:
        raise ConfigError(f"the secret {name} could not be read: it does not exist")
    return value


def load_signing_keys(settings: Settings, clients) -> list[SigningKey]:
    source, document = _read(settings, clients)
    try:
        return parse_signing_keys(document, default_id=settings.cloudfront_key_id)
    except ValueError as error:
        raise ConfigError(f"{source}: {error}") from None


def _read(settings: Settings, clients) -> tuple[str, str]:
    if settings.cloudfront_keys:
        return "MEDIAHUB_CLOUDFRONT_KEYS", settings.cloudfront_keys
    if settings.cloudfront_keys_file:
        path = pathlib.Path(settings.cloudfront_keys_file)
        try:
            return f"MEDIAHUB_CLOUDFRONT_KEYS_FILE ({path})", path.read_text()
        except OSError as error:
            raise ConfigError(f"MEDIAHUB_CLOUDFRONT_KEYS_FILE cannot be read: {error.strerror}") from None
    name = settings.cloudfront_keys_secret or ""
    try:
        document = load_secret(clients, name)
    except ConfigError:
        raise ConfigError(f"CloudFront keys could not be read from {name}") from None
    return (f"SSM parameter {name[4:]}" if name.startswith("ssm:") else f"secret {name}"), document
