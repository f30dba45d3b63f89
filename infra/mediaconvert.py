"""What video renditions need on AWS (``webapp.flows.renditions``), with context ``videoRenditions=mediaconvert``.

- A role MediaConvert assumes for the stage's jobs: it reads ``uploads/*`` and writes
  ``renditions/*`` of the uploads bucket, nothing else.
- An on-demand queue of the stage's own (no standing cost; jobs of another stage never mix in).
- Completion: MediaConvert sends "MediaConvert Job State Change" to EventBridge; a rule for this
  queue's COMPLETE and ERROR events sends them to an SNS topic the function subscribes to (a
  Zappa ``events`` entry, ``webapp.events.rendition_finished``), as scan verdicts go, because
  Zappa's handler routes SNS records to a function and has no route for a bare EventBridge event.
- The function's role may submit jobs to that queue (``mediaconvert:CreateJob``) and hand that
  role to MediaConvert (``iam:PassRole``), and nothing more of MediaConvert: statements of
  ``webapp.iam.role_statements`` (the stack's role policy and ``iam-policy`` alike), which the
  stack gives this queue's and role's ARNs.

Outputs: ``MediaConvertRoleArn`` and ``MediaConvertQueueArn`` (the app's
``MEDIAHUB_MEDIACONVERT_ROLE_ARN`` and ``_QUEUE_ARN``) and ``RenditionEventsTopicArn``.
"""

from __future__ import annotations

import dataclasses

from aws_cdk import Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as events_targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_mediaconvert as mediaconvert
from aws_cdk import aws_sns as sns

from webapp.iam import RENDITIONS_PREFIX, UPLOAD_PREFIX
from webapp.flows.renditions import JOB_STATE_DETAIL_TYPE

@dataclasses.dataclass(frozen=True)
class MediaConvertParts:
    role: iam.Role
    queue: mediaconvert.CfnQueue
    topic: sns.Topic

    def outputs(self) -> dict[str, tuple[str, str]]:
        return {
            "MediaConvertRoleArn": (self.role.role_arn, "MEDIAHUB_MEDIACONVERT_ROLE_ARN"),
            "MediaConvertQueueArn": (self.queue.attr_arn, "MEDIAHUB_MEDIACONVERT_QUEUE_ARN"),
            "RenditionEventsTopicArn": (self.topic.topic_arn,
                                        "Zappa events: webapp.events.rendition_finished subscribes to it"),
        }


def add(stack: Stack, *, name: str, stage: str, bucket) -> MediaConvertParts:
    """The role, queue, rule and topic of one stage (the function's right to use them is in its
    role's one policy: ``webapp.iam.role_statements``)."""
    role = iam.Role(
        stack, "MediaConvertRole",
        role_name=f"{name}-mediaconvert",
        description=f"Mediahub {stage}: MediaConvert reads uploads and writes video renditions",
        assumed_by=iam.ServicePrincipal("mediaconvert.amazonaws.com"),
        inline_policies={"renditions": iam.PolicyDocument(statements=[
            iam.PolicyStatement(sid="ReadUploads", actions=["s3:GetObject"],
                                resources=[f"{bucket.bucket_arn}/{UPLOAD_PREFIX}*"]),
            iam.PolicyStatement(sid="WriteRenditions", actions=["s3:PutObject"],
                                resources=[f"{bucket.bucket_arn}/{RENDITIONS_PREFIX}*"]),
        ])},
    )
    queue = mediaconvert.CfnQueue(stack, "MediaConvertQueue", name=f"{name}-renditions", pricing_plan="ON_DEMAND",
                                  status="ACTIVE", description=f"Mediahub {stage}: video renditions")
    topic = sns.Topic(stack, "RenditionEventsTopic", topic_name=f"{name}-rendition-events",
                      display_name=f"Mediahub {stage} video rendition jobs", enforce_ssl=True)
    events.Rule(
        stack, "RenditionEventsRule",
        description=f"Mediahub {stage}: MediaConvert jobs of this stage's queue that ended, to the function",
        event_pattern=events.EventPattern(
            source=["aws.mediaconvert"], detail_type=[JOB_STATE_DETAIL_TYPE],
            detail={"status": ["COMPLETE", "ERROR"], "queue": [queue.attr_arn]}),
        targets=[events_targets.SnsTopic(topic)],
    )
    return MediaConvertParts(role, queue, topic)
