"""Local mode only: make moto's DynamoDB behave as DynamoDB does under concurrent requests.

moto's ``TransactWriteItems`` deep-copies the tables it touches to roll back on failure.
Any other request changing a table meanwhile breaks the copy ("dictionary changed size
during iteration": a 500, which the app answers as 503), and a rollback would undo that
other request's write. DynamoDB makes every request appear to happen one at a time, so
the stand-in does exactly that: its DynamoDB requests run one after another. Nothing in
the app changes; moto's other services are left alone.
"""

from __future__ import annotations

import functools
import threading

_dynamodb_lock = threading.Lock()


def serialise_dynamodb() -> None:
    """Run moto's DynamoDB requests one at a time (safe to call again)."""
    from moto.dynamodb.responses import DynamoHandler

    original = DynamoHandler.call_action
    if getattr(original, "serialised", False):
        return

    @functools.wraps(original)
    def call_action(self):
        with _dynamodb_lock:
            return original(self)

    call_action.serialised = True
    DynamoHandler.call_action = call_action
