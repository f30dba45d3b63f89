"""Server cost of a large upload in parts against a small one in one POST.

One app process (gunicorn, one sync worker) against moto in a process of its own. Interleaved
round after round: a 1 MB file through the POST policy, and a 1 GiB file in parts (8 MiB
parts, signed in batches of up to 100, each part's SHA-256 pinned in its URL, four parts in
flight from this script straight to storage, completion joining them from storage's own list).
Reported: the app process's CPU milliseconds per upload, with the probe's own cost taken off
(as in bench/upload_cost.py), and the ratio.

    python -m bench.multipart_cost [--quick]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
from concurrent.futures import ThreadPoolExecutor

import requests

from bench.common import aws_stack, machine, median, serve, table, usage
from bench.upload_cost import Browser, direct_upload, payload, probe_cost
from webapp.parts import MIB, PARTS_IN_FLIGHT

GIB = 1024**3
SIZES = (1_000_000, 1 * GIB)
QUICK_SIZES = (64_000, 24 * MIB)
THRESHOLD = 16 * MIB
BATCH = 100


class Parts:
    """The bytes of a large file without holding it: a PNG header, then the same random block."""

    def __init__(self, size: int, part_size: int):
        self.size, self.part_size = size, part_size
        block = os.urandom(part_size)
        self.first = b"\x89PNG\r\n\x1a\n" + block[8:]
        self.block = block
        self._digests: dict[tuple[int, int], str] = {}

    def data(self, number: int) -> bytes:
        length = min(self.part_size, self.size - (number - 1) * self.part_size)
        return (self.first if number == 1 else self.block)[:length]

    def checksum(self, number: int) -> str:
        data = self.data(number)
        key = (number == 1, len(data))
        if key not in self._digests:
            self._digests[key] = base64.b64encode(hashlib.sha256(data).digest()).decode()
        return self._digests[key]


def multipart_upload(base: str, size: int, browser: Browser, pool: ThreadPoolExecutor) -> int:
    """One upload in parts, as the page makes it; the number of parts the app planned."""
    session, headers = browser.session, browser.headers
    started = session.post(base + "/api/uploads", headers=headers, timeout=30, json={
        "filename": "bench.png", "content_type": "image/png", "size": size}).json()
    assert started["method"] == "multipart", started
    parts = Parts(size, started["part_size"])
    upload = f"{base}/api/uploads/{started['upload_id']}"
    numbers = list(range(1, started["part_count"] + 1))
    storage = requests.Session()

    def put(part: dict) -> None:
        answer = storage.put(part["url"], data=parts.data(part["number"]), headers=part["headers"], timeout=600)
        assert answer.status_code == 200, answer.text[:200]

    for start in range(0, len(numbers), BATCH):
        batch = [{"number": n, "checksum": parts.checksum(n)} for n in numbers[start:start + BATCH]]
        signed = session.post(upload + "/parts", headers=headers, json={"parts": batch}, timeout=30).json()
        list(pool.map(put, signed["parts"]))
    done = session.post(upload + "/complete", headers=headers, timeout=600)
    assert done.status_code == 201, done.text[:200]
    return started["part_count"]


def main(argv=None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small files, one run: a smoke test")
    args = parser.parse_args(argv)
    (small, large), runs = (QUICK_SIZES, 1) if args.quick else (SIZES, 3)
    threshold = min(THRESHOLD, large // 2)
    data = payload(small)
    with aws_stack() as (_, env):
        # moto joins a 1 GiB upload's parts on its disk, which takes longer than the app's
        # read timeout for a stand-in allows (S3 answers while it works): the longest the app accepts,
        # in one attempt (a retry of 20 s would outlast API Gateway's 29 s, which the settings refuse).
        env = {**env, "MEDIAHUB_MAX_UPLOAD_BYTES": str(2 * large), "MEDIAHUB_MULTIPART_THRESHOLD": str(threshold),
               "MEDIAHUB_AWS_READ_TIMEOUT": "20", "MEDIAHUB_AWS_MAX_ATTEMPTS": "1"}
        with serve("wsgi:app", env) as base, ThreadPoolExecutor(PARTS_IN_FLIGHT) as pool:
            browser = Browser(base)
            direct_upload(base, data, browser)  # warm: first template, clients
            multipart_upload(base, threshold + 1, browser, pool)
            probe = probe_cost(base)
            samples: dict[str, list[float]] = {"post": [], "multipart": []}
            for _ in range(runs):
                before = usage(base)["cpu"]
                direct_upload(base, data, browser)
                samples["post"].append((usage(base)["cpu"] - before) * 1000 - probe)
                before = usage(base)["cpu"]
                parts = multipart_upload(base, large, browser, pool)
                samples["multipart"].append((usage(base)["cpu"] - before) * 1000 - probe)
    post, multipart = median(samples["post"]), median(samples["multipart"])
    shown = f"{large / GIB:g} GiB" if large >= GIB else f"{large / MIB:g} MiB"
    rows = [[f"{small / 1e6:g} MB, one POST", f"{post:.1f}", "baseline"],
            [f"{shown}, {parts} parts", f"{multipart:.1f}", f"{multipart / post:.2f}x"]]
    report = (f"Server cost of an upload in parts ({machine()})\n\n"
              + table(["upload", "app CPU ms", "ratio"], rows)
              + f"\n\nMedians of {runs} interleaved runs; parts signed in batches of up to {BATCH}.")
    print(report)
    return report


if __name__ == "__main__":
    main()
