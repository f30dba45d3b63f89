"""ffmpeg standing in for AWS Elemental MediaConvert in local mode (``MEDIAHUB_VIDEO_RENDITIONS=ffmpeg``).

It takes the very request ``webapp.flows.renditions.job_settings`` builds for MediaConvert, makes the
same outputs under the same keys (an H.264/AAC MP4 with its index first, and one JPEG frame),
and reports a "MediaConvert Job State Change" event of the same shape, so the completion code is
the one AWS runs. Jobs run one at a time on a background thread, as a queue would: the upload's
completion answers at once, and the rendition follows seconds later.
"""

from __future__ import annotations

import queue
import resource
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable

FFMPEG_TIMEOUT_SECONDS = 3600
CRF = 23  # libx264's default quality; the cap below bounds the bit rate as MediaConvert's QVBR does


def _split(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


def _scale(width: int | None, height: int | None) -> list[str]:
    return ["-vf", f"scale={width}:{height}"] if width and height else []


def transcode_file(source: Path, video: Path, frame: Path, *, size: tuple[int, int] | None = None,
                   frame_size: tuple[int, int] | None = None, audio: bool = True,
                   max_bitrate: int = 5_000_000, audio_bitrate: int = 128_000) -> float:
    """The web MP4 and the poster frame of one file; answers the CPU seconds ffmpeg used.

    ffmpeg turns a rotated phone video upright itself (its display matrix), as MediaConvert's
    ``Rotate: AUTO`` does, so ``size`` is the upright size. Metadata (a phone's location and
    model in QuickTime's user data) is not copied.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    common = ["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(source), "-map_metadata", "-1"]
    subprocess.run(
        [*common, "-map", "0:v:0", *(["-map", "0:a:0?"] if audio else ["-an"]), *_scale(*(size or (None, None))),
         "-c:v", "libx264", "-preset", "veryfast", "-profile:v", "high", "-pix_fmt", "yuv420p", "-crf", str(CRF),
         "-maxrate", str(max_bitrate), "-bufsize", str(2 * max_bitrate), "-g", "60",
         *(["-c:a", "aac", "-b:a", str(audio_bitrate), "-ac", "2", "-ar", "48000"] if audio else []),
         "-movflags", "+faststart", "-f", "mp4", str(video)],
        check=True, timeout=FFMPEG_TIMEOUT_SECONDS, capture_output=True)
    subprocess.run([*common, "-map", "0:v:0", "-frames:v", "1", *_scale(*(frame_size or (None, None))),
                    "-q:v", "3", "-f", "image2", str(frame)],
                   check=True, timeout=FFMPEG_TIMEOUT_SECONDS, capture_output=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


class FfmpegJobs:
    """``webapp.flows.renditions.Jobs`` with ffmpeg, reading and writing through the app's S3 client."""

    def __init__(self, s3_client):
        self._s3 = s3_client
        self._queue: queue.Queue = queue.Queue()
        self._worker: threading.Thread | None = None
        self._lock = threading.Lock()
        self._busy = 0
        self._numbers = iter(range(1, 1 << 62))

    @staticmethod
    def available() -> bool:
        return shutil.which("ffmpeg") is not None

    def submit(self, job: dict, finished: Callable[[dict], None]) -> str:
        job_id = f"local-{int(time.time())}-{next(self._numbers)}"
        with self._lock:
            self._busy += 1
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._work, name="ffmpeg-renditions", daemon=True)
                self._worker.start()
        self._queue.put((job_id, job, finished))
        return job_id

    def idle(self, timeout: float = 120) -> bool:
        """Wait until every submitted job has reported (tests; a clean shutdown)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if self._busy == 0:
                    return True
            time.sleep(0.05)
        return False

    def _work(self) -> None:
        while True:
            job_id, job, finished = self._queue.get()
            try:
                event = self._run(job_id, job)
                finished(event)
            except Exception:  # noqa: BLE001 - the site goes on; the record says failed
                try:
                    finished(_event(job_id, job, "ERROR", []))
                except Exception:  # noqa: BLE001 - e.g. the local stack already stopped
                    pass
            finally:
                with self._lock:
                    self._busy -= 1

    def _run(self, job_id: str, job: dict) -> dict:
        settings = job["Settings"]
        bucket, key = _split(settings["Inputs"][0]["FileInput"])
        web, poster = settings["OutputGroups"]
        web_output, poster_output = web["Outputs"][0], poster["Outputs"][0]
        video_uri = web["OutputGroupSettings"]["FileGroupSettings"]["Destination"] + ".mp4"
        frame_uri = poster["OutputGroupSettings"]["FileGroupSettings"]["Destination"] + ".0000000.jpg"

        def size(description: dict) -> tuple[int, int] | None:
            return (description["Width"], description["Height"]) if "Width" in description else None

        h264 = web_output["VideoDescription"]["CodecSettings"]["H264Settings"]
        audio = web_output.get("AudioDescriptions")
        with tempfile.TemporaryDirectory(prefix="mediahub-rendition-") as folder:
            source, video, frame = Path(folder) / "source", Path(folder) / "video.mp4", Path(folder) / "frame.jpg"
            self._s3.download_file(bucket, key, str(source))
            transcode_file(source, video, frame, size=size(web_output["VideoDescription"]),
                           frame_size=size(poster_output["VideoDescription"]), audio=bool(audio),
                           max_bitrate=h264["MaxBitrate"],
                           audio_bitrate=audio[0]["CodecSettings"]["AacSettings"]["Bitrate"] if audio else 0)
            for path, uri, content_type in ((video, video_uri, "video/mp4"), (frame, frame_uri, "image/jpeg")):
                out_bucket, out_key = _split(uri)
                self._s3.upload_file(str(path), out_bucket, out_key,
                                     ExtraArgs={"ContentType": content_type, "ContentDisposition": "attachment"})
        return _event(job_id, job, "COMPLETE", [video_uri, frame_uri])


def _event(job_id: str, job: dict, status: str, paths: list[str]) -> dict:
    """The EventBridge event MediaConvert sends when a job ends (the fields the site reads)."""
    return {
        "version": "0", "source": "aws.mediaconvert", "detail-type": "MediaConvert Job State Change",
        "detail": {"jobId": job_id, "status": status, "userMetadata": dict(job.get("UserMetadata") or {}),
                   "outputGroupDetails": [{"outputDetails": [{"outputFilePaths": [path]} for path in paths]}]},
    }
