"""``python -m bench.serve module:app PORT``: serve an app on loopback in one process, and answer
``GET /__bench/usage`` with this process's CPU time and peak RSS (for the benchmarks only)."""

import importlib
import json
import logging
import resource
import sys
import time

from werkzeug.serving import run_simple


def peak_rss_mb() -> float:
    """This process's own high-water mark. (ru_maxrss is no good here: Linux carries the
    parent's peak across fork and exec, so a small server started by a big parent looks big.)"""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def with_usage(app):
    def wrapped(environ, start_response):
        if environ.get("PATH_INFO") == "/__bench/usage":
            body = json.dumps({"cpu": time.process_time(), "peak_rss_mb": peak_rss_mb()}).encode()
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]
        return app(environ, start_response)

    return wrapped


def main() -> None:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    logging.getLogger("mediahub.access").disabled = True
    module, _, name = sys.argv[1].partition(":")
    app = getattr(importlib.import_module(module), name)
    run_simple("127.0.0.1", int(sys.argv[2]), with_usage(app), threaded=False)


if __name__ == "__main__":
    main()
