"""`infra.zappa_stage`: the CDK stack's outputs into a stage of zappa_settings.json."""

from __future__ import annotations

import json
import pathlib
import shutil
import subprocess
import sys

import pytest

from infra import zappa_stage

ROOT = pathlib.Path(__file__).resolve().parents[2]

OUTPUTS = {
    "BucketName": "mediahub-production-uploadsbucket-1a2b3c",
    "TableName": "mediahub-production-table-4d5e6f",
    "CdnUrl": "https://d222222abcdef8.cloudfront.net",
    "CloudFrontKeyId": "K3EXAMPLEKEYID",
    "CloudFrontKeysSecret": "mediahub/production/cloudfront-keys",
    "SecretKeySecret": "mediahub/production/secret-key",
    "RoleArn": "arn:aws:iam::123456789012:role/mediahub-production-FunctionRole-1",
    "DeploymentBucket": "mediahub-production-deploymentbucket-7a8b9c",
    "AlarmTopicArn": "arn:aws:sns:eu-west-1:123456789012:mediahub-production-AlarmTopic",
    "LogGroupName": "/aws/lambda/mediahub-production",
}
WITH_DOMAIN = {**OUTPUTS, "SiteUrl": "https://media.example.com",
               "CertificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/0a1b"}


def document(outputs: dict, stage: str = "production") -> dict:
    return {f"MediahubInfra-{stage}": outputs}


def committed() -> dict:
    return json.loads((ROOT / "zappa_settings.json").read_text())


def test_outputs_become_the_stage_settings():
    before = committed()
    merged = zappa_stage.merge(before, "production", document(WITH_DOMAIN), route53=True)
    entry = merged["production"]
    assert entry["aws_region"] == "eu-west-1"  # from the alarm topic's ARN
    assert entry["s3_bucket"] == OUTPUTS["DeploymentBucket"]
    assert entry["role_arn"] == OUTPUTS["RoleArn"] and entry["manage_roles"] is False
    assert "role_name" not in entry
    assert entry["domain"] == "media.example.com"
    assert entry["certificate_arn"] == WITH_DOMAIN["CertificateArn"]
    assert entry["route53_enabled"] is True
    env = entry["environment_variables"]
    assert {key: env[key] for key in zappa_stage.ENVIRONMENT.values()} == {
        "MEDIAHUB_BUCKET": OUTPUTS["BucketName"],
        "MEDIAHUB_TABLE": OUTPUTS["TableName"],
        "MEDIAHUB_CDN_URL": OUTPUTS["CdnUrl"],
        "MEDIAHUB_CLOUDFRONT_KEYS_SECRET": OUTPUTS["CloudFrontKeysSecret"],
        "MEDIAHUB_CLOUDFRONT_KEY_ID": OUTPUTS["CloudFrontKeyId"],
        "MEDIAHUB_SECRET_KEY_SECRET": OUTPUTS["SecretKeySecret"],
    }
    assert env["MEDIAHUB_SITE_URL"] == "https://media.example.com"
    # The web stage takes no events: they run in the processing stage, which extends it.
    assert "events" not in entry
    processing = merged["production-processing"]
    assert processing["extends"] == "production" and "environment_variables" not in processing
    assert processing["memory_size"] > entry["memory_size"] and processing["apigateway_enabled"] is False
    created, cleanup = processing["events"]
    assert created == {"function": "webapp.events.object_created", "event_source": {
        "arn": f"arn:aws:s3:::{OUTPUTS['BucketName']}", "events": ["s3:ObjectCreated:*"], "prefix": "uploads/"}}
    assert cleanup == {"function": "webapp.events.cleanup", "expression": "rate(1 hour)"}
    # The operator's own settings, the other stages and the input are untouched.
    for key in ("MEDIAHUB_MAIL_FROM", "MEDIAHUB_RECIPIENTS", "MEDIAHUB_EMBED_ORIGINS"):
        assert env[key] == before["production"]["environment_variables"][key]
    assert entry["memory_size"] == before["production"]["memory_size"] and entry["extends"] == "base"
    assert merged["dev"] == before["dev"] and merged["base"] == before["base"]
    assert before == committed()


def test_without_a_domain_no_domain_settings_remain():
    with_domain = zappa_stage.merge(committed(), "production", document(WITH_DOMAIN), route53=False)
    assert with_domain["production"]["route53_enabled"] is False
    merged = zappa_stage.merge(with_domain, "production", document(OUTPUTS), region="us-east-1")
    entry = merged["production"]
    assert not {"domain", "certificate_arn", "route53_enabled"} & set(entry)
    assert "MEDIAHUB_SITE_URL" not in entry["environment_variables"]  # it was the stack's
    assert entry["aws_region"] == "us-east-1"  # given, wins over the ARN's
    # A site URL the operator set (not the stack's domain) stays.
    operator = zappa_stage.merge(committed(), "production", document(OUTPUTS))
    assert operator["production"]["environment_variables"]["MEDIAHUB_SITE_URL"] == \
        committed()["production"]["environment_variables"]["MEDIAHUB_SITE_URL"]


def test_without_a_domain_the_site_url_is_the_apis():
    api = "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/production"
    merged = zappa_stage.merge(committed(), "production", document({**OUTPUTS, "ApiSiteUrl": api + "/"}))
    entry = merged["production"]
    assert entry["environment_variables"]["MEDIAHUB_SITE_URL"] == api
    assert "domain" not in entry  # Zappa routes no custom domain


def test_a_new_stage_gets_an_entry_with_both_events():
    outputs = {key: value.replace("production", "staging") for key, value in OUTPUTS.items()}
    merged = zappa_stage.merge(committed(), "staging", document(outputs, "staging"))
    entry = merged["staging"]
    assert list(entry)[:5] == ["extends", "aws_region", "s3_bucket", "role_arn", "manage_roles"]
    assert entry["extends"] == "base"
    assert [e["function"] for e in entry["events"]] == ["webapp.events.object_created", "webapp.events.cleanup"]


def test_outputs_that_are_not_the_stacks_are_refused():
    with pytest.raises(zappa_stage.OutputsError, match="no stack MediahubInfra-dev"):
        zappa_stage.merge(committed(), "dev", document(OUTPUTS))
    with pytest.raises(zappa_stage.OutputsError, match="RoleArn"):
        zappa_stage.merge(committed(), "production", document({k: v for k, v in OUTPUTS.items() if k != "RoleArn"}))
    no_region = {k: v for k, v in OUTPUTS.items() if k != "AlarmTopicArn"}
    with pytest.raises(zappa_stage.OutputsError, match="region"):
        zappa_stage.merge(committed(), "production", document(no_region))


def test_the_command_changes_nothing_the_second_time(tmp_path):
    settings = tmp_path / "zappa_settings.json"
    shutil.copy(ROOT / "zappa_settings.json", settings)
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps(document(WITH_DOMAIN)))

    def run() -> str:
        done = subprocess.run([sys.executable, "-m", "infra.zappa_stage", "--stage", "production", "--outputs",
                               str(outputs), "--settings", str(settings), "--route53"],
                              cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return done.stdout

    assert "updated" in run()
    first = settings.read_bytes()
    mtime = settings.stat().st_mtime_ns
    assert "up to date" in run()
    assert settings.read_bytes() == first and settings.stat().st_mtime_ns == mtime
    assert json.loads(first)["production"]["role_arn"] == OUTPUTS["RoleArn"]


def test_the_command_says_what_is_wrong(tmp_path):
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps(document(OUTPUTS, "dev")))
    settings = tmp_path / "zappa_settings.json"
    shutil.copy(ROOT / "zappa_settings.json", settings)
    done = subprocess.run([sys.executable, "-m", "infra.zappa_stage", "--stage", "production", "--outputs",
                           str(outputs), "--settings", str(settings)], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 2 and "MediahubInfra-production" in done.stderr
    assert settings.read_bytes() == (ROOT / "zappa_settings.json").read_bytes()


def test_malware_scanning_wires_the_verdicts_topic_and_turns_the_gate_on():
    topic = "arn:aws:sns:us-east-1:123456789012:mediahub-production-scan-results"
    scanned = zappa_stage.merge(committed(), "production", document({**OUTPUTS, "ScanResultsTopicArn": topic}))
    entry = scanned["production"]
    assert {"function": "webapp.events.scan_result",
            "event_source": {"arn": topic, "events": ["sns:Publish"]}} in scanned["production-processing"]["events"]
    assert entry["environment_variables"]["MEDIAHUB_MALWARE_SCAN"] == "guardduty"
    assert zappa_stage.merge(scanned, "production", document({**OUTPUTS, "ScanResultsTopicArn": topic})) == scanned
    # Deployed again without scanning: the event goes and the gate is off.
    again = zappa_stage.merge(scanned, "production", document(OUTPUTS))
    plain = again["production"]
    assert not [e for e in again["production-processing"]["events"] if e["function"] == "webapp.events.scan_result"]
    assert plain["environment_variables"]["MEDIAHUB_MALWARE_SCAN"] == "off"


RENDITIONS = {
    "MediaConvertRoleArn": "arn:aws:iam::123456789012:role/mediahub-production-mediaconvert",
    "MediaConvertQueueArn": "arn:aws:mediaconvert:eu-west-1:123456789012:queues/mediahub-production-renditions",
    "RenditionEventsTopicArn": "arn:aws:sns:eu-west-1:123456789012:mediahub-production-rendition-events",
}


def test_mediaconvert_renditions_wire_the_job_events_topic_and_the_queue_and_role():
    rendered = zappa_stage.merge(committed(), "production", document({**OUTPUTS, **RENDITIONS}))
    finished = {"function": "webapp.events.rendition_finished",
                "event_source": {"arn": RENDITIONS["RenditionEventsTopicArn"], "events": ["sns:Publish"]}}
    assert finished in rendered["production-processing"]["events"]
    assert "events" not in rendered["production"]  # the web stage takes no events
    wanted = {"MEDIAHUB_VIDEO_RENDITIONS": "mediaconvert",
              "MEDIAHUB_MEDIACONVERT_ROLE_ARN": RENDITIONS["MediaConvertRoleArn"],
              "MEDIAHUB_MEDIACONVERT_QUEUE_ARN": RENDITIONS["MediaConvertQueueArn"]}
    for stage in ("production", "production-processing"):  # the processing stage extends the web stage
        environment = zappa_stage.resolved_stage(rendered, stage)["environment_variables"]
        assert {key: environment.get(key) for key in wanted} == wanted, stage
    assert zappa_stage.merge(rendered, "production", document({**OUTPUTS, **RENDITIONS})) == rendered
    # Deployed again without MediaConvert: the event and the ARNs go, renditions are off (no ffmpeg on Lambda).
    again = zappa_stage.merge(rendered, "production", document(OUTPUTS))
    assert finished not in again["production-processing"]["events"]
    environment = again["production"]["environment_variables"]
    assert environment["MEDIAHUB_VIDEO_RENDITIONS"] == "off"
    assert "MEDIAHUB_MEDIACONVERT_ROLE_ARN" not in environment and "MEDIAHUB_MEDIACONVERT_QUEUE_ARN" not in environment
    # A stage that never had renditions is left as it was: off is what a deployed stage defaults to.
    plain = zappa_stage.merge(committed(), "production", document(OUTPUTS))
    assert "MEDIAHUB_VIDEO_RENDITIONS" not in plain["production"]["environment_variables"]


def test_mediaconvert_renditions_without_a_processing_stage_subscribe_the_stage_itself():
    settings = {key: value for key, value in committed().items() if key != "production-processing"}
    rendered = zappa_stage.merge(settings, "production", document({**OUTPUTS, **RENDITIONS}))
    assert [e["event_source"]["arn"] for e in rendered["production"]["events"]
            if e["function"] == "webapp.events.rendition_finished"] == [RENDITIONS["RenditionEventsTopicArn"]]
    assert rendered["production"]["environment_variables"]["MEDIAHUB_VIDEO_RENDITIONS"] == "mediaconvert"


def test_part_of_the_mediaconvert_outputs_is_refused():
    with pytest.raises(zappa_stage.OutputsError, match="RenditionEventsTopicArn"):
        zappa_stage.merge(committed(), "production",
                          document({**OUTPUTS, "RenditionEventsTopicArn": RENDITIONS["RenditionEventsTopicArn"]}))


def test_every_processing_stage_has_the_memory_and_timeout_processing_was_measured_against():
    """bench/processing.py and the README's table read these figures; the stages must be them."""
    from webapp.flows.processing import PROCESSING_MEMORY_MB, PROCESSING_TIMEOUT_SECONDS

    stages = json.loads((pathlib.Path(__file__).parents[2] / "zappa_settings.json").read_text())
    processing = {name: stage for name, stage in stages.items() if name.endswith("-processing")}
    assert processing
    for name, stage in processing.items():
        assert (stage["memory_size"], stage["timeout_seconds"]) == (PROCESSING_MEMORY_MB, PROCESSING_TIMEOUT_SECONDS), name
