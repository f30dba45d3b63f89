"""The deploy rehearsed: `make deploy`'s own command (`python -m infra.deploy --stage dev`), every
step of its plan in order, against moto's server on loopback (``AWS_ENDPOINT_URL``, which
boto3, the CDK CLI and Zappa all honour), twice: the first run from an empty account, the second
the everyday re-deploy. `make rehearse` runs this module alone.

Runs as on AWS: ``cdk bootstrap`` (the real CLI, the bootstrap stack created in moto),
``infra.keys``, ``cdk synth`` of the stack, ``infra.zappa_stage``, ``make lambda-venv``,
``infra.package`` (``zappa package``, bytecode, the upload), ``zappa deploy -z`` and
``zappa update -z`` (the real Zappa: function, API stack, S3 event, schedule).

Bridged, each where moto cannot run the step as AWS would, as narrowly as it goes:

A. ``cdk deploy``: the CDK CLI makes its change set from the template's URL in the bootstrap
   bucket, and moto reads that URL as a bucket that does not exist. ``cdk_deploy_bridge.py``,
   first on PATH as ``npx``, turns that one command into the real ``cdk synth`` of the same
   stack and context, then CreateStack/UpdateStack with the synthesised template as its body,
   under the plan's stack name. Every other ``npx`` call goes to the real one.
B. The stack's outputs (``cdk deploy --outputs-file``): moto answers DescribeStacks with 500
   when an output refers to a resource type it does not create, so the bridge leaves the
   ``Outputs`` out of the body and resolves them from the template against the resources moto
   made; what moto did not make reads ``moto-did-not-create-<LogicalId>`` (CdnUrl, CloudFrontKeyId).
C. Zappa's ``touch`` (a GET of the API's URL after deploying): that host exists only on AWS, so
   the rehearsal's copy of the settings says ``"touch": false`` for the stage.

Moto's own faults, as found (not the project's):

- UpdateStack of a bucket with tags but no ``BucketName``: moto raises ``KeyError`` and answers
  500 (corrected in ``rehearsal_moto.py``, which tags the bucket moto already has).
- UpdateStack of a bucket applies only its encryption and tags, not its CORS rules.
- moto has no ``ListFunctionUrlConfigs`` (404), which ``zappa update`` calls (added in
  ``rehearsal_moto.py``, listing the one URL config moto keeps per function).
- CloudFormation creates only some resource types (no CloudFront, CloudWatch alarm, budget, ACM
  or Secrets Manager secret; logged "No Moto CloudFormation support"); the others exist.
- Lambda's AddPermission answers 200 where AWS answers 201 (Zappa does not check the code).
- Lambda keeps no ``DeadLetterConfig``: GetFunction never shows the queue a function was given.
"""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import subprocess
import sys
import time

import boto3
import pytest

from infra.zappa_stage import stack_name
from tests.conftest import missing_tool

ROOT = pathlib.Path(__file__).resolve().parents[2]
HERE = pathlib.Path(__file__).resolve().parent
STAGE = "dev"
FUNCTION = f"mediahub-{STAGE}"
PROCESSING = f"{STAGE}-processing"
PROCESSOR = f"mediahub-{PROCESSING}"
STACK = stack_name(STAGE)
REGION = "us-east-1"
# The resources of the stack moto's CloudFormation creates, by type, that the function needs.
OWN_RESOURCES = {"AWS::S3::Bucket", "AWS::DynamoDB::Table", "AWS::IAM::Role", "AWS::Logs::LogGroup",
                 "AWS::SNS::Topic", "AWS::SQS::Queue"}
SHARED = (".venv", ".venv-zappa", "node_modules")


def copy_project(target: pathlib.Path) -> None:
    """The project as committed, its built bundle, and its virtualenvs: the deploy writes
    ``zappa_settings.json`` and ``.deploy/``, which must not be this checkout's."""
    tracked = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True,
                             text=True, check=True).stdout.split()
    for name in tracked:
        if (ROOT / name).is_file() and not (ROOT / name).is_symlink():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, target / name)
    shutil.copytree(ROOT / "static" / "dist", target / "static" / "dist", dirs_exist_ok=True)
    for name in SHARED:
        (target / name).symlink_to((ROOT / name).resolve())
    # make lambda-venv may rebuild it (rm -rf): a copy of links, not the checkout's own.
    subprocess.run(["cp", "-al", str((ROOT / ".venv-lambda").resolve()), str(target / ".venv-lambda")], check=True)
    # Bridge C: no GET of the API's URL after deploying.
    settings_file = target / "zappa_settings.json"
    settings = json.loads(settings_file.read_text())
    settings[STAGE]["touch"] = False
    settings_file.write_text(json.dumps(settings, indent=4) + "\n")


@pytest.fixture(scope="module")
def moto_server(tmp_path_factory):
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    with log.open("w") as errors:
        server = subprocess.Popen([sys.executable, str(HERE / "rehearsal_moto.py")], stdout=subprocess.PIPE,
                                  stderr=errors, text=True)
    try:
        line = server.stdout.readline()
        assert line.startswith("port "), line
        yield f"http://127.0.0.1:{line.split()[1]}"
    finally:
        server.terminate()
        server.wait(timeout=30)


class Account:
    """What the rehearsal reads back from moto, as a caller with the operator's credentials."""

    def __init__(self, endpoint: str):
        self.session = boto3.session.Session(aws_access_key_id="rehearsal", aws_secret_access_key="rehearsal",
                                             region_name=REGION)
        self.endpoint = endpoint

    def client(self, service: str):
        return self.session.client(service, endpoint_url=self.endpoint)

    def snapshot(self, project: pathlib.Path) -> dict:
        cloudformation = self.client("cloudformation")
        stacks = {}
        for stack in cloudformation.describe_stacks()["Stacks"]:
            name = stack["StackName"]
            resources = cloudformation.list_stack_resources(StackName=name)["StackResourceSummaries"]
            stacks[name] = {
                "tags": {t["Key"]: t["Value"] for t in stack.get("Tags", [])},
                "resources": {r["LogicalResourceId"]: (r["ResourceType"], r.get("PhysicalResourceId"))
                              for r in resources},
            }
        functions = {}
        for name in (FUNCTION, PROCESSOR):
            described = self.client("lambda").get_function(FunctionName=name)
            functions[name] = {**described["Configuration"], "ReservedConcurrentExecutions":
                               described.get("Concurrency", {}).get("ReservedConcurrentExecutions")}
        function = functions[FUNCTION]
        every_stage = json.loads((project / "zappa_settings.json").read_text())
        settings = every_stage[STAGE]
        bucket = settings["environment_variables"]["MEDIAHUB_BUCKET"]
        notifications = self.client("s3").get_bucket_notification_configuration(Bucket=bucket)
        notifications.pop("ResponseMetadata", None)
        events = self.client("events")
        rules = {rule["Name"]: {"schedule": rule.get("ScheduleExpression"), "state": rule.get("State"),
                                "targets": [t["Arn"] for t in events.list_targets_by_rule(Rule=rule["Name"])["Targets"]]}
                 for rule in events.list_rules(NamePrefix=FUNCTION)["Rules"]}
        packages = {item["Key"]: item["Size"] for item in
                    self.client("s3").list_objects_v2(Bucket=settings["s3_bucket"]).get("Contents", [])}
        apigateway = self.client("apigateway")
        [api] = [api for api in apigateway.get_rest_apis()["items"] if api["name"] == FUNCTION]
        throttling = apigateway.get_stage(restApiId=api["id"], stageName=STAGE).get("methodSettings", {}).get("*/*", {})
        return {"stacks": stacks, "function": function, "processor": functions[PROCESSOR],
                "processing": every_stage[PROCESSING], "throttling": throttling, "notifications": notifications, "rules": rules,
                "packages": packages, "settings": settings,
                "apis": sorted(api["name"] for api in self.client("apigateway").get_rest_apis()["items"])}


@pytest.fixture(scope="module")
def rehearsal(moto_server, tmp_path_factory):
    """Both runs of the deploy; each run's output and what the account holds after it."""
    for tool, hint in ((ROOT / ".venv-zappa" / "bin" / "zappa", "make lambda-venv"),
                       (ROOT / "node_modules" / ".bin" / "cdk", "npm ci"),
                       (ROOT / "static" / "dist" / "manifest.json", "node frontend/build.mjs")):
        if not tool.exists():
            missing_tool(f"{tool} is missing; `make test` builds it ({hint})")
    runtime = json.loads((ROOT / "zappa_settings.json").read_text())["base"]["runtime"]
    if not (ROOT / ".venv-lambda" / f".deps-installed-{runtime}").exists():
        missing_tool(".venv-lambda is missing or stale; `make test` (or `make lambda-venv`) builds it")
    project = tmp_path_factory.mktemp("project")
    copy_project(project)
    shim = tmp_path_factory.mktemp("bridge")
    (shim / "npx").write_text(f"#!/bin/sh\nexec {sys.executable} {HERE / 'cdk_deploy_bridge.py'} \"$@\"\n")
    (shim / "npx").chmod(0o755)
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("AWS_", "MEDIAHUB_", "CDK_")) and key not in ("DRY_RUN", "VIRTUAL_ENV")}
    env.update(AWS_ENDPOINT_URL=moto_server, AWS_ACCESS_KEY_ID="rehearsal", AWS_SECRET_ACCESS_KEY="rehearsal",
               AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull, AWS_EC2_METADATA_DISABLED="true",
               PATH=f"{shim}{os.pathsep}{env['PATH']}", MEDIAHUB_REHEARSAL_SHIM=str(shim),
               JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION="1", PYTHONDONTWRITEBYTECODE="1")
    account = Account(moto_server)
    runs = []
    for _ in range(2):
        started = time.monotonic()
        done = subprocess.run([".venv/bin/python", "-m", "infra.deploy", "--stage", STAGE], cwd=project, env=env,
                              capture_output=True, text=True, timeout=600)
        output = done.stdout + done.stderr
        assert done.returncode == 0, output[-6000:]
        runs.append({"output": output, "seconds": time.monotonic() - started, "state": account.snapshot(project)})
    print("deploy runs took", ", ".join(f"{run['seconds']:.0f} s" for run in runs))
    (pathlib.Path(os.environ.get("MEDIAHUB_REHEARSAL_DUMP", os.devnull))).write_text(json.dumps(runs, default=str))
    return runs


def commands_run(output: str) -> list[str]:
    lines = output.splitlines()
    return [lines[i + 1].strip() for i, line in enumerate(lines) if line.startswith("==> [") and i + 1 < len(lines)]


def test_the_first_run_deploys_from_an_empty_account(rehearsal):
    first = rehearsal[0]
    commands = commands_run(first["output"])
    assert "cdk bootstrap aws://123456789012/us-east-1" in commands[0]
    assert "infra.keys" in commands[1]
    assert f"cdk deploy {STACK} " in commands[2] and "cdk_deploy_bridge: CreateStack" in first["output"]
    assert "infra.zappa_stage" in commands[3] and "lambda-venv" in commands[4]
    assert f"infra.package --stage {STAGE} " in commands[5] and f"infra.package --stage {PROCESSING} " in commands[6]
    assert f"zappa deploy {STAGE} -z s3://" in commands[7] and f"zappa deploy {PROCESSING} -z s3://" in commands[8]
    assert "infra.throttle" in commands[9]
    # No domain: the API's URL, known once Zappa made it, goes to the stack, the settings and the functions.
    assert "siteUrl=https://" in commands[10] and "cdk_deploy_bridge: UpdateStack" in first["output"]
    assert "infra.zappa_stage" in commands[11] and f"zappa update {STAGE} -z s3://" in commands[12]
    assert f"zappa update {PROCESSING} -z s3://" in commands[13]
    assert "infra.throttle" in commands[14] and len(commands) == 15
    assert "Still by hand:" in first["output"] and "aws sns subscribe --topic-arn arn:aws:sns:" in first["output"]


def test_the_second_run_updates(rehearsal):
    second = rehearsal[1]
    commands = commands_run(second["output"])
    assert len(commands) == 10, commands
    assert f"zappa update {STAGE} -z s3://" in commands[7] and f"zappa update {PROCESSING} -z s3://" in commands[8]
    assert "siteUrl=https://" in commands[2]  # known from the start now


@pytest.mark.parametrize("run", [0, 1], ids=["first run", "second run"])
def test_the_stack_is_its_own_and_zappas_api_stack_is_another(rehearsal, run):
    stacks = rehearsal[run]["state"]["stacks"]
    assert set(stacks) == {"CDKToolkit", STACK, FUNCTION}
    infrastructure, api = stacks[STACK], stacks[FUNCTION]
    assert "ZappaProject" not in infrastructure["tags"]
    assert OWN_RESOURCES <= {kind for kind, _ in infrastructure["resources"].values()}
    assert not any(kind.startswith("AWS::ApiGateway::") for kind, _ in infrastructure["resources"].values())
    assert api["tags"].get("ZappaProject") == FUNCTION
    assert {kind for kind, _ in api["resources"].values()} <= {
        "AWS::ApiGateway::RestApi", "AWS::ApiGateway::Resource", "AWS::ApiGateway::Method"}
    assert rehearsal[run]["state"]["apis"] == [FUNCTION]


@pytest.mark.parametrize("run", [0, 1], ids=["first run", "second run"])
def test_the_function_runs_with_the_stacks_role_and_the_stages_settings(rehearsal, run):
    state = rehearsal[run]["state"]
    function, settings = state["function"], state["settings"]
    role = next(physical for kind, physical in state["stacks"][STACK]["resources"].values()
                if kind == "AWS::IAM::Role" and physical == f"{FUNCTION}-lambda")
    assert function["Role"] == settings["role_arn"] and function["Role"].endswith(f":role/{role}")
    stage = {**json.loads((ROOT / "zappa_settings.json").read_text())["base"], **settings}
    assert function["Runtime"] == stage["runtime"]
    assert function["MemorySize"] == stage["memory_size"]
    assert function["Timeout"] == stage["timeout_seconds"]
    assert function["Handler"] == "handler.lambda_handler"
    assert function["ReservedConcurrentExecutions"] == stage["lambda_concurrency"]
    queue = next(physical for kind, physical in state["stacks"][STACK]["resources"].values() if kind == "AWS::SQS::Queue")
    # moto keeps no DeadLetterConfig (its fault): the settings name the stack's queue, and
    # infra.throttle says it set it on the function.
    assert f"{FUNCTION}: failed events go to {settings['dead_letter_arn']}" in rehearsal[run]["output"]
    assert settings["dead_letter_arn"].endswith(":" + queue.rsplit("/", 1)[-1])
    assert (state["throttling"].get("throttlingRateLimit"), state["throttling"].get("throttlingBurstLimit")) == (
        stage["api_throttling"]["rate_limit"], stage["api_throttling"]["burst_limit"])
    # The app's settings travel in the package (Zappa's zappa_settings.py), named by the stack.
    environment = settings["environment_variables"]
    assert environment["MEDIAHUB_TABLE"] == FUNCTION and environment["MEDIAHUB_SITE_URL"].startswith("https://")


@pytest.mark.parametrize("run", [0, 1], ids=["first run", "second run"])
def test_uploads_notify_the_processing_function_and_the_cleanup_runs_hourly(rehearsal, run):
    """Events run in the processing stage (the same code, more memory and time); the web stage takes none."""
    state = rehearsal[run]["state"]
    function_arn = state["processor"]["FunctionArn"]
    [created] = state["notifications"]["LambdaFunctionConfigurations"]
    assert created["LambdaFunctionArn"] == function_arn
    assert created["Events"] == ["s3:ObjectCreated:*"]
    # S3 takes the rule's name in either case (Zappa writes "prefix"); moto answers it as written.
    assert [(r["Name"].lower(), r["Value"]) for r in created["Filter"]["Key"]["FilterRules"]] == [("prefix", "uploads/")]
    [cleanup] = [rule for name, rule in state["rules"].items() if name.endswith("webapp.events.cleanup")]
    assert cleanup == {"schedule": "rate(1 hour)", "state": "ENABLED", "targets": [function_arn]}
    processor, web = state["processor"], state["function"]
    assert processor["Role"] == web["Role"] and processor["Runtime"] == web["Runtime"]
    assert (processor["MemorySize"], processor["Timeout"]) == (
        state["processing"]["memory_size"], state["processing"]["timeout_seconds"])
    assert processor["MemorySize"] > web["MemorySize"] and processor["Timeout"] > web["Timeout"]
    assert processor["ReservedConcurrentExecutions"] == state["processing"]["lambda_concurrency"]
    assert f"{PROCESSOR}: failed events go to {state['settings']['dead_letter_arn']}" in rehearsal[run]["output"]


@pytest.mark.parametrize("run", [0, 1], ids=["first run", "second run"])
def test_the_package_went_to_the_stacks_deployment_bucket(rehearsal, run):
    state = rehearsal[run]["state"]
    deployment_bucket = state["settings"]["s3_bucket"]
    assert deployment_bucket in {physical for kind, physical in state["stacks"][STACK]["resources"].values()
                                 if kind == "AWS::S3::Bucket"}
    assert sorted(state["packages"]) == [f"{PROCESSOR}.zip", f"{FUNCTION}.zip"]
    assert f"-z s3://{deployment_bucket}/{FUNCTION}.zip" in rehearsal[run]["output"]


def test_the_second_run_changes_nothing_else(rehearsal):
    first, second = (run["state"] for run in rehearsal)
    assert second["settings"] == first["settings"]
    assert second["stacks"] == first["stacks"]
    assert second["notifications"] == first["notifications"] and second["rules"] == first["rules"]
    assert second["throttling"] == first["throttling"]
    assert second["apis"] == first["apis"] and list(second["packages"]) == list(first["packages"])
    changing = {"CodeSha256", "LastModified", "RevisionId", "Version", "CodeSize", "LastUpdateStatus",
                "LastUpdateStatusReason", "LastUpdateStatusReasonCode", "ResponseMetadata"}
    for function in ("function", "processor"):
        assert {k: v for k, v in second[function].items() if k not in changing} == \
            {k: v for k, v in first[function].items() if k not in changing}
