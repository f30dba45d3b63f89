"""The function's package: ``zappa package``, then bytecode for the runtime's Python, then S3.

    python -m infra.package --stage production [--upload]

1. ``zappa package <stage>`` (from ``.venv-zappa``, zipping ``.venv-lambda``) writes
   ``.deploy/<stage>/package.zip``. Zappa leaves out every ``__pycache__``, and Lambda's code
   directory is read-only, so a zip without bytecode compiles every module it imports on
   every cold start (about two thirds of the start, see the README's cold-start table).
2. Every ``.py`` in it is compiled with ``py_compile`` by an interpreter of the runtime's own
   version (bytecode is specific to the minor version: python3.11's magic number), into
   ``__pycache__/<name>.cpython-311.pyc`` beside the source, as *unchecked-hash* pycs
   (PEP 552): the import system loads them without comparing a timestamp or hashing the
   source, so the zip's timestamps and a read-only file system do not matter. Sources stay
   (tracebacks show their lines); the code objects name ``/var/task/...``, where Lambda
   unpacks the zip.
3. Every template is compiled by the app's own Jinja environment into Jinja's bytecode cache
   (``template-bytecode/``, ``webapp/templating.py``): a cold start loads a page's templates
   instead of compiling them.
4. botocore's models (``botocore/data``) are stored uncompressed: botocore reads ``<name>.json``
   before ``<name>.json.gz``, and un-gzipping the S3 model and endpoint rules took as long as
   parsing them on the first page (its CSP names the bucket's origin, which needs the S3 client).
   The zip deflates them as it did; only the unpacked size grows (about 7 MB).
5. With ``--upload``: the zip goes to the stack's deployment bucket (the stage's ``s3_bucket``,
   which ``infra.zappa_stage`` wrote) as ``<function>.zip`` (``package_url``), the URL
   ``zappa update|deploy <stage> -z`` takes: Lambda reads the code from the bucket when the
   function is updated (no 50 MB limit of a direct upload), and the bucket's lifecycle expires it.
"""

from __future__ import annotations

import argparse
import gzip
import importlib.util
import os
import py_compile
import pathlib
import subprocess
import sys
import tempfile
import zipfile

from infra.zappa_stage import read_stage

ROOT = pathlib.Path(__file__).resolve().parents[1]
ZAPPA = ROOT / ".venv-zappa" / "bin" / "zappa"
LAMBDA_VENV = ROOT / ".venv-lambda"
LAMBDA_TASK_ROOT = "/var/task"


class PackageError(Exception):
    """The package cannot be built as asked; the message says why."""


def package_file(stage: str) -> pathlib.Path:
    return ROOT / ".deploy" / stage / "package.zip"


def runtime_version(stage: str) -> tuple[int, int]:
    runtime = read_stage(stage).get("runtime") or read_stage("base").get("runtime") or ""
    if not runtime.startswith("python3."):
        raise PackageError(f"stage {stage}: runtime {runtime!r} is not a python3.x runtime")
    return 3, int(runtime.removeprefix("python3."))


def check_interpreter(version: tuple[int, int]) -> None:
    """Bytecode only loads on the minor version that wrote it (its magic number)."""
    if sys.version_info[:2] != version:
        raise PackageError(f"the runtime is python{version[0]}.{version[1]} but this is python"
                           f"{sys.version_info[0]}.{sys.version_info[1]}: run the command with a "
                           f"python{version[0]}.{version[1]} so its bytecode loads on Lambda")


def zappa_package(stage: str, out: pathlib.Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "VIRTUAL_ENV": str(LAMBDA_VENV)}
    done = subprocess.run([str(ZAPPA), "package", stage, "-o", str(out)], cwd=ROOT, env=env)
    if done.returncode != 0:
        raise PackageError(f"zappa package {stage} failed (exit {done.returncode})")


def add_bytecode(archive: pathlib.Path, reuse: pathlib.Path | None = None) -> int:
    """Rewrite ``archive`` with an unchecked-hash ``.pyc`` beside every ``.py``; the count.

    ``reuse``: a package built before with bytecode (the web stage's, for its processing stage):
    a source byte for byte the same there keeps that bytecode instead of being compiled again.
    """
    known: dict[str, tuple[bytes, bytes]] = {}
    if reuse is not None and reuse.exists():
        with zipfile.ZipFile(reuse) as earlier:
            names = set(earlier.namelist())
            for name in names:
                cached = importlib.util.cache_from_source(name) if name.endswith(".py") else None
                if cached in names:
                    known[name] = (earlier.read(name), earlier.read(cached))
    with tempfile.TemporaryDirectory() as scratch:
        tree = pathlib.Path(scratch) / "task"
        with zipfile.ZipFile(archive) as source:
            entries = source.infolist()
            source.extractall(tree)
        compiled = []
        for path in sorted(tree.rglob("*.py")):
            relative = path.relative_to(tree).as_posix()
            cached = tree / importlib.util.cache_from_source(relative)
            cached.parent.mkdir(exist_ok=True)
            if relative in known and known[relative][0] == path.read_bytes():
                cached.write_bytes(known[relative][1])
            else:
                try:
                    py_compile.compile(str(path), cfile=str(cached), dfile=f"{LAMBDA_TASK_ROOT}/{relative}",
                                       doraise=True, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
                except py_compile.PyCompileError as error:
                    raise PackageError(f"{relative} does not compile for the runtime's Python: {error.msg}") from None
            compiled.append(cached)
        templates = compile_templates(tree)
        models, gzipped = uncompress_models(tree)
        rebuilt = archive.with_suffix(".tmp")
        with zipfile.ZipFile(rebuilt, "w", zipfile.ZIP_DEFLATED) as target:
            for entry in entries:
                if entry.filename in gzipped:
                    continue
                if entry.is_dir():
                    target.writestr(entry, b"")
                else:
                    target.writestr(entry, (tree / entry.filename).read_bytes(), zipfile.ZIP_DEFLATED)
            for path in compiled + templates + models:
                info = zipfile.ZipInfo(path.relative_to(tree).as_posix(), date_time=(2020, 1, 1, 0, 0, 0))
                info.external_attr = 0o644 << 16
                target.writestr(info, path.read_bytes(), zipfile.ZIP_DEFLATED)
        rebuilt.replace(archive)
        return len(compiled)


def uncompress_models(tree: pathlib.Path) -> tuple[list[pathlib.Path], set[str]]:
    """Each ``botocore/data/**/<name>.json.gz`` in ``tree`` replaced by ``<name>.json``: the new
    files, and the names of the gzipped ones (now gone)."""
    models, gzipped = [], set()
    for path in sorted(tree.glob("botocore/data/**/*.json.gz")):
        plain = path.with_suffix("")
        plain.write_bytes(gzip.decompress(path.read_bytes()))
        path.unlink()
        models.append(plain)
        gzipped.add(path.relative_to(tree).as_posix())
    return models, gzipped


# Run by the package's own Python libraries (``-S``: none of this machine's), as on Lambda.
COMPILE_TEMPLATES = """
import pathlib, sys
sys.path.insert(0, ".")
from webapp import create_app, templating
from webapp.config import Settings

app = create_app(Settings(secret_key="p" * 40, local_mode=False, bucket="package", table="package"))
print(len(templating.compile_all(app, pathlib.Path("template-bytecode"), moved_to=(pathlib.Path("."), sys.argv[1]))))
"""


def compile_templates(tree: pathlib.Path) -> list[pathlib.Path]:
    """Jinja's bytecode for every template of the app in ``tree`` (none without templates)."""
    if not (tree / "templates").is_dir():
        return []
    done = subprocess.run([sys.executable, "-S", "-c", COMPILE_TEMPLATES, LAMBDA_TASK_ROOT], cwd=tree, capture_output=True, text=True,
                          env={"PATH": os.environ.get("PATH", ""), "PYTHONDONTWRITEBYTECODE": "1"}, timeout=300)
    if done.returncode != 0:
        raise PackageError(f"the templates do not compile: {done.stderr.strip()[-2000:]}")
    return sorted((tree / "template-bytecode").iterdir())


def package_key(stage: str) -> str:
    """The package's key in the deployment bucket: the function's name (Zappa's, lower-case)."""
    return f"{read_stage(stage).get('project_name') or 'mediahub'}-{stage}.zip"


def package_url(stage: str, bucket: str | None = None) -> str:
    """``s3://<deployment bucket>/<function>.zip``; the bucket from the stage's ``s3_bucket``."""
    bucket = bucket or read_stage(stage).get("s3_bucket")
    if not bucket:
        raise PackageError(f"stage {stage} has no s3_bucket: run infra.zappa_stage with the stack's outputs first")
    return f"s3://{bucket}/{package_key(stage)}"


def upload(archive: pathlib.Path, stage: str, region: str | None) -> str:
    import boto3

    url = package_url(stage)
    bucket, _, key = url.removeprefix("s3://").partition("/")
    boto3.client("s3", region_name=region or read_stage(stage).get("aws_region")).upload_file(
        str(archive), bucket, key, ExtraArgs={"ChecksumAlgorithm": "SHA256"})
    return url


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.package", description=__doc__.split("\n\n")[0])
    parser.add_argument("--stage", required=True)
    parser.add_argument("--out", type=pathlib.Path, help="default: .deploy/<stage>/package.zip")
    parser.add_argument("--upload", action="store_true", help="put it in the stage's deployment bucket")
    parser.add_argument("--region")
    args = parser.parse_args(argv)
    out = args.out or package_file(args.stage)
    try:
        check_interpreter(runtime_version(args.stage))
        if not ZAPPA.exists():
            raise PackageError(f"{ZAPPA} is missing: make lambda-venv builds it")
        zappa_package(args.stage, out)
        web_stage = args.stage.removesuffix("-processing")
        count = add_bytecode(out, reuse=package_file(web_stage) if web_stage != args.stage else None)
        print(f"{out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}: {count} modules compiled "
              f"(unchecked-hash pyc), {out.stat().st_size / 1e6:.1f} MB")
        if args.upload:
            print(f"uploaded: {upload(out, args.stage, args.region)}")
    except PackageError as error:
        print(f"infra.package: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
