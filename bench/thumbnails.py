"""Thumbnails: a 24 MP JPEG reduced with a draft decode (libjpeg scales while decoding) against a
full decode, each in a fresh, warmed process for its time and peak RSS (against an idle process
that only loaded Pillow and read the file), alternating; then thumbnails per second of CPU for a
mixed set of images (JPEG, PNG, WebP, GIF, HEIC), in one process; last, the same comparison in
one process for JPEGs of the same pixels compressed to fewer bytes, as the ratio depends on it.

    python -m bench.thumbnails [--quick]
"""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import ROOT, machine, median, table

# The peak of this process alone: VmHWM starts afresh at exec, while ru_maxrss on Linux keeps the
# high-water mark of the (large) parent the process was forked from.
PEAK = """
def peak_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
"""

ONE = PEAK + """
import sys, time
from webapp import media_info
data = open(sys.argv[1], "rb").read()
# Warm, as a Lambda serving its second event is: Pillow's plugins and codecs loaded by a tiny image.
Image, _ = media_info._pillow()
import io
tiny = io.BytesIO()
Image.new("RGB", (16, 16)).save(tiny, "JPEG")
media_info.thumbnails(tiny.getvalue())
started = time.perf_counter()
made = media_info.thumbnails(data, media_info.THUMBNAIL_SIZES, draft=sys.argv[2] == "draft")
elapsed = time.perf_counter() - started
print(elapsed, peak_mb())
"""

IDLE = PEAK + """
import sys
from webapp import media_info
Image, _ = media_info._pillow()
import io
tiny = io.BytesIO()
Image.new("RGB", (16, 16)).save(tiny, "JPEG")
media_info.thumbnails(tiny.getvalue())
data = open(sys.argv[1], "rb").read()
print(0, peak_mb())
"""


def photo(width: int, height: int, fmt: str = "JPEG", grain: int = 40, quality: int = 90) -> bytes:
    """A photo-like image: gradients with grain, so it compresses like a real one.

    The default grain and quality give about 4.2 bits per pixel (12.7 MB at 24 MP), a camera's
    finest JPEG; less grain and a lower quality give the smaller files of phones and editors.
    """
    from PIL import Image

    from webapp import media_info

    media_info._pillow()  # registers the HEIF encoder too
    noise = Image.effect_noise((width, height), grain)
    red = Image.linear_gradient("L").resize((width, height))
    green = Image.blend(noise, red.transpose(Image.Transpose.ROTATE_180), 0.5)
    image = Image.merge("RGB", (red, green, noise))
    out = io.BytesIO()
    image.save(out, fmt, **({"quality": quality} if fmt in ("JPEG", "WEBP", "HEIF") else {}))
    return out.getvalue()


def run(code: str, path: Path, mode: str) -> tuple[float, float]:
    ran = subprocess.run([sys.executable, "-c", code, str(path), mode], cwd=ROOT, capture_output=True,
                         text=True, timeout=300)
    if ran.returncode != 0:
        raise RuntimeError(ran.stderr[-2000:])
    seconds, rss = ran.stdout.split()
    return float(seconds), float(rss)


def mixed_rate(images: list[tuple[str, bytes]], seconds: float) -> tuple[float, int]:
    """Thumbnails (both sizes) made per second of this process's CPU, cycling through the set."""
    from webapp import media_info

    media_info.thumbnails(images[0][1])  # warm up: imports, codecs
    made = 0
    started = time.process_time()
    while time.process_time() - started < seconds or made < len(images):
        for _, data in images:
            made += len(media_info.thumbnails(data))
    return made / (time.process_time() - started), made


# (grain, quality) for the sweep by file size: from a camera's finest JPEG to a small phone photo.
SWEEP = ((40, 90), (20, 90), (10, 85), (5, 80))


def by_file_size(width: int, height: int, rounds: int) -> list[list[str]]:
    """Full against draft, in this process (best of ``rounds``), for the same pixels at several
    file sizes: the draft saves work per pixel, while the Huffman decoding it cannot skip grows
    with the bytes."""
    from webapp import media_info

    def best(data: bytes, draft: bool) -> float:
        times = []
        for _ in range(rounds):
            started = time.perf_counter()
            media_info.thumbnails(data, media_info.THUMBNAIL_SIZES, draft=draft)
            times.append(time.perf_counter() - started)
        return min(times)

    rows = []
    for grain, quality in SWEEP:
        data = photo(width, height, grain=grain, quality=quality)
        full, draft = best(data, False), best(data, True)
        rows.append([f"{len(data) / 1e6:.1f}", f"{len(data) * 8 / (width * height):.2f}", f"{full * 1000:.0f}",
                     f"{draft * 1000:.0f}", f"{full / draft:.1f}x"])
    return rows


def main(argv=None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small image and two rounds: a smoke test")
    args = parser.parse_args(argv)
    rounds = 2 if args.quick else 7
    width, height = (1200, 800) if args.quick else (6000, 4000)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "photo.jpg"
        path.write_bytes(photo(width, height))
        size_mb = path.stat().st_size / 1e6
        times = {"draft": [], "full": []}
        rss = {"draft": [], "full": [], "idle": []}
        for _ in range(rounds):  # alternate, so both see the same machine
            for mode in ("full", "draft"):
                seconds, peak = run(ONE, path, mode)
                times[mode].append(seconds)
                rss[mode].append(peak)
            rss["idle"].append(run(IDLE, path, "idle")[1])
    mp = width * height / 1e6
    full, draft = median(times["full"]), median(times["draft"])
    rows = [
        ["full decode, then 1280 and 320 px", f"{full * 1000:.0f}", f"{median(rss['full']):.0f}",
         f"{median(rss['full']) - median(rss['idle']):.0f}", "baseline"],
        ["draft decode (libjpeg scaled), then 1280 and 320 px", f"{draft * 1000:.0f}", f"{median(rss['draft']):.0f}",
         f"{median(rss['draft']) - median(rss['idle']):.0f}", f"{full / draft:.1f}x as fast"],
    ]
    report = (f"Thumbnails of a {mp:.0f} MP JPEG ({size_mb:.1f} MB), median of {rounds} fresh processes "
              f"({machine()})\n\n" + table(["decode", "ms", "peak RSS MB", "over idle MB", "ratio"], rows))

    side = (480, 320) if args.quick else (2000, 1500)
    images = [("JPEG 12 MP", photo(4000, 3000) if not args.quick else photo(800, 600)),
              ("PNG", photo(*side, fmt="PNG")), ("WebP", photo(*side, fmt="WEBP")),
              ("GIF", photo(*side, fmt="GIF")), ("HEIC", photo(*side, fmt="HEIF"))]
    rate, made = mixed_rate(images, 1 if args.quick else 20)
    report += (f"\n\nMixed set ({', '.join(name for name, _ in images)}; others {side[0]}x{side[1]}), one process: "
               f"{rate:.1f} thumbnails per CPU-second per core ({made} made)")

    sweep = by_file_size(width, height, 2 if args.quick else 3)
    report += (f"\n\nThe same {mp:.0f} MP at several file sizes, one process, best of {2 if args.quick else 3}\n\n"
               + table(["file MB", "bits per pixel", "full ms", "draft ms", "ratio"], sweep))
    print(report)
    return report


if __name__ == "__main__":
    main()
