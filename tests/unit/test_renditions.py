"""The MediaConvert job a video's rendition is made by (a pure function), the completion events it
ends with, and the one boundary that talks to MediaConvert: CreateJob through boto3, checked with
botocore's Stubber (moto's server does not implement MediaConvert)."""

from __future__ import annotations

import json

import pytest
from botocore.stub import Stubber

from webapp.flows import renditions
from webapp.aws.clients import AwsClients
from webapp.aws.mediaconvert import MediaConvertJobs
from webapp.config import Settings

MEDIA = {"id": "abc123", "s3_key": "uploads/abc123/IMG_0001.MOV", "content_type": "video/quicktime",
         "width": 2160, "height": 3840, "has_audio": True}


def test_the_job_makes_a_web_mp4_at_most_1080p_and_one_frame():
    job = renditions.job_settings(bucket="media", media=MEDIA, role_arn="arn:aws:iam::1:role/mc",
                                  queue_arn="arn:aws:mediaconvert:us-east-1:1:queues/mediahub")
    assert job["Role"] == "arn:aws:iam::1:role/mc" and job["Queue"].endswith("queues/mediahub")
    assert job["UserMetadata"] == {"mediahub_media_id": "abc123"}
    [source] = job["Settings"]["Inputs"]
    assert source["FileInput"] == "s3://media/uploads/abc123/IMG_0001.MOV"
    assert source["VideoSelector"] == {"Rotate": "AUTO"}
    web, poster = job["Settings"]["OutputGroups"]
    assert web["OutputGroupSettings"]["FileGroupSettings"]["Destination"] == "s3://media/renditions/abc123/video"
    assert poster["OutputGroupSettings"]["FileGroupSettings"]["Destination"] == "s3://media/renditions/abc123/frame"
    [mp4] = web["Outputs"]
    assert mp4["ContainerSettings"] == {"Container": "MP4", "Mp4Settings": {"MoovPlacement": "PROGRESSIVE_DOWNLOAD"}}
    video = mp4["VideoDescription"]
    assert (video["Width"], video["Height"]) == (1080, 1920)  # a portrait 4K phone video, upright
    h264 = video["CodecSettings"]["H264Settings"]
    assert video["CodecSettings"]["Codec"] == "H_264" and h264["RateControlMode"] == "QVBR"
    assert h264["MaxBitrate"] == 5_000_000
    [aac] = mp4["AudioDescriptions"]
    assert aac["CodecSettings"]["Codec"] == "AAC" and aac["CodecSettings"]["AacSettings"]["Bitrate"] == 128_000
    [frame] = poster["Outputs"]
    assert frame["VideoDescription"]["CodecSettings"]["FrameCaptureSettings"]["MaxCaptures"] == 1
    assert (frame["VideoDescription"]["Width"], frame["VideoDescription"]["Height"]) == (720, 1280)


def test_a_silent_small_video_is_not_enlarged_and_gets_no_audio_track():
    job = renditions.job_settings(bucket="b", media={**MEDIA, "width": 640, "height": 360, "has_audio": False})
    [source] = job["Settings"]["Inputs"]
    [mp4] = job["Settings"]["OutputGroups"][0]["Outputs"]
    assert "AudioSelectors" not in source and "AudioDescriptions" not in mp4
    assert (mp4["VideoDescription"]["Width"], mp4["VideoDescription"]["Height"]) == (640, 360)
    assert "Role" not in job and "Queue" not in job  # ffmpeg's reading of it needs neither
    unknown = renditions.job_settings(bucket="b", media={**MEDIA, "width": None, "height": None})
    assert "Width" not in unknown["Settings"]["OutputGroups"][0]["Outputs"][0]["VideoDescription"]


@pytest.mark.parametrize(("size", "fitted"), [((3840, 2160), (1920, 1080)), ((1440, 1080), (1440, 1080)),
                                              ((2880, 2160), (1440, 1080)), ((1921, 1081), (1918, 1080)),
                                              ((101, 51), (100, 50))])
def test_fit_keeps_the_shape_within_1080p_in_even_numbers(size, fitted):
    assert renditions.fit(*size, 1920, 1080) == fitted


def event(status="COMPLETE", media_id="abc123", paths=("s3://media/renditions/abc123/video.mp4",
                                                          "s3://media/renditions/abc123/frame.0000000.jpg")):
    return {"version": "0", "source": "aws.mediaconvert", "detail-type": "MediaConvert Job State Change",
            "detail": {"status": status, "jobId": "1", "userMetadata": {"mediahub_media_id": media_id},
                       "outputGroupDetails": [{"outputDetails": [{"outputFilePaths": [path]} for path in paths]}]}}


def test_completions_are_read_from_eventbridge_and_through_sns():
    paths = ["s3://media/renditions/abc123/video.mp4", "s3://media/renditions/abc123/frame.0000000.jpg"]
    assert renditions.completions_in(event()) == [("abc123", "COMPLETE", paths)]
    via_sns = {"Records": [{"EventSource": "aws:sns", "Sns": {"Message": json.dumps(event("ERROR"))}}]}
    assert renditions.completions_in(via_sns) == [("abc123", "ERROR", paths)]
    progressing = event("PROGRESSING")
    assert renditions.completions_in(progressing) == []
    assert renditions.completions_in({"detail-type": "Object Scan Result"}) == []


def test_the_job_is_submitted_through_boto3s_mediaconvert_client():
    """The one boundary with MediaConvert: CreateJob's request as botocore serialises it."""
    settings = Settings(secret_key="x" * 40, local_mode=False, bucket="media", region="eu-west-1",
                        video_renditions="mediaconvert", mediaconvert_role_arn="arn:aws:iam::1:role/mc")
    client = AwsClients(settings).mediaconvert
    job = renditions.job_settings(bucket="media", media=MEDIA, role_arn=settings.mediaconvert_role_arn)
    with Stubber(client) as stub:
        stub.add_response("create_job", {"Job": {"Id": "1700000000000-abc", "Role": job["Role"],
                                                 "Settings": {}}}, job)
        assert MediaConvertJobs(client).submit(job, lambda event: None) == "1700000000000-abc"
        stub.assert_no_pending_responses()
    assert client.meta.region_name == "eu-west-1"


def test_the_setting_defaults_to_ffmpeg_in_local_mode_and_is_checked(monkeypatch):
    import shutil

    from webapp.config import ConfigError

    monkeypatch.setattr(shutil, "which", lambda name: "/usr/bin/ffmpeg")
    assert Settings.from_env({}).video_renditions == "ffmpeg"
    assert Settings.from_env({"MEDIAHUB_VIDEO_RENDITIONS": "off"}).video_renditions == "off"
    monkeypatch.setattr(shutil, "which", lambda name: None)
    assert Settings.from_env({}).video_renditions == "off"
    aws = {"MEDIAHUB_BUCKET": "media", "MEDIAHUB_SECRET_KEY": "k" * 40, "MEDIAHUB_UPLOADERS": "anyone"}
    assert Settings.from_env(aws).video_renditions == "off"  # never ffmpeg on AWS
    with pytest.raises(ConfigError, match="only in local mode"):
        Settings.from_env({**aws, "MEDIAHUB_VIDEO_RENDITIONS": "ffmpeg"})
    with pytest.raises(ConfigError, match="MEDIAHUB_MEDIACONVERT_ROLE_ARN"):
        Settings.from_env({**aws, "MEDIAHUB_VIDEO_RENDITIONS": "mediaconvert"})
    with pytest.raises(ConfigError, match="one of mediaconvert, ffmpeg, off"):
        Settings.from_env({"MEDIAHUB_VIDEO_RENDITIONS": "handbrake"})
    configured = Settings.from_env({**aws, "MEDIAHUB_VIDEO_RENDITIONS": "mediaconvert",
                                    "MEDIAHUB_MEDIACONVERT_ROLE_ARN": "arn:aws:iam::1:role/mc",
                                    "MEDIAHUB_MEDIACONVERT_QUEUE_ARN": "arn:aws:mediaconvert:us-east-1:1:queues/q"})
    assert configured.mediaconvert_queue_arn.endswith("queues/q")
