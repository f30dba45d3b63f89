"""``make synth``: every Zappa stage's template, offline and without AWS credentials.

Runs the CDK app in this process (no CDK CLI, so nothing reaches for the network) once per
stage in ``zappa_settings.json``, each into ``<outdir>/<stage>/``, with a placeholder
CloudFront key, region us-east-1 and, for production, a sample domain, so the CORS and
certificate paths are synthesised too. The tests run this same function.

    python -m infra.synth [--outdir infra/cdk.out] [--stage dev] [-c key=value ...]
"""

from __future__ import annotations

import argparse
import dataclasses
import pathlib
import shutil
import sys

from aws_cdk import cx_api

from infra.app import ROOT, create_app, zappa_stages
from infra.stack import ConfigError
from infra.zappa_stage import stack_name

DEFAULT_OUTDIR = ROOT / "infra" / "cdk.out"
# The account stays a CloudFormation parameter (no credentials needed); the region is the one
# an edge API's certificate needs. Production gets a domain so its CORS rule and certificate
# are synthesised too; dev shows the stack without one.
SAMPLE_REGION = "us-east-1"
SAMPLE_DOMAINS = {"production": "media.example.com"}


@dataclasses.dataclass(frozen=True)
class Synthesised:
    stage: str
    stack_name: str
    template: pathlib.Path
    warnings: list[str]


def sample_context(stage: str) -> dict:
    """What a synth with no AWS account needs: a placeholder key, the region, a sample domain."""
    context = {"stage": stage, "placeholderKey": "true", "region": SAMPLE_REGION}
    if stage in SAMPLE_DOMAINS:
        context["domain"] = SAMPLE_DOMAINS[stage]
    return context


def synth_stage(stage: str, outdir: pathlib.Path, extra: dict | None = None) -> Synthesised:
    """One stage's cloud assembly in ``outdir/<stage>``; raises on an error annotation."""
    target = pathlib.Path(outdir) / stage
    shutil.rmtree(target, ignore_errors=True)
    app = create_app({**sample_context(stage), **(extra or {}), "stage": stage}, outdir=str(target))
    assembly = app.synth()
    stack = next(s for s in assembly.stacks if s.stack_name == stack_name(stage))
    warnings, errors = [], []
    for message in stack.messages:
        text = f"{message.id}: {message.entry.data}"
        if message.level == cx_api.SynthesisMessageLevel.ERROR:
            errors.append(text)
        elif message.level == cx_api.SynthesisMessageLevel.WARNING:
            warnings.append(text)
    if errors:
        raise ConfigError(f"{stack_name(stage)} has errors:\n  " + "\n  ".join(errors))
    return Synthesised(stage, stack.stack_name, pathlib.Path(stack.template_full_path), warnings)


def synth_all(outdir: pathlib.Path = DEFAULT_OUTDIR, extra: dict | None = None,
              stages: list[str] | None = None) -> list[Synthesised]:
    return [synth_stage(stage, outdir, extra) for stage in (stages or zappa_stages())]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.synth", description=__doc__.split("\n\n")[0])
    parser.add_argument("--outdir", type=pathlib.Path, default=DEFAULT_OUTDIR)
    parser.add_argument("--stage", action="append", help="only this stage (repeatable); default: all")
    parser.add_argument("-c", "--context", action="append", default=[], metavar="KEY=VALUE",
                        help="extra CDK context for every stage (repeatable)")
    args = parser.parse_args(argv)
    extra = {}
    for item in args.context:
        key, sep, value = item.partition("=")
        if not sep:
            parser.error(f"context {item!r} is not KEY=VALUE")
        extra[key] = value
    try:
        results = synth_all(args.outdir, extra, args.stage)
    except ConfigError as error:
        print(f"mediahub infra: {error}", file=sys.stderr)
        return 2
    for result in results:
        try:
            shown = result.template.relative_to(pathlib.Path.cwd())
        except ValueError:
            shown = result.template
        print(f"{result.stack_name}: {shown}")
        for warning in result.warnings:
            print(f"  warning {warning}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
