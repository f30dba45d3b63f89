"""Runs inside the unzipped Lambda package, with no site-packages: calls its handler.

Usage: python -S lambda_driver.py PACKAGE_DIR EVENTS_JSON RESULTS_JSON

Writes ``{"results": [one per event], "modules": {name: file}}`` to RESULTS_JSON, so that
stdout and stderr hold only what the package itself writes (on Lambda: its CloudWatch logs).
"""

import json
import sys


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

    with open(events_file) as events:
        results = [handler.lambda_handler(event, Context()) for event in json.load(events)]
    # Which files were loaded (nothing imported here: a module the app never loaded is None),
    # the Rust extension among them: the one built against a glibc.
    modules = {name: getattr(sys.modules.get(name), "__file__", None)
               for name in ("handler", "cryptography", "cryptography.hazmat.bindings._rust", "cffi", "flask",
                            "boto3", "zappa")}
    with open(results_file, "w") as out:
        json.dump({"results": results, "modules": modules}, out, default=str)


if __name__ == "__main__":
    main()
