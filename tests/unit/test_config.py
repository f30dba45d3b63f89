import pytest

from webapp.config import ConfigError, Settings


def test_defaults_are_local_mode():
    settings = Settings.from_env({})
    assert settings.local_mode
    assert settings.max_upload_bytes == 100_000_000
    assert settings.share_ttl_seconds == 0  # links last as long as the files
    assert len(settings.secret_key) >= 32


def test_aws_mode_reads_everything():
    settings = Settings.from_env(
        {
            "MEDIAHUB_BUCKET": "media-prod",
            "MEDIAHUB_UPLOADERS": "anyone",
            "MEDIAHUB_SECRET_KEY": "s" * 40,
            "MEDIAHUB_TABLE": "media-table",
            "AWS_REGION": "eu-west-1",
            "MEDIAHUB_MAX_UPLOAD_BYTES": "5_000_000",
            "MEDIAHUB_ALLOWED_TYPES": "image/png, application/pdf",
            "MEDIAHUB_SHARE_TTL_SECONDS": "600",
            "MEDIAHUB_SITE_URL": "https://media.example.com/",
        }
    )
    assert not settings.local_mode
    assert (settings.bucket, settings.table, settings.region) == ("media-prod", "media-table", "eu-west-1")
    assert settings.max_upload_bytes == 5_000_000
    assert settings.allowed_types == ("image/png", "application/pdf")
    assert settings.site_url == "https://media.example.com"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"MEDIAHUB_BUCKET": "b"}, "MEDIAHUB_SECRET_KEY .or MEDIAHUB_SECRET_KEY_SECRET"),
        ({"MEDIAHUB_BUCKET": "b", "MEDIAHUB_SECRET_KEY": "short"}, "at least 32 characters"),
        ({"MEDIAHUB_MAX_UPLOAD_BYTES": "ten"}, "MEDIAHUB_MAX_UPLOAD_BYTES must be a whole number"),
        ({"MEDIAHUB_MAX_UPLOAD_BYTES": "0"}, "MEDIAHUB_MAX_UPLOAD_BYTES must be between"),
        ({"MEDIAHUB_MAX_UPLOAD_BYTES": str(5 * 1024**4 + 1)}, "S3's limit for one object"),
        ({"MEDIAHUB_MULTIPART_THRESHOLD": str(5 * 1024**3 + 1)}, "MEDIAHUB_MULTIPART_THRESHOLD .*one POST"),
        ({"MEDIAHUB_MULTIPART_THRESHOLD": "0"}, "MEDIAHUB_MULTIPART_THRESHOLD must be between"),
        ({"MEDIAHUB_MULTIPART_PART_BYTES": str(5 * 1024**2 - 1)}, "MEDIAHUB_MULTIPART_PART_BYTES must be between"),
        ({"MEDIAHUB_MULTIPART_PART_BYTES": str(5 * 1024**3 + 1)}, "MEDIAHUB_MULTIPART_PART_BYTES must be between"),
        ({"MEDIAHUB_UPLOAD_POLICY_SECONDS": "3600"}, "MEDIAHUB_UPLOAD_POLICY_SECONDS must be between 1 and 600"),
        ({"MEDIAHUB_SHARE_TTL_SECONDS": "10"}, "MEDIAHUB_SHARE_TTL_SECONDS"),
        ({"MEDIAHUB_ALLOWED_TYPES": "text/html"}, "cannot verify"),
        ({"MEDIAHUB_ALLOWED_TYPES": " , "}, "must list at least one type"),
        ({"MEDIAHUB_SITE_URL": "media.example.com"}, "MEDIAHUB_SITE_URL must start with"),
        ({"PORT": "70000"}, "PORT must be between"),
    ],
)
def test_bad_settings_are_named(env, message):
    with pytest.raises(ConfigError, match=message):
        Settings.from_env(env)


def test_uploads_past_one_post_up_to_s3s_object_limit():
    """Past 5 GiB a file can only go in parts: the limit may then reach S3's 5 TiB per object."""
    settings = Settings.from_env({
        "MEDIAHUB_MAX_UPLOAD_BYTES": str(5 * 1024**4),
        "MEDIAHUB_MULTIPART_THRESHOLD": str(64 * 1024**2),
        "MEDIAHUB_MULTIPART_PART_BYTES": str(16 * 1024**2),
    })
    assert settings.max_upload_bytes == 5 * 1024**4
    assert (settings.multipart_threshold, settings.multipart_part_bytes) == (64 * 1024**2, 16 * 1024**2)
    defaults = Settings.from_env({})
    assert (defaults.multipart_threshold, defaults.multipart_part_bytes) == (100 * 1024**2, 8 * 1024**2)


def test_several_problems_are_reported_together():
    with pytest.raises(ConfigError) as error:
        Settings.from_env({"MEDIAHUB_RETENTION_DAYS": "0", "PORT": "0"})
    assert "MEDIAHUB_RETENTION_DAYS" in str(error.value) and "PORT" in str(error.value)


def test_aws_timeouts_are_short_on_aws_and_patient_with_local_stand_ins():
    from webapp.config import LOCAL_AWS_TIMEOUTS

    on_aws = Settings.from_env({"MEDIAHUB_BUCKET": "b", "MEDIAHUB_SECRET_KEY": "k" * 40, "MEDIAHUB_UPLOADERS": "anyone"})
    assert (on_aws.aws_connect_timeout, on_aws.aws_read_timeout, on_aws.aws_max_attempts) == (2, 3, 2)
    local = Settings.from_env({})
    assert {name: getattr(local, name) for name in LOCAL_AWS_TIMEOUTS} == LOCAL_AWS_TIMEOUTS
    tuned = Settings.from_env({"MEDIAHUB_BUCKET": "b", "MEDIAHUB_SECRET_KEY": "k" * 40, "MEDIAHUB_UPLOADERS": "anyone",
                               "MEDIAHUB_AWS_READ_TIMEOUT": "5", "MEDIAHUB_AWS_MAX_ATTEMPTS": "3"})
    assert (tuned.aws_read_timeout, tuned.aws_max_attempts) == (5, 3)
    with pytest.raises(ConfigError, match="MEDIAHUB_AWS_MAX_ATTEMPTS"):
        Settings.from_env({"MEDIAHUB_AWS_MAX_ATTEMPTS": "0"})
