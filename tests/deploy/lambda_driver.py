"""Runs inside the unzipped Lambda package, with no site-packages: calls its handler.

Usage: python -S lambda_driver.py PACKAGE_DIR EVENTS_JSON -> prints one JSON result per event.
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
    package, events_file = sys.argv[1], sys.argv[2]
    sys.path.insert(0, package)
    import handler  # the package's own entry point, as Lambda imports it

    results = []
    for event in json.load(open(events_file)):
        results.append(handler.lambda_handler(event, Context()))
    print("RESULTS " + json.dumps(results, default=str))


if __name__ == "__main__":
    main()
