"""The pure rules of verified recipients: codes, their hashes, expiry, tries and the resend wait."""

import ast
import inspect

import pytest

from webapp.flows import verification as v

SECRET = "unit-test-secret-that-is-long-enough-0123"
NOW = 1_700_000_000


def pending(code="123456", share_id="s1", now=NOW, wrong=0) -> dict:
    return {"share_id": share_id, **v.stored_fields(SECRET, share_id, code, now), v.WRONG: wrong}


def test_codes_are_six_digits_and_vary():
    codes = {v.new_code() for _ in range(200)}
    assert all(len(code) == 6 and code.isdigit() for code in codes)
    assert len(codes) > 190


def test_the_record_keeps_a_keyed_hash_bound_to_the_share_never_the_code():
    fields = v.stored_fields(SECRET, "s1", "123456", NOW)
    assert "123456" not in repr(fields)
    assert fields == {v.HASH: v.code_hash(SECRET, "s1", "123456"), v.EXPIRES: NOW + 600, v.WRONG: 0,
                      v.SENT_AT: NOW}
    assert v.code_hash(SECRET, "s1", "123456") != v.code_hash(SECRET, "s2", "123456")
    assert v.code_hash(SECRET, "s1", "123456") != v.code_hash(SECRET + "x", "s1", "123456")
    assert len(v.code_hash(SECRET, "s1", "123456")) == 64


def test_the_right_code_is_right_and_spaces_or_dashes_are_forgiven():
    share = pending()
    assert v.check(SECRET, share, "123456", NOW + 1) == v.RIGHT
    assert v.check(SECRET, share, " 123 456 ", NOW + 1) == v.RIGHT
    assert v.check(SECRET, share, "123-456", NOW + 1) == v.RIGHT


def test_a_code_from_another_share_is_wrong():
    share = pending(share_id="s1")
    share[v.HASH] = v.code_hash(SECRET, "s2", "123456")
    assert v.check(SECRET, share, "123456", NOW) == v.WRONG_CODE


@pytest.mark.parametrize("typed", ["123457", "", None, "12345", "1234567", "abcdef", "123456" * 50])
def test_wrong_codes(typed):
    assert v.check(SECRET, pending(), typed, NOW) == v.WRONG_CODE


def test_the_fifth_wrong_code_voids_it_and_then_nothing_is_right():
    assert [v.check(SECRET, pending(wrong=n), "000000", NOW) for n in range(5)] == [v.WRONG_CODE] * 4 + [v.VOIDED]
    assert [v.tries_left(pending(wrong=n)) for n in range(5)] == [4, 3, 2, 1, 0]
    assert v.check(SECRET, pending(wrong=5), "123456", NOW) == v.NO_CODE


def test_a_code_expires_after_ten_minutes():
    share = pending()
    assert v.check(SECRET, share, "123456", NOW + 599) == v.RIGHT
    assert v.check(SECRET, share, "123456", NOW + 600) == v.EXPIRED
    assert v.check(SECRET, share, "000000", NOW + 3600) == v.EXPIRED


def test_no_pending_code():
    assert v.check(SECRET, {"share_id": "s1", "verify": True}, "123456", NOW) == v.NO_CODE


def test_one_new_code_a_minute():
    assert v.resend_wait({}, NOW) == 0
    share = pending()
    assert v.resend_wait(share, NOW) == 60
    assert v.resend_wait(share, NOW + 45) == 15
    assert v.resend_wait(share, NOW + 60) == 0


def test_the_page_shows_the_address_masked():
    assert v.masked("ann@allowed.com") == "a•••@allowed.com"
    assert "ann" not in v.masked("ann@allowed.com")
    assert v.masked("nonsense") == "the recipient's address"


def test_the_code_mail_says_the_code_its_lifetime_and_that_it_can_be_ignored():
    subject, text, html = v.code_mail("042917")
    assert "042917" in subject and "042917" in text and "042917" in html
    for body in (text, html):
        assert "10 minutes" in body and "did not ask for this code, you can ignore" in body


def test_the_rules_load_without_flask_or_boto():
    tree = ast.parse(inspect.getsource(v))
    top_level = [node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
    names = {alias.name for node in top_level for alias in node.names} | {
        node.module for node in top_level if isinstance(node, ast.ImportFrom)}
    assert not {name for name in names if name and name.split(".")[0] in ("flask", "boto3", "botocore")}
    assert not {name for name in names if name in ("webapp.aws.catalog", "webapp.aws.mailer")}
