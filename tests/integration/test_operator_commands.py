"""The operator's commands against moto's server: the dead-letter queue replayed to the function
(Lambda's Invoke is the one faked boundary: moto would need Docker to run a function), and the
deployer policy derived from the deploy's plan."""

from __future__ import annotations

import json

import boto3
import pytest
from click.testing import CliRunner

from infra import zappa_stage
from webapp.aws.clients import OperatorClients
from webapp.cli import main

QUEUE = "mediahub-dev-dead-letters"


class Invocations:
    def __init__(self):
        self.sent = []

    def invoke(self, **kwargs):
        self.sent.append(kwargs)
        return {"StatusCode": 202}


@pytest.fixture
def queue(moto_endpoint, settings, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "operator")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "operator")
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.create_queue(QueueName=QUEUE)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    monkeypatch.setattr(zappa_stage, "read_stage", lambda stage, *a: {"dead_letter_arn": arn, "project_name": "mediahub"})
    invocations = Invocations()
    monkeypatch.setattr(OperatorClients, "lambda_", invocations)
    return sqs, url, invocations


def test_replay_sends_each_failed_event_back_and_empties_the_queue(queue):
    sqs, url, invocations = queue
    events = [{"Records": [{"s3": {"object": {"key": f"uploads/{n}/a.png"}}}]} for n in range(3)]
    for event in events:
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps(event), MessageAttributes={
            "RequestID": {"DataType": "String", "StringValue": "req-1"},
            "ErrorMessage": {"DataType": "String", "StringValue": "Task timed out"}})

    shown = CliRunner().invoke(main, ["replay-dead-letters", "--stage", "dev", "--dry-run"])
    assert shown.exit_code == 0, shown.output
    assert "waiting: request req-1: Task timed out" in shown.output and not invocations.sent

    done = CliRunner().invoke(main, ["replay-dead-letters", "--stage", "dev"])
    assert done.exit_code == 0, done.output
    assert "3 event(s) sent back to mediahub-dev" in done.output
    assert sorted(json.dumps(json.loads(call["Payload"])) for call in invocations.sent) == sorted(map(json.dumps, events))
    assert all(call["FunctionName"] == "mediahub-dev" and call["InvocationType"] == "Event"
               for call in invocations.sent)
    left = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages",
                                                                  "ApproximateNumberOfMessagesNotVisible"])
    assert left["Attributes"] == {"ApproximateNumberOfMessages": "0", "ApproximateNumberOfMessagesNotVisible": "0"}


def test_deployer_policy_covers_every_step_of_the_plan():
    printed = CliRunner().invoke(main, ["deployer-policy", "--stage", "production", "--account-id", "123456789012",
                                        "--domain", "media.example.com"])
    assert printed.exit_code == 0, printed.output
    policy = json.loads(printed.output)
    sids = {statement["Sid"] for statement in policy["Statement"]}
    assert {"BootstrapStack", "CloudFrontSigningKey", "CdkDeployRoles", "UploadPackage", "Function",
            "PassTheStacksRole", "ApiStack", "Schedules", "ApiThrottling", "CustomDomain"} <= sids
    passed = [s for s in policy["Statement"] if "iam:PassRole" in s["Action"] and s["Sid"] == "PassTheStacksRole"]
    assert passed[0]["Resource"] == ["arn:aws:iam::123456789012:role/mediahub-production-lambda"]
    functions = next(s for s in policy["Statement"] if s["Sid"] == "Function")["Resource"]
    assert "arn:aws:lambda:us-east-1:123456789012:function:mediahub-production-processing" in functions
    # The processing stage subscribes to the scan verdicts' and the rendition jobs' topics, these two only.
    topics = {s["Sid"]: s["Resource"] for s in policy["Statement"] if "sns:Subscribe" in s["Action"]}
    assert topics == {
        "ScanVerdictTopic": ["arn:aws:sns:us-east-1:123456789012:mediahub-production-scan-results"],
        "RenditionEventsTopic": ["arn:aws:sns:us-east-1:123456789012:mediahub-production-rendition-events"]}
    assert not any(action.endswith(":*") or action == "*" for s in policy["Statement"] for action in s["Action"])


def test_a_plan_step_without_permissions_is_an_error(monkeypatch):
    from infra import deploy, deployer

    step = deploy.Step("something new", ("python", "-m", "infra.something"))
    with pytest.raises(LookupError, match="something new"):
        deployer.step_permissions(step, stage="dev", account="123456789012", region="us-east-1", partition="aws")
