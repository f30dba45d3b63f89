"""Server cost per upload: our direct-to-S3 flow (A) against the classic proxy upload (B).

Both apps run in their own process against the same local S3 (moto's server). For A the
app signs a policy and checks the object; the bytes go from this script straight to S3.
For B the bytes go through the app, which puts them to S3 with boto3. Reported: the app
process's CPU milliseconds per upload and its peak RSS, and B/A.

    python -m bench.upload_cost [--quick]
"""

from __future__ import annotations

import argparse
import os
import re

import requests

from bench.common import aws_stack, machine, median, serve, table, usage

SIZES = [1_000_000, 16_000_000, 128_000_000]
QUICK_SIZES = [64_000, 256_000]


def payload(size: int) -> bytes:
    header = b"\x89PNG\r\n\x1a\n"
    return header + os.urandom(size - len(header))


class Browser:
    """A visitor who has the upload page open: session cookie and CSRF token in hand."""

    def __init__(self, base: str):
        self.session = requests.Session()
        page = self.session.get(base + "/", timeout=30).text
        self.headers = {"X-CSRFToken": re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)}


def direct_upload(base: str, data: bytes, browser: Browser) -> None:
    session, headers = browser.session, browser.headers
    policy = session.post(base + "/api/uploads", headers=headers, timeout=30, json={
        "filename": "bench.png", "content_type": "image/png", "size": len(data)}).json()
    sent = requests.post(policy["url"], data=policy["fields"], files={"file": ("bench.png", data, "image/png")},
                         timeout=600)
    assert sent.status_code == 201, sent.text[:200]
    done = session.post(f"{base}/api/uploads/{policy['upload_id']}/complete", headers=headers, timeout=60)
    assert done.status_code == 201, done.text[:200]


def proxy_upload(base: str, data: bytes, browser: Browser) -> None:
    answer = requests.post(base + "/upload", files={"file": ("bench.png", data, "image/png")}, timeout=600)
    assert answer.status_code == 201, answer.text[:200]


def measure(app_path: str, env: dict, upload, data: bytes, runs: int) -> tuple[float, float]:
    """Median app CPU ms per upload, and the process's peak RSS (MB), in a fresh process."""
    with serve(app_path, env) as base:
        browser = Browser(base) if upload is direct_upload else None
        upload(base, data, browser)  # warm: first template, clients
        samples = []
        for _ in range(runs):
            before = usage(base)["cpu"]
            upload(base, data, browser)
            samples.append((usage(base)["cpu"] - before) * 1000)
        return median(samples), usage(base)["peak_rss_mb"]


def main(argv=None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny files, one run: a smoke test")
    args = parser.parse_args(argv)
    sizes, runs = (QUICK_SIZES, 1) if args.quick else (SIZES, 9)
    rows = []
    with aws_stack() as (_, env):
        for size in sizes:
            data = payload(size)
            a_cpu, a_rss = measure("wsgi:app", env, direct_upload, data, runs)
            b_cpu, b_rss = measure("bench.proxy_app:app", env, proxy_upload, data, max(1, runs // 3))
            rows.append([f"{size / 1e6:g} MB", f"{a_cpu:.1f}", f"{a_rss:.0f}", f"{b_cpu:.1f}", f"{b_rss:.0f}",
                         f"{b_cpu / a_cpu:.1f}x" if a_cpu else "n/a"])
    flat = [float(r[1]) for r in rows]
    spread = (max(flat) - min(flat)) / median(flat) * 100 if median(flat) else 0
    report = (f"Server cost per upload ({machine()})\n\n"
              + table(["file", "A: app CPU ms", "A: peak RSS MB", "B: app CPU ms", "B: peak RSS MB", "B/A CPU"], rows)
              + f"\n\nA's CPU per upload varies by {spread:.0f} % across sizes.")
    print(report)
    return report


if __name__ == "__main__":
    main()
