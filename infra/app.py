"""The CDK app: reads the context, builds the ``MediahubInfra-<stage>`` stack for one stage, synthesises.

Run by the CDK CLI (``infra/cdk.json``: ``cd infra && npx cdk deploy -c stage=production
-c publicKeyFile=...``) or directly by ``infra.synth``. Context keys:

``stage``           Zappa stage, ``[a-z0-9-]+``; default ``dev``.
``publicKeyFile``   PEM file of the CloudFront public key (the deploy command wrote its private
                    half to Secrets Manager). Required unless ``placeholderKey=true``.
``placeholderKey``  ``true``: generate a throwaway public key (offline synth and tests only).
``domain``          the site's host name: CORS origin ``https://<domain>`` and its certificate.
``hostedZone``      Route 53 zone name that validates the certificate (looked up by name at
                    synth, which needs credentials, unless ``hostedZoneId`` is given too).
``hostedZoneId``    that zone's id, so no lookup is needed.
``alarmEmail``      subscribe this address to the alarm topic.
``monthlyBudgetUsd``  the account's monthly cost budget the alarm topic hears about (default 50).
``malwareScan``     ``guardduty``: GuardDuty Malware Protection for uploads.
``videoRenditions``  ``mediaconvert``: video renditions with AWS Elemental MediaConvert.
``siteUrl``         without a domain: the site's URL at API Gateway (CORS admits its origin).
``account``/``region``  the environment; default: the credentials' account, the stage's
                    ``aws_region`` in ``zappa_settings.json``.
"""

from __future__ import annotations

import json
import os
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script by the CDK CLI: `webapp` and `infra` live here
    sys.path.insert(0, str(ROOT))

import infra  # noqa: E402

infra.quiet_node_support_notices()  # before aws_cdk starts its Node process
import aws_cdk as cdk  # noqa: E402

from infra.stack import ConfigError, MediahubStack, StageConfig  # noqa: E402
from infra.zappa_stage import read_stage  # noqa: E402

ZAPPA_SETTINGS = ROOT / "zappa_settings.json"
DEFAULT_STAGE = "dev"
# Behaviours the CDK only gives new projects: set here so that running the app directly and
# through the CLI synthesise the same template. cdk.json or -c may still override them.
FEATURE_FLAGS = {
    "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": True,
    "@aws-cdk/aws-s3:createDefaultLoggingPolicy": True,
    "@aws-cdk/core:enablePartitionLiterals": True,
    "@aws-cdk/core:checkSecretUsage": True,
    "@aws-cdk/core:validateSnapshotRemovalPolicy": True,
}


def zappa_stage(stage: str, path: pathlib.Path = ZAPPA_SETTINGS) -> dict:
    """The stage's Zappa settings with what it ``extends``; empty if the stage is not there."""
    return read_stage(stage, path)


def zappa_stages(path: pathlib.Path = ZAPPA_SETTINGS, *, processing: bool = False) -> list[str]:
    """The stages with a stack: every entry that names a region or extends another, except the
    processing stages (``<stage>-processing``), which run in their stage's stack; with
    ``processing=True`` those too (every stage Zappa can deploy)."""
    from infra.zappa_stage import processing_stage

    settings = json.loads(path.read_text())
    stages = [name for name, entry in settings.items()
              if isinstance(entry, dict) and ("extends" in entry or "aws_region" in entry)]
    return [name for name in stages
            if processing or not any(name == processing_stage(other) for other in stages)]


def truthy(value) -> bool:
    """Context from ``-c key=value`` arrives as a string."""
    return value is True or str(value).strip().lower() in ("true", "1", "yes")


def placeholder_public_key() -> str:
    """A fresh RSA-2048 public key whose private half is dropped at once."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def read_public_key(path: str) -> str:
    """The PEM CloudFront registers: an RSA-2048 public key, never a private one."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    file = pathlib.Path(path).expanduser()
    if not file.is_absolute() and not file.exists() and (ROOT / file).exists():
        file = ROOT / file  # the CLI runs the app in infra/; a path given from the repo root still works
    try:
        pem = file.read_text()
    except OSError as error:
        raise ConfigError(f"publicKeyFile {path}: cannot be read ({error.strerror or error})") from None
    if "PRIVATE KEY" in pem:
        raise ConfigError(f"publicKeyFile {path} holds a private key: give the public half only "
                          "(the private key stays in Secrets Manager)")
    try:
        key = serialization.load_pem_public_key(pem.encode())
    except ValueError:
        raise ConfigError(f"publicKeyFile {path} is not a PEM public key") from None
    if not isinstance(key, rsa.RSAPublicKey) or key.key_size != 2048:
        raise ConfigError(f"publicKeyFile {path}: CloudFront signed links here use RSA-2048 keys")
    return pem.strip() + "\n"


def stage_config(context) -> StageConfig:
    """Read and check the context (``context(key)`` answers a value or None)."""
    stage = context("stage")
    stage = DEFAULT_STAGE if stage is None else str(stage)
    key_file = context("publicKeyFile")
    placeholder = truthy(context("placeholderKey")) and not key_file
    if key_file:
        pem = read_public_key(str(key_file))
    elif placeholder:
        pem = placeholder_public_key()
    else:
        raise ConfigError(
            "no CloudFront public key: pass -c publicKeyFile=<PEM file> (the public half of the key pair "
            "the deploy command stored in Secrets Manager as "
            f"mediahub/{stage}/cloudfront-keys), or -c placeholderKey=true for a synth that is never deployed "
            "(`cdk bootstrap` also runs this app when started in infra/: start it elsewhere, or pass "
            "-c placeholderKey=true to it)")
    zappa = zappa_stage(stage)
    environment = zappa.get("environment_variables") or {}

    def optional(key: str) -> str | None:
        value = context(key)
        if value is None:
            return None
        return str(value).strip() or None

    domain = optional("domain")
    return StageConfig(
        stage=stage,
        public_key_pem=pem,
        placeholder_key=placeholder,
        domain=domain.lower().rstrip(".") if domain else None,
        hosted_zone=optional("hostedZone"),
        hosted_zone_id=optional("hostedZoneId"),
        alarm_email=optional("alarmEmail"),
        site_url=(optional("siteUrl") or "").rstrip("/") or None,
        mail_from=environment.get("MEDIAHUB_MAIL_FROM") or None,
        timeout_seconds=int(zappa.get("timeout_seconds") or StageConfig.timeout_seconds),
        malware_scan=str(context("malwareScan") or "off").strip().lower() == "guardduty",
        video_renditions=str(context("videoRenditions") or "off").strip().lower() == "mediaconvert",
        monthly_budget_usd=int(optional("monthlyBudgetUsd") or StageConfig.monthly_budget_usd),
        processing_function=processing_function(stage),
        processing_timeout_seconds=int(zappa_stage(f"{stage}-processing").get("timeout_seconds")
                                       or StageConfig.processing_timeout_seconds),
    )


def processing_function(stage: str) -> str | None:
    """The processing stage's function (``<stage>-processing`` in zappa_settings.json), if any."""
    from infra.zappa_stage import processing_stage

    name = processing_stage(stage)
    if not zappa_stage(name):
        return None
    return f"{zappa_stage(name).get('project_name') or 'mediahub'}-{name}"


def create_app(context: dict | None = None, outdir: str | None = None) -> cdk.App:
    """The app with the one stage's stack; ``context`` adds to what the CLI passes."""
    app = cdk.App(context={**FEATURE_FLAGS, **(context or {})}, outdir=outdir, analytics_reporting=False)
    config = stage_config(app.node.try_get_context)
    zappa = zappa_stage(config.stage)
    account = app.node.try_get_context("account") or os.environ.get("CDK_DEFAULT_ACCOUNT")
    region = (app.node.try_get_context("region") or zappa.get("aws_region")
              or os.environ.get("CDK_DEFAULT_REGION"))
    MediahubStack(app, config, env=cdk.Environment(account=account and str(account), region=region and str(region)))
    return app


def main() -> int:
    try:
        app = create_app()
    except ConfigError as error:
        print(f"mediahub infra: {error}", file=sys.stderr)
        return 2
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
