"""Serve an app for the benchmarks: ``bench.serve:measured('module:app')`` is the app (for
gunicorn), answering ``GET /__bench/usage`` with its worker process's CPU time and peak RSS."""

import importlib
import json
import logging
import resource
import time


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


def measured(app_path: str):
    logging.getLogger("mediahub.access").disabled = True
    module, _, name = app_path.partition(":")
    return with_usage(getattr(importlib.import_module(module), name))
