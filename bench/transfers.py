"""Transfers in Chromium, against the site in local mode (moto's server, the CloudFront stand-in):

- a transfer of 50 files: its share page's render time on the server and the bytes Chromium
  loads for it at 1280x800 (thumbnails below the fold are lazy), against a transfer of one file
  measured in the same run (the aim: at most 3x the bytes);
- **Download all** of 1 GiB (8 files) through bench/shaping_proxy.py in front of the CDN at
  8 MiB/s: the zip's goodput against the link's rate (the aim: 90 % or more), and how much
  Chromium's memory grows while it streams, from Chromium's own metrics (CDP
  ``Performance.getMetrics``: the page's JS heap) and from the resident memory of all of its
  processes (the aim: under 100 MB).

The service worker's path is measured (what Chromium uses: the zip streams to its download
manager); its growth is sampled from /proc every half second for this run's browser processes,
and the page's JS heap is read before and after through CDP.

    python -m bench.transfers [--quick]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import threading
import time
from pathlib import Path

import requests
from werkzeug.serving import make_server

from bench.common import SECRET, free_port, machine, table
from bench.shaping_proxy import ShapingProxy

MIB = 1024 * 1024
CHROMIUM = os.environ.get("MEDIAHUB_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)">')


def png(n: int, size: int = 6000) -> bytes:
    from tests.support import png_bytes

    return png_bytes(width=40 + n % 7, height=30 + n % 5, padding=size)


def send(site: str, files: list[tuple[str, str, bytes]]) -> str:
    """One transfer through the site's API, as the upload page sends it; answers its share link."""
    from tests.support import post_to_storage

    session = requests.Session()
    csrf = CSRF.search(session.get(site + "/", timeout=30).text).group(1)
    headers = {"X-CSRFToken": csrf}
    transfer = session.post(site + "/api/transfers", json={}, headers=headers, timeout=30).json()["transfer_id"]
    for filename, content_type, data in files:
        started = session.post(site + "/api/uploads", headers=headers, timeout=60, json={
            "filename": filename, "content_type": content_type, "size": len(data), "transfer_id": transfer}).json()
        assert post_to_storage(started, data, filename, content_type).status_code == 201
        done = session.post(f"{site}/api/uploads/{started['upload_id']}/complete", headers=headers, timeout=120)
        assert done.status_code == 201, done.text
    finished = session.post(f"{site}/api/transfers/{transfer}/finish", headers=headers, timeout=60).json()
    return finished["transfer"]["links"]["share"]


def page_costs(browser, share: str, rounds: int) -> dict:
    """Server render time (median of ``rounds``), HTML bytes, and what Chromium loads for it."""
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        html = requests.get(share, timeout=30).content
        times.append(time.perf_counter() - started)
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    finished = []
    page.on("requestfinished", lambda request: finished.append(request))
    page.goto(share, wait_until="load")
    at_load = len(finished)
    page.wait_for_load_state("networkidle")
    loaded = {"bytes": 0, "images": 0, "load_bytes": 0}
    for n, request in enumerate(finished):
        sizes = request.sizes()
        size = sizes["responseBodySize"] + sizes["responseHeadersSize"]
        loaded["bytes"] += size
        loaded["load_bytes"] += size if n < at_load else 0
        loaded["images"] += request.resource_type == "image" and request.redirected_to is None
    context.close()
    return {"render": statistics.median(times), "html": len(html), **loaded}


def chromium_rss(root_pid: int | None = None) -> float:
    """Resident bytes of this run's Chromium: every process descended from this one (Playwright's
    driver, the browser and its children), from /proc; other programs' browsers are not counted."""
    parents, rss = {}, {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        parent = re.search(r"PPid:\s+(\d+)", status)
        found = re.search(r"VmRSS:\s+(\d+) kB", status)
        parents[int(entry.name)] = int(parent.group(1)) if parent else 0
        rss[int(entry.name)] = int(found.group(1)) * 1024 if found else 0
    mine, root = 0, root_pid or os.getpid()
    for pid in parents:
        ancestor = parents.get(pid)
        while ancestor and ancestor != root:
            ancestor = parents.get(ancestor)
        if ancestor == root:
            mine += rss[pid]
    return mine


def download_all(browser, share: str, proxy: ShapingProxy) -> dict:
    """Download all as Chromium does it (the service worker streams the zip to the download
    manager), sampling memory until the download manager has the whole zip."""
    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(1_800_000)
    page.goto(share)
    cdp = context.new_cdp_session(page)
    cdp.send("Performance.enable")

    def heap() -> float:
        return {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}["JSHeapTotalSize"]

    page.wait_for_timeout(1000)
    heap_before, rss = heap(), [chromium_rss()]
    done = threading.Event()

    def sample() -> None:  # /proc only: Playwright's objects stay on the main thread
        while not done.wait(0.5):
            rss.append(chromium_rss())

    proxy.reset()
    started = time.monotonic()
    with page.expect_download() as saved:
        page.get_by_role("button", name="Download all").click()
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    path = saved.value.path()
    total = time.monotonic() - started
    done.set()
    sampler.join()
    rss.append(chromium_rss())
    heap_after = heap()
    written = os.path.getsize(path)
    context.close()
    return {"total": total, "flowing": proxy.last_byte - proxy.first_byte, "sent": proxy.sent, "written": written,
            "heap": (heap_after - heap_before) / 1e6, "rss": (max(rss) - rss[0]) / 1e6}


def main(argv=None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small files, a fast link: a smoke test")
    args = parser.parse_args(argv)
    count, file_size, rate, many, rounds = ((4, 4 * MIB, 32 * MIB, 8, 3) if args.quick
                                            else (8, 128 * MIB, 8 * MIB, 50, 20))

    from playwright.sync_api import sync_playwright

    from webapp import create_app, prepare_local_resources
    from webapp.config import LOCAL_AWS_TIMEOUTS, Settings
    from webapp.local import stack

    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    port = free_port()
    site = f"http://127.0.0.1:{port}"
    settings = Settings(secret_key=SECRET, local_mode=True, aws_endpoint_url=stack.local_endpoint(), site_url=site,
                        max_upload_bytes=file_size + MIB, multipart_threshold=4 * 1024 ** 3, uploads_per_hour=0,
                        upload_bytes_per_day=0, **LOCAL_AWS_TIMEOUTS)
    prepare_local_resources(settings)
    settings = stack.with_local_cdn(settings)
    cdn_port = int(settings.cdn_url.rsplit(":", 1)[1])
    proxy = ShapingProxy(cdn_port, rate=rate, download=True).start()
    app = create_app(settings.with_overrides(cdn_url=proxy.url))
    server = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        one = send(site, [("picture-0.png", "image/png", png(0))])
        fifty = send(site, [(f"picture-{n}.png", "image/png", png(n)) for n in range(many)])
        big = send(site, [(f"part-{n}.pdf", "application/pdf", b"%PDF-1.7\n" + os.urandom(file_size - 9))
                          for n in range(count)])
        proxy.rate = None  # the pages' thumbnails load unshaped
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            single, batch = page_costs(browser, one, rounds), page_costs(browser, fifty, rounds)
            proxy.rate = rate
            zipped = download_all(browser, big, proxy)
            browser.close()
    finally:
        server.shutdown()
        proxy.stop()

    size = count * file_size
    rows = [
        ["share page, 1 file", f"{single['render'] * 1000:.1f} ms", f"{single['html'] / 1000:.1f} kB",
         f"{single['load_bytes'] / 1000:.1f} kB", f"{single['bytes'] / 1000:.1f} kB, {single['images']} pictures",
         "baseline"],
        [f"share page, {many} files", f"{batch['render'] * 1000:.1f} ms", f"{batch['html'] / 1000:.1f} kB",
         f"{batch['load_bytes'] / 1000:.1f} kB", f"{batch['bytes'] / 1000:.1f} kB, {batch['images']} pictures",
         f"{batch['load_bytes'] / single['load_bytes']:.1f}x the bytes at load (aim: ≤ 3x), "
         f"{batch['bytes'] / single['bytes']:.1f}x once idle"],
    ]
    goodput = size / zipped["flowing"]
    download_rows = [
        ["goodput while bytes flow", f"{goodput / MIB:.2f} MiB/s",
         f"{goodput / rate * 100:.0f} % of {rate / MIB:g} MiB/s (aim: ≥ 90 %)", f"{zipped['flowing']:.1f} s"],
        ["Download all, click to saved", f"{size / zipped['total'] / MIB:.2f} MiB/s",
         f"{size / zipped['total'] / rate * 100:.0f} % of the link", f"{zipped['total']:.1f} s; zip {zipped['written'] / MIB:.1f} MiB"],
        ["Chromium memory growth, peak, all its processes (RSS)", f"{zipped['rss']:.0f} MB", "aim: < 100 MB", ""],
        ["page JS heap, after against before (CDP Performance.getMetrics)", f"{zipped['heap']:+.1f} MB", "", ""],
    ]
    report = (f"Transfers in Chromium ({machine()})\n\n"
              + table(["page", "server render (median)", "HTML", "Chromium at 1280x800: by load", "once idle",
                       "against"], rows)
              + f"\n\nDownload all of {size / MIB:g} MiB ({count} files) through a {rate / MIB:g} MiB/s link\n\n"
              + table(["measure", "value", "against", "time"], download_rows))
    print(report)
    return report


if __name__ == "__main__":
    main()
