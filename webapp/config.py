"""Settings: the only reader of the environment.

Everything the app can be told lives in ``Settings``; ``Settings.from_env`` reads
``MEDIAHUB_*`` variables, checks them and says plainly what is wrong. With no
``MEDIAHUB_BUCKET`` the app runs in local mode with embedded AWS stand-ins.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
from typing import Mapping

from webapp import sniff

DEFAULT_ALLOWED_TYPES = (
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "video/mp4",
    "video/webm",
    "video/quicktime",
    "audio/mpeg",
    "audio/mp4",
    "audio/ogg",
    "audio/wav",
    "audio/webm",
    "audio/flac",
    "application/pdf",
)

MAX_POLICY_SECONDS = 600
S3_SINGLE_POST_LIMIT = 5 * 1024**3


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


@dataclasses.dataclass(frozen=True)
class Settings:
    secret_key: str
    local_mode: bool = True
    bucket: str = "mediahub-local"
    table: str = "mediahub"
    region: str = "us-east-1"
    aws_endpoint_url: str | None = None
    site_url: str | None = None
    max_upload_bytes: int = 100_000_000
    allowed_types: tuple[str, ...] = DEFAULT_ALLOWED_TYPES
    share_ttl_seconds: int = 3600
    retention_days: int = 7
    upload_policy_seconds: int = MAX_POLICY_SECONDS
    port: int = 5000

    def __post_init__(self) -> None:
        problems = []
        if not self.local_mode and len(self.secret_key) < 32:
            problems.append("MEDIAHUB_SECRET_KEY must be at least 32 characters outside local mode")
        if not 1 <= self.max_upload_bytes <= S3_SINGLE_POST_LIMIT:
            problems.append(
                f"MEDIAHUB_MAX_UPLOAD_BYTES must be between 1 and {S3_SINGLE_POST_LIMIT} "
                "(S3's limit for one POST)"
            )
        if not 1 <= self.upload_policy_seconds <= MAX_POLICY_SECONDS:
            problems.append(f"MEDIAHUB_UPLOAD_POLICY_SECONDS must be between 1 and {MAX_POLICY_SECONDS}")
        if not 60 <= self.share_ttl_seconds <= 7 * 86400:
            problems.append("MEDIAHUB_SHARE_TTL_SECONDS must be between 60 and 604800 (7 days)")
        if not 1 <= self.retention_days <= 3650:
            problems.append("MEDIAHUB_RETENTION_DAYS must be between 1 and 3650")
        if not self.allowed_types:
            problems.append("MEDIAHUB_ALLOWED_TYPES must list at least one type")
        for content_type in self.allowed_types:
            if content_type not in sniff.known_types():
                problems.append(
                    f"MEDIAHUB_ALLOWED_TYPES has {content_type!r}, a type whose content Mediahub "
                    f"cannot verify; choose from {', '.join(sorted(sniff.known_types()))}"
                )
        if self.site_url is not None and not self.site_url.startswith(("http://", "https://")):
            problems.append("MEDIAHUB_SITE_URL must start with http:// or https://")
        if not 1 <= self.port <= 65535:
            problems.append("PORT must be between 1 and 65535")
        if problems:
            raise ConfigError("; ".join(problems))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Settings":
        env = os.environ if environ is None else environ
        bucket = env.get("MEDIAHUB_BUCKET", "").strip()
        local_mode = not bucket
        secret_key = env.get("MEDIAHUB_SECRET_KEY", "")
        if not secret_key:
            if not local_mode:
                raise ConfigError("MEDIAHUB_SECRET_KEY is required when MEDIAHUB_BUCKET is set")
            secret_key = secrets.token_urlsafe(32)
        values: dict = {
            "secret_key": secret_key,
            "local_mode": local_mode,
            "bucket": bucket or "mediahub-local",
            "table": env.get("MEDIAHUB_TABLE", "mediahub"),
            "region": env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1",
            "aws_endpoint_url": env.get("MEDIAHUB_AWS_ENDPOINT_URL") or None,
            "site_url": (env.get("MEDIAHUB_SITE_URL") or "").rstrip("/") or None,
        }
        for field, name in (
            ("max_upload_bytes", "MEDIAHUB_MAX_UPLOAD_BYTES"),
            ("share_ttl_seconds", "MEDIAHUB_SHARE_TTL_SECONDS"),
            ("retention_days", "MEDIAHUB_RETENTION_DAYS"),
            ("upload_policy_seconds", "MEDIAHUB_UPLOAD_POLICY_SECONDS"),
            ("port", "PORT"),
        ):
            if env.get(name, "").strip():
                values[field] = _whole_number(name, env[name])
        if env.get("MEDIAHUB_ALLOWED_TYPES", "").strip():
            values["allowed_types"] = tuple(
                part.strip() for part in env["MEDIAHUB_ALLOWED_TYPES"].split(",") if part.strip()
            )
        return cls(**values)

    def with_overrides(self, **changes) -> "Settings":
        return dataclasses.replace(self, **changes)


def _whole_number(name: str, raw: str) -> int:
    try:
        return int(raw.strip().replace("_", ""))
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
