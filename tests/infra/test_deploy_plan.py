"""`make deploy`'s orchestration (`infra.deploy`): the ordered commands it prints in a dry run,
with and without a domain, and the choice between `zappa update` and `zappa deploy`."""

from __future__ import annotations

import os
import pathlib
import re
import shutil
import subprocess
import sys


from infra import deploy
from tests.conftest import missing_tool

ROOT = pathlib.Path(__file__).resolve().parents[2]


def dry_run(*args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k != "DRY_RUN"}
    env.update(AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull, DRY_RUN="1")
    done = subprocess.run([sys.executable, "-m", "infra.deploy", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def commands(output: str) -> list[str]:
    return [line.strip() for line in output.splitlines() if line.startswith("    ")]


def test_without_a_domain(tmp_path):
    settings_before = (ROOT / "zappa_settings.json").read_bytes()
    output = dry_run("--stage", "production")
    lines = commands(output)
    expected = [
        # At the root, where no cdk.json names the app: bootstrap never synthesises it.
        r"npx --no-install cdk bootstrap 'aws://<account of your credentials>/us-east-1'",
        r"\S+python\S* -m infra\.keys --stage production --region us-east-1 "
        r"--public-key-out \.deploy/production/cloudfront-public-key\.pem",
        r"\(cd infra && npx --no-install cdk deploy MediahubInfra-production --require-approval never "
        r"--outputs-file \S+/\.deploy/production/outputs\.json -c stage=production -c region=us-east-1 "
        r"-c publicKeyFile=\S+/\.deploy/production/cloudfront-public-key\.pem\)",
        r"\S+python\S* -m infra\.zappa_stage --stage production --outputs \.deploy/production/outputs\.json "
        r"--region us-east-1",
        r"make --no-print-directory lambda-venv",
        r"\S+python\S* -m infra\.package --stage production --upload",
        r"\S+python\S* -m infra\.package --stage production-processing --upload",
        r"VIRTUAL_ENV=\.venv-lambda \.venv-zappa/bin/zappa update production -z s3://DEPLOYMENT_BUCKET/mediahub-production\.zip",
        r"VIRTUAL_ENV=\.venv-lambda \.venv-zappa/bin/zappa deploy production -z s3://DEPLOYMENT_BUCKET/mediahub-production\.zip",
        r"VIRTUAL_ENV=\.venv-lambda \.venv-zappa/bin/zappa update production-processing -z "
        r"s3://DEPLOYMENT_BUCKET/mediahub-production-processing\.zip",
        r"VIRTUAL_ENV=\.venv-lambda \.venv-zappa/bin/zappa deploy production-processing -z "
        r"s3://DEPLOYMENT_BUCKET/mediahub-production-processing\.zip",
        r"\S+python\S* -m infra\.throttle --stage production --region us-east-1",
    ]
    assert len(lines) == len(expected), output
    for line, pattern in zip(lines, expected):
        assert re.fullmatch(pattern, line), (line, pattern)
    assert "certify" not in output and "domain=" not in output
    assert [int(n) for n in re.findall(r"==> \[(\d+)/10\]", output)] == list(range(1, 11))
    # A dry run touches nothing.
    assert (ROOT / "zappa_settings.json").read_bytes() == settings_before


def test_with_a_domain_a_zone_and_alarms():
    output = dry_run("--stage", "production", "--domain", "media.example.com", "--hosted-zone", "example.com",
                     "--alarm-email", "ops@example.com", "--region", "eu-west-1")
    lines = commands(output)
    assert lines[0] == "npx --no-install cdk bootstrap 'aws://<account of your credentials>/eu-west-1'"
    assert lines[2].endswith("-c stage=production -c region=eu-west-1 -c publicKeyFile="
                             f"{ROOT}/.deploy/production/cloudfront-public-key.pem -c domain=media.example.com "
                             "-c hostedZone=example.com -c alarmEmail=ops@example.com)")
    assert lines[3].endswith("--region eu-west-1 --route53")
    assert lines[-1] == "VIRTUAL_ENV=.venv-lambda .venv-zappa/bin/zappa certify production --yes"
    steps = re.findall(r"==> \[(\d+)/(\d+)\] (.*)", output)
    assert [(int(n), int(total)) for n, total, _ in steps] == [(n, 11) for n in range(1, 12)]
    order = [title for _, _, title in steps]
    assert order[0].startswith("CDK bootstrap") and "signing key" in order[1] and "MediahubInfra-production" in order[2]
    assert "custom domain media.example.com" in order[10]


def test_malware_scanning_is_a_context_of_the_stack():
    output = dry_run("--stage", "production", "--malware-scan")
    [stack] = [line for line in commands(output) if " cdk deploy " in line]
    assert stack.endswith("-c malwareScan=guardduty)")


def test_mediaconvert_renditions_are_a_context_of_the_stack():
    output = dry_run("--stage", "production", "--malware-scan", "--video-renditions")
    [stack] = [line for line in commands(output) if " cdk deploy " in line]
    assert stack.endswith("-c malwareScan=guardduty -c videoRenditions=mediaconvert)")
    without = dry_run("--stage", "production")
    assert "videoRenditions" not in without


def test_a_domain_without_a_zone_leaves_dns_to_the_operator():
    output = dry_run("--stage", "dev", "--domain", "dev.media.example.com")
    lines = commands(output)
    assert lines[3].endswith("--no-route53")
    assert "DNS validation record" in output
    assert lines[-1].endswith("zappa certify dev --yes")


def test_bad_arguments_are_refused():
    for args in (["--stage", ""], ["--stage", "Prod_1"], ["--stage", "dev", "--hosted-zone", "example.com"]):
        done = subprocess.run([sys.executable, "-m", "infra.deploy", *args, "--dry-run"], cwd=ROOT,
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 2, args


def test_make_deploy_runs_this_command():
    if shutil.which("make") is None:
        missing_tool("make is not installed")
    shown = subprocess.run(["make", "-n", "deploy", "STAGE=production", "DOMAIN=media.example.com",
                            "HOSTED_ZONE=example.com", "ALARM_EMAIL=ops@example.com", "MALWARE_SCAN=guardduty",
                            "VIDEO_RENDITIONS=mediaconvert", "DRY_RUN=1"],
                           cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0, shown.stderr
    recipe = shown.stdout.replace("\\\n", " ")
    [line] = [line for line in recipe.splitlines() if "-m infra.deploy" in line]
    assert line.split() == [".venv/bin/python", "-m", "infra.deploy", "--stage", '"production"',
                            "--domain", '"media.example.com"', "--hosted-zone", '"example.com"',
                            "--alarm-email", '"ops@example.com"', "--malware-scan", "--video-renditions",
                            "--dry-run"]


API_URL = "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/production"


def test_a_real_run_updates_an_existing_function_and_deploys_a_new_one(monkeypatch, tmp_path):
    ran: list[tuple[str, ...]] = []
    monkeypatch.setattr(deploy, "run", lambda step, number, total, env: ran.append(step.command))
    monkeypatch.setattr(deploy, "stage_settings", lambda stage: {"s3_bucket": "mediahub-packages"})
    monkeypatch.setattr(deploy, "account_id", lambda region: "123456789012")
    monkeypatch.setattr(deploy, "api_site_url", lambda name, region, stage: API_URL)
    plan = deploy.Plan(stage="production", region="us-east-1", domain=None, hosted_zone=None, alarm_email=None,
                       state=tmp_path / ".deploy" / "production")
    for exists, verb in ((True, "update"), (False, "deploy")):
        ran.clear()
        monkeypatch.setattr(deploy, "function_exists", lambda name, region: exists)
        deploy.deploy(plan, dry_run=False)
        assert ran[0][-1] == "aws://123456789012/us-east-1"
        assert ran[-3][-4:] == (verb, "production", "-z", "s3://mediahub-packages/mediahub-production.zip")
        assert ran[-2][-4:] == (verb, "production-processing", "-z",
                                "s3://mediahub-packages/mediahub-production-processing.zip")
        assert "infra.throttle" in ran[-1]
        assert len(ran) == 10
        [stack] = [command for command in ran if "deploy" in command and "MediahubInfra-production" in command]
        assert stack[-2:] == ("-c", f"siteUrl={API_URL}")  # the bucket's CORS admits the API's origin
    assert plan.state.is_dir()


def test_the_first_deploy_without_a_domain_runs_the_stack_again_with_the_apis_url(monkeypatch, tmp_path):
    """The API exists only once Zappa made it: the stack, the settings and the function go once more."""
    ran: list[tuple[str, ...]] = []
    monkeypatch.setattr(deploy, "run", lambda step, number, total, env: ran.append(step.command))
    monkeypatch.setattr(deploy, "stage_settings", lambda stage: {"s3_bucket": "mediahub-packages"})
    monkeypatch.setattr(deploy, "account_id", lambda region: "123456789012")
    monkeypatch.setattr(deploy, "function_exists", lambda name, region: False)
    answers = iter([None, API_URL])
    monkeypatch.setattr(deploy, "api_site_url", lambda name, region, stage: next(answers))
    plan = deploy.Plan(stage="production", region="us-east-1", domain=None, hosted_zone=None, alarm_email=None,
                       state=tmp_path / ".deploy" / "production")
    deploy.deploy(plan, dry_run=False)
    stacks = [command for command in ran if "deploy" in command and "MediahubInfra-production" in command]
    assert len(ran) == 15 and len(stacks) == 2
    assert not any("siteUrl" in arg for arg in stacks[0])
    assert stacks[1][-2:] == ("-c", f"siteUrl={API_URL}")
    assert ran[10] == stacks[1] and "infra.zappa_stage" in ran[11]
    assert ran[7][-4:-2] == ("deploy", "production") and ran[12][-4:-2] == ("update", "production")
    assert ran[8][-4:-2] == ("deploy", "production-processing") and ran[13][-4:-2] == ("update", "production-processing")
    assert "infra.throttle" in ran[9] and "infra.throttle" in ran[14]


def test_bootstrap_runs_where_no_cdk_app_is_named(tmp_path):
    """`cdk bootstrap` in a directory with cdk.json synthesises the app first, and the app needs
    the public key step 2 writes: from an empty account it failed. At the root there is no app."""
    plan = deploy.Plan(stage="dev", region="us-east-1", domain=None, hosted_zone=None, alarm_email=None,
                       state=tmp_path)
    [bootstrap] = [step for step in plan.steps("123456789012") if "bootstrap" in step.command]
    assert not (bootstrap.cwd / "cdk.json").exists()
    assert not any(arg.startswith("--app") for arg in bootstrap.command)
    [stack] = [step for step in plan.steps("123456789012") if "deploy" in step.command and "-c" in step.command]
    assert (stack.cwd / "cdk.json").exists() and stack.command[stack.command.index("deploy") + 1] == "MediahubInfra-dev"


def test_the_manual_steps_it_prints_are_the_readmes(tmp_path):
    """The README's deploy section lists every manual step the deploy prints, and nothing else."""
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Deploying to AWS"):]
    section = section[:section.index("\n## ", 3)]
    listed = re.findall(r"^\d+\. \*\*By hand\*\*: (.+)$", section, re.M)
    for alarm_email, domain, zone in ((None, None, None), ("ops@example.com", None, None),
                                       (None, "media.example.com", None)):
        plan = deploy.Plan(stage="production", region="us-east-1", domain=domain, hosted_zone=zone,
                           alarm_email=alarm_email, state=tmp_path)
        for step in deploy.manual_steps(plan):
            assert any(step.split(" ")[0:3] == item.split(" ")[0:3] for item in listed), (step, listed)
    assert len(listed) == 4, listed
