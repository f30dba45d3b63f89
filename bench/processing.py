"""Processing per format at the largest accepted size: peak memory over the idle process and CPU
seconds of ``media_info.process_image`` (clean copy, size, thumbnails), each in a fresh, warmed
process, against the memory a Lambda function has and the time its timeout allows at its share
of a vCPU (Lambda gives about 1 vCPU at 1,769 MB, in proportion below). Then the video rendition
(ffmpeg, local mode's stand-in for MediaConvert) against the clip's own duration.

    python -m bench.processing [--quick]
"""

from __future__ import annotations

import argparse
import io
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import ROOT, machine, table
from webapp.flows.processing import PROCESSING_MEMORY_MB, PROCESSING_TIMEOUT_SECONDS

# Memory over the idle process a format may take: the web stage's 512 MB less the app's ~70 MB
# and headroom (the design figure).
BUDGET_MB = 400
LAMBDA_MB_PER_VCPU = 1769
# (name, memory MB, timeout s) of the functions that could process a file: the web stage, and the
# processing stage (infra/ builds it with webapp/flows/processing.py's figures).
FUNCTIONS = (("web 512 MB, 30 s", 512, 30),
             (f"processing {PROCESSING_MEMORY_MB} MB, {PROCESSING_TIMEOUT_SECONDS} s", PROCESSING_MEMORY_MB,
              PROCESSING_TIMEOUT_SECONDS))

# One run: idle RSS (warmed, no file), then VmHWM reset, then read the file and process it.
ONE = """
import io, json, sys, time
from webapp import media_info

def status(field):
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024

Image, _ = media_info._pillow()
for fmt, mode in (("JPEG", "RGB"), ("PNG", "RGBA"), ("WEBP", "RGB"), ("GIF", "P"), ("HEIF", "RGB")):
    tiny = io.BytesIO()
    Image.new(mode, (16, 16)).save(tiny, fmt)
    media_info.process_image(tiny.getvalue(), "image/" + {"HEIF": "heic"}.get(fmt, fmt.lower()))
if sys.argv[2] == "application/pdf":  # PDFium loaded, as a warm function has it
    tiny = io.BytesIO()
    Image.new("RGB", (16, 16)).save(tiny, "PDF")
    media_info.pdf_first_page(tiny.getvalue())
idle = status("VmRSS")
try:
    open("/proc/self/clear_refs", "w").write("5")  # VmHWM starts again from here
except OSError:
    pass
cpu = time.process_time()
made = []
# As webapp.flows.processing.derive does: the object's bytes are handed over, not kept.
if sys.argv[2] == "application/pdf":
    result = media_info.pdf_first_page(open(sys.argv[1], "rb").read())
    state = "ready" if result else "none"
else:
    result = media_info.process_image(open(sys.argv[1], "rb").read(), sys.argv[2],
                                      keep=lambda r: made.append((r.name, len(r.body))))
    state = result.state
cpu = time.process_time() - cpu
print(json.dumps({"idle": idle, "peak": status("VmHWM"), "cpu": cpu, "state": state, "made": made}))
"""


def _noisy(width: int, height: int, mode: str, grain: int):
    """A photo-like picture: gradients with grain, so it compresses like a real one."""
    from PIL import Image

    noise = Image.effect_noise((width, height), grain)
    red = Image.linear_gradient("L").resize((width, height))
    green = Image.blend(noise, red.transpose(Image.Transpose.ROTATE_180), 0.5)
    bands = [red, green, noise] + ([Image.linear_gradient("L").resize((width, height))] if mode == "RGBA" else [])
    return Image.merge(mode, bands)


def samples(quick: bool) -> list[tuple[str, str, bytes]]:
    """(label, content type, bytes) at the largest size each format is processed at."""
    from PIL import Image

    from webapp import media_info

    media_info._pillow()  # registers the HEIF encoder
    side = (1200, 800) if quick else (8160, 6120)  # 49.9 MP: a 50 MP phone's photo
    flat_side = 700 if quick else 7000  # 49 MP
    made = []

    def encode(image, fmt, **options):
        out = io.BytesIO()
        image.save(out, fmt, **options)
        return out.getvalue()

    photo = _noisy(*side, "RGB", 30)
    made.append((f"JPEG {side[0]}x{side[1]}", "image/jpeg", encode(photo, "JPEG", quality=90)))
    made.append((f"HEIC {side[0]}x{side[1]}", "image/heic", encode(photo, "HEIF", quality=80)))
    heic_side = (580, 400) if quick else (7740, 5800)  # 44.9 MP, HEIC's cap
    made.append((f"HEIC {heic_side[0]}x{heic_side[1]}", "image/heic",
                 encode(photo.resize(heic_side), "HEIF", quality=80)))
    made.append((f"WebP {side[0]}x{side[1]}", "image/webp", encode(photo, "WEBP", quality=80)))
    webp_side = (600, 400) if quick else (6120, 4080)  # 25 MP, WebP's cap
    made.append((f"WebP {webp_side[0]}x{webp_side[1]}", "image/webp", encode(photo.resize(webp_side), "WEBP", quality=80)))
    made.append((f"PNG RGB {side[0]}x{side[1]}", "image/png", encode(_noisy(*side, "RGB", 4), "PNG", compress_level=6)))
    del photo
    # The case: a flat 7000x7000 RGBA PNG of a few hundred kB, 49 MP when decoded.
    flat = Image.new("RGBA", (flat_side, flat_side), (30, 90, 200, 128))
    made.append((f"PNG RGBA {flat_side}x{flat_side} (flat)", "image/png", encode(flat, "PNG")))
    made.append((f"PNG RGBA {side[0]}x{side[1]} (photo)", "image/png",
                 encode(_noisy(*side, "RGBA", 2).reduce(1), "PNG", compress_level=6)))
    made.append((f"GIF {side[0]}x{side[1]}, first frame", "image/gif",
                 encode(_noisy(*side, "RGB", 4).quantize(64), "GIF")))
    return made


def run(path: Path, content_type: str) -> dict:
    ran = subprocess.run([sys.executable, "-c", ONE, str(path), content_type], cwd=ROOT, capture_output=True,
                         text=True, timeout=900)
    if ran.returncode != 0:
        raise RuntimeError(ran.stderr[-2000:])
    return json.loads(ran.stdout.strip().splitlines()[-1])


def vcpu(memory_mb: int) -> float:
    return min(memory_mb / LAMBDA_MB_PER_VCPU, 6)


def rendition_time(quick: bool) -> str:
    """The ffmpeg rendition of a HEVC QuickTime clip against the clip's duration."""
    if shutil.which("ffmpeg") is None:
        return "ffmpeg is not installed: no rendition figure"
    from webapp.local import transcoder

    seconds = 2 if quick else 20
    size = "640x360" if quick else "1920x1080"
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "clip.mov"
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc2=size={size}:rate=30",
                        "-f", "lavfi", "-i", "sine=frequency=440", "-t", str(seconds), "-c:v", "libx265",
                        "-preset", "ultrafast", "-tag:v", "hvc1", "-c:a", "aac", "-pix_fmt", "yuv420p",
                        str(source)], check=True, timeout=600, capture_output=True)
        started = time.perf_counter()
        cpu = transcoder.transcode_file(source, Path(folder) / "web.mp4", Path(folder) / "poster.jpg")
        wall = time.perf_counter() - started
    return (f"Video rendition (ffmpeg, local mode): a {seconds} s {size} HEVC QuickTime clip became H.264/AAC "
            f"and a poster in {wall:.1f} s ({wall / seconds:.2f}x the clip's duration; {cpu:.1f} CPU-s)")


def main(argv=None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small images: a smoke test")
    args = parser.parse_args(argv)
    rows = []
    worst = 0.0
    with tempfile.TemporaryDirectory() as folder:
        made = samples(args.quick)
        if not args.quick:
            made += [pdf for pdf in pdf_samples()]
        for label, content_type, data in made:
            path = Path(folder) / "sample"
            path.write_bytes(data)
            result = run(path, content_type)
            over = result["peak"] - result["idle"]
            worst = max(worst, over)
            times = [f"{result['cpu'] / vcpu(memory):.1f} / {timeout}" for _, memory, timeout in FUNCTIONS]
            rows.append([label, f"{len(data) / 1e6:.1f}", f"{over:.0f}", "yes" if over <= BUDGET_MB else "NO",
                         f"{result['cpu']:.1f}", *times, result["state"]])
    headers = ["file", "MB", "peak over idle MB", f"<= {BUDGET_MB} MB", "CPU s",
               *[f"s at {name}" for name, _, _ in FUNCTIONS], "processing"]
    report = (f"Processing per format at the largest size, one fresh process each ({machine()})\n\n"
              + table(headers, rows) + f"\n\nworst peak over idle: {worst:.0f} MB (budget {BUDGET_MB} MB)")
    report += "\n\n" + rendition_time(args.quick)
    print(report)
    return report


def pdf_samples() -> list[tuple[str, str, bytes]]:
    """A 200-page PDF of full-page photos: pypdfium2 renders the first page only."""
    from PIL import Image

    pages = [_noisy(2480, 3508, "RGB", 20)] + [Image.new("RGB", (2480, 3508), "white")] * 199
    out = io.BytesIO()
    pages[0].save(out, "PDF", resolution=300, save_all=True, append_images=pages[1:])
    return [("PDF 200 pages, A4 photo at 300 dpi", "application/pdf", out.getvalue())]


if __name__ == "__main__":
    main()
