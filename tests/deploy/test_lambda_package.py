"""The very package Zappa builds, as `make deploy` builds it: the Makefile's virtualenvs, the dev
stage's settings after `infra.zappa_stage` merged a stack's outputs, `zappa package dev`.

Checked: its size and contents, that every shared object loads on the Lambda runtime's glibc
and Python, the settings Zappa wrote into it; then unzipped, its handler is called with API
Gateway, S3 and schedule events against moto's server, a signed CloudFront link comes out of
it, and no request path (with its token) reaches its output.
"""

from __future__ import annotations

import inspect
import json
import os
import pathlib
import re
import secrets
import shutil
import subprocess
import sys
import threading
import time
import zipfile

import jinja2
import pytest
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from infra import keys
from tests.conftest import missing_tool
from tests.support import Relay, png_bytes, post_to_storage, s3_event
from webapp.local import gate as storage_gate
from webapp.aws.catalog import Catalog
from webapp.aws.clients import AwsClients
from webapp.local.resources import ensure_bucket, ensure_table
from webapp.aws.signing import verify_cloudfront_url
from webapp.templating import PackagedTemplates

ROOT = pathlib.Path(__file__).resolve().parents[2]
LAMBDA_VENV = ROOT / ".venv-lambda"
ZAPPA = ROOT / ".venv-zappa" / "bin" / "zappa"
DRIVER = pathlib.Path(__file__).with_name("lambda_driver.py")
STAGE = "dev"
PROCESSING = f"{STAGE}-processing"
# With bytecode beside every source (about 24 MB without) and PDFium (pypdfium2, for a PDF's first
# page, about 4 MB): Zappa uploads the zip to the deployment bucket, where only Lambda's 250 MB
# unzipped limit applies; staying under the 50 MB of a direct upload keeps both ways open.
ZIP_LIMIT = 50_000_000
UNZIPPED_LIMIT = 250 * 1024 * 1024
KEY_ID = "K2JCJMDEHXQW5F"
SITE = "https://dev.media.example.com"
CDN = "https://d111111abcdef8.cloudfront.net"
# What `cdk deploy MediahubInfra-dev --outputs-file` writes (infra/stack.py's outputs).
SAMPLE_OUTPUTS = {f"MediahubInfra-{STAGE}": {
    "BucketName": "mediahub-dev-uploadsbucket-1a2b3c4d",
    "TableName": "mediahub-dev-table-5e6f7a8b",
    "CdnUrl": CDN,
    "CloudFrontKeyId": KEY_ID,
    "CloudFrontKeysSecret": keys.secret_name(STAGE),
    "SecretKeySecret": f"mediahub/{STAGE}/secret-key",
    "RoleArn": "arn:aws:iam::123456789012:role/mediahub-dev-FunctionRole-ABC123",
    "DeploymentBucket": "mediahub-dev-deploymentbucket-9c8d7e6f",
    "AlarmTopicArn": "arn:aws:sns:us-east-1:123456789012:mediahub-dev-AlarmTopic-XYZ",
    "LogGroupName": f"/aws/lambda/mediahub-{STAGE}",
    "SiteUrl": SITE,
    "CertificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-4e5f",
}}


def lambda_venv_stamp() -> pathlib.Path:
    """The Makefile's stamp for .venv-lambda, named after the runtime's Python (python3.11)."""
    runtime = json.loads((ROOT / "zappa_settings.json").read_text())["base"]["runtime"]
    stamp = LAMBDA_VENV / f".deps-installed-{runtime}"
    if not (ZAPPA.exists() and stamp.exists()):
        missing_tool(f"{ZAPPA} or {stamp} is missing; `make test` (or `make lambda-venv`) builds them")
    return stamp


def runtime_limits(runtime: str) -> tuple[tuple[int, int], str]:
    """The newest glibc a Lambda Python runtime has, and its CPython tag (``cpython-311``)."""
    major, minor = (int(part) for part in runtime.removeprefix("python").split("."))
    # python3.8-3.11 run on Amazon Linux 2 (glibc 2.26), python3.12+ on Amazon Linux 2023 (2.34).
    return ((2, 26) if minor <= 11 else (2, 34)), f"cpython-{major}{minor}"


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> pathlib.Path:
    """The project as committed, with the sample stack outputs merged into its dev stage."""
    project = tmp_path_factory.mktemp("project")
    tracked = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True,
                             text=True, check=True).stdout.split()
    for name in tracked:
        if (ROOT / name).is_file():
            (project / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, project / name)
    # The upload page's bundle is built, not committed (make builds it before packaging).
    if not (ROOT / "static" / "dist" / "manifest.json").exists():
        missing_tool("static/dist is not built; `make test` (or `make deploy`) builds it")
    shutil.copytree(ROOT / "static" / "dist", project / "static" / "dist")
    outputs = project / ".deploy" / STAGE / "outputs.json"
    outputs.parent.mkdir(parents=True)
    outputs.write_text(json.dumps(SAMPLE_OUTPUTS))
    merged = subprocess.run([sys.executable, "-m", "infra.zappa_stage", "--stage", STAGE, "--outputs", str(outputs)],
                            cwd=project, capture_output=True, text=True, timeout=60)
    assert merged.returncode == 0, merged.stdout + merged.stderr
    return project


@pytest.fixture(scope="module")
def settings_file(project) -> dict:
    return json.loads((project / "zappa_settings.json").read_text())


@pytest.fixture(scope="module")
def stage_env(settings_file) -> dict:
    return settings_file[STAGE]["environment_variables"]


def build(project: pathlib.Path, stage: str) -> pathlib.Path:
    """``infra.package`` as the deploy runs it: zappa package, then bytecode for the runtime."""
    for name in (".venv-zappa", ".venv-lambda"):
        if not (project / name).exists():
            (project / name).symlink_to((ROOT / name).resolve())
    built = subprocess.run([sys.executable, "-m", "infra.package", "--stage", stage], cwd=project,
                           capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    assert "modules compiled" in built.stdout
    # Zappa's own manylinux lookup is off: it must not have replaced anything from PyPI.
    assert "manylinux" not in built.stdout + built.stderr
    return project / ".deploy" / stage / "package.zip"


def extract(archive: pathlib.Path, target: pathlib.Path) -> pathlib.Path:
    with zipfile.ZipFile(archive) as package:
        package.extractall(target)
    return target


@pytest.fixture(scope="module")
def package(project) -> pathlib.Path:
    stamp = lambda_venv_stamp()
    stale = [name for name in ("requirements.txt", "requirements-deploy.txt")
             if (ROOT / name).stat().st_mtime > stamp.stat().st_mtime]
    assert not stale, f"{LAMBDA_VENV} is older than {', '.join(stale)}: `make lambda-venv` rebuilds it"
    return build(project, STAGE)


@pytest.fixture(scope="module")
def unzipped(package, tmp_path_factory) -> pathlib.Path:
    return extract(package, tmp_path_factory.mktemp("lambda"))


@pytest.fixture(scope="module")
def processing(package, project, tmp_path_factory) -> pathlib.Path:
    """The processing stage's package (the same code; its bytecode reused from the web one's)."""
    return extract(build(project, PROCESSING), tmp_path_factory.mktemp("processing"))


def test_package_is_lean(package, unzipped):
    assert package.stat().st_size < ZIP_LIMIT, f"{package.stat().st_size / 1e6:.1f} MB"
    unzipped_size = sum(path.stat().st_size for path in unzipped.rglob("*") if path.is_file())
    assert unzipped_size < UNZIPPED_LIMIT, f"{unzipped_size / 1e6:.1f} MB unzipped"
    print(f"package: {package.stat().st_size / 1e6:.1f} MB, {unzipped_size / 1e6:.1f} MB unzipped")
    names = {p.name for p in unzipped.iterdir()}
    assert {"handler.py", "zappa_settings.py", "wsgi.py", "webapp", "templates", "static", "flask", "boto3",
            "cryptography", "zappa", "durationpy"} <= names
    unwanted = {"tests", "bench", "infra", "scripts", "frontend", "node_modules", "moto", "pytest", "playwright", "pip",
                "setuptools", "wheel", "troposphere", "yaml", "bin", "README.md", "Makefile", "zappa_settings.json"}
    assert not names & unwanted
    assert not [name for name in names if name.startswith(".")]
    assert not (unzipped / "webapp" / "local").exists()
    assert not (unzipped / "frontend").exists()  # the bundle's source; the bundle itself ships:
    manifest = json.loads((unzipped / "static" / "dist" / "manifest.json").read_text())
    assert manifest and all((unzipped / "static" / "dist" / name).is_file() for name in manifest.values())
    models = {p.name for p in (unzipped / "botocore" / "data").iterdir()}
    assert {"s3", "dynamodb", "ses", "secretsmanager", "ssm"} <= models
    # Every client the function builds has its model in the package (exclude_glob keeps only these).
    built = set(re.findall(r'_client\("([a-z0-9-]+)"', inspect.getsource(AwsClients)))
    assert "mediaconvert" in built and built <= models, sorted(built - models)


def test_every_module_has_unchecked_hash_bytecode_for_the_runtime(unzipped, settings_file):
    import importlib.util

    runtime = settings_file[STAGE].get("runtime") or settings_file["base"]["runtime"]
    tag = "cpython-" + runtime.removeprefix("python").replace(".", "")
    sources = [path for path in unzipped.rglob("*.py")]
    missing = [path for path in sources
               if not (path.parent / "__pycache__" / f"{path.stem}.{tag}.pyc").is_file()]
    assert not missing, f"{len(missing)} of {len(sources)} sources have no {tag} bytecode, e.g. {missing[:3]}"
    flags = {int.from_bytes((path.read_bytes()[4:8]), "little") for path in unzipped.rglob(f"*.{tag}.pyc")}
    assert flags == {0b01}, flags  # PEP 552: hash-based (bit 0), check_source off (bit 1)
    sample = unzipped / "webapp" / "__pycache__" / f"__init__.{tag}.pyc"
    assert sample.read_bytes()[:4] == importlib.util.MAGIC_NUMBER  # this Python is the runtime's (3.11)


def test_the_bytecode_is_what_runs(unzipped, tmp_path, deployed):
    """Sources that would fail to import, beside the package's bytecode: the page still comes,
    so every module the start and the first page import is loaded from its .pyc (no compile)."""
    env, _ = deployed
    broken = tmp_path / "broken"
    shutil.copytree(unzipped, broken)
    for path in broken.rglob("*.py"):
        path.write_text("raise ImportError('the source was read: its bytecode was not used')\n")
    page = invoke(broken, {**env, "PYTHONDONTWRITEBYTECODE": "1"}, [Browser().event("GET", "/")], tmp_path)
    [home] = page.results
    assert home["statusCode"] == 200, home
    assert "<h1>Upload files</h1>" in home["body"]


def test_every_template_is_compiled_into_the_package(unzipped):
    """A cold start loads each template's code from the package (webapp/templating.py): every
    template has an entry this Python accepts, keyed by its name and its source's checksum."""
    templates = unzipped / "templates"
    names = sorted(path.relative_to(templates).as_posix() for path in templates.rglob("*") if path.is_file())
    cache = PackagedTemplates(unzipped / "template-bytecode")
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(templates)))
    missing = [name for name in names
               if cache.get_bucket(env, name, None, (templates / name).read_text()).code is None]
    assert names and not missing, f"{len(missing)} of {len(names)} templates are not compiled: {missing}"
    assert len(list((unzipped / "template-bytecode").iterdir())) == len(names)
    bucket = cache.get_bucket(env, "index.html", None, (templates / "index.html").read_text())
    assert bucket.code.co_filename == "/var/task/templates/index.html"  # where Lambda unpacks it


def test_botocore_models_are_stored_uncompressed(unzipped):
    """botocore reads ``<name>.json`` before ``<name>.json.gz``: a cold start's clients (the first
    page's S3 and Secrets Manager) parse their models without un-gzipping them first."""
    data = unzipped / "botocore" / "data"
    assert not sorted(data.rglob("*.json.gz"))
    for service in ("s3", "secretsmanager", "dynamodb", "ses", "ssm"):
        version = max((data / service).iterdir())  # the newest API version, as botocore picks it
        assert {"service-2.json", "endpoint-rule-set-1.json"} <= {path.name for path in version.iterdir()}, service


def glibc_needed(shared_object: pathlib.Path) -> tuple[int, int]:
    """The newest GLIBC_x.y symbol version the object needs, from `objdump -T`'s version column."""
    dump = subprocess.run(["objdump", "-T", str(shared_object)], capture_output=True, text=True, check=True).stdout
    versions = {tuple(int(n) for n in found.split(".")[:2])
                for found in re.findall(r"\bGLIBC_(\d+\.\d+(?:\.\d+)?)\b", dump)}
    return max(versions, default=(0, 0))


def test_every_shared_object_loads_on_the_lambda_runtime(unzipped, settings_file):
    if not shutil.which("objdump"):
        missing_tool("objdump is missing (Debian package binutils)")
    runtime = settings_file[STAGE].get("runtime") or settings_file["base"]["runtime"]
    limit, python_tag = runtime_limits(runtime)
    shared = sorted(unzipped.rglob("*.so")) + sorted(unzipped.rglob("*.so.*"))
    assert any(path.name.startswith("_rust") for path in shared), "cryptography's Rust binding is missing"
    needs = {path.relative_to(unzipped).as_posix(): glibc_needed(path) for path in shared}
    too_new = {name: "GLIBC_%d.%d" % need for name, need in needs.items() if need > limit}
    assert not too_new, f"need a glibc newer than {runtime}'s {limit[0]}.{limit[1]}: {too_new}"
    other_python = [name for name in needs if re.search(r"\.cpython-\d+", name) and python_tag not in name]
    assert not other_python, f"built for another Python than {runtime}: {other_python}"
    print("glibc needed:", {name: "%d.%d" % need for name, need in needs.items()})


def test_settings_zappa_wrote_into_the_package(unzipped, processing):
    written, events = {}, {}
    exec((unzipped / "zappa_settings.py").read_text(), {}, written)
    exec((processing / "zappa_settings.py").read_text(), {}, events)
    assert written["DEBUG"] is False  # no tracebacks in answers
    assert written["LOG_LEVEL"] == "WARNING"  # Zappa's access log (with paths) is written at INFO
    assert written["BINARY_SUPPORT"] is False
    bucket = SAMPLE_OUTPUTS[f"MediahubInfra-{STAGE}"]["BucketName"]
    # The web stage takes no events; the processing stage (the same code) takes the uploads'.
    assert not written.get("AWS_EVENT_MAPPING")
    assert events["AWS_EVENT_MAPPING"] == {f"arn:aws:s3:::{bucket}": ["webapp.events.object_created"]}
    assert events["API_STAGE"] == PROCESSING and events["ENVIRONMENT_VARIABLES"] == written["ENVIRONMENT_VARIABLES"]
    assert written["ENVIRONMENT_VARIABLES"]["MEDIAHUB_CLOUDFRONT_KEY_ID"] == KEY_ID
    assert written["DOMAIN"] == "dev.media.example.com"


@pytest.fixture
def deployed(settings, aws, stage_env, tmp_path):
    """The dev stage's resources in moto, made as on AWS (the key by infra.keys), and the
    environment Lambda would give the function."""
    assert stage_env["MEDIAHUB_CLOUDFRONT_KEYS_SECRET"] == keys.secret_name(STAGE)
    ensure_bucket(aws.s3, stage_env["MEDIAHUB_BUCKET"], region="us-east-1", cors_origins=[SITE])
    ensure_table(aws.dynamodb, stage_env["MEDIAHUB_TABLE"])
    aws.secretsmanager.create_secret(Name=stage_env["MEDIAHUB_SECRET_KEY_SECRET"],
                                     SecretString=secrets.token_urlsafe(48))
    public_key = tmp_path / "cloudfront-public-key.pem"
    keys.ensure_keys(aws.secretsmanager, STAGE, public_key)
    # The function's role, known to local storage as IAM knows a role's keys: it checks what they sign.
    storage_gate.trust("lambda-role", "lambda-role")
    env = {
        "PATH": os.environ["PATH"],
        "MEDIAHUB_AWS_ENDPOINT_URL": settings.aws_endpoint_url,
        "AWS_ACCESS_KEY_ID": "lambda-role", "AWS_SECRET_ACCESS_KEY": "lambda-role",
        "AWS_SESSION_TOKEN": "lambda-session", "AWS_REGION": "us-east-1",
        "AWS_LAMBDA_FUNCTION_NAME": f"mediahub-{STAGE}",
        **stage_env,
        # moto's server runs inside the test process and may take seconds under load.
        "MEDIAHUB_AWS_READ_TIMEOUT": "6", "MEDIAHUB_AWS_MAX_ATTEMPTS": "3",
    }
    return env, public_key


class Invocation:
    def __init__(self, results: list, modules: dict, output: str, seconds: list[float]):
        self.results, self.modules, self.output, self.seconds = results, modules, output, seconds


def invoke(unzipped: pathlib.Path, env: dict, events: list[dict], tmp_path: pathlib.Path) -> Invocation:
    events_file, results_file = tmp_path / "events.json", tmp_path / "results.json"
    events_file.write_text(json.dumps(events))
    ran = subprocess.run([sys.executable, "-S", str(DRIVER), str(unzipped), str(events_file), str(results_file)],
                         env=env, capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr[-3000:]
    answer = json.loads(results_file.read_text())
    return Invocation(answer["results"], answer["modules"], ran.stdout + ran.stderr, answer["seconds"])


class Browser:
    """API Gateway events as a browser on the site's domain would cause them, with its cookies."""

    def __init__(self):
        self.cookies: dict[str, str] = {}
        self.host = SITE.split("://")[1]

    def event(self, method: str, path: str, *, headers: dict | None = None, body: str | None = None) -> dict:
        all_headers = {"Host": self.host, "X-Forwarded-Proto": "https", "X-Forwarded-Port": "443",
                       "Referer": f"{SITE}/", "User-Agent": "test", **(headers or {})}
        if self.cookies:
            all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        return {
            "resource": "/{proxy+}", "path": path, "httpMethod": method, "headers": all_headers,
            "multiValueHeaders": {k: [v] for k, v in all_headers.items()},
            "queryStringParameters": None, "multiValueQueryStringParameters": None,
            "pathParameters": {"proxy": path[1:]}, "stageVariables": None, "body": body, "isBase64Encoded": False,
            "requestContext": {"resourcePath": "/{proxy+}", "httpMethod": method, "path": path, "stage": STAGE,
                               "requestId": "req-1", "identity": {"sourceIp": "203.0.113.5", "userAgent": "test"}},
        }

    def keep(self, answer: dict) -> dict:
        for cookie in (answer.get("multiValueHeaders") or {}).get("Set-Cookie", []):
            name, _, value = cookie.split(";")[0].partition("=")
            self.cookies[name] = value
        return answer


def header(answer: dict, name: str) -> str:
    return (answer.get("multiValueHeaders") or {}).get(name, [None])[0] or (answer.get("headers") or {}).get(name)


def test_handler_serves_the_app_the_events_and_signed_links(unzipped, processing, deployed, aws, stage_env,
                                                            tmp_path):
    env, public_key_file = deployed
    browser = Browser()

    page = invoke(unzipped, env, [browser.event("GET", "/")], tmp_path)
    [home] = page.results
    browser.keep(home)
    assert home["statusCode"] == 200
    assert "<h1>Upload files</h1>" in home["body"] and "Local mode" not in home["body"]
    scripts = re.findall(r'<script[^>]+src="/static/(dist/[^"]+)"', home["body"])
    assert scripts and all((unzipped / "static" / path).is_file() for path in scripts), scripts
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', home["body"]).group(1)
    json_headers = {"Content-Type": "application/json", "X-CSRFToken": csrf}

    data = png_bytes(padding=100)
    body = json.dumps({"filename": "from-lambda.png", "content_type": "image/png", "size": len(data), "name": "L"})
    [created] = invoke(unzipped, env, [browser.event("POST", "/api/uploads", headers=json_headers, body=body)],
                       tmp_path).results
    browser.keep(created)
    assert created["statusCode"] == 201, created["body"]
    policy = json.loads(created["body"])
    assert policy["url"].startswith(env["MEDIAHUB_AWS_ENDPOINT_URL"])
    assert "x-amz-security-token" in policy["fields"]  # signed with the role's session credentials
    assert post_to_storage(policy, data, "from-lambda.png").status_code == 201

    [completed] = invoke(unzipped, env, [browser.event(
        "POST", f"/api/uploads/{policy['upload_id']}/complete", headers=json_headers)], tmp_path).results
    assert completed["statusCode"] == 201, completed["body"]
    links = json.loads(completed["body"])["media"]["links"]

    schedule = {"version": "0", "id": "e-1", "detail-type": "Scheduled Event", "source": "aws.events",
                "account": "123456789012", "time": "2026-11-22T00:00:00Z", "region": "us-east-1",
                "resources": ["arn:aws:events:us-east-1:123456789012:rule/mediahub-dev-processing-webapp.events.cleanup"],
                "detail": {}}
    recorded, cleaned = invoke(processing, {**env, "AWS_LAMBDA_FUNCTION_NAME": f"mediahub-{PROCESSING}"}, [s3_event(stage_env["MEDIAHUB_BUCKET"], policy["fields"]["key"]),
                                               schedule], tmp_path).results
    assert recorded["already"] == 1 and recorded["recorded"] == 0  # the S3 event finds the same record
    assert cleaned == {"expired": 0, "abandoned": 0}
    media = Catalog(aws.dynamodb, stage_env["MEDIAHUB_TABLE"]).get_media(policy["fields"]["key"].split("/")[1])
    assert media["status"] == "ready" and media["name"] == "L"

    # A recipient follows the download link: a 302 to a CloudFront URL signed with the stage's key.
    download_path = links["download"].removeprefix(SITE)
    manage_path = links["manage"].removeprefix(SITE)
    share_token = download_path.split("/")[2]
    manage_token = manage_path.split("/")[3]
    followed = invoke(unzipped, env, [Browser().event("GET", download_path), browser.event("GET", manage_path)],
                      tmp_path)
    download, manage = followed.results
    assert download["statusCode"] == 302, download.get("body")
    location = header(download, "Location")
    assert location.startswith(f"{CDN}/") and "Signature=" in location and f"Key-Pair-Id={KEY_ID}" in location
    verify_cloudfront_url(location, {KEY_ID: load_pem_public_key(public_key_file.read_bytes())}, now=time.time(),
                          client_ip="203.0.113.5")
    assert manage["statusCode"] == 200

    # Signed by the package's own cryptography (manylinux wheel), not one from this machine.
    for name in ("cryptography", "cryptography.hazmat.bindings._rust", "handler", "flask", "boto3"):
        assert followed.modules[name], f"{name} was never loaded"
        assert pathlib.Path(followed.modules[name]).resolve().is_relative_to(unzipped.resolve()), followed.modules

    # The function's output (its CloudWatch logs) holds no path and no token.
    assert followed.output.strip(), "the app logs a line per request"
    for secret in (share_token, manage_token, download_path, manage_path):
        assert secret not in followed.output


def test_a_start_while_aws_hangs_answers_503_and_the_same_process_recovers(unzipped, deployed, settings, tmp_path):
    """The package's first requests while Secrets Manager accepts connections and never answers,
    with the timeouts and attempts the app has on AWS: each a 503 storage_unavailable within
    10 s (not a failed import, 502, and 500 for the life of the container); once AWS answers
    again, the same process serves the page."""
    env, _ = deployed
    env = {k: v for k, v in env.items() if k not in ("MEDIAHUB_AWS_READ_TIMEOUT", "MEDIAHUB_AWS_MAX_ATTEMPTS")}
    signal = tmp_path / "aws-is-back"
    browser = Browser()
    page = {"Accept": "text/html"}
    events = [browser.event("GET", "/", headers=page), browser.event("GET", "/api/health"),
              {"driver": "signal", "file": str(signal)}, browser.event("GET", "/", headers=page)]
    with Relay(upstream=settings.aws_endpoint_url, hang=True) as relay:
        def recover():
            ready = pathlib.Path(f"{signal}.ready")
            deadline = time.monotonic() + 120
            while not ready.exists() and time.monotonic() < deadline:
                time.sleep(0.05)
            relay.hang.clear()
            pathlib.Path(f"{signal}.done").touch()

        waiter = threading.Thread(target=recover, daemon=True)
        waiter.start()
        ran = invoke(unzipped, {**env, "MEDIAHUB_AWS_ENDPOINT_URL": relay.url}, events, tmp_path)
        waiter.join(timeout=5)
    hung_page, hung_api, _, recovered = ran.results
    assert hung_page["statusCode"] == 503, hung_page
    assert "Storage is not answering right now." in hung_page["body"]
    assert "Set-Cookie" not in (hung_page.get("multiValueHeaders") or {})  # nothing signed with a throwaway key
    assert hung_api["statusCode"] == 503 and json.loads(hung_api["body"])["error"]["code"] == "storage_unavailable"
    assert max(ran.seconds[0], ran.seconds[1]) < 10, ran.seconds
    assert recovered["statusCode"] == 200 and "<h1>Upload files</h1>" in recovered["body"]
    print("503 after", ", ".join(f"{s:.1f} s" for s in ran.seconds[:2]))
