"""Runs inside the unzipped Lambda package, with no site-packages: calls its handler.

Usage: python -S lambda_driver.py PACKAGE_DIR EVENTS_JSON RESULTS_JSON

Writes ``{"results": [one per event], "seconds": [...], "modules": {name: file}}`` to
RESULTS_JSON, so that stdout and stderr hold only what the package itself writes (on Lambda: its
CloudWatch logs). An event ``{"driver": "signal", "file": F}`` is not the handler's: the driver
writes ``F.ready`` and waits for ``F.done``, so the test can change the world between two events
of the same process (e.g. AWS coming back).
"""

import json
import os
import sys
import time


class Context:
    aws_request_id = "local-request"
    function_name = "mediahub-dev"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:mediahub-dev"

    @staticmethod
    def get_remaining_time_in_millis():
        return 30_000


def main() -> None:
    package, events_file, results_file = sys.argv[1:4]
    sys.path.insert(0, package)
    import handler  # the package's own entry point, as Lambda imports it

    results, seconds = [], []
    with open(events_file) as events:
        for event in json.load(events):
            started = time.monotonic()
            if event.get("driver") == "signal":
                open(event["file"] + ".ready", "w").close()
                while not os.path.exists(event["file"] + ".done") and time.monotonic() - started < 60:
                    time.sleep(0.05)
                results.append(None)
            else:
                results.append(handler.lambda_handler(event, Context()))
            seconds.append(time.monotonic() - started)
    # Which files were loaded (nothing imported here: a module the app never loaded is None),
    # the Rust extension among them: the one built against a glibc.
    modules = {name: getattr(sys.modules.get(name), "__file__", None)
               for name in ("handler", "cryptography", "cryptography.hazmat.bindings._rust", "cffi", "flask",
                            "boto3", "zappa")}
    with open(results_file, "w") as out:
        json.dump({"results": results, "seconds": seconds, "modules": modules}, out, default=str)


if __name__ == "__main__":
    main()
