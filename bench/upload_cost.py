"""Server cost per upload: our direct-to-S3 flow (A) against the classic proxy upload (B).

Both apps run under gunicorn (one sync worker, so one process does all the app's work) against
the same local S3 (moto's server). For A the app signs a policy and checks the object; the bytes
go from this script straight to S3. For B the bytes go through the app, which puts them to S3
with boto3. Reported: the app
process's CPU milliseconds per upload and its peak RSS, and B/A. The app's CPU is read through
a probe request before and after each upload; what the probe itself costs (measured in the same
process, probe after probe) is taken off.

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


def proxy_upload(base: str, data: bytes) -> None:
    answer = requests.post(base + "/upload", files={"file": ("bench.png", data, "image/png")}, timeout=600)
    assert answer.status_code == 201, answer.text[:200]


def probe_cost(base: str, runs: int = 30) -> float:
    """CPU ms the app spends between two probes with nothing in between: the probe's own share."""
    samples = []
    for _ in range(runs):
        before = usage(base)["cpu"]
        samples.append((usage(base)["cpu"] - before) * 1000)
    return median(samples)


def measure_direct(env: dict, payloads: dict[int, bytes], runs: int) -> tuple[dict[int, float], float]:
    """A: one app process, sizes interleaved round after round, so drift on a shared machine
    cannot pass for a difference between sizes. Median CPU ms per size, and the peak RSS."""
    with serve("wsgi:app", env) as base:
        browser = Browser(base)
        direct_upload(base, next(iter(payloads.values())), browser)  # warm: first template, clients
        probe = probe_cost(base)
        samples: dict[int, list[float]] = {size: [] for size in payloads}
        for _ in range(runs):
            for size, data in payloads.items():
                before = usage(base)["cpu"]
                direct_upload(base, data, browser)
                samples[size].append((usage(base)["cpu"] - before) * 1000 - probe)
        return {size: median(values) for size, values in samples.items()}, usage(base)["peak_rss_mb"]


def measure_proxy(env: dict, data: bytes, runs: int) -> tuple[float, float]:
    """B: a fresh process per size, so its peak RSS belongs to that size."""
    with serve("bench.proxy_app:app", env) as base:
        proxy_upload(base, data)  # warm
        probe = probe_cost(base)
        samples = []
        for _ in range(runs):
            before = usage(base)["cpu"]
            proxy_upload(base, data)
            samples.append((usage(base)["cpu"] - before) * 1000 - probe)
        return median(samples), usage(base)["peak_rss_mb"]


def main(argv=None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny files, one run: a smoke test")
    args = parser.parse_args(argv)
    sizes, runs = (QUICK_SIZES, 1) if args.quick else (SIZES, 9)
    payloads = {size: payload(size) for size in sizes}
    rows = []
    with aws_stack() as (_, env):
        # Every size here goes in one POST, as it measures that path (bench/multipart_cost.py
        # measures parts); the default threshold would send 128 MB in parts.
        env = {**env, "MEDIAHUB_MULTIPART_THRESHOLD": str(max(payloads) + 1)}
        a_cpu, a_rss = measure_direct(env, payloads, runs)
        for size, data in payloads.items():
            b_cpu, b_rss = measure_proxy(env, data, max(1, runs // 3))
            rows.append([f"{size / 1e6:g} MB", f"{a_cpu[size]:.1f}", f"{b_cpu:.1f}", f"{b_rss:.0f}",
                         f"{b_cpu / a_cpu[size]:.1f}x" if a_cpu[size] else "n/a"])
    flat, middle = list(a_cpu.values()), median(a_cpu.values())
    deviation = max(abs(value - middle) for value in flat) / middle * 100 if middle else 0
    spread = (max(flat) - min(flat)) / middle * 100 if middle else 0
    report = (f"Server cost per upload ({machine()})\n\n"
              + table(["file", "A: app CPU ms", "B: app CPU ms", "B: peak RSS MB", "B/A CPU"], rows)
              + f"\n\nA's CPU per upload stays within ±{deviation:.0f} % of its median across sizes (largest to "
              f"smallest: {spread:.0f} %); A's peak RSS over all of them: {a_rss:.0f} MB.")
    print(report)
    return report


if __name__ == "__main__":
    main()
