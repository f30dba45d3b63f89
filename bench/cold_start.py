"""Cold start of the real Lambda package: a fresh process in the unzipped zip (no site-packages,
as on Lambda) imports Zappa's handler and answers its first API Gateway event, GET /.

The package is built as `make deploy` builds it (`infra.package`: `zappa package` of the dev
stage with a stack's outputs merged, then unchecked-hash bytecode), and measured three ways,
alternating, in the same run:

- Mediahub, the zip as deployed (bytecode, nothing compiled at run time);
- a minimal Flask app that imports boto3, packaged the same way (the same zip's handler,
  libraries and bytecode, its ``zappa_settings.py`` naming that app): the baseline;
- Mediahub without bytecode, every ``__pycache__`` removed, as Zappa's zip was before: each
  import compiles its source (``PYTHONDONTWRITEBYTECODE``, as on Lambda's read-only disk).

    python -m bench.cold_start [--quick]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import pathlib
import py_compile
import shutil
import subprocess
import sys
import tempfile
import zipfile

from bench.common import ROOT, machine, median, moto_process, table

STAGE = "dev"
SECRET_NAME = f"mediahub/{STAGE}/secret-key"
OUTPUTS = {f"MediahubInfra-{STAGE}": {
    "BucketName": "bench-uploads", "TableName": "bench", "CdnUrl": "https://d111111abcdef8.cloudfront.net",
    "CloudFrontKeyId": "K2JCJMDEHXQW5F", "CloudFrontKeysSecret": f"mediahub/{STAGE}/cloudfront-keys",
    "SecretKeySecret": SECRET_NAME, "RoleArn": "arn:aws:iam::123456789012:role/mediahub-dev-lambda",
    "DeploymentBucket": "bench-packages", "AlarmTopicArn": "arn:aws:sns:us-east-1:123456789012:mediahub-dev-alarms",
    "LogGroupName": f"/aws/lambda/mediahub-{STAGE}", "SiteUrl": "https://dev.media.example.com",
}}

MINIMAL_APP = '''
import boto3
from flask import Flask

app = Flask(__name__)


@app.get("/")
def index():
    return "<!doctype html><title>Hello</title><p>Hello"
'''

# Run with `python -S` inside the unzipped package: the time from the handler's import to the
# first answer (the interpreter's own start is the same for all three and left out).
MEASURE = '''
import sys, time
started = time.perf_counter()
sys.path.insert(0, ".")
import handler

class Context:
    aws_request_id = "bench"
    function_name = "mediahub-dev"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:mediahub-dev"
    def get_remaining_time_in_millis(self):
        return 30000

headers = {"Host": "dev.media.example.com", "X-Forwarded-Proto": "https", "Accept": "text/html"}
event = {"resource": "/{proxy+}", "path": "/", "httpMethod": "GET", "headers": headers,
         "multiValueHeaders": {k: [v] for k, v in headers.items()}, "queryStringParameters": None,
         "multiValueQueryStringParameters": None, "pathParameters": {"proxy": ""}, "stageVariables": None,
         "body": None, "isBase64Encoded": False,
         "requestContext": {"resourcePath": "/{proxy+}", "httpMethod": "GET", "path": "/", "stage": "dev",
                            "requestId": "bench", "identity": {"sourceIp": "203.0.113.5", "userAgent": "bench"}}}
answer = handler.lambda_handler(event, Context())
assert answer["statusCode"] == 200, answer
print(time.perf_counter() - started)
'''


def build_package(work: pathlib.Path) -> tuple[pathlib.Path, int]:
    """The dev stage's package as the deploy builds it, unzipped; and the zip's size."""
    project = work / "project"
    tracked = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True,
                             text=True, check=True).stdout.split()
    for name in tracked:
        source = ROOT / name
        if source.is_file() and not source.is_symlink():
            (project / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, project / name)
    shutil.copytree(ROOT / "static" / "dist", project / "static" / "dist")
    for name in (".venv-zappa", ".venv-lambda"):
        (project / name).symlink_to((ROOT / name).resolve())
    outputs = project / ".deploy" / STAGE / "outputs.json"
    outputs.parent.mkdir(parents=True)
    outputs.write_text(json.dumps(OUTPUTS))
    archive = work / "package.zip"
    for command in (["-m", "infra.zappa_stage", "--stage", STAGE, "--outputs", str(outputs)],
                    ["-m", "infra.package", "--stage", STAGE, "--out", str(archive)]):
        done = subprocess.run([sys.executable, *command], cwd=project, capture_output=True, text=True, timeout=900)
        if done.returncode != 0:
            raise RuntimeError(done.stdout[-2000:] + done.stderr[-2000:])
    tree = work / "mediahub"
    with zipfile.ZipFile(archive) as package:
        package.extractall(tree)
    return tree, archive.stat().st_size


def linked_copy(tree: pathlib.Path, target: pathlib.Path) -> pathlib.Path:
    """A copy made of hard links: files are replaced by unlinking first, never written through."""
    subprocess.run(["cp", "-al", str(tree), str(target)], check=True)
    return target


def without_bytecode(tree: pathlib.Path, target: pathlib.Path) -> pathlib.Path:
    copy = linked_copy(tree, target)
    for cache in sorted(copy.rglob("__pycache__"), reverse=True):
        shutil.rmtree(cache)
    return copy


def minimal_app(tree: pathlib.Path, target: pathlib.Path) -> pathlib.Path:
    """The same package with Zappa's settings naming a minimal Flask + boto3 app, compiled alike."""
    copy = linked_copy(tree, target)
    settings = copy / "zappa_settings.py"
    text = settings.read_text()
    settings.unlink()
    lines = [line for line in text.splitlines()
             if not line.startswith(("APP_MODULE", "APP_FUNCTION", "ENVIRONMENT_VARIABLES"))]
    settings.write_text("\n".join([*lines, "APP_MODULE='minimal_app'", "APP_FUNCTION='app'",
                                   "ENVIRONMENT_VARIABLES={}", ""]))
    (copy / "minimal_app.py").write_text(MINIMAL_APP)
    for source in (settings, copy / "minimal_app.py"):
        cached = pathlib.Path(importlib.util.cache_from_source(str(source)))
        if cached.exists():
            cached.unlink()
        py_compile.compile(str(source), cfile=str(cached), doraise=True,
                           invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
    return copy


def once(tree: pathlib.Path, env: dict) -> float:
    ran = subprocess.run([sys.executable, "-S", "-c", MEASURE], cwd=tree, env=env, capture_output=True, text=True,
                         timeout=120)
    if ran.returncode != 0:
        raise RuntimeError(ran.stderr[-2000:])
    return float(ran.stdout.strip().splitlines()[-1])


def main(argv=None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="two rounds: a smoke test")
    args = parser.parse_args(argv)
    rounds = 2 if args.quick else 14
    samples: dict[str, list[float]] = {"ours": [], "minimal": [], "source": []}
    with tempfile.TemporaryDirectory() as scratch, moto_process() as endpoint:
        work = pathlib.Path(scratch)
        tree, zip_size = build_package(work)
        trees = {"ours": tree, "minimal": minimal_app(tree, work / "minimal"),
                 "source": without_bytecode(tree, work / "source")}
        import boto3

        boto3.client("secretsmanager", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="bench",
                     aws_secret_access_key="bench").create_secret(Name=SECRET_NAME, SecretString="b" * 48)
        env = {"PATH": os.environ.get("PATH", ""), "PYTHONDONTWRITEBYTECODE": "1", "AWS_REGION": "us-east-1",
               "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_SESSION_TOKEN": "bench",
               "AWS_LAMBDA_FUNCTION_NAME": "mediahub-dev", "MEDIAHUB_AWS_ENDPOINT_URL": endpoint}
        for _ in range(rounds):
            for name, path in trees.items():
                samples[name].append(once(path, env))
    ours, minimal, source = (median(samples[name]) for name in ("ours", "minimal", "source"))
    rows = [
        ["minimal Flask + boto3, packaged the same way, bytecode", f"{minimal * 1000:.0f}", "baseline"],
        ["Mediahub zip as deployed (unchecked-hash bytecode)", f"{ours * 1000:.0f}", f"{ours / minimal:.2f}x"],
        ["Mediahub zip without bytecode (compiles at import)", f"{source * 1000:.0f}", f"{source / minimal:.2f}x"],
    ]
    report = (f"Cold start of the Lambda package ({zip_size / 1e6:.1f} MB zip): import the handler + first "
              f"GET /, median of {rounds} fresh processes ({machine()})\n\n"
              + table(["package", "ms", "ratio"], rows)
              + f"\n\nMediahub with bytecode against without: {ours / source:.2f}x")
    print(report)
    return report


if __name__ == "__main__":
    main()
