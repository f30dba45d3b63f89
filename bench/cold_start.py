"""Cold start: a fresh process that imports the app and serves its first page, against a
minimal Flask app that imports boto3. Runs alternate, so both see the same machine.

    python -m bench.cold_start [--quick]
"""

from __future__ import annotations

import argparse
import subprocess
import sys

from bench.common import ROOT, aws_stack, machine, median, table

OURS = """
import time
started = time.perf_counter()
import wsgi
assert wsgi.app.test_client().get("/").status_code == 200
print(time.perf_counter() - started)
"""

MINIMAL = """
import time
started = time.perf_counter()
import boto3
from flask import Flask
app = Flask(__name__)
@app.get("/")
def index():
    return "<!doctype html><title>Hello</title><p>Hello"
assert app.test_client().get("/").status_code == 200
print(time.perf_counter() - started)
"""


def once(code: str, env: dict) -> float:
    ran = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    if ran.returncode != 0:
        raise RuntimeError(ran.stderr[-2000:])
    return float(ran.stdout.strip().splitlines()[-1])


def main(argv=None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="two rounds: a smoke test")
    args = parser.parse_args(argv)
    rounds = 2 if args.quick else 15
    ours, minimal = [], []
    with aws_stack(cdn=True) as (_, env):
        env = {**env, "MEDIAHUB_SITE_URL": "https://media.example.com"}
        for _ in range(rounds):
            minimal.append(once(MINIMAL, env))
            ours.append(once(OURS, env))
    rows = [
        ["minimal Flask app importing boto3", f"{median(minimal) * 1000:.0f}", "baseline"],
        ["Mediahub: import wsgi + first GET /", f"{median(ours) * 1000:.0f}", f"{median(ours) / median(minimal):.2f}x"],
    ]
    report = f"Cold start, median of {rounds} fresh processes ({machine()})\n\n" + table(["process", "ms", "ratio"], rows)
    print(report)
    return report


if __name__ == "__main__":
    main()
