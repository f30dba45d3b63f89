"""Copy the CDK stack's outputs into a stage of ``zappa_settings.json``.

``cdk deploy MediahubInfra-<stage> --outputs-file FILE`` writes ``{"MediahubInfra-<stage>": {...}}``;
this merges those values into the stage's entry so nothing is copied by hand:

    python -m infra.zappa_stage --stage production --outputs .deploy/production/outputs.json

It sets only what the stack owns: the role (``role_arn``, with ``manage_roles`` false and no
``role_name``), the deployment bucket (``s3_bucket``), ``aws_region``, the uploads bucket's ARN
in the S3 event, ``domain`` and ``certificate_arn`` when the stack has a domain (and, when told,
``route53_enabled``: whether the domain's zone is in Route 53), the site's API Gateway URL
without a domain, and the ``MEDIAHUB_*``
variables that name its resources (with the stack's MediaConvert: its role and queue, and
``MEDIAHUB_VIDEO_RENDITIONS=mediaconvert``; without it ``off``). With a processing stage
(``<stage>-processing``, which extends the stage and so has the same variables), the S3 event,
the scan verdicts, the rendition jobs' completions and the cleanup go there and the web stage
takes no events. Everything else in the stage (mail sender,
recipients, embed origins, memory, ...) is left as it is. The file is rewritten only when
something changed, so a second run with the same outputs leaves it byte for byte the same.
"""

from __future__ import annotations

import argparse
import copy
import json
import pathlib
import sys
from urllib.parse import urlsplit

ROOT = pathlib.Path(__file__).resolve().parents[1]
SETTINGS_FILE = ROOT / "zappa_settings.json"
OBJECT_CREATED = "webapp.events.object_created"
SCAN_RESULT = "webapp.events.scan_result"
RENDITION_FINISHED = "webapp.events.rendition_finished"
CLEANUP = "webapp.events.cleanup"
EVENT_FUNCTIONS = (OBJECT_CREATED, SCAN_RESULT, RENDITION_FINISHED, CLEANUP)
# The stage's keys this command owns, in the order it writes them.
STACK_KEYS = ("aws_region", "s3_bucket", "role_arn", "manage_roles", "dead_letter_arn", "domain", "certificate_arn",
              "route53_enabled")
REQUIRED_OUTPUTS = ("BucketName", "TableName", "CdnUrl", "CloudFrontKeyId", "CloudFrontKeysSecret",
                    "SecretKeySecret", "RoleArn", "DeploymentBucket")
# Stack output -> the environment variable the app reads it from.
ENVIRONMENT = {
    "BucketName": "MEDIAHUB_BUCKET",
    "TableName": "MEDIAHUB_TABLE",
    "CdnUrl": "MEDIAHUB_CDN_URL",
    "CloudFrontKeysSecret": "MEDIAHUB_CLOUDFRONT_KEYS_SECRET",
    "CloudFrontKeyId": "MEDIAHUB_CLOUDFRONT_KEY_ID",
    "SecretKeySecret": "MEDIAHUB_SECRET_KEY_SECRET",
}
# With video renditions (context videoRenditions=mediaconvert): what the app submits jobs with.
RENDITION_ENVIRONMENT = {
    "MediaConvertRoleArn": "MEDIAHUB_MEDIACONVERT_ROLE_ARN",
    "MediaConvertQueueArn": "MEDIAHUB_MEDIACONVERT_QUEUE_ARN",
}


class OutputsError(ValueError):
    """The outputs document is not what the stack writes; the message says what is missing."""


STACK_PREFIX = "MediahubInfra"


def stack_name(stage: str) -> str:
    """The CDK stack's name: ``MediahubInfra-<stage>``.

    Zappa keeps its API Gateway in a CloudFormation stack named after the function,
    ``slugify(<project_name>-<stage>)``, and replaces that stack's template on every deploy. A
    slug is all lower-case, so a name with capitals (CloudFormation's names are case-sensitive)
    can never be one Zappa uses, whatever the stage or project is called.
    """
    return f"{STACK_PREFIX}-{stage}"


def processing_stage(stage: str) -> str:
    """The stage that runs the events of ``stage`` with room to process: ``<stage>-processing``."""
    return f"{stage}-processing"


def stack_outputs(document: dict, stage: str) -> dict:
    """The one stack's outputs from what ``cdk deploy --outputs-file`` wrote."""
    outputs = document.get(stack_name(stage))
    if not isinstance(outputs, dict):
        raise OutputsError(f"the outputs name no stack {stack_name(stage)} (found: {', '.join(document) or 'none'})")
    missing = [key for key in REQUIRED_OUTPUTS if not outputs.get(key)]
    if missing:
        raise OutputsError(f"{stack_name(stage)} has no output {', '.join(missing)}")
    return outputs


def region_of(outputs: dict) -> str | None:
    """The stack's region, read from a regional ARN among its outputs (the alarm topic's)."""
    parts = str(outputs.get("AlarmTopicArn", "")).split(":")
    return parts[3] if len(parts) > 5 and parts[0] == "arn" and parts[3] else None


def merge(settings: dict, stage: str, document: dict, *, region: str | None = None,
          route53: bool | None = None) -> dict:
    """``settings`` with the stack's outputs merged into ``stage``; the argument is not changed.

    ``route53``: whether ``zappa certify`` may write the domain's DNS record in a Route 53 zone
    (the deploy says so when it was given the hosted zone); None leaves the setting as it is.
    """
    outputs = stack_outputs(document, stage)
    region = region or region_of(outputs)
    if not region:
        raise OutputsError(f"cannot tell {stack_name(stage)}'s region from its outputs: pass the region")
    merged = copy.deepcopy(settings)
    entry = merged.setdefault(stage, {"extends": "base"})
    entry.pop("role_name", None)
    entry.update(aws_region=region, s3_bucket=outputs["DeploymentBucket"], role_arn=outputs["RoleArn"],
                 manage_roles=False)
    if outputs.get("DeadLetterQueueArn"):
        # Lambda sends an asynchronous event (S3, scan verdicts, the schedule) here once its own
        # two retries have failed, instead of dropping it.
        entry["dead_letter_arn"] = outputs["DeadLetterQueueArn"]

    environment = entry.setdefault("environment_variables", {})
    for output, variable in ENVIRONMENT.items():
        environment[variable] = outputs[output]

    site_url = outputs.get("SiteUrl")
    if site_url:
        entry["domain"] = urlsplit(site_url).hostname
        environment["MEDIAHUB_SITE_URL"] = site_url.rstrip("/")
        if outputs.get("CertificateArn"):
            entry["certificate_arn"] = outputs["CertificateArn"]
        else:
            entry.pop("certificate_arn", None)
        if route53 is not None:
            entry["route53_enabled"] = route53
    else:
        # The stack has no domain (any more): Zappa must not route for one, and a site URL this
        # command wrote for that domain goes with it. A site URL the operator set stays, unless
        # the site is at its API Gateway URL, which the stack then names.
        old_domain = entry.pop("domain", None)
        entry.pop("certificate_arn", None)
        entry.pop("route53_enabled", None)
        if old_domain and environment.get("MEDIAHUB_SITE_URL") == f"https://{old_domain}":
            del environment["MEDIAHUB_SITE_URL"]
        if outputs.get("ApiSiteUrl"):
            environment["MEDIAHUB_SITE_URL"] = outputs["ApiSiteUrl"].rstrip("/")

    bucket_arn = f"arn:aws:s3:::{outputs['BucketName']}"
    processing = processing_stage(stage)
    if isinstance(merged.get(processing), dict):
        # The events (uploads, scan verdicts, the cleanup) run in the processing stage, which
        # extends this one (role, bucket, queue, environment); the web stage takes none.
        target = merged[processing]
        remaining = [e for e in entry.get("events", []) if e.get("function") not in EVENT_FUNCTIONS]
        if remaining:
            entry["events"] = remaining
        else:
            entry.pop("events", None)
        _set_events(target, bucket_arn)
        _set_scanning(target, environment, outputs.get("ScanResultsTopicArn"))
        _set_renditions(target, environment, outputs)
        merged[processing] = target
    else:
        _set_events(entry, bucket_arn)
        _set_scanning(entry, environment, outputs.get("ScanResultsTopicArn"))
        _set_renditions(entry, environment, outputs)
    merged[stage] = _ordered(entry)
    return merged


def _ordered(entry: dict) -> dict:
    """``extends`` and the stack's keys first, in a fixed order, then the rest as they were."""
    first = [key for key in ("extends", *STACK_KEYS) if key in entry]
    return {**{key: entry[key] for key in first}, **{k: v for k, v in entry.items() if k not in first}}


def _set_events(entry: dict, bucket_arn: str) -> None:
    """The S3 ObjectCreated event on the uploads bucket and the hourly cleanup; others stay."""
    events = entry.setdefault("events", [])
    created = [e for e in events if e.get("function") == OBJECT_CREATED and "event_source" in e]
    if not created:
        events.append({"function": OBJECT_CREATED, "event_source": {
            "arn": bucket_arn, "events": ["s3:ObjectCreated:*"], "prefix": "uploads/"}})
    for event in created:
        source = event["event_source"]
        # Keep the key where it is, or put it first in a new source, so the file reads as usual.
        if "arn" in source:
            source["arn"] = bucket_arn
        else:
            event["event_source"] = {"arn": bucket_arn, **source}
    if not any(e.get("function") == CLEANUP for e in events):
        events.append({"function": CLEANUP, "expression": "rate(1 hour)"})


def _set_scanning(entry: dict, environment: dict, topic_arn: str | None) -> None:
    """With the stack's malware scanning: its verdicts' SNS topic drives ``scan_result`` (Zappa's
    handler routes SNS, not plain EventBridge events) and the app withholds unscanned files."""
    events = [e for e in entry.get("events", []) if e.get("function") != SCAN_RESULT]
    if topic_arn:
        events.append({"function": SCAN_RESULT, "event_source": {"arn": topic_arn, "events": ["sns:Publish"]}})
        environment["MEDIAHUB_MALWARE_SCAN"] = "guardduty"
    elif environment.get("MEDIAHUB_MALWARE_SCAN") == "guardduty":
        environment["MEDIAHUB_MALWARE_SCAN"] = "off"
    entry["events"] = events


def _set_renditions(entry: dict, environment: dict, outputs: dict) -> None:
    """With the stack's MediaConvert (its role, queue and job events' topic): the topic drives
    ``rendition_finished`` as the scan verdicts' drives ``scan_result``, and the app submits its
    jobs with that role to that queue. Without it renditions are off: a deployed stage has no
    ffmpeg (``Settings`` refuses it outside local mode), and the ARNs of a removed queue go."""
    topic_arn = outputs.get("RenditionEventsTopicArn")
    events = [e for e in entry.get("events", []) if e.get("function") != RENDITION_FINISHED]
    if topic_arn and all(outputs.get(output) for output in RENDITION_ENVIRONMENT):
        events.append({"function": RENDITION_FINISHED, "event_source": {"arn": topic_arn, "events": ["sns:Publish"]}})
        for output, variable in RENDITION_ENVIRONMENT.items():
            environment[variable] = outputs[output]
        environment["MEDIAHUB_VIDEO_RENDITIONS"] = "mediaconvert"
    else:
        if topic_arn or any(outputs.get(output) for output in RENDITION_ENVIRONMENT):
            raise OutputsError("the stack's MediaConvert outputs come together: RenditionEventsTopicArn, "
                               + ", ".join(RENDITION_ENVIRONMENT))
        for variable in RENDITION_ENVIRONMENT.values():
            environment.pop(variable, None)
        if environment.get("MEDIAHUB_VIDEO_RENDITIONS", "off") != "off":
            environment["MEDIAHUB_VIDEO_RENDITIONS"] = "off"
    entry["events"] = events


def resolved_stage(settings: dict, stage: str) -> dict:
    """The stage's settings with what it ``extends`` (as Zappa reads them); empty if absent."""
    merged: dict = {}
    chain, name = [], stage
    while name in settings and name not in chain:
        chain.append(name)
        name = settings[name].get("extends")
    for name in reversed(chain):
        merged.update(settings[name])
    return merged


def read_stage(stage: str, path: pathlib.Path = SETTINGS_FILE) -> dict:
    """The stage's settings as ``path`` holds them now, with what it ``extends``."""
    return resolved_stage(json.loads(path.read_text()), stage)


def render(settings: dict) -> str:
    return json.dumps(settings, indent=4) + "\n"


def update_file(path: pathlib.Path, stage: str, document: dict, *, region: str | None = None,
                route53: bool | None = None) -> bool:
    """Merge into the file at ``path``; True if it changed (it is not written otherwise)."""
    before = path.read_text()
    after = render(merge(json.loads(before), stage, document, region=region, route53=route53))
    if after == before:
        return False
    path.write_text(after)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.zappa_stage", description=__doc__.split("\n\n")[0])
    parser.add_argument("--stage", required=True)
    parser.add_argument("--outputs", required=True, type=pathlib.Path, help="the file cdk deploy --outputs-file wrote")
    parser.add_argument("--region", help="the stack's region (default: read from its outputs)")
    parser.add_argument("--route53", action=argparse.BooleanOptionalAction, default=None,
                        help="with a domain: zappa certify writes its DNS record in Route 53 (or not)")
    parser.add_argument("--settings", type=pathlib.Path, default=SETTINGS_FILE, help="default: %(default)s")
    args = parser.parse_args(argv)
    try:
        document = json.loads(args.outputs.read_text())
        changed = update_file(args.settings, args.stage, document, region=args.region, route53=args.route53)
    except (OSError, ValueError) as error:
        print(f"infra.zappa_stage: {error}", file=sys.stderr)
        return 2
    print(f"{args.settings.name} [{args.stage}]: " + ("updated from the stack's outputs" if changed else "up to date"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
