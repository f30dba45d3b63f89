"""Processing fits its function: the issue's case, a flat 7000x7000 RGBA PNG (49 MP when decoded,
a few hundred kB on disk), processed in a fresh process within the memory budget set for every
format (bench/processing.py measures each; the README has the table). Memory, not time: a
figure that does not depend on how busy the machine is."""

from __future__ import annotations

import io
import subprocess
import sys

from PIL import Image

from bench.processing import BUDGET_MB, ONE
from tests.bench.test_smoke import ROOT


def test_a_49_mp_rgba_png_processes_within_the_limits(tmp_path):
    path = tmp_path / "flat.png"
    out = io.BytesIO()
    Image.new("RGBA", (7000, 7000), (30, 90, 200, 128)).save(out, "PNG")
    path.write_bytes(out.getvalue())
    assert path.stat().st_size < 1_000_000
    ran = subprocess.run([sys.executable, "-c", ONE, str(path), "image/png"], cwd=ROOT, capture_output=True,
                         text=True, timeout=300)
    assert ran.returncode == 0, ran.stderr[-2000:]
    import json

    result = json.loads(ran.stdout.strip().splitlines()[-1])
    assert result["state"] == "ready"
    assert sorted(name for name, _ in result["made"]) == ["clean.png", "thumb-1280.jpg", "thumb-320.jpg"]
    assert result["peak"] - result["idle"] <= BUDGET_MB, result
