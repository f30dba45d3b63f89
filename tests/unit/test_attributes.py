"""Catalog values in DynamoDB's wire format through boto3's TypeSerializer: floats taken as boto3 takes
them (Decimal of their repr), and read back as the app wrote them (int or float, sets as sorted lists)."""

import pytest

from webapp.aws.catalog import from_attribute, from_item, to_attribute, to_item

VALUES = [
    "Fête at the lake", "", True, False, 0, -7, 1_800_000_000, 1763790000.123456, 0.1, 1e-07, 12345678901234567890,
    ["a", 1, 2.5, False], [], {"nested": {"n": 3, "s": "x"}}, {"b", "a"}, None,
]


@pytest.mark.parametrize(("value", "expected"), [
    (0.1, {"N": "0.1"}), (1763790000.123456, {"N": "1763790000.123456"}), (1e-07, {"N": "1E-7"}),
    ((1, "a"), {"L": [{"N": "1"}, {"S": "a"}]}), ({"n": 2.5}, {"M": {"n": {"N": "2.5"}}}),
])
def test_floats_are_stored_as_the_digits_they_print_as(value, expected):
    """boto3 takes numbers only as Decimal; a float goes in as its shortest repr, not its binary expansion."""
    assert to_attribute(value) == expected


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_read_back_as_written(value):
    read = from_attribute(to_attribute(value))
    assert read == (sorted(value) if isinstance(value, set) else value)
    assert type(read) is (list if isinstance(value, set) else type(value))


def test_items_leave_out_unset_fields():
    assert to_item({"a": 1, "b": None}) == {"a": {"N": "1"}}
    assert from_item({"a": {"N": "1"}, "b": {"NULL": True}}) == {"a": 1, "b": None}


@pytest.mark.parametrize("value", [float("nan"), float("inf"), object()])
def test_values_dynamodb_cannot_hold_are_refused(value):
    with pytest.raises((TypeError, ValueError)):
        to_attribute(value)
