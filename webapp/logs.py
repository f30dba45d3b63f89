"""Structured logs and CloudWatch metrics, through aws-lambda-powertools.

Logs: one JSON line per request or event, written by powertools' ``Logger``. Routes are
logged as their rule (``/s/<token>``), never as the path, so no token or key ever reaches
a log. Metrics: CloudWatch embedded metric format (EMF), one JSON line on stdout that
CloudWatch Logs turns into metrics, so no API call and no extra permission. On in AWS
(``MEDIAHUB_METRICS``, default true outside local mode), off in local mode.
"""

from __future__ import annotations

import functools
import logging
import sys
import time
import uuid

from flask import Flask, g, request

NAMESPACE = "Mediahub"
SERVICE = "mediahub"
_metrics_on = False


class _StdoutHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stdout`` is at the time (Lambda and test runners swap it)."""

    @property
    def stream(self):
        return sys.stdout

    @stream.setter
    def stream(self, value):
        pass


@functools.cache
def _logger():
    from aws_lambda_powertools import Logger

    # Its own handler, level and no propagation: Zappa's access log (which carries paths)
    # stays off at the function's log level while these lines are written.
    logger = Logger(service=SERVICE, level="INFO", logger_handler=_StdoutHandler(), utc=True)
    logging.getLogger(SERVICE).propagate = False  # Lambda's root handler would write each line twice
    return logger


def emit(message: str, **fields) -> None:
    """One JSON log line; ``fields`` must never hold a token, key, path or file name."""
    _logger().info(message, extra=fields)


def setup(metrics: bool) -> None:
    global _metrics_on
    _metrics_on = metrics
    _logger()


def count(name: str, value: float = 1, *, unit: str = "Count", **dimensions: str) -> None:
    """One CloudWatch metric in EMF (say ``count("Refusals", code="file_too_large")``)."""
    if not _metrics_on:
        return
    from aws_lambda_powertools.metrics import MetricUnit, single_metric

    with single_metric(name=name, unit=MetricUnit(unit), value=value, namespace=NAMESPACE,
                       default_dimensions={"service": SERVICE}) as metric:
        for dimension, dimension_value in dimensions.items():
            metric.add_dimension(name=dimension, value=str(dimension_value))


def log_exception(app: Flask, exc_info) -> None:
    """Flask's own line names ``request.path`` (``/manage/<id>/<token>``): name the rule."""
    route = request.url_rule.rule if request.url_rule else "(no route)"
    app.logger.error("Exception on %s [%s]", route, request.method, exc_info=exc_info)


def register(app: Flask) -> None:
    app.log_exception = functools.partial(log_exception, app)

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
            "request",
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
        emit("event", **self.fields)
        return False
