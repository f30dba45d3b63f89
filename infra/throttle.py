"""API Gateway throttling for a stage's REST API, from ``api_throttling`` in zappa_settings.json,
and the function's dead-letter queue.

    python -m infra.throttle --stage production [--region R]

``zappa deploy`` gives a new function the stage's ``dead_letter_arn``, but ``zappa update``
never changes it, so a function made before the stack had its queue would keep failing events
without a trace: this sets it when it differs.

Zappa makes the API and its stage but has no throttling setting; this sets the stage's default
method throttling (``/*/*/throttling/rateLimit`` and ``burstLimit``) to the stage's
``{"rate_limit": requests per second, "burst_limit": requests}``. With the function's reserved
concurrency (Zappa's ``lambda_concurrency``) it bounds what a flood of requests can cost: API
Gateway answers 429 past the rate instead of starting functions. Safe to repeat.
"""

from __future__ import annotations

import argparse
import sys

from infra.zappa_stage import read_stage

DEFAULTS = {"rate_limit": 20, "burst_limit": 40}


def limits(stage: str) -> dict:
    configured = read_stage(stage).get("api_throttling") or {}
    merged = {**DEFAULTS, **configured}
    for key in DEFAULTS:
        if not isinstance(merged[key], (int, float)) or merged[key] <= 0:
            raise ValueError(f"api_throttling.{key} of stage {stage} must be a positive number")
    return merged


def patch_operations(values: dict) -> list[dict]:
    return [{"op": "replace", "path": "/*/*/throttling/rateLimit", "value": str(values["rate_limit"])},
            {"op": "replace", "path": "/*/*/throttling/burstLimit", "value": str(int(values["burst_limit"]))}]


def apply(stage: str, region: str | None) -> str:
    import boto3

    settings = read_stage(stage)
    name = f"{settings.get('project_name') or 'mediahub'}-{stage}"
    client = boto3.client("apigateway", region_name=region or settings.get("aws_region"))
    apis = [api for page in client.get_paginator("get_rest_apis").paginate() for api in page.get("items", [])
            if api.get("name") == name]
    if not apis:
        raise LookupError(f"no REST API named {name}: zappa deploy {stage} makes it")
    values = limits(stage)
    client.update_stage(restApiId=apis[0]["id"], stageName=stage, patchOperations=patch_operations(values))
    said = f"{name}/{stage}: at most {values['rate_limit']} requests/s, bursts of {int(values['burst_limit'])}"
    return "\n".join([said, *dead_letters(stage, region)])


def dead_letters(stage: str, region: str | None) -> list[str]:
    """Each of the stage's functions (web, processing) sends failed events to the queue."""
    import boto3

    from infra.zappa_stage import processing_stage

    said = []
    for name in (stage, processing_stage(stage)):
        settings = read_stage(name)
        queue = settings.get("dead_letter_arn")
        if not settings or not queue:
            continue
        function = f"{settings.get('project_name') or 'mediahub'}-{name}"
        client = boto3.client("lambda", region_name=region or settings.get("aws_region"))
        current = client.get_function_configuration(FunctionName=function).get("DeadLetterConfig", {})
        if current.get("TargetArn") != queue:
            client.update_function_configuration(FunctionName=function, DeadLetterConfig={"TargetArn": queue})
        said.append(f"{function}: failed events go to {queue}")
    return said


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.throttle", description=__doc__.split("\n\n")[0])
    parser.add_argument("--stage", required=True)
    parser.add_argument("--region")
    args = parser.parse_args(argv)
    try:
        print(apply(args.stage, args.region))
    except (LookupError, ValueError) as error:
        print(f"infra.throttle: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
