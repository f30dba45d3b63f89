"""AWS Elemental MediaConvert: submits the rendition jobs ``webapp.flows.renditions.job_settings`` builds.

The job's completion is not awaited here: MediaConvert sends a "MediaConvert Job State Change"
event to EventBridge, which the stack (``infra/mediaconvert.py``) relays through SNS to the
processing function (``webapp.events.rendition_finished``), as it does GuardDuty's scan verdicts.
The client comes from ``webapp.aws.clients`` (boto3 finds the account's MediaConvert endpoint).
"""

from __future__ import annotations

from typing import Callable


class MediaConvertJobs:
    def __init__(self, client):
        self._client = client

    def submit(self, job: dict, finished: Callable[[dict], None]) -> str:
        """CreateJob; answers the job id. ``finished`` is not called: the event arrives later."""
        answer = self._client.create_job(**job)
        return answer["Job"]["Id"]
