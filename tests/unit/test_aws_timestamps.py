"""The clients' timestamp parser gives the instant botocore's own parser gives, for every form."""

from __future__ import annotations

import pytest
from botocore.utils import parse_timestamp as botocore_parse

from webapp.aws.clients import parse_timestamp

FORMS = [
    "2026-12-02T12:38:50.000Z",  # S3's XML (ListParts, ListObjectsV2)
    "2026-12-02T12:38:50Z",
    "2026-12-02T12:38:50.123456+02:00",
    "Wed, 02 Dec 2026 12:38:50 GMT",  # headers (Last-Modified, Expires)
    1796215039,  # JSON protocols' epoch seconds
    1796215039.25,
    "1796215039.5",
    "2026-12-02T12:38:50",  # no zone: left to botocore, as before
    "2026-12-02",
]


@pytest.mark.parametrize("value", FORMS, ids=str)
def test_same_instant_and_zone_awareness_as_botocore(value):
    ours, theirs = parse_timestamp(value), botocore_parse(value)
    assert ours == theirs
    assert (ours.utcoffset() is None) == (theirs.utcoffset() is None)


@pytest.mark.parametrize("value", ["not a date", "2026-13-45T99:00:00Z", ""])
def test_what_botocore_refuses_is_still_refused(value):
    with pytest.raises(ValueError) as theirs:
        botocore_parse(value)
    with pytest.raises(ValueError) as ours:
        parse_timestamp(value)
    assert type(ours.value) is type(theirs.value)
