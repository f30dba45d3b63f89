"""The access decision over every combination of what can stand between a viewer and a file."""

from __future__ import annotations

import itertools

import pytest

from webapp import access

NOW = 1_800_000_000
LATER = NOW + 86400


def item(*, public=False, password=False, withdrawn=None, limit_spent=False, expired=False, scan=None,
         limited=False):
    media = {"id": "m1", "status": "ready", "visibility": "public" if public else "private",
             "expires_at": NOW - 1 if expired else LATER, "download_count": 0, "owner": "person-1"}
    if password:
        media["password_hash"] = "scrypt:..."
    if withdrawn:
        media.update(withdrawn=True, withdrawn_by=withdrawn)
    if limited or limit_spent:
        media.update(max_downloads=3, download_count=3 if limit_spent else 1)
    if scan:
        media["scan"] = scan
    return media


def share(*, verify=False, revoked_by=None, expired=False):
    value = {"share_id": "s1", "expires_at": NOW - 1 if expired else LATER, "downloads": 0}
    if verify:
        value["verify"] = True
    if revoked_by:
        value.update(revoked=True, revoked_by=revoked_by)
    return value


def expected_code(action, *, public, password, withdrawn, limit_spent, expired, verify, verified, unlocked):
    """The table, written out as the issue states it: the most final reason first."""
    has_limit = limit_spent  # in this table, a file with a limit has spent it
    if expired:
        return "media_expired"
    if action == access.VIEW:
        if withdrawn == access.ADMIN:
            return "media_withdrawn"
        if limit_spent:
            return "download_limit"
        if password and not unlocked:
            return "password_required"
        if verify and not verified:
            return "verification_required"
        return None
    if withdrawn:
        return "media_withdrawn"
    if action == access.GALLERY:
        return None if public and not password and not has_limit else "media_not_found"
    if password:
        return "password_protected"
    if has_limit:
        return "embedding_not_allowed" if action == access.EMBED else "download_limited"
    return None


FLAGS = ("public", "password", "withdrawn", "limit_spent", "expired", "verify", "verified", "unlocked")
COMBINATIONS = [
    dict(zip(FLAGS, values))
    for values in itertools.product([False, True], [False, True], [None, access.OWNER, access.ADMIN],
                                    [False, True], [False, True], [False, True], [False, True], [False, True])
]


@pytest.mark.parametrize("action", [access.VIEW, access.EMBED, access.LINK, access.GALLERY])
def test_every_combination_gets_the_tables_answer(action):
    wrong = []
    for case in COMBINATIONS:
        media = item(public=case["public"], password=case["password"], withdrawn=case["withdrawn"],
                     limit_spent=case["limit_spent"], expired=case["expired"])
        viewer = access.Viewer(unlocked=case["unlocked"], verified=case["verified"])
        refusal = access.decide(action, media, now=NOW, scan_mode="off", viewer=viewer,
                                share=share(verify=case["verify"]) if action == access.VIEW else None)
        got = refusal.code if refusal else None
        want = expected_code(action, **case)
        if got != want:
            wrong.append((case, got, want))
    assert not wrong, wrong[:5]
    assert len(COMBINATIONS) == 384


@pytest.mark.parametrize("action", [access.VIEW, access.EMBED, access.LINK, access.GALLERY])
@pytest.mark.parametrize("scan, mode, code", [
    ("pending", "guardduty", "scan_pending"), (None, "guardduty", "scan_pending"),
    ("infected", "guardduty", "media_infected"), ("infected", "off", "media_infected"),
    ("clean", "guardduty", None), ("pending", "off", None), (None, "off", None),
])
def test_the_scan_verdict_holds_on_every_surface(action, scan, mode, code):
    refusal = access.decide(action, item(public=True, scan=scan), now=NOW, scan_mode=mode,
                            share=share() if action == access.VIEW else None)
    assert (refusal.code if refusal else None) == code
    if code == "scan_pending":
        assert (refusal.status, refusal.retry_after) == (423, 60)


def test_a_link_withdrawn_says_by_whom():
    for by, words in [(access.OWNER, "by the file's owner"), (access.ADMIN, "by the site's administrators"),
                      (None, "withdrawn.")]:
        refusal = access.decide(access.VIEW, item(), now=NOW, scan_mode="off", share=share(revoked_by=by or "x"))
        assert refusal.code == "link_revoked" and words in refusal.message
    assert "owner" not in access.link_revoked(access.ADMIN).message


def test_an_expired_share_and_a_missing_one():
    assert access.decide(access.VIEW, item(), now=NOW, scan_mode="off", share=share(expired=True)).code == "link_expired"
    assert access.decide(access.VIEW, item(), now=NOW, scan_mode="off", share=None).code == "link_gone"
    assert access.decide(access.VIEW, None, now=NOW, scan_mode="off", share=share()).code == "link_gone"
    assert access.decide(access.EMBED, {"status": "rejected"}, now=NOW, scan_mode="off").code == "media_not_found"


def test_a_file_with_a_limit_not_yet_spent_is_still_links_only():
    media = item(public=True, limited=True)
    assert access.decide(access.VIEW, media, now=NOW, scan_mode="off", share=share()) is None
    assert access.decide(access.LINK, media, now=NOW, scan_mode="off").code == "download_limited"
    assert access.decide(access.EMBED, media, now=NOW, scan_mode="off").code == "embedding_not_allowed"
    assert access.decide(access.GALLERY, media, now=NOW, scan_mode="off").code == "media_not_found"


@pytest.mark.parametrize("viewer, allowed", [
    (access.VISITOR, False),
    (access.Viewer(person="person-2"), False),
    (access.Viewer(person="person-1"), True),
    (access.Viewer(manage_token_ok=True), True),
    (access.Viewer(admin=True), True),
])
def test_only_the_owner_and_admins_manage_whatever_viewers_are_told(viewer, allowed):
    media = item(password=True, withdrawn=access.ADMIN, scan="infected")
    refusal = access.decide(access.MANAGE, media, now=NOW, scan_mode="guardduty", viewer=viewer)
    assert (refusal is None) is allowed
    if not allowed:
        assert refusal.code == "media_not_found"  # never says whose it is
    assert access.decide(access.MANAGE, {**media, "expires_at": NOW}, now=NOW, scan_mode="off",
                         viewer=access.Viewer(admin=True)).code == "media_expired"


def test_an_item_without_an_owner_is_nobodys_by_sign_in():
    assert access.decide(access.MANAGE, {**item(), "owner": None}, now=NOW, scan_mode="off",
                         viewer=access.Viewer(person="")) is not None


def test_unknown_actions_are_a_programming_error():
    with pytest.raises(ValueError):
        access.decide("steal", item(), now=NOW, scan_mode="off")
