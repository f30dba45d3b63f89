"""Video renditions in local mode: ffmpeg stands in for MediaConvert, from the same job request to
the same completion event, against moto's server. A QuickTime HEVC clip (libx265, as phones
record) becomes an H.264/AAC MP4 with its index first and a poster frame; viewers' players get
them, the download stays the original."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from tests.conftest import missing_tool
from tests.support import Api
from webapp import events
from webapp.flows import processing

WIDTH, HEIGHT = 640, 360


def hevc_clip(path, seconds: float = 1.5) -> bytes:
    if shutil.which("ffmpeg") is None:
        missing_tool("ffmpeg is not installed (Debian's ffmpeg; scripts/ensure-system-packages installs it)")
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc2=size={WIDTH}x{HEIGHT}:rate=25",
                    "-f", "lavfi", "-i", "sine=frequency=440", "-t", str(seconds), "-c:v", "libx265",
                    "-preset", "ultrafast", "-x265-params", "log-level=error", "-tag:v", "hvc1", "-pix_fmt", "yuv420p",
                    "-c:a", "aac", "-metadata", "location=+52.3700+004.8900/", "-f", "mov", str(path)],
                   check=True, timeout=120)
    return path.read_bytes()


def probe(path) -> dict:
    ran = subprocess.run(["ffprobe", "-v", "error", "-show_streams", "-show_format", "-of", "json", str(path)],
                         check=True, capture_output=True, text=True, timeout=60)
    return json.loads(ran.stdout)


@pytest.fixture
def site(make_app):
    app = make_app(max_upload_bytes=5_000_000, video_renditions="ffmpeg")
    svc = app.extensions["mediahub"]
    yield Api(app.test_client()), svc
    svc.renditions.idle(60)


def test_a_hevc_quicktime_clip_gets_an_h264_rendition_and_a_poster(site, tmp_path, aws, settings):
    api, svc = site
    data = hevc_clip(tmp_path / "IMG_0001.MOV")
    answer = api.upload(data, filename="IMG_0001.MOV", content_type="video/quicktime")
    assert answer.status_code == 201, answer.get_json()
    media = answer.get_json()["media"]
    assert svc.renditions.idle(120)
    record = svc.catalog.get_media(media["id"])
    assert record["processing"] == "ready" and record["has_audio"] is True
    assert record["video_rendition"] == "ready"
    assert record["renditions"]["video"] == f"renditions/{media['id']}/video.mp4"
    assert record["renditions"]["frame"] == f"renditions/{media['id']}/frame.0000000.jpg"

    video = aws.s3.get_object(Bucket=settings.bucket, Key=record["renditions"]["video"])["Body"].read()
    (tmp_path / "web.mp4").write_bytes(video)
    found = probe(tmp_path / "web.mp4")
    codecs = {stream["codec_type"]: stream for stream in found["streams"]}
    assert codecs["video"]["codec_name"] == "h264" and codecs["audio"]["codec_name"] == "aac"
    assert (codecs["video"]["width"], codecs["video"]["height"]) == (WIDTH, HEIGHT)
    assert "location" not in json.dumps(found["format"].get("tags", {}))  # the phone's position stays behind
    assert video.index(b"moov") < video.index(b"mdat")  # fast start: plays before it has all arrived
    frame = aws.s3.get_object(Bucket=settings.bucket, Key=record["renditions"]["frame"])["Body"].read()
    assert frame.startswith(b"\xff\xd8")

    share = api.client.get(media["links"]["share"]).get_data(as_text=True)
    assert f"renditions/{media['id']}/video.mp4" in share and f"renditions/{media['id']}/frame.0000000.jpg" in share
    download = api.client.get(media["links"]["download"])
    assert f"uploads/{media['id']}/" in download.headers["Location"]  # the download stays the original


def test_a_failed_job_leaves_the_original_for_viewers(site, tmp_path, monkeypatch):
    from webapp.local import transcoder

    def fails(*args, **kwargs):
        raise subprocess.CalledProcessError(1, "ffmpeg")  # as ffmpeg does on a file it cannot decode

    monkeypatch.setattr(transcoder, "transcode_file", fails)
    api, svc = site
    media = api.upload(hevc_clip(tmp_path / "clip.mov"), filename="clip.mov",
                       content_type="video/quicktime").get_json()["media"]
    assert svc.renditions.idle(120)
    record = svc.catalog.get_media(media["id"])
    assert record["video_rendition"] == "failed" and "video" not in (record.get("renditions") or {})
    share = api.client.get(media["links"]["share"]).get_data(as_text=True)
    assert f"uploads/{media['id']}/clip.mov" in share and "video.mp4" not in share


def test_a_completion_names_only_its_own_items_keys(site, tmp_path):
    api, svc = site
    other = api.upload(hevc_clip(tmp_path / "a.mov"), filename="a.mov", content_type="video/quicktime").get_json()["media"]
    assert svc.renditions.idle(120)
    record = svc.catalog.get_media(other["id"])
    forged = {"detail-type": "MediaConvert Job State Change", "detail": {
        "status": "COMPLETE", "userMetadata": {"mediahub_media_id": other["id"]},
        "outputGroupDetails": [{"outputDetails": [{"outputFilePaths": [f"s3://{svc.settings.bucket}/uploads/x/evil.mp4"]}]}]}}
    wrapped = {"Records": [{"EventSource": "aws:sns", "Sns": {"Message": json.dumps(forged)}}]}
    assert events.rendition_finished(wrapped, services=svc) == {"ignored": 1}
    after = svc.catalog.get_media(other["id"])
    assert after["renditions"]["video"] == record["renditions"]["video"] and after["video_rendition"] == "ready"
    processing.delete_renditions(svc, record)  # the names it deletes include the video's
    assert svc.storage.peek(record["renditions"]["video"], 4) is None


def test_a_job_that_finishes_after_quarantine_leaves_nothing(site, tmp_path):
    api, svc = site
    media = api.upload(hevc_clip(tmp_path / "a.mov"), filename="a.mov", content_type="video/quicktime").get_json()["media"]
    assert svc.renditions.idle(120)
    record = svc.catalog.get_media(media["id"])
    svc.catalog.set_fields(media["id"], {"scan": "infected"}, remove=("renditions",))
    done = {"detail-type": "MediaConvert Job State Change", "detail": {
        "status": "COMPLETE", "userMetadata": {"mediahub_media_id": media["id"]},
        "outputGroupDetails": [{"outputDetails": [{"outputFilePaths": [f"s3://{svc.settings.bucket}/{key}"]}
                                                  for key in (record["renditions"]["video"], record["renditions"]["frame"])]}]}}
    assert events.rendition_finished(done, services=svc) == {"ignored": 1}
    assert "renditions" not in svc.catalog.get_media(media["id"])
    assert svc.storage.peek(record["renditions"]["video"], 4) is None


def test_a_job_mediaconvert_refuses_is_marked_failed_for_reprocessing(site, tmp_path, monkeypatch):
    api, svc = site

    def refuses(job, finished):
        raise RuntimeError("BadRequestException")

    monkeypatch.setattr(svc.renditions, "submit", refuses)
    answer = api.upload(hevc_clip(tmp_path / "b.mov"), filename="b.mov", content_type="video/quicktime")
    assert answer.status_code == 201  # the upload is fine; only its rendition is missing
    record = svc.catalog.get_media(answer.get_json()["media"]["id"])
    assert record["processing"] == "ready" and record["video_rendition"] == "failed"
    assert processing.needs_another_run(record, svc.clock())
