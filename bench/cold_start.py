"""Cold start: a fresh process that imports the app and serves its first page (the upload
page), against a minimal Flask app that imports boto3, and one that also makes the S3 client
and a POST URL as the upload page does (its CSP names the storage origin botocore resolves).
Runs alternate, so all see the same machine.

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


MINIMAL_WITH_CLIENT = MINIMAL.replace(
    "import boto3\n",
    "import boto3\n"
    "boto3.client('s3', region_name='us-east-1').generate_presigned_post('bucket', 'key', ExpiresIn=60)\n",
)


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
    ours, minimal, with_client = [], [], []
    with aws_stack(cdn=True) as (_, env):
        env = {**env, "MEDIAHUB_SITE_URL": "https://media.example.com"}
        for _ in range(rounds):
            minimal.append(once(MINIMAL, env))
            with_client.append(once(MINIMAL_WITH_CLIENT, env))
            ours.append(once(OURS, env))
    rows = [
        ["minimal Flask app importing boto3", f"{median(minimal) * 1000:.0f}", "baseline"],
        ["minimal Flask app making an S3 client and a POST URL", f"{median(with_client) * 1000:.0f}",
         f"{median(with_client) / median(minimal):.2f}x"],
        ["Mediahub: import wsgi + first GET /", f"{median(ours) * 1000:.0f}", f"{median(ours) / median(minimal):.2f}x"],
    ]
    report = f"Cold start, median of {rounds} fresh processes ({machine()})\n\n" + table(["process", "ms", "ratio"], rows)
    print(report)
    return report


if __name__ == "__main__":
    main()
