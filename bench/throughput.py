"""Throughput under gunicorn (2 workers) on loopback: POST /api/uploads against a bare JSON
endpoint of the same app (/api/health), measured with wrk, bounded in time.

    python -m bench.throughput [--quick]
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import tempfile

import requests

from bench.common import aws_stack, machine, serve, table

POST_SCRIPT = """
wrk.method = "POST"
wrk.body = '{"filename": "photo.png", "content_type": "image/png", "size": 250000, "name": "Bench"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-CSRFToken"] = "%(csrf)s"
wrk.headers["Cookie"] = "mediahub_session=%(cookie)s"
"""


def run_wrk(url: str, seconds: int, connections: int, script: str | None = None) -> dict:
    command = ["wrk", "--latency", "-t", "2", "-c", str(connections), "-d", f"{seconds}s", "--timeout", "10s"]
    if script:
        command += ["-s", script]
    output = subprocess.run(command + [url], capture_output=True, text=True, timeout=seconds + 60).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    latencies = dict(re.findall(r"^\s+(50|99)%\s+([\d.]+\w+)", output, re.M))
    return {"rate": rate, "p50": latencies.get("50", "?"), "p99": latencies.get("99", "?"),
            "errors": int(errors.group(1)) if errors else 0}


def main(argv=None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one second each: a smoke test")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk (make test installs it as root)")
    seconds, connections = (1, 4) if args.quick else (10, 16)
    with aws_stack() as (_, env), serve("wsgi:app", env, workers=2) as base:
        session = requests.Session()
        page = session.get(base + "/", timeout=10).text
        csrf = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
        session.post(base + "/api/uploads", headers={"X-CSRFToken": csrf}, timeout=10,
                     json={"filename": "a.png", "content_type": "image/png", "size": 1})  # sets the uploader id
        cookie = session.cookies.get("mediahub_session")
        with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
            script.write(POST_SCRIPT % {"csrf": csrf, "cookie": cookie})
            script.flush()
            bare = run_wrk(base + "/api/health", seconds, connections)
            upload = run_wrk(base + "/api/uploads", seconds, connections, script.name)
    if upload["errors"] or bare["errors"]:
        raise SystemExit(f"errors under load: uploads {upload['errors']}, health {bare['errors']}")
    rows = [
        ["GET /api/health (bare JSON)", f"{bare['rate']:.0f}", bare["p50"], bare["p99"], "baseline"],
        ["POST /api/uploads (validate, sign claim and policy)", f"{upload['rate']:.0f}", upload["p50"], upload["p99"],
         f"{upload['rate'] / bare['rate']:.0%}"],
    ]
    report = (f"Throughput, gunicorn 2 workers, wrk {connections} connections for {seconds} s ({machine()})\n\n"
              + table(["endpoint", "requests/s", "p50", "p99", "of bare"], rows))
    print(report)
    return report


if __name__ == "__main__":
    main()
