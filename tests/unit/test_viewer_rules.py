"""The pure rules every viewer surface asks: the malware gate and which copy a viewer gets."""

from __future__ import annotations

import pytest

from webapp import access
from webapp.flows import delivery, scanning
from webapp.rules import Refusal

LIVE = {"status": "ready", "expires_at": 2_000_000_000}
MEDIA = {"id": "abc", "s3_key": "uploads/abc/Fête.jpeg", "filename": "Fête.jpeg", "content_type": "image/jpeg"}
RENDITIONS = {"clean": "renditions/abc/clean.jpg", "thumb_320": "renditions/abc/thumb-320.jpg",
              "thumb_1280": "renditions/abc/thumb-1280.jpg"}


@pytest.mark.parametrize("record, mode, code, status", [
    ({}, "guardduty", "scan_pending", 423),  # recorded before the scan step set it
    ({"scan": "pending"}, "guardduty", "scan_pending", 423),
    ({"scan": "infected"}, "guardduty", "media_infected", 410),
    ({"scan": "infected"}, "off", "media_infected", 410),  # a threat found stays withheld
])
def test_the_gate_refuses_what_is_not_known_clean(record, mode, code, status):
    refusal = access.decide(access.EMBED, {**LIVE, **record}, now=1_000_000_000, scan_mode=mode)
    assert (refusal.code, refusal.status) == (code, status)
    assert scanning.state(record, mode) in ("pending", "infected")


@pytest.mark.parametrize("record, mode", [
    ({"scan": "clean"}, "guardduty"), ({"scan": "off"}, "off"), ({}, "off"),
    ({"scan": "pending"}, "off"),  # scanning turned off since: nothing will ever decide it
])
def test_the_gate_lets_through_what_is_clean_or_never_scanned(record, mode):
    assert access.decide(access.EMBED, {**LIVE, **record}, now=1_000_000_000, scan_mode=mode) is None


def test_viewers_get_the_clean_copy_named_after_the_original():
    copy = delivery.viewer_copy({**MEDIA, "processing": "ready", "renditions": RENDITIONS}, True)
    assert copy == delivery.Copy("renditions/abc/clean.jpg", "Fête.jpg", "image/jpeg", cleaned=True)


def test_a_heic_is_cleaned_into_a_jpeg():
    media = {**MEDIA, "filename": "IMG_1.HEIC", "content_type": "image/heic", "processing": "ready",
             "renditions": {"clean": "renditions/abc/clean.jpg"}}
    assert delivery.viewer_copy(media, True).content_type == "image/jpeg"
    assert delivery.viewer_copy(media, True).filename == "IMG_1.jpg"


def test_with_stripping_off_viewers_get_the_original():
    copy = delivery.viewer_copy({**MEDIA, "processing": "ready", "renditions": RENDITIONS}, False)
    assert copy == delivery.original(MEDIA) and not copy.cleaned


@pytest.mark.parametrize("processing", [None, "pending"])
def test_an_image_not_processed_yet_is_held_back_while_stripping_is_on(processing):
    media = {**MEDIA, **({"processing": processing} if processing else {})}
    with pytest.raises(Refusal) as refused:
        delivery.viewer_copy(media, True)
    assert (refused.value.code, refused.value.status) == ("processing_pending", 409)
    assert delivery.viewer_copy(media, False) == delivery.original(media)


@pytest.mark.parametrize("processing", ["failed", "skipped", "ready"])
def test_types_processing_never_cleans_go_out_as_they_are_and_uncleaned_images_are_withheld(processing):
    video = {**MEDIA, "filename": "clip.mp4", "content_type": "video/mp4"}
    assert delivery.viewer_copy(video, True) == delivery.original(video)  # pending or not
    uncleaned = {**MEDIA, "processing": processing}
    with pytest.raises(Refusal) as refused:
        delivery.viewer_copy(uncleaned, True)
    assert (refused.value.code, refused.value.status) == ("media_withheld", 409)
    assert delivery.withheld(uncleaned, True) and not delivery.withheld(uncleaned, False)
    assert delivery.viewer_copy(uncleaned, False) == delivery.original(uncleaned)
    cleaned = {**uncleaned, "renditions": RENDITIONS}
    assert delivery.viewer_copy(cleaned, True).cleaned and not delivery.withheld(cleaned, True)


def test_thumbnails_are_jpegs_only_when_processing_made_them():
    media = {**MEDIA, "renditions": RENDITIONS}
    assert delivery.thumbnail(media, 320) == delivery.Copy("renditions/abc/thumb-320.jpg", "Fête-thumb-320.jpg",
                                                           "image/jpeg", cleaned=True)
    assert delivery.thumbnail(MEDIA, 320) is None and delivery.poster(media) is None


def test_stripping_is_on_unless_turned_off():
    from webapp.config import ConfigError, Settings

    assert Settings.from_env({}).strip_metadata is True
    assert Settings.from_env({"MEDIAHUB_STRIP_METADATA": "false"}).strip_metadata is False
    with pytest.raises(ConfigError, match="MEDIAHUB_STRIP_METADATA"):
        Settings.from_env({"MEDIAHUB_STRIP_METADATA": "sometimes"})
