"""The upload page in Chromium, through a link we control (bench/shaping_proxy.py):

- bytes sent in all when the connection drops for 5 s half-way through a 64 MiB upload in
  parts (the aim: at most the file and two parts);
- goodput through a rate-limited link: the file's size over the time its bytes took to pass,
  and over the time from pressing Upload to the result page, against the link's rate (the aim:
  90 % or more).

The site runs under gunicorn against moto in a process of its own; presigned URLs point at the
proxy, so only the browser's traffic to storage is shaped.

    python -m bench.resumable [--quick]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time
from pathlib import Path

from bench.common import aws_stack, free_port, machine, running, table
from bench.shaping_proxy import ShapingProxy
from webapp.parts import MIB, PARTS_IN_FLIGHT, plan_parts

CHROMIUM = os.environ.get("MEDIAHUB_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
PART_BYTES = 8 * MIB
THRESHOLD = 8 * MIB
PROGRESS = """() => {
  const [file] = window.mediahubUppy.getFiles();
  return file ? file.progress.bytesUploaded / file.progress.bytesTotal : 0;
}"""


def upload(page, site: str, path: Path, proxy: ShapingProxy, cut_at: float | None, cut_seconds: float) -> float:
    """One file through the page; the seconds from pressing Upload to the result page."""
    page.goto(site + "/")
    page.locator(".uppy-Dashboard-input").first.set_input_files(str(path))
    page.locator(".uppy-Dashboard-Item").first.wait_for()
    proxy.reset()
    started = time.monotonic()
    page.locator(".uppy-StatusBar-actionBtn--upload").click()
    if cut_at is not None:
        while page.evaluate(PROGRESS) < cut_at:
            page.wait_for_timeout(50)
        threading.Thread(target=proxy.cut, args=(cut_seconds,), daemon=True).start()
    page.wait_for_url(site + "/media/*", timeout=600_000)
    return time.monotonic() - started


def main(argv=None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small file, a short cut: a smoke test")
    args = parser.parse_args(argv)
    size, cut_seconds, rate = (24 * MIB, 1, 16 * MIB) if args.quick else (64 * MIB, 5, 8 * MIB)
    part = plan_parts(size, PART_BYTES).part_size

    from playwright.sync_api import sync_playwright

    from webapp.local import resources
    from webapp.aws.clients import AwsClients
    from webapp.config import Settings

    with tempfile.TemporaryDirectory() as folder, aws_stack() as (settings, env):
        path = Path(folder) / "film.png"
        with open(path, "wb") as out:
            out.write(b"\x89PNG\r\n\x1a\n" + os.urandom(size - 8))
        moto_port = int(settings.aws_endpoint_url.rsplit(":", 1)[1])
        proxy = ShapingProxy(moto_port, rate=rate).start()
        port = free_port()
        site = f"http://127.0.0.1:{port}"
        resources.ensure_bucket(AwsClients(settings).s3, settings.bucket, region=settings.region, cors_origins=[site])
        env = {**env, "MEDIAHUB_AWS_ENDPOINT_URL": proxy.url, "MEDIAHUB_SITE_URL": site,
               "MEDIAHUB_MAX_UPLOAD_BYTES": str(4 * size), "MEDIAHUB_MULTIPART_THRESHOLD": str(THRESHOLD),
               "MEDIAHUB_MULTIPART_PART_BYTES": str(PART_BYTES)}
        command = [os.sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "2",
                   "--threads", "4", "--log-level", "warning", "wsgi:app"]
        with running(command, site + "/api/health", env), sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_context().new_page()
            page.set_default_timeout(60_000)
            cut_total = upload(page, site, path, proxy, cut_at=0.5, cut_seconds=cut_seconds)
            cut_sent = proxy.sent
            page = browser.new_context().new_page()
            page.set_default_timeout(60_000)
            total = upload(page, site, path, proxy, cut_at=None, cut_seconds=0)
            transfer = proxy.last_byte - proxy.first_byte
            sent = proxy.sent
            browser.close()
        proxy.stop()

    extra_parts = (cut_sent - size) / part
    rows = [
        [f"bytes sent, {cut_seconds} s cut at 50 %", f"{cut_sent / MIB:.1f} MiB",
         f"file + {extra_parts:.2f} parts (aim: ≤ 2)", f"{cut_total:.1f} s in all"],
        ["goodput while bytes flow", f"{size / transfer / MIB:.2f} MiB/s",
         f"{size / transfer / rate * 100:.0f} % of {rate / MIB:g} MiB/s (aim: ≥ 90 %)", f"{transfer:.1f} s"],
        ["goodput, Upload to result page", f"{size / total / MIB:.2f} MiB/s",
         f"{size / total / rate * 100:.0f} % of {rate / MIB:g} MiB/s", f"{total:.1f} s; {sent / MIB:.1f} MiB sent"],
    ]
    report = (f"Resumable uploads through a shaped link ({machine()}; {size / MIB:g} MiB file, parts of "
              f"{part / MIB:g} MiB, {PARTS_IN_FLIGHT} in flight)\n\n"
              + table(["measure", "value", "against", "time"], rows))
    print(report)
    return report


if __name__ == "__main__":
    main()
