"""Each benchmark runs on tiny inputs, so none of them rots. (Figures live in the README, not here.)"""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import missing_tool

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("module", "expect"),
    [
        ("bench.upload_cost", "| A: app CPU ms |"),
        ("bench.signing", "signed CloudFront links/s"),
        ("bench.cold_start", "Mediahub zip as deployed"),
        ("bench.throughput", "POST /api/uploads"),
        ("bench.thumbnails", "draft decode (libjpeg scaled)"),
        ("bench.processing", "peak over idle MB"),
        ("bench.multipart_cost", "parts"),
        ("bench.resumable", "bytes sent, 1 s cut at 50 %"),
        ("bench.transfers", "Chromium memory growth"),
    ],
)
def test_benchmark_runs(module, expect):
    if module == "bench.throughput" and shutil.which("wrk") is None:
        missing_tool("wrk is not installed (make test installs it as root)")
    if module in ("bench.resumable", "bench.transfers") and not Path("/usr/bin/chromium").exists():
        missing_tool("no browser at /usr/bin/chromium (make test installs it as root)")
    ran = subprocess.run([sys.executable, "-m", module, "--quick"], cwd=ROOT, capture_output=True, text=True,
                         timeout=600)
    assert ran.returncode == 0, ran.stdout[-2000:] + ran.stderr[-3000:]
    assert expect in ran.stdout
