"""Transfers' pure parts: the link's access decision, short ids, the start request's choices."""

import pytest

from webapp import access, tokens
from webapp.config import Settings
from webapp.rules import Refusal, human_duration
from webapp.flows.transfers import check_start, looks_like_short_id

NOW = 1_800_000_000
LIVE = {"status": "ready", "expires_at": NOW + 100}
SHARE = {"expires_at": NOW + 100, "revoked": False}


@pytest.mark.parametrize(("transfer", "share", "files", "viewer", "code"), [
    ({}, SHARE, [LIVE], access.VISITOR, None),
    (None, SHARE, [LIVE], access.VISITOR, "link_gone"),
    ({}, None, [LIVE], access.VISITOR, "link_gone"),
    ({}, {**SHARE, "revoked": True, "revoked_by": "owner"}, [LIVE], access.VISITOR, "link_revoked"),
    ({}, {**SHARE, "expires_at": NOW}, [LIVE], access.VISITOR, "link_expired"),
    ({}, SHARE, [], access.VISITOR, "link_gone"),
    ({}, SHARE, [{**LIVE, "expires_at": NOW}], access.VISITOR, "link_expired"),
    ({"password_hash": "x"}, SHARE, [LIVE], access.VISITOR, "password_required"),
    ({"password_hash": "x"}, SHARE, [LIVE], access.Viewer(unlocked=True), None),
    ({}, {**SHARE, "password_hash": "x"}, [LIVE], access.VISITOR, "password_required"),
])
def test_a_transfers_link_decision(transfer, share, files, viewer, code):
    refusal = access.decide_transfer(transfer, share, files, now=NOW, scan_mode="off", viewer=viewer)
    assert (refusal.code if refusal else None) == code


def test_short_ids_are_22_url_safe_characters_that_only_the_key_makes():
    short = tokens.short_id_for("key-one", "share-1")
    assert len(short) == 22 and looks_like_short_id(short)
    assert short == tokens.short_id_for("key-one", "share-1")
    assert short != tokens.short_id_for("key-two", "share-1") != tokens.short_id_for("key-one", "share-2")
    assert len("https://media.example.com/s/" + short) < 60
    # An old signed token is never taken for a short id.
    assert not looks_like_short_id("WyIwMktEN0oybENpN0RwMWN4MHFUSFpBIiwid2ZOR0VjTnBZNzRLU25rcGs1Z0k0dyIsMTc5NzEyODc3OV0")


SETTINGS = Settings(secret_key="x" * 32, recipients=("@example.com",), retention_days=7, max_retention_days=30)


@pytest.mark.parametrize(("data", "expected"), [
    ({}, ("", None, 7, "")),
    ({"email": " Me@Example.com "}, ("Me@example.com", None, 7, "")),
    ({"link_seconds": 3600}, ("", 3600, 7, "")),
    ({"link_seconds": 7 * 86400}, ("", None, 7, "")),
    ({"link_seconds": 5 * 86400, "retention_days": 2},
     ("", None, 2, "The link was asked to last 5 days, but it can last at most 2 days: it lasts that long.")),
])
def test_start_choices(data, expected):
    assert check_start(SETTINGS, data) == expected


def test_the_longest_link_the_site_allows_caps_the_default():
    settings = Settings(secret_key="x" * 32, share_ttl_seconds=86400)
    assert check_start(settings, {})[1] == 86400
    assert "at most 1 day" in check_start(settings, {"link_seconds": 3 * 86400})[3]


@pytest.mark.parametrize(("data", "code"), [
    ({"email": "stranger@elsewhere.net"}, "recipient_not_allowed"),
    ({"email": "a@b@example.com"}, "invalid_request"),
    ({"link_seconds": 60}, "invalid_request"),
    ({"retention_days": 400}, "invalid_request"),
    ([], "invalid_request"),
])
def test_start_refusals(data, code):
    with pytest.raises(Refusal) as refused:
        check_start(SETTINGS, data)
    assert refused.value.code == code


def test_human_duration():
    assert [human_duration(s) for s in (3600, 7200, 86400, 5 * 86400)] == ["1 hour", "2 hours", "1 day", "5 days"]
