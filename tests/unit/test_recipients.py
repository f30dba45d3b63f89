import pytest

from webapp import rules
from webapp.rules import Refusal

ALLOWLIST = ("@allowed.com", "boss@partner.org")


@pytest.mark.parametrize(
    ("entered", "address"),
    [
        ("ann@allowed.com", "ann@allowed.com"),
        ("Ann.Lee+media@ALLOWED.com", "Ann.Lee+media@allowed.com"),
        ("  ann@allowed.com  ", "ann@allowed.com"),
        ("BOSS@partner.org", "BOSS@partner.org"),
    ],
)
def test_allowed_addresses(entered, address):
    allowed, refused = rules.check_recipients(entered, ALLOWLIST)
    assert allowed == [address] and refused == []


@pytest.mark.parametrize(
    ("entered", "why"),
    [
        ("a@allowed.com.evil.io", "not on the list"),
        ("a@evil-allowed.com", "not on the list"),
        ("a@sub.allowed.com", "not on the list"),
        ("other@partner.org", "not on the list"),
        ("a@allowed.com, b@allowed.com", "more than one address"),
        ("a@allowed.com;b@allowed.com", "more than one address"),
        ("a@allowed.com b@allowed.com", "more than one address"),
        ("Ann <a@allowed.com>", "more than one address"),
        ("a@allowed.com\rBcc: x@evil.io", "line break"),
        ("a@allowed.com%0ABcc:x@evil.io", "not an email address"),
        ("a@b@allowed.com", "not an email address"),
        ("@allowed.com", "not an email address"),
        ("a@allowed", "not an email address"),
        ("a..b@allowed.com", "not an email address"),
        ("a@аllowed.com", "outside plain ASCII"),  # Cyrillic а
        ("x" * 250 + "@allowed.com", "longer than 254"),
        ("x" * 65 + "@allowed.com", "not an email address"),
    ],
)
def test_refused_addresses(entered, why):
    allowed, refused = rules.check_recipients(entered, ALLOWLIST)
    assert allowed == []
    assert len(refused) == 1 and why in refused[0][1]


def test_one_line_each_and_duplicates_once():
    allowed, refused = rules.check_recipients("a@allowed.com\r\nb@allowed.com\n\nA@ALLOWED.COM\na@allowed.com\n", ALLOWLIST)
    assert allowed == ["a@allowed.com", "b@allowed.com", "A@allowed.com"]
    assert refused == []


def test_too_many_recipients():
    with pytest.raises(Refusal):
        rules.check_recipients("\n".join(f"u{i}@allowed.com" for i in range(21)), ALLOWLIST)


def test_empty_allowlist_allows_nobody():
    allowed, refused = rules.check_recipients("a@allowed.com", ())
    assert allowed == [] and refused
