"""The stack's part of video renditions (``infra/mediaconvert.py``): MediaConvert's role and queue,
and job completions delivered to the function through EventBridge and SNS, as scan verdicts are."""

from __future__ import annotations

import json

def test_without_the_context_the_stack_has_no_mediaconvert_parts(dev):
    assert not dev.resources("AWS::MediaConvert::Queue")
    assert "MediaConvertRoleArn" not in dev.data["Outputs"]


def test_mediaconvert_reads_uploads_and_writes_renditions_only(rendered):
    _, queue = rendered.one("AWS::MediaConvert::Queue")
    assert queue["Properties"]["PricingPlan"] == "ON_DEMAND"
    [(role_id, role)] = [(key, value) for key, value in rendered.resources("AWS::IAM::Role").items()
                         if "mediaconvert" in json.dumps(value["Properties"]["AssumeRolePolicyDocument"])]
    [policy] = role["Properties"]["Policies"]
    statements = {s["Sid"]: s for s in policy["PolicyDocument"]["Statement"]}
    assert statements["ReadUploads"]["Action"] == "s3:GetObject"
    assert json.dumps(statements["ReadUploads"]["Resource"]).endswith('/uploads/*"]]}')
    assert statements["WriteRenditions"]["Action"] == "s3:PutObject"
    assert json.dumps(statements["WriteRenditions"]["Resource"]).endswith('/renditions/*"]]}')
    outputs = rendered.data["Outputs"]
    assert outputs["MediaConvertRoleArn"]["Value"] == {"Fn::GetAtt": [role_id, "Arn"]}
    assert "MEDIAHUB_MEDIACONVERT_QUEUE_ARN" in outputs["MediaConvertQueueArn"]["Description"]


def test_the_function_may_submit_to_its_queue_and_pass_only_that_role(rendered):
    # In the function role's one policy (webapp.iam.role_statements), not a policy of its own.
    assert not rendered.resources("AWS::IAM::Policy")
    [role] = [r for r in rendered.resources("AWS::IAM::Role").values()
              if r["Properties"].get("RoleName") == f"{rendered.stack.config.name}-lambda"]
    [policy] = role["Properties"]["Policies"]
    statements = {s["Sid"]: s for s in policy["PolicyDocument"]["Statement"]}
    [(queue_id, _)] = rendered.resources("AWS::MediaConvert::Queue").items()
    assert statements["SubmitRenditionJobs"]["Action"] == "mediaconvert:CreateJob"
    assert statements["SubmitRenditionJobs"]["Resource"] == {"Fn::GetAtt": [queue_id, "Arn"]}
    passing = statements["PassRoleToMediaConvert"]
    assert passing["Action"] == "iam:PassRole"
    assert passing["Resource"] == rendered.data["Outputs"]["MediaConvertRoleArn"]["Value"]
    assert passing["Condition"] == {"StringEquals": {"iam:PassedToService": "mediaconvert.amazonaws.com"}}


def test_without_renditions_the_function_has_no_mediaconvert_rights(dev):
    text = json.dumps(dev.data["Resources"])
    assert "mediaconvert:" not in text and "PassRoleToMediaConvert" not in text


def test_job_completions_reach_the_function_through_a_topic(rendered):
    [rule] = [r for r in rendered.resources("AWS::Events::Rule").values()
              if r["Properties"]["EventPattern"]["source"] == ["aws.mediaconvert"]]
    pattern = rule["Properties"]["EventPattern"]
    assert pattern["detail-type"] == ["MediaConvert Job State Change"]
    assert pattern["detail"]["status"] == ["COMPLETE", "ERROR"]
    assert "MediaConvertQueue" in json.dumps(pattern["detail"]["queue"])
    [target] = rule["Properties"]["Targets"]
    topic = rendered.data["Outputs"]["RenditionEventsTopicArn"]["Value"]
    assert target["Arn"] == topic


def test_the_deployer_may_subscribe_the_function_to_the_topic_the_stack_makes(rendered):
    from infra.deployer import deployer_policy

    [topic] = [t for t in rendered.resources("AWS::SNS::Topic").values()
               if "rendition" in t["Properties"].get("TopicName", "")]
    policy = deployer_policy(stage=rendered.stack.config.stage, account="123456789012", region="us-east-1")
    [statement] = [s for s in policy["Statement"] if s["Sid"] == "RenditionEventsTopic"]
    assert statement["Resource"] == [f"arn:aws:sns:us-east-1:123456789012:{topic['Properties']['TopicName']}"]
    assert "sns:Subscribe" in statement["Action"]
