"""``make deploy``: one stage from an empty AWS account to a running site, every step safe to repeat.

    python -m infra.deploy --stage production [--region R] [--domain media.example.com
        --hosted-zone example.com] [--alarm-email ops@example.com] [--malware-scan]
        [--video-renditions] [--dry-run]

In order, each printed before it runs:

1. ``cdk bootstrap`` of the account and region (the CDK's own bucket and roles; once per account),
   run at the repository's root: there is no ``cdk.json`` there, so the CLI bootstraps the
   environment it is given without synthesising the app (which needs the key of step 2 first).
2. ``python -m infra.keys``: the CloudFront signing key in Secrets Manager, its public half in
   ``.deploy/<stage>/cloudfront-public-key.pem``.
3. ``cdk deploy MediahubInfra-<stage>``: the stack (bucket, table, distribution with that public key,
   secret key, role, alarms, certificate), its outputs in ``.deploy/<stage>/outputs.json``.
4. ``python -m infra.zappa_stage``: those outputs into the stage of ``zappa_settings.json``.
5. ``make lambda-venv``: the virtualenv Zappa packages, from manylinux wheels (see the Makefile).
6. ``python -m infra.package --upload``: ``zappa package``, bytecode for the runtime's Python
   added, the zip into the stack's deployment bucket; for the stage and, when
   zappa_settings.json has one, its processing stage ``<stage>-processing`` (events only).
7. ``zappa update <stage> -z s3://...``, or ``zappa deploy <stage> -z s3://...`` while the
   function does not exist: that very zip; the same for the processing stage.
8. ``python -m infra.throttle``: the API stage's throttling (``api_throttling`` of the stage).
9. With a domain: ``zappa certify <stage> --yes`` (the API's custom domain and its DNS record).

Without a domain the site lives at the API's own URL (``https://<id>.execute-api.<region>.
amazonaws.com/<stage>``), which exists only once Zappa has made the API: the stack is given it
(``siteUrl``: the bucket's CORS admits its origin, the app names it as its site URL). On the
very first deploy the API appears at step 7, so steps 3, 4 and 7 run once more with it; every
later run knows it from the start and runs each step once.

``--dry-run`` (``make deploy DRY_RUN=1``) prints the commands and calls nothing, AWS included.
AWS credentials are the usual chain (environment, ``AWS_PROFILE``, SSO); every step gets the
same region through ``AWS_REGION``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import pathlib
import re
import shlex
import subprocess
import sys
import time

from infra.package import package_key
from infra.zappa_stage import processing_stage, read_stage, stack_name

ROOT = pathlib.Path(__file__).resolve().parents[1]
INFRA = ROOT / "infra"
SETTINGS_FILE = ROOT / "zappa_settings.json"
LAMBDA_VENV = ROOT / ".venv-lambda"
ZAPPA = ROOT / ".venv-zappa" / "bin" / "zappa"
STAGE_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]*")
# The local aws-cdk from package.json; never whatever npx would fetch under that name.
CDK = ("npx", "--no-install", "cdk")


class DeployError(Exception):
    """The deploy cannot go on; the message says why and what to do."""


@dataclasses.dataclass(frozen=True)
class Step:
    title: str
    command: tuple[str, ...]
    cwd: pathlib.Path = ROOT
    env: tuple[tuple[str, str], ...] = ()
    otherwise: tuple[str, ...] | None = None  # a dry run's other possible command
    kind: str = ""  # stack, outputs, function, throttle: what the first deploy runs again
    function: str | None = None  # the function whose existence picks command or otherwise
    # Stands for the stage's deployment bucket in the command until it runs: the bucket is the
    # stack's, known once step 4 has written it into zappa_settings.json.
    BUCKET = "DEPLOYMENT_BUCKET"

    def with_bucket(self, bucket: str) -> "Step":
        fill = lambda command: command and tuple(arg.replace(self.BUCKET, bucket) for arg in command)  # noqa: E731
        return dataclasses.replace(self, command=fill(self.command), otherwise=fill(self.otherwise))

    def shown(self, command: tuple[str, ...] | None = None) -> str:
        """The command as one could paste it into a shell at the repository's root."""
        text = " ".join(f"{k}={shlex.quote(v)}" for k, v in self.env)
        text = f"{text} {shlex.join(command or self.command)}".strip()
        if self.cwd != ROOT:
            text = f"(cd {shlex.quote(relative(self.cwd))} && {text})"
        return text

    def lines(self, number: int, total: int) -> str:
        shown = [self.shown()] + ([self.shown(self.otherwise)] if self.otherwise else [])
        return f"==> [{number}/{total}] {self.title}\n" + "\n".join(f"    {line}" for line in shown)


@dataclasses.dataclass(frozen=True)
class Plan:
    stage: str
    region: str
    domain: str | None
    hosted_zone: str | None
    alarm_email: str | None
    state: pathlib.Path  # .deploy/<stage>/
    malware_scan: bool = False  # GuardDuty Malware Protection for uploads
    video_renditions: bool = False  # video renditions with AWS Elemental MediaConvert
    site_url: str | None = None  # without a domain: the API's own URL, once it exists

    @property
    def outputs_file(self) -> pathlib.Path:
        return self.state / "outputs.json"

    @property
    def public_key_file(self) -> pathlib.Path:
        return self.state / "cloudfront-public-key.pem"

    @property
    def stack_name(self) -> str:
        """The CDK stack; never the name of Zappa's own stack (``mediahub-<stage>``)."""
        return stack_name(self.stage)

    @property
    def function_name(self) -> str:
        return f"{project_name(self.stage)}-{self.stage}"

    def context(self, *, public_key: bool) -> list[str]:
        """The CDK context the app (infra/app.py) reads."""
        pairs = [("stage", self.stage), ("region", self.region)]
        if public_key:
            pairs.append(("publicKeyFile", str(self.public_key_file)))
        for key, value in (("domain", self.domain), ("hostedZone", self.hosted_zone),
                           ("alarmEmail", self.alarm_email), ("siteUrl", None if self.domain else self.site_url),
                           ("malwareScan", "guardduty" if self.malware_scan else None),
                           ("videoRenditions", "mediaconvert" if self.video_renditions else None)):
            if value:
                pairs.append((key, value))
        return [arg for key, value in pairs for arg in ("-c", f"{key}={value}")]

    @property
    def stages(self) -> list[str]:
        """The stage, and its processing stage when zappa_settings.json has one: the same code,
        for events only, with the memory and time processing needs."""
        processing = processing_stage(self.stage)
        return [self.stage] + ([processing] if stage_settings(processing) else [])

    def function_of(self, stage: str) -> str:
        return f"{project_name(stage)}-{stage}"

    def package_url(self, stage: str) -> str:
        return f"s3://{Step.BUCKET}/{package_key(stage)}"

    def zappa(self, *args: str) -> tuple[str, ...]:
        return (relative(ZAPPA), *args)

    def steps(self, account: str) -> list[Step]:
        """The commands in order. Whether the function exists is asked only when its step comes
        (``Step.otherwise`` holds ``zappa deploy``), after the stack and the settings are in place."""
        python = relative(pathlib.Path(sys.executable)) if is_inside(pathlib.Path(sys.executable)) else sys.executable
        zappa_env = (("VIRTUAL_ENV", relative(LAMBDA_VENV)),)
        waits = (f" (the certificate waits for its DNS validation record: create it in {self.domain}'s zone "
                 "as ACM's console shows it)") if self.domain and not self.hosted_zone else ""
        steps = [
            Step("CDK bootstrap (the CDK's bucket and roles in the account and region)",
                 (*CDK, "bootstrap", f"aws://{account}/{self.region}")),
            Step("CloudFront signing key (private key in Secrets Manager, public key to a file)",
                 (python, "-m", "infra.keys", "--stage", self.stage, "--region", self.region,
                  "--public-key-out", relative(self.public_key_file))),
            Step(f"the stack {self.stack_name}{waits}", kind="stack", command=
                 (*CDK, "deploy", self.stack_name, "--require-approval", "never",
                  "--outputs-file", str(self.outputs_file), *self.context(public_key=True)), cwd=INFRA),
            Step(f"the stack's outputs into zappa_settings.json [{self.stage}]", kind="outputs", command=
                 (python, "-m", "infra.zappa_stage", "--stage", self.stage, "--outputs", relative(self.outputs_file),
                  "--region", self.region,
                  # zappa certify writes the domain's DNS record only into a zone it was given.
                  *((("--route53" if self.hosted_zone else "--no-route53"),) if self.domain else ()))),
            Step("the Lambda virtualenv (manylinux wheels for the Lambda runtime)",
                 (os.environ.get("MAKE", "make"), "--no-print-directory", "lambda-venv")),
            *[Step(f"the package of {name}: zappa package, bytecode for the runtime's Python, into the "
                   "deployment bucket", (python, "-m", "infra.package", "--stage", name, "--upload"))
              for name in self.stages],
            *[Step(f"the function {self.function_of(name)}: updated if it exists, else deployed",
                   self.zappa("update", name, "-z", self.package_url(name)), env=zappa_env,
                   otherwise=self.zappa("deploy", name, "-z", self.package_url(name)), kind="function",
                   function=self.function_of(name))
              for name in self.stages],
            Step("the API's throttling (api_throttling in zappa_settings.json) and the dead-letter queue",
                 (python, "-m", "infra.throttle", "--stage", self.stage, "--region", self.region), kind="throttle"),
        ]
        if self.domain:
            steps.append(Step(f"the API's custom domain {self.domain}", self.zappa("certify", self.stage, "--yes"),
                              env=zappa_env))
        return steps

    def with_api_url_steps(self, account: str) -> list[Step]:
        """The stack, the settings, the functions and the API's limits once more, now with the
        API's URL (``site_url`` set): the first deploy without a domain only learns it at its end."""
        site = f" with the site at {self.site_url}"
        again = []
        for step in self.steps(account):
            if step.kind in ("stack", "function"):
                again.append(dataclasses.replace(step, title=(step.title if step.kind == "stack" else
                                                              f"the function {step.function}") + site,
                                                 otherwise=None))
            elif step.kind in ("outputs", "throttle"):
                again.append(step)
        return again


def relative(path: pathlib.Path) -> str:
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


def is_inside(path: pathlib.Path) -> bool:
    return path.is_relative_to(ROOT)


def stage_settings(stage: str) -> dict:
    """The stage's Zappa settings with what it extends; empty for a stage not in the file."""
    return read_stage(stage, SETTINGS_FILE)


def project_name(stage: str) -> str:
    """Zappa names the function ``<project_name>-<stage>``."""
    return stage_settings(stage).get("project_name") or stage_settings("base").get("project_name") or "mediahub"


def resolve_region(stage: str, given: str | None) -> str:
    """--region, else the stage's aws_region in zappa_settings.json, else AWS_REGION / the profile's."""
    if given:
        return given
    region = stage_settings(stage).get("aws_region") or os.environ.get("AWS_REGION") \
        or os.environ.get("AWS_DEFAULT_REGION")
    if not region:
        import boto3

        region = boto3.session.Session().region_name  # the profile's; reads local files only
    if not region:
        raise DeployError("no region: pass REGION=... (make) or --region, or set the stage's aws_region")
    return region


def account_id(region: str) -> str:
    import boto3

    return boto3.client("sts", region_name=region).get_caller_identity()["Account"]


def function_exists(name: str, region: str) -> bool:
    import boto3
    from botocore.exceptions import ClientError

    try:
        boto3.client("lambda", region_name=region).get_function(FunctionName=name)
        return True
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            return False
        raise


def api_site_url(name: str, region: str, stage: str) -> str | None:
    """The URL API Gateway serves Zappa's REST API ``name`` at, or None while there is none."""
    import boto3

    for page in boto3.client("apigateway", region_name=region).get_paginator("get_rest_apis").paginate():
        for api in page.get("items", []):
            if api.get("name") == name:
                return f"https://{api['id']}.execute-api.{region}.amazonaws.com/{stage}"
    return None


def with_deployment_bucket(step: Step, stage: str) -> Step:
    """The step with the stage's deployment bucket in its command, read from zappa_settings.json
    when the step comes (step 4 writes it there from the stack's outputs)."""
    if not any(Step.BUCKET in arg for arg in step.command + (step.otherwise or ())):
        return step
    bucket = stage_settings(stage).get("s3_bucket")
    if not bucket:
        raise DeployError(f"zappa_settings.json [{stage}] has no s3_bucket: step 4 writes it from the stack's outputs")
    return step.with_bucket(bucket)


def run(step: Step, number: int, total: int, env: dict[str, str]) -> None:
    print(step.lines(number, total), flush=True)
    started = time.monotonic()
    done = subprocess.run(step.command, cwd=step.cwd, env={**env, **dict(step.env)})
    print(f"    [{number}/{total}] took {time.monotonic() - started:.0f} s", flush=True)
    if done.returncode != 0:
        raise DeployError(f"step {number} failed (exit {done.returncode}); fix it and run the same command again: "
                          "every step is safe to repeat")


def deploy(plan: Plan, *, dry_run: bool) -> None:
    if dry_run:
        steps = plan.steps("<account of your credentials>")
        print(f"Dry run: the commands `make deploy STAGE={plan.stage}` runs, in order (region {plan.region}):")
        for number, step in enumerate(steps, 1):
            print(step.lines(number, len(steps)))
        if not plan.domain:
            again = [str(number) for number, step in enumerate(steps, 1)
                     if step.kind in ("stack", "outputs", "function", "throttle")]
            print("Without a domain the site is at the API's own URL: the stack gets it as -c siteUrl=... once "
                  f"the API exists, and on the first deploy steps {', '.join(again)} run once more with it.")
        return
    env = {**os.environ, "AWS_REGION": plan.region, "AWS_DEFAULT_REGION": plan.region}
    plan.state.mkdir(parents=True, exist_ok=True)
    account = account_id(plan.region)
    if not plan.domain:
        plan = dataclasses.replace(plan, site_url=api_site_url(plan.function_name, plan.region, plan.stage))
    steps = plan.steps(account)
    for number, step in enumerate(steps, 1):
        step = with_deployment_bucket(step, plan.stage)
        if step.otherwise:
            function = step.function or plan.function_name
            exists = function_exists(function, plan.region)
            step = dataclasses.replace(
                step, title=f"the function {function} ({'exists' if exists else 'does not exist yet'})",
                command=step.command if exists else step.otherwise, otherwise=None)
        run(step, number, len(steps), env)
    if not plan.domain and plan.site_url is None:
        site_url = api_site_url(plan.function_name, plan.region, plan.stage)
        if site_url is None:
            raise DeployError(f"Zappa made no API named {plan.function_name}: see its output above")
        again = dataclasses.replace(plan, site_url=site_url).with_api_url_steps(account)
        for number, step in enumerate(again, len(steps) + 1):
            run(with_deployment_bucket(step, plan.stage), number, len(steps) + len(again), env)
    print(f"{plan.stack_name} and {plan.function_name} are deployed. Still by hand:")
    for number, step in enumerate(manual_steps(plan), 1):
        print(f"  {number}. {step}")


def manual_steps(plan: Plan) -> list[str]:
    """What the deploy cannot do for the operator; the README lists exactly these."""
    outputs = {}
    if plan.outputs_file.exists():
        outputs = json.loads(plan.outputs_file.read_text()).get(plan.stack_name, {})
    topic = outputs.get("AlarmTopicArn", f"the stack's AlarmTopicArn ({plan.outputs_file})")
    steps = ["verify the sender's domain in SES and ask AWS to move the account out of the SES sandbox "
             "(or verify each recipient)"]
    if plan.alarm_email:
        steps.append(f"confirm the subscription AWS mailed to {plan.alarm_email} (SNS sends it once; until it is "
                     "confirmed no alarm or budget warning reaches anyone)")
    else:
        steps.append(f"subscribe someone to the alarms: make deploy again with ALARM_EMAIL=..., or "
                     f"aws sns subscribe --topic-arn {topic} --protocol email --notification-endpoint <address>, "
                     "then confirm the mail")
    if plan.domain and not plan.hosted_zone:
        steps.append(f"create the DNS record that validates the certificate for {plan.domain} (ACM's console "
                     f"shows it; step 3 waits for it), and point {plan.domain} at the API domain name "
                     "`zappa certify` printed")
    return steps


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.deploy", description=__doc__.split("\n\n")[0])
    parser.add_argument("--stage", required=True, help="a stage of zappa_settings.json, e.g. production")
    parser.add_argument("--region", help="default: the stage's aws_region, else AWS_REGION or the profile's")
    parser.add_argument("--domain", help="the site's host name, e.g. media.example.com")
    parser.add_argument("--hosted-zone", help="the Route 53 zone holding the domain, e.g. example.com")
    parser.add_argument("--alarm-email", help="where the alarms are mailed")
    parser.add_argument("--malware-scan", action="store_true",
                        help="GuardDuty Malware Protection: nothing is shared before its scan says clean")
    parser.add_argument("--video-renditions", action="store_true",
                        help="AWS Elemental MediaConvert makes the video renditions every browser plays")
    parser.add_argument("--dry-run", action="store_true", default=os.environ.get("DRY_RUN", "") not in ("", "0"),
                        help="print the commands only (also DRY_RUN=1)")
    args = parser.parse_args(argv)
    if not STAGE_PATTERN.fullmatch(args.stage or ""):
        parser.error("--stage must be lower-case letters, digits and hyphens (make deploy STAGE=production)")
    if args.hosted_zone and not args.domain:
        parser.error("--hosted-zone needs --domain (the zone validates the domain's certificate)")
    try:
        plan = Plan(stage=args.stage, region=resolve_region(args.stage, args.region), domain=args.domain,
                    hosted_zone=args.hosted_zone, alarm_email=args.alarm_email, malware_scan=args.malware_scan,
                    video_renditions=args.video_renditions,
                    state=ROOT / ".deploy" / args.stage)
        deploy(plan, dry_run=args.dry_run)
    except DeployError as error:
        print(f"infra.deploy: {error}", file=sys.stderr)
        return 1
    except Exception as error:
        from botocore.exceptions import BotoCoreError, ClientError

        if not isinstance(error, (BotoCoreError, ClientError)):
            raise
        print(f"infra.deploy: AWS said: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
