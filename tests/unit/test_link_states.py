"""What the owner's links table and the share page say about a link, from the records alone."""

import pytest

from webapp.flows import shares

NOW = 1_800_000_000
DAY = 86400


def media(**values):
    return {"expires_at": NOW + 7 * DAY, "download_count": 0, **values}


def share(**values):
    return {"expires_at": NOW + 3 * DAY, "downloads": 0, "revoked": False, **values}


@pytest.mark.parametrize(
    ("item", "link", "state"),
    [
        (media(), share(), "active"),
        (media(), share(max_downloads=2, downloads=2), "used up"),
        (media(max_downloads=5, download_count=5), share(), "used up"),
        (media(), share(expires_at=NOW - 1), "expired"),
        (media(expires_at=NOW - 1), share(), "expired"),  # the file's expiry was shortened past the link's
        (media(), share(revoked=True, max_downloads=1, downloads=1), "withdrawn"),
    ],
)
def test_state(item, link, state):
    assert shares.link_state(item, link, NOW) == state


def test_a_link_never_outlives_its_file():
    assert shares.effective_expiry(media(expires_at=NOW + DAY), share(expires_at=NOW + 3 * DAY)) == NOW + DAY
    assert shares.effective_expiry(media(), share()) == NOW + 3 * DAY


def test_downloads_left_takes_the_tighter_limit():
    assert shares.downloads_left(media(), share()) is None
    assert shares.downloads_left(media(), share(max_downloads=3, downloads=1)) == 2
    assert shares.downloads_left(media(max_downloads=4, download_count=3), share(max_downloads=3)) == 1
    assert shares.downloads_left(media(), share(max_downloads=1, downloads=2)) == 0
