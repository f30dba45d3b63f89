"""Settings: the only reader of the environment.

Everything the app can be told lives in ``Settings``; ``Settings.from_env`` reads
``MEDIAHUB_*`` variables, checks them and says plainly what is wrong. With no
``MEDIAHUB_BUCKET`` the app runs in local mode with embedded AWS stand-ins.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
import shutil
from typing import Mapping

from webapp import parts, rules, sniff

DEFAULT_ALLOWED_TYPES = (
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "image/heic",
    "image/heif",
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

VIDEO_RENDITIONS = ("mediaconvert", "ffmpeg", "off")
MAX_POLICY_SECONDS = 600
LOCAL_RECIPIENTS = ("@example.com", "@example.org")
LOCAL_SENDER = "Mediahub <noreply@mediahub.local>"
S3_SINGLE_POST_LIMIT = 5 * 1024**3
API_GATEWAY_SECONDS = 29  # API Gateway's integration timeout: after it the caller gets a bare 504
# moto's server runs in the site's own process and may take seconds under load: a longer read,
# and two attempts in all, which still fit inside API Gateway's limit (the benchmarks run with
# these outside local mode, where that limit is checked).
LOCAL_AWS_TIMEOUTS = {"aws_connect_timeout": 3, "aws_read_timeout": 10, "aws_max_attempts": 2}
# Who may upload (MEDIAHUB_UPLOADERS): anyone; or people with an upload link ("invited"), people
# signed in with OpenID Connect ("signed-in"), or either ("invited,signed-in").
ANYONE, INVITED, SIGNED_IN = "anyone", "invited", "signed-in"
UPLOADER_MODES = (ANYONE, INVITED, SIGNED_IN)
# A stage with a bucket is reachable by anyone who finds it: quotas apply unless set to 0.
AWS_UPLOADS_PER_HOUR = 100
AWS_UPLOAD_BYTES_PER_DAY = 5_000_000_000


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


def _secret():
    return dataclasses.field(default=None, repr=False)


@dataclasses.dataclass(frozen=True)
class Settings:
    secret_key: str = dataclasses.field(repr=False)
    local_mode: bool = True
    bucket: str = "mediahub-local"
    table: str = "mediahub"
    region: str = "us-east-1"
    aws_endpoint_url: str | None = None
    site_url: str | None = None
    max_upload_bytes: int = 100_000_000
    multipart_threshold: int = parts.DEFAULT_MULTIPART_THRESHOLD
    multipart_part_bytes: int = parts.DEFAULT_PART_BYTES
    allowed_types: tuple[str, ...] = DEFAULT_ALLOWED_TYPES
    # The longest a share link may be chosen to last; 0: as long as the files are kept.
    share_ttl_seconds: int = 0
    retention_days: int = 7
    upload_policy_seconds: int = MAX_POLICY_SECONDS
    port: int = 5000
    max_retention_days: int = 30
    cdn_url: str | None = None
    cloudfront_keys: str | None = _secret()
    cloudfront_keys_file: str | None = None
    cloudfront_keys_secret: str | None = None
    cloudfront_key_id: str | None = None
    link_window_seconds: int = 300
    bind_links_to_ip: bool = False
    embed_origins: tuple[str, ...] = ()
    embed_link_seconds: int = 300
    api_key_hashes: tuple[str, ...] = dataclasses.field(default=(), repr=False)
    local_cdn: bool = True
    secret_key_secret: str | None = None
    recipients: tuple[str, ...] = ()
    mail_from: str | None = None
    mail_subject: str = "{name} was shared with you"
    max_share_days: int = 30
    admin_user: str | None = None
    admin_password_hash: str | None = dataclasses.field(default=None, repr=False)
    metrics: bool = False
    # AWS calls: see webapp/aws/clients.py. Defaults are for AWS; local mode's stand-ins are slower.
    aws_connect_timeout: int = 2
    aws_read_timeout: int = 3
    aws_max_attempts: int = 2
    malware_scan: str = "off"  # "guardduty": nothing is shared before its scan says clean (webapp/flows/scanning.py)
    strip_metadata: bool = True  # viewers get the clean copy processing made, never the original (webapp/flows/delivery.py)
    # Video renditions every browser plays (webapp/flows/renditions.py): "mediaconvert" (AWS Elemental
    # MediaConvert, with its role and queue from the stack), "ffmpeg" (local mode's stand-in, the
    # default there when ffmpeg is installed) or "off".
    video_renditions: str = "off"
    mediaconvert_role_arn: str | None = None
    mediaconvert_queue_arn: str | None = None
    # Who may upload, and how much per identity (webapp/limits.py); 0 is no limit.
    uploaders: str = "anyone"
    uploads_per_hour: int = 0
    upload_bytes_per_day: int = 0
    # Admin sign-in: this many wrong passwords in a row lock the account (and the client) for a while.
    admin_signin_attempts: int = 5
    admin_lock_seconds: int = 900
    # OpenID Connect sign-in (webapp/identity.py): the provider, this site's client, who may sign
    # in (addresses and @domains; empty: anyone the provider vouches for), the group claim that
    # grants the admin area, and how long a sign-in lasts.
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = _secret()
    oidc_client_secret_secret: str | None = None
    signin_allowlist: tuple[str, ...] = ()
    admin_group: str | None = None
    signin_hours: int = 12

    @property
    def uploader_modes(self) -> frozenset[str]:
        return frozenset(part.strip() for part in self.uploaders.split(",") if part.strip())

    @property
    def aws_worst_call_seconds(self) -> int:
        """The longest one AWS call can take before it fails: every attempt (botocore's
        ``total_max_attempts``) waits its connect and read timeouts, and botocore's standard
        backoff sleeps at most 1, 2, 4... s before the 2nd, 3rd, 4th attempt."""
        attempts = self.aws_max_attempts
        return attempts * (self.aws_connect_timeout + self.aws_read_timeout) + 2 ** (attempts - 1) - 1

    @property
    def sign_in_on(self) -> bool:
        return bool(self.oidc_issuer)

    def __post_init__(self) -> None:
        problems = []
        if not self.local_mode and not self.secret_key_secret and len(self.secret_key) < 32:
            problems.append("MEDIAHUB_SECRET_KEY must be at least 32 characters outside local mode")
        if not 1 <= self.max_upload_bytes <= parts.S3_MAX_OBJECT_BYTES:
            problems.append(
                f"MEDIAHUB_MAX_UPLOAD_BYTES must be between 1 and {parts.S3_MAX_OBJECT_BYTES} "
                "(S3's limit for one object)"
            )
        if not 1 <= self.multipart_threshold <= S3_SINGLE_POST_LIMIT:
            # Files above the threshold go in parts; at or below it, in one POST, which S3
            # takes up to 5 GiB: so every size up to the limit has a way in.
            problems.append(
                f"MEDIAHUB_MULTIPART_THRESHOLD must be between 1 and {S3_SINGLE_POST_LIMIT} "
                "(S3's limit for one POST)"
            )
        if not parts.S3_MIN_PART_BYTES <= self.multipart_part_bytes <= parts.S3_MAX_PART_BYTES:
            problems.append(
                f"MEDIAHUB_MULTIPART_PART_BYTES must be between {parts.S3_MIN_PART_BYTES} (5 MiB) "
                f"and {parts.S3_MAX_PART_BYTES} (5 GiB), S3's limits for a part"
            )
        if not 1 <= self.upload_policy_seconds <= MAX_POLICY_SECONDS:
            problems.append(f"MEDIAHUB_UPLOAD_POLICY_SECONDS must be between 1 and {MAX_POLICY_SECONDS}")
        if self.share_ttl_seconds and not 60 <= self.share_ttl_seconds <= 3650 * 86400:
            problems.append("MEDIAHUB_SHARE_TTL_SECONDS must be 0 (links last as long as the files) or between 60 "
                            "and 315360000 (3650 days)")
        if not 1 <= self.max_retention_days <= 3650:
            problems.append("MEDIAHUB_MAX_RETENTION_DAYS must be between 1 and 3650")
        if not 1 <= self.retention_days <= self.max_retention_days:
            problems.append(
                f"MEDIAHUB_RETENTION_DAYS must be between 1 and MEDIAHUB_MAX_RETENTION_DAYS ({self.max_retention_days})"
            )
        if self.cdn_url is not None:
            if not self.cdn_url.startswith("https://") and not (
                self.local_mode and self.cdn_url.startswith("http://127.0.0.1:")
            ):
                problems.append("MEDIAHUB_CDN_URL must start with https://")
            if not (self.cloudfront_keys or self.cloudfront_keys_file or self.cloudfront_keys_secret):
                problems.append(
                    "MEDIAHUB_CDN_URL needs signing keys: set MEDIAHUB_CLOUDFRONT_KEYS_SECRET "
                    "(Secrets Manager id, or ssm:/parameter/name), MEDIAHUB_CLOUDFRONT_KEYS_FILE "
                    "or MEDIAHUB_CLOUDFRONT_KEYS"
                )
        if not 60 <= self.link_window_seconds <= 3600:
            problems.append("MEDIAHUB_LINK_WINDOW_SECONDS must be between 60 and 3600")
        if not 30 <= self.embed_link_seconds <= 86400:
            problems.append("MEDIAHUB_EMBED_LINK_SECONDS must be between 30 and 86400")
        for origin in self.embed_origins:
            try:
                rules.parse_origin_pattern(origin)
            except ValueError as error:
                problems.append(f"MEDIAHUB_EMBED_ORIGINS: {error}")
        for entry in self.recipients:
            if not rules.is_address_or_domain(entry):
                problems.append(f"MEDIAHUB_RECIPIENTS: {entry!r} is neither a plain address nor @domain")
        if self.mail_from is not None and any(ch in self.mail_from for ch in "\r\n"):
            problems.append("MEDIAHUB_MAIL_FROM must be one line")
        if not 1 <= self.max_share_days <= 3650:
            problems.append("MEDIAHUB_MAX_SHARE_DAYS must be between 1 and 3650")
        if bool(self.admin_user) != bool(self.admin_password_hash):
            problems.append("MEDIAHUB_ADMIN_USER and MEDIAHUB_ADMIN_PASSWORD_HASH go together")
        if self.admin_password_hash and not self.admin_password_hash.startswith(("scrypt:", "pbkdf2:")):
            problems.append(
                "MEDIAHUB_ADMIN_PASSWORD_HASH must be a hash made by `make admin-password` (scrypt:... or pbkdf2:...)"
            )
        for digest in self.api_key_hashes:
            if len(digest) != 64 or any(ch not in "0123456789abcdef" for ch in digest):
                problems.append("MEDIAHUB_API_KEY_HASHES must list SHA-256 hex digests (64 lowercase hex characters)")
                break
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
        if not 1 <= self.aws_connect_timeout <= 10 or not 1 <= self.aws_read_timeout <= 20:
            problems.append("MEDIAHUB_AWS_CONNECT_TIMEOUT must be 1-10 s and MEDIAHUB_AWS_READ_TIMEOUT 1-20 s")
        if not 1 <= self.aws_max_attempts <= 5:
            problems.append("MEDIAHUB_AWS_MAX_ATTEMPTS must be between 1 and 5")
        elif not self.local_mode and self.aws_worst_call_seconds > API_GATEWAY_SECONDS - 1:
            problems.append(
                f"MEDIAHUB_AWS_MAX_ATTEMPTS {self.aws_max_attempts} of MEDIAHUB_AWS_CONNECT_TIMEOUT "
                f"{self.aws_connect_timeout} s + MEDIAHUB_AWS_READ_TIMEOUT {self.aws_read_timeout} s can take "
                f"{self.aws_worst_call_seconds} s with backoff: a hung AWS would outlast API Gateway's "
                f"{API_GATEWAY_SECONDS} s (502 instead of 503); lower one of them")
        if self.video_renditions not in VIDEO_RENDITIONS:
            problems.append(f"MEDIAHUB_VIDEO_RENDITIONS must be one of {', '.join(VIDEO_RENDITIONS)}, "
                            f"got {self.video_renditions!r}")
        if self.video_renditions == "ffmpeg" and not self.local_mode:
            problems.append("MEDIAHUB_VIDEO_RENDITIONS=ffmpeg runs only in local mode (Lambda has no ffmpeg): "
                            "use mediaconvert")
        if self.video_renditions == "mediaconvert" and not self.mediaconvert_role_arn:
            problems.append("MEDIAHUB_VIDEO_RENDITIONS=mediaconvert needs MEDIAHUB_MEDIACONVERT_ROLE_ARN "
                            "(the stack's output MediaConvertRoleArn)")
        if self.malware_scan not in ("off", "guardduty"):
            problems.append("MEDIAHUB_MALWARE_SCAN must be guardduty or off")
        if not self.uploaders:
            problems.append(
                "MEDIAHUB_UPLOADERS must be set when MEDIAHUB_BUCKET is set, so a stage never starts open by "
                "accident: anyone (with MEDIAHUB_UPLOADS_PER_HOUR and MEDIAHUB_UPLOAD_BYTES_PER_DAY applying)"
            )
        else:
            modes = self.uploader_modes
            if not modes <= set(UPLOADER_MODES) or (ANYONE in modes and len(modes) > 1):
                problems.append(
                    "MEDIAHUB_UPLOADERS must be anyone, invited, signed-in or invited,signed-in, "
                    f"got {self.uploaders!r}"
                )
            if SIGNED_IN in modes and not self.oidc_issuer:
                problems.append("MEDIAHUB_UPLOADERS=signed-in needs MEDIAHUB_OIDC_ISSUER (the OpenID provider)")
        if self.oidc_issuer:
            if not self.oidc_issuer.startswith("https://") and not (
                self.local_mode and self.oidc_issuer.startswith(("http://127.0.0.1:", "http://localhost:"))
            ):
                problems.append("MEDIAHUB_OIDC_ISSUER must start with https://")
            if not self.oidc_client_id or not (self.oidc_client_secret or self.oidc_client_secret_secret):
                problems.append(
                    "MEDIAHUB_OIDC_ISSUER needs MEDIAHUB_OIDC_CLIENT_ID and MEDIAHUB_OIDC_CLIENT_SECRET "
                    "(or MEDIAHUB_OIDC_CLIENT_SECRET_SECRET, a Secrets Manager id or ssm:/name)"
                )
        for entry in self.signin_allowlist:
            if not rules.is_address_or_domain(entry):
                problems.append(f"MEDIAHUB_SIGNIN_ALLOWLIST: {entry!r} is neither an address nor @domain")
        if not 1 <= self.signin_hours <= 24 * 30:
            problems.append("MEDIAHUB_SIGNIN_HOURS must be between 1 and 720")
        if self.uploads_per_hour < 0:
            problems.append("MEDIAHUB_UPLOADS_PER_HOUR must be 0 (no limit) or more")
        if self.upload_bytes_per_day < 0 or 0 < self.upload_bytes_per_day < self.max_upload_bytes:
            # Below the largest upload, a file the site accepts could never be sent.
            problems.append(
                "MEDIAHUB_UPLOAD_BYTES_PER_DAY must be 0 (no limit) or at least MEDIAHUB_MAX_UPLOAD_BYTES "
                f"({self.max_upload_bytes})"
            )
        if not 1 <= self.admin_signin_attempts <= 100:
            problems.append("MEDIAHUB_ADMIN_SIGNIN_ATTEMPTS must be between 1 and 100")
        if not 60 <= self.admin_lock_seconds <= 86400:
            problems.append("MEDIAHUB_ADMIN_LOCK_SECONDS must be between 60 and 86400")
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
        secret_key_secret = env.get("MEDIAHUB_SECRET_KEY_SECRET", "").strip() or None
        if not secret_key and not secret_key_secret:
            if not local_mode:
                raise ConfigError(
                    "MEDIAHUB_SECRET_KEY (or MEDIAHUB_SECRET_KEY_SECRET, a Secrets Manager id or "
                    "ssm:/name) is required when MEDIAHUB_BUCKET is set"
                )
            secret_key = secrets.token_urlsafe(32)
        # Unset stays "" with a bucket: __post_init__ then refuses to start (never silently open).
        uploaders = env.get("MEDIAHUB_UPLOADERS", "").strip().lower() or ("anyone" if local_mode else "")
        values: dict = {
            **(LOCAL_AWS_TIMEOUTS if local_mode else {}),
            **({} if local_mode else {"uploads_per_hour": AWS_UPLOADS_PER_HOUR,
                                      "upload_bytes_per_day": AWS_UPLOAD_BYTES_PER_DAY}),
            "uploaders": uploaders,
            "secret_key": secret_key,
            "secret_key_secret": secret_key_secret,
            "local_mode": local_mode,
            "bucket": bucket or "mediahub-local",
            "table": env.get("MEDIAHUB_TABLE", "mediahub"),
            "region": env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1",
            "aws_endpoint_url": env.get("MEDIAHUB_AWS_ENDPOINT_URL") or None,
            "site_url": (env.get("MEDIAHUB_SITE_URL") or "").rstrip("/") or None,
        }
        for field, name in (
            ("max_upload_bytes", "MEDIAHUB_MAX_UPLOAD_BYTES"),
            ("multipart_threshold", "MEDIAHUB_MULTIPART_THRESHOLD"),
            ("multipart_part_bytes", "MEDIAHUB_MULTIPART_PART_BYTES"),
            ("share_ttl_seconds", "MEDIAHUB_SHARE_TTL_SECONDS"),
            ("retention_days", "MEDIAHUB_RETENTION_DAYS"),
            ("upload_policy_seconds", "MEDIAHUB_UPLOAD_POLICY_SECONDS"),
            ("port", "PORT"),
            ("max_retention_days", "MEDIAHUB_MAX_RETENTION_DAYS"),
            ("link_window_seconds", "MEDIAHUB_LINK_WINDOW_SECONDS"),
            ("embed_link_seconds", "MEDIAHUB_EMBED_LINK_SECONDS"),
            ("max_share_days", "MEDIAHUB_MAX_SHARE_DAYS"),
            ("aws_connect_timeout", "MEDIAHUB_AWS_CONNECT_TIMEOUT"),
            ("aws_read_timeout", "MEDIAHUB_AWS_READ_TIMEOUT"),
            ("aws_max_attempts", "MEDIAHUB_AWS_MAX_ATTEMPTS"),
            ("uploads_per_hour", "MEDIAHUB_UPLOADS_PER_HOUR"),
            ("upload_bytes_per_day", "MEDIAHUB_UPLOAD_BYTES_PER_DAY"),
            ("admin_signin_attempts", "MEDIAHUB_ADMIN_SIGNIN_ATTEMPTS"),
            ("admin_lock_seconds", "MEDIAHUB_ADMIN_LOCK_SECONDS"),
            ("signin_hours", "MEDIAHUB_SIGNIN_HOURS"),
        ):
            if env.get(name, "").strip():
                values[field] = _whole_number(name, env[name])
        if env.get("MEDIAHUB_ALLOWED_TYPES", "").strip():
            values["allowed_types"] = _list(env["MEDIAHUB_ALLOWED_TYPES"])
        values["embed_origins"] = _list(env.get("MEDIAHUB_EMBED_ORIGINS", ""))
        values["api_key_hashes"] = tuple(h.lower() for h in _list(env.get("MEDIAHUB_API_KEY_HASHES", "")))
        values["recipients"] = tuple(r.lower() for r in _list(env.get("MEDIAHUB_RECIPIENTS", "")))
        if local_mode and not values["recipients"]:
            values["recipients"] = LOCAL_RECIPIENTS
        values["mail_from"] = env.get("MEDIAHUB_MAIL_FROM", "").strip() or (LOCAL_SENDER if local_mode else None)
        if env.get("MEDIAHUB_MAIL_SUBJECT", "").strip():
            values["mail_subject"] = env["MEDIAHUB_MAIL_SUBJECT"].strip()
        values["admin_user"] = env.get("MEDIAHUB_ADMIN_USER", "").strip() or None
        values["admin_password_hash"] = env.get("MEDIAHUB_ADMIN_PASSWORD_HASH", "").strip() or None
        for field, name in (
            ("cdn_url", "MEDIAHUB_CDN_URL"),
            ("cloudfront_keys", "MEDIAHUB_CLOUDFRONT_KEYS"),
            ("cloudfront_keys_file", "MEDIAHUB_CLOUDFRONT_KEYS_FILE"),
            ("cloudfront_keys_secret", "MEDIAHUB_CLOUDFRONT_KEYS_SECRET"),
            ("cloudfront_key_id", "MEDIAHUB_CLOUDFRONT_KEY_ID"),
        ):
            values[field] = (env.get(name) or "").strip().rstrip("/") or None
        for field, name in (
            ("oidc_issuer", "MEDIAHUB_OIDC_ISSUER"),
            ("oidc_client_id", "MEDIAHUB_OIDC_CLIENT_ID"),
            ("oidc_client_secret", "MEDIAHUB_OIDC_CLIENT_SECRET"),
            ("oidc_client_secret_secret", "MEDIAHUB_OIDC_CLIENT_SECRET_SECRET"),
            ("admin_group", "MEDIAHUB_ADMIN_GROUP"),
        ):
            values[field] = (env.get(name) or "").strip() or None
        if values["oidc_issuer"]:
            values["oidc_issuer"] = values["oidc_issuer"].rstrip("/")
        values["signin_allowlist"] = tuple(r.lower() for r in _list(env.get("MEDIAHUB_SIGNIN_ALLOWLIST", "")))
        values["malware_scan"] = env.get("MEDIAHUB_MALWARE_SCAN", "").strip().lower() or "off"
        values["metrics"] = not local_mode
        default_renditions = "ffmpeg" if local_mode and shutil.which("ffmpeg") else "off"
        values["video_renditions"] = env.get("MEDIAHUB_VIDEO_RENDITIONS", "").strip().lower() or default_renditions
        values["mediaconvert_role_arn"] = env.get("MEDIAHUB_MEDIACONVERT_ROLE_ARN", "").strip() or None
        values["mediaconvert_queue_arn"] = env.get("MEDIAHUB_MEDIACONVERT_QUEUE_ARN", "").strip() or None
        for field, name in (("bind_links_to_ip", "MEDIAHUB_LINK_BIND_IP"), ("local_cdn", "MEDIAHUB_LOCAL_CDN"),
                            ("metrics", "MEDIAHUB_METRICS"), ("strip_metadata", "MEDIAHUB_STRIP_METADATA")):
            if env.get(name, "").strip():
                values[field] = _flag(name, env[name])
        return cls(**values)

    def with_overrides(self, **changes) -> "Settings":
        return dataclasses.replace(self, **changes)


def _list(raw: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in raw.split(",") if part.strip())


def _flag(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


def _whole_number(name: str, raw: str) -> int:
    try:
        return int(raw.strip().replace("_", ""))
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
