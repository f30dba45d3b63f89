"""Video renditions every browser plays: an H.264/AAC MP4 (fast start, at most 1080p, a bit rate
for the web) and a poster frame, made from each uploaded video after processing measured it.

Phones record HEVC in QuickTime, which Firefox never plays and Chrome only with hardware support;
ProRes, AVI or a high bit-rate 4K file stutters in an embed. So the share page, the player, the
gallery and embeds play the rendition once it exists (``webapp.flows.delivery.playable_copy``); until
then, and if it fails, viewers get the original as before. The original stays the download.

Who makes it (``Settings.video_renditions``): AWS Elemental MediaConvert (``mediaconvert``; the
job is submitted through ``webapp.aws.mediaconvert`` and its completion arrives as an EventBridge
event through SNS, as scan verdicts do, at ``webapp.events.rendition_finished``), or ffmpeg in
local mode (``webapp.local.transcoder``), which writes the same keys and reports the same event.
Both are given the job as ``job_settings`` builds it: a pure function, tested on its own.

The outputs' keys follow from the item's id (``renditions/<id>/video.mp4`` and
``renditions/<id>/frame.0000000.jpg``, MediaConvert's naming for a file group whose destination
ends in a name), so a repeated job or event writes the same objects, deleting or expiring an item
deletes them with its other renditions, and a completion event can only ever name keys of the
item it carries the id of.
"""

from __future__ import annotations

import logging
from typing import Callable, Protocol

from webapp import rules
from webapp.dates import iso
from webapp.iam import RENDITIONS_PREFIX
from webapp.logs import count, emit
from webapp.services import Services

log = logging.getLogger(__name__)

VIDEO_TYPES = frozenset({"video/mp4", "video/quicktime", "video/webm", "video/ogg"})
PENDING, READY, FAILED = "pending", "ready", "failed"
VIDEO_NAME, FRAME_NAME = "video.mp4", "frame.0000000.jpg"
NAMES = (VIDEO_NAME, FRAME_NAME)
# The web rendition: at most 1920x1080 (1080x1920 upright), never enlarged; quality-defined
# variable bit rate, capped at 5 Mb/s (YouTube's figure for 1080p30 uploads is 8; for playback
# 4-5 is what Vimeo and Mux serve), AAC stereo at 128 kb/s; the frame at most 1280 px.
MAX_LONG_SIDE, MAX_SHORT_SIDE = 1920, 1080
MAX_BITRATE = 5_000_000
QVBR_QUALITY = 7
AUDIO_BITRATE = 128_000
FRAME_SIDE = 1280
META_ID = "mediahub_media_id"
JOB_STATE_DETAIL_TYPE = "MediaConvert Job State Change"


class Jobs(Protocol):
    """What makes renditions: ``submit`` takes ``job_settings``' answer and calls ``finished``
    with a completion event when it is done (MediaConvert's arrives through EventBridge instead)."""

    def submit(self, job: dict, finished: Callable[[dict], None]) -> str: ...


def rendition_key(media_id: str, name: str) -> str:
    return f"{RENDITIONS_PREFIX}{media_id}/{name}"


def fit(width: int | None, height: int | None, long_side: int, short_side: int) -> tuple[int, int] | None:
    """The output size: within ``long_side`` x ``short_side`` (turned for an upright picture),
    never enlarged, even numbers (H.264's 4:2:0 chroma); None when the input's size is unknown."""
    if not width or not height:
        return None
    box_w, box_h = (long_side, short_side) if width >= height else (short_side, long_side)
    scale = min(box_w / width, box_h / height, 1)
    return max(2, int(width * scale) // 2 * 2), max(2, int(height * scale) // 2 * 2)


def job_settings(*, bucket: str, media: dict, role_arn: str | None = None, queue_arn: str | None = None) -> dict:
    """The MediaConvert CreateJob request for one video: pure, from the record processing wrote
    (its displayed width and height, and whether it has sound). ffmpeg reads the same request."""
    media_id = media["id"]
    size = fit(media.get("width"), media.get("height"), MAX_LONG_SIDE, MAX_SHORT_SIDE)
    frame = fit(media.get("width"), media.get("height"), FRAME_SIDE, FRAME_SIDE)
    video = {
        "CodecSettings": {"Codec": "H_264", "H264Settings": {
            "RateControlMode": "QVBR", "QvbrSettings": {"QvbrQualityLevel": QVBR_QUALITY},
            "MaxBitrate": MAX_BITRATE, "CodecProfile": "HIGH", "CodecLevel": "AUTO",
            "GopSize": 2, "GopSizeUnits": "SECONDS", "SceneChangeDetect": "TRANSITION_DETECTION"}},
        "ScalingBehavior": "DEFAULT", "AntiAlias": "ENABLED",
        **({"Width": size[0], "Height": size[1]} if size else {}),
    }
    mp4 = {"ContainerSettings": {"Container": "MP4", "Mp4Settings": {"MoovPlacement": "PROGRESSIVE_DOWNLOAD"}},
           "VideoDescription": video}
    source = {"FileInput": f"s3://{bucket}/{media['s3_key']}", "TimecodeSource": "ZEROBASED",
              "VideoSelector": {"Rotate": "AUTO"}}
    if media.get("has_audio"):
        source["AudioSelectors"] = {"Audio Selector 1": {"DefaultSelection": "DEFAULT"}}
        mp4["AudioDescriptions"] = [{"AudioSourceName": "Audio Selector 1", "CodecSettings": {
            "Codec": "AAC", "AacSettings": {"Bitrate": AUDIO_BITRATE, "CodingMode": "CODING_MODE_2_0",
                                            "SampleRate": 48000}}}]
    poster = {"ContainerSettings": {"Container": "RAW"}, "VideoDescription": {
        "CodecSettings": {"Codec": "FRAME_CAPTURE", "FrameCaptureSettings": {
            "FramerateNumerator": 1, "FramerateDenominator": 1, "MaxCaptures": 1, "Quality": 80}},
        **({"Width": frame[0], "Height": frame[1]} if frame else {})}}
    destination = f"s3://{bucket}/{RENDITIONS_PREFIX}{media_id}/"

    def group(name: str, stem: str, output: dict) -> dict:
        return {"Name": name, "Outputs": [output], "OutputGroupSettings": {
            "Type": "FILE_GROUP_SETTINGS", "FileGroupSettings": {"Destination": destination + stem}}}

    job = {
        "UserMetadata": {META_ID: media_id},
        "Settings": {"TimecodeConfig": {"Source": "ZEROBASED"}, "Inputs": [source],
                     "OutputGroups": [group("Web", VIDEO_NAME.split(".")[0], mp4),
                                      group("Poster", FRAME_NAME.split(".")[0], poster)]},
    }
    if role_arn:
        job["Role"] = role_arn
    if queue_arn:
        job["Queue"] = queue_arn
    return job


def completions_in(event: dict) -> list[tuple[str, str, list[str]]]:
    """(media id, status, output S3 URIs) of each MediaConvert job state change in an event:
    EventBridge's shape (local mode's ffmpeg sends it), or the same delivered through SNS."""
    found = []
    for detail in rules.event_details(event, JOB_STATE_DETAIL_TYPE):
        media_id = (detail.get("userMetadata") or {}).get(META_ID)
        if not media_id or detail.get("status") not in ("COMPLETE", "ERROR", "CANCELED"):
            continue
        paths = [path for group in detail.get("outputGroupDetails", [])
                 for output in group.get("outputDetails", []) for path in output.get("outputFilePaths", [])]
        found.append((media_id, detail["status"], paths))
    return found


def wanted(svc: Services, media: dict) -> bool:
    return (svc.settings.video_renditions != "off" and svc.renditions is not None
            and media.get("content_type") in VIDEO_TYPES)


def start(svc: Services, media: dict) -> str | None:
    """Submit the rendition job of a processed video; its state goes on the record (``pending``).
    None when renditions are off or this is not a video."""
    if not wanted(svc, media):
        return None
    job = job_settings(bucket=svc.settings.bucket, media=media, role_arn=svc.settings.mediaconvert_role_arn,
                       queue_arn=svc.settings.mediaconvert_queue_arn)
    svc.catalog.set_fields(media["id"], {"video_rendition": PENDING})
    try:
        job_id = svc.renditions.submit(job, lambda event: finished(svc, event))
    except Exception as error:  # noqa: BLE001 - the item is processed; only its rendition is missing
        # Not submitted (MediaConvert refused, or could not be reached): the record says so, so
        # `reprocess --failed` finds it; retrying the event would not (processing is done).
        emit("rendition not submitted", content_type=media.get("content_type"), error=type(error).__name__)
        count("RenditionsFailed")
        svc.catalog.set_fields(media["id"], {"video_rendition": FAILED})
        return None
    count("RenditionJobs")
    return job_id


def finished(svc: Services, event: dict) -> dict:
    """Record what a job made (or that it failed): the keys it wrote for this item, nothing else."""
    outcome: dict[str, int] = {}
    for media_id, status, paths in completions_in(event):
        result = _record(svc, media_id, status, paths)
        outcome[result] = outcome.get(result, 0) + 1
    return outcome


def _record(svc: Services, media_id: str, status: str, paths: list[str]) -> str:
    media = svc.catalog.get_media(media_id)
    if media is None or media.get("status") != "ready":
        return "ignored"  # deleted meanwhile: its renditions went with it, or go with the cleanup
    if media.get("scan") == "infected":  # quarantined while the job ran: nothing of it is kept
        for name in NAMES:
            svc.storage.delete(rendition_key(media_id, name))
        return "ignored"
    if status != "COMPLETE":
        emit("rendition failed", content_type=media.get("content_type"), status=status)
        count("RenditionsFailed")
        svc.catalog.set_fields(media_id, {"video_rendition": FAILED})
        return FAILED
    prefix = f"s3://{svc.settings.bucket}/"
    keys = {path[len(prefix):] for path in paths if path.startswith(prefix)}
    made = {field: rendition_key(media_id, name) for field, name in (("video", VIDEO_NAME), ("frame", FRAME_NAME))
            if rendition_key(media_id, name) in keys}
    if "video" not in made:
        if (media.get("renditions") or {}).get("video"):
            return "ignored"  # names none of this item's keys: a made rendition is not undone by it
        svc.catalog.set_fields(media_id, {"video_rendition": FAILED})
        return FAILED
    fresh = svc.catalog.get_media(media_id) or media  # a poster the browser sent meanwhile stays
    renditions = {**(fresh.get("renditions") or {}), **made}
    svc.catalog.set_fields(media_id, {"video_rendition": READY, "renditions": renditions,
                                      "rendition_at": iso(svc.clock())})
    count("RenditionsMade")
    return READY
