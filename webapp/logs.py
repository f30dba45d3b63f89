"""Structured logs: one JSON line per request or event. Routes are logged as their
rule (``/s/<token>``), never as the path, so no token or key ever reaches a log."""

from __future__ import annotations

import json
import logging
import sys
import time
import uuid

from flask import Flask, g, request

log = logging.getLogger("mediahub.access")


def emit(**fields) -> None:
    log.info(json.dumps(fields, separators=(",", ":"), default=str))


class _StdoutHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stdout`` is at the time (Lambda and test runners swap it)."""

    @property
    def stream(self):
        return sys.stdout

    @stream.setter
    def stream(self, value):
        pass


def setup(level: int = logging.INFO) -> None:
    if not log.handlers:
        handler = _StdoutHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        log.addHandler(handler)
        log.propagate = False
    log.setLevel(level)


def register(app: Flask) -> None:
    @app.before_request
    def start_timer():
        g.started = time.perf_counter()
        g.request_id = request.headers.get("X-Amzn-Request-Id") or request.environ.get(
            "lambda.context.aws_request_id"
        ) or uuid.uuid4().hex

    @app.after_request
    def log_request(response):
        started = g.get("started")
        emit(
            id=g.get("request_id"),
            route=request.url_rule.rule if request.url_rule else "(no route)",
            method=request.method,
            status=response.status_code,
            duration_ms=round((time.perf_counter() - started) * 1000, 2) if started else None,
        )
        return response


class timed_event:
    """``with timed_event("object_created", records=n) as fields: ...`` logs one line on exit."""

    def __init__(self, event: str, **fields):
        self.fields = {"id": uuid.uuid4().hex, "event": event, **fields}

    def __enter__(self) -> dict:
        self.started = time.perf_counter()
        return self.fields

    def __exit__(self, kind, error, traceback) -> bool:
        self.fields.setdefault("status", "error" if error else "ok")
        if error:
            self.fields["error"] = type(error).__name__
        self.fields["duration_ms"] = round((time.perf_counter() - self.started) * 1000, 2)
        emit(**self.fields)
        return False
