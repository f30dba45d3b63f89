"""Quota windows, identities and what a refusal says: pure rules, no AWS."""

import pytest

from webapp import limits
from webapp.config import AWS_UPLOAD_BYTES_PER_DAY, AWS_UPLOADS_PER_HOUR, ConfigError, Settings

NOON_30 = 1_796_083_200 + 12 * 3600 + 30 * 60  # 2026-12-01 12:30 UTC


def test_windows_are_fixed_and_aligned_to_utc():
    day = limits.window_start(NOON_30, limits.DAY)
    assert day % 86400 == 0 and day <= NOON_30 < day + 86400
    charge = limits.upload_charge("who", 500, NOON_30)
    hour = (NOON_30 - day) // 3600
    assert charge.hour_field == f"h{hour:02d}" and charge.day == day and charge.expires_at == day + 86400
    assert (charge.counter_pk, charge.counter_sk) == ("QUOTA#who", f"DAY#{day}")


def test_seconds_left_count_to_the_end_of_the_window():
    start = limits.window_start(NOON_30, 3600)
    assert limits.seconds_left(start, 3600) == 3600
    assert limits.seconds_left(start + 3599.2, 3600) == 1
    assert limits.seconds_left(start + 1800, 3600) == 1800


def test_the_hours_count_refuses_first_with_the_time_to_the_next_hour():
    charge = limits.upload_charge("who", 10, NOON_30)
    refusal = limits.refusal_for({charge.hour_field: 5, "bytes": 50}, charge, per_hour=5, bytes_per_day=10**9,
                                 now=NOON_30)
    assert (refusal.code, refusal.status, refusal.retry_after) == ("rate_limited", 429, limits.seconds_left(NOON_30, 3600))
    assert "5 uploads this hour" in refusal.message and "minutes" in refusal.message


def test_the_days_bytes_refuse_with_the_time_to_midnight_utc():
    charge = limits.upload_charge("who", 2_000_000, NOON_30)
    refusal = limits.refusal_for({charge.hour_field: 1, "bytes": 9_000_000}, charge, per_hour=5,
                                 bytes_per_day=10_000_000, now=NOON_30)
    assert refusal.code == "quota_exceeded" and refusal.retry_after == limits.seconds_left(NOON_30, 86400)
    assert "2 MB" in refusal.message and "10 MB" in refusal.message and "9 MB used" in refusal.message


def test_the_address_comes_from_api_gateway_never_from_a_header():
    # What Zappa builds for a REST API request whose client wrote its own X-Forwarded-For.
    environ = {"REMOTE_ADDR": "6.6.6.6", "HTTP_X_FORWARDED_FOR": "6.6.6.6, 198.51.100.7",
               "lambda.event": {"requestContext": {"identity": {"sourceIp": "198.51.100.7"}}}}
    assert limits.source_address(environ) == "198.51.100.7"
    http_api = {"REMOTE_ADDR": "6.6.6.6", "lambda.event": {"requestContext": {"http": {"sourceIp": "203.0.113.9"}}}}
    assert limits.source_address(http_api) == "203.0.113.9"
    assert limits.source_address({"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "6.6.6.6"}) == "127.0.0.1"


def test_an_ipv6_client_is_its_64_and_mapped_ipv4_is_plain():
    assert limits.address_identity("2001:db8:1:2:aaaa::1") == limits.address_identity("2001:db8:1:2:bbbb::9")
    assert limits.address_identity("2001:db8:1:2::1") != limits.address_identity("2001:db8:1:3::1")
    assert limits.address_identity("::ffff:192.0.2.1") == limits.address_identity("192.0.2.1") == "address:192.0.2.1"


def test_identities_are_stored_as_keyed_hashes():
    key = limits.identity_key("secret one", "address:192.0.2.1")
    assert "192.0.2.1" not in key and key != limits.identity_key("secret two", "address:192.0.2.1")
    account, client = limits.signin_keys("s", " Root ", "address:192.0.2.1")
    assert account == limits.signin_keys("s", "root", "address:10.0.0.1")[0] and client.startswith("SIGNIN#client#")


def test_a_stage_with_a_bucket_must_say_who_may_upload():
    stage = {"MEDIAHUB_BUCKET": "b", "MEDIAHUB_SECRET_KEY": "k" * 40}
    with pytest.raises(ConfigError, match="MEDIAHUB_UPLOADERS must be set"):
        Settings.from_env(stage)
    chosen = Settings.from_env({**stage, "MEDIAHUB_UPLOADERS": "Anyone"})
    assert chosen.uploaders == "anyone"
    assert (chosen.uploads_per_hour, chosen.upload_bytes_per_day) == (AWS_UPLOADS_PER_HOUR, AWS_UPLOAD_BYTES_PER_DAY)
    assert Settings.from_env({**stage, "MEDIAHUB_UPLOADERS": "invited"}).uploader_modes == {"invited"}
    with pytest.raises(ConfigError, match="MEDIAHUB_UPLOADERS=signed-in needs MEDIAHUB_OIDC_ISSUER"):
        Settings.from_env({**stage, "MEDIAHUB_UPLOADERS": "signed-in"})
    provider = {"MEDIAHUB_OIDC_ISSUER": "https://id.example.com/", "MEDIAHUB_OIDC_CLIENT_ID": "site",
                "MEDIAHUB_OIDC_CLIENT_SECRET": "s3cret"}
    both = Settings.from_env({**stage, **provider, "MEDIAHUB_UPLOADERS": "signed-in, invited"})
    assert both.uploader_modes == {"invited", "signed-in"} and both.oidc_issuer == "https://id.example.com"
    assert "s3cret" not in repr(both)
    for wrong in ("everyone", "anyone,invited"):
        with pytest.raises(ConfigError, match="MEDIAHUB_UPLOADERS must be anyone, invited, signed-in"):
            Settings.from_env({**stage, "MEDIAHUB_UPLOADERS": wrong})
    with pytest.raises(ConfigError, match="MEDIAHUB_OIDC_ISSUER must start with https://"):
        Settings.from_env({**stage, **provider, "MEDIAHUB_OIDC_ISSUER": "http://id.example.com"})
    with pytest.raises(ConfigError, match="needs MEDIAHUB_OIDC_CLIENT_ID"):
        Settings.from_env({**stage, "MEDIAHUB_UPLOADERS": "anyone", "MEDIAHUB_OIDC_ISSUER": "https://id.example.com"})
    with pytest.raises(ConfigError, match="MEDIAHUB_SIGNIN_ALLOWLIST"):
        Settings.from_env({**stage, **provider, "MEDIAHUB_UPLOADERS": "signed-in",
                           "MEDIAHUB_SIGNIN_ALLOWLIST": "@example.com, not an address"})


def test_local_mode_is_open_without_limits_unless_asked():
    local = Settings.from_env({})
    assert (local.uploaders, local.uploads_per_hour, local.upload_bytes_per_day) == ("anyone", 0, 0)
    tuned = Settings.from_env({"MEDIAHUB_UPLOADS_PER_HOUR": "5", "MEDIAHUB_UPLOAD_BYTES_PER_DAY": "200000000"})
    assert (tuned.uploads_per_hour, tuned.upload_bytes_per_day) == (5, 200_000_000)
    off = Settings.from_env({"MEDIAHUB_BUCKET": "b", "MEDIAHUB_SECRET_KEY": "k" * 40, "MEDIAHUB_UPLOADERS": "anyone",
                             "MEDIAHUB_UPLOADS_PER_HOUR": "0", "MEDIAHUB_UPLOAD_BYTES_PER_DAY": "0"})
    assert (off.uploads_per_hour, off.upload_bytes_per_day) == (0, 0)


@pytest.mark.parametrize(("env", "message"), [
    ({"MEDIAHUB_UPLOADS_PER_HOUR": "-1"}, "MEDIAHUB_UPLOADS_PER_HOUR must be 0"),
    ({"MEDIAHUB_UPLOAD_BYTES_PER_DAY": "1000"}, "at least MEDIAHUB_MAX_UPLOAD_BYTES"),
    ({"MEDIAHUB_ADMIN_SIGNIN_ATTEMPTS": "0"}, "MEDIAHUB_ADMIN_SIGNIN_ATTEMPTS"),
    ({"MEDIAHUB_ADMIN_LOCK_SECONDS": "5"}, "MEDIAHUB_ADMIN_LOCK_SECONDS"),
])
def test_bad_limits_are_named(env, message):
    with pytest.raises(ConfigError, match=message):
        Settings.from_env(env)
