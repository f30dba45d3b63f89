"""Catalog values in DynamoDB's wire format: what boto3's TypeSerializer writes, read back as written."""

from decimal import Decimal

import pytest
from boto3.dynamodb.types import TypeSerializer

from webapp.catalog import from_attribute, from_item, to_attribute, to_item

VALUES = [
    "Fête at the lake", "", True, False, 0, -7, 1_800_000_000, 1763790000.123456, 0.1, 1e-07, 12345678901234567890,
    ["a", 1, 2.5, False], [], {"nested": {"n": 3, "s": "x"}}, {"b", "a"}, None,
]


def _as_boto3_takes_it(value):
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, list):
        return [_as_boto3_takes_it(v) for v in value]
    if isinstance(value, dict):
        return {k: _as_boto3_takes_it(v) for k, v in value.items()}
    return value


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_written_as_boto3_writes_it(value):
    expected = TypeSerializer().serialize(_as_boto3_takes_it(value))
    if "SS" in expected:
        expected["SS"] = sorted(expected["SS"])
    assert to_attribute(value) == expected


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_read_back_as_written(value):
    read = from_attribute(to_attribute(value))
    assert read == (sorted(value) if isinstance(value, set) else value)
    assert type(read) is (list if isinstance(value, set) else type(value))


def test_items_leave_out_unset_fields():
    assert to_item({"a": 1, "b": None}) == {"a": {"N": "1"}}
    assert from_item({"a": {"N": "1"}, "b": {"NULL": True}}) == {"a": 1, "b": None}


@pytest.mark.parametrize("value", [float("nan"), float("inf"), b"bytes", object(), {1, 2}])
def test_values_dynamodb_cannot_hold_are_refused(value):
    with pytest.raises((TypeError, ValueError)):
        to_attribute(value)
