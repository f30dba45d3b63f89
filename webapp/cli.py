"""Operator commands: ``python -m webapp.cli <command>``, run from a checkout with the operator's
credentials, without starting the app (so no secret that does not exist yet is needed).

``iam-policy``           the function role's policy for the settings in the environment.
``deployer-policy``      the least policy the operator's own credentials need for ``make deploy``.
``replay-dead-letters``  send the events in a stage's dead-letter queue back to its function.
``reprocess <id>|--failed``  processing run again (``webapp.flows.processing.reprocess``), with the
                         settings in the environment.

Each command is a click command added to ``main`` at the bottom: a new one is a function here
and one ``main.add_command`` line. ``iam-policy`` is also ``flask --app wsgi iam-policy``.
"""

import json

import click

from webapp.config import ConfigError, Settings


@click.command("iam-policy")
@click.option("--stage", default="dev", show_default=True, help="Zappa stage; the function is mediahub-<stage>.")
@click.option("--account-id", help="AWS account id; default: the account of the current credentials.")
@click.option("--partition", default="aws", show_default=True, help="aws, aws-cn or aws-us-gov.")
@click.option("--malware-scan/--no-malware-scan", default=None,
              help="The stage scans uploads (default: MEDIAHUB_MALWARE_SCAN).")
@click.option("--video-renditions/--no-video-renditions", default=None,
              help="The stage submits MediaConvert jobs to MEDIAHUB_MEDIACONVERT_QUEUE_ARN with "
                   "MEDIAHUB_MEDIACONVERT_ROLE_ARN (default: MEDIAHUB_VIDEO_RENDITIONS=mediaconvert).")
def iam_policy_command(stage: str, account_id: str | None, partition: str, malware_scan: bool | None,
                       video_renditions: bool | None) -> None:
    """Print the IAM policy of the Lambda role for the settings in the environment."""
    from webapp import iam

    try:
        settings = Settings.from_env()
    except ConfigError as error:
        raise click.UsageError(str(error)) from None
    if video_renditions is None:
        video_renditions = settings.video_renditions == "mediaconvert"
    if video_renditions and not (settings.mediaconvert_queue_arn and settings.mediaconvert_role_arn):
        raise click.UsageError("MediaConvert renditions need MEDIAHUB_MEDIACONVERT_QUEUE_ARN and "
                               "MEDIAHUB_MEDIACONVERT_ROLE_ARN (the stack's outputs MediaConvertQueueArn and "
                               "MediaConvertRoleArn)")
    if account_id is None:
        from webapp.aws.clients import OperatorClients

        account_id = OperatorClients(settings.region).sts.get_caller_identity()["Account"]
    secret_names = tuple(n for n in (settings.cloudfront_keys_secret, settings.secret_key_secret) if n)
    document = iam.policy_document(
        bucket=settings.bucket, table=settings.table, region=settings.region, account=account_id,
        partition=partition, function_name=f"mediahub-{stage}",
        mail_from=None if settings.local_mode else settings.mail_from, secret_names=secret_names,
        malware_scan=settings.malware_scan == "guardduty" if malware_scan is None else malware_scan,
        mediaconvert_queue=settings.mediaconvert_queue_arn if video_renditions else None,
        mediaconvert_role=settings.mediaconvert_role_arn if video_renditions else None,
    )
    click.echo(json.dumps(document, indent=2))


@click.command("reprocess")
@click.argument("media_id", required=False)
@click.option("--failed", is_flag=True, help="Every live item whose processing or video rendition failed, "
              "or whose processing is still pending 15 minutes after its upload.")
def reprocess_command(media_id: str | None, failed: bool) -> None:
    """Run processing again for one item, or for every failed one (after a fix, or for what the
    dead-letter queue holds), with the settings in the environment."""
    from webapp import create_app
    from webapp.flows import processing
    from webapp.dates import recent_months

    if bool(media_id) == failed:
        raise click.UsageError("give one media id, or --failed")
    try:
        svc = create_app(Settings.from_env()).extensions["mediahub"]
    except ConfigError as error:
        raise click.UsageError(str(error)) from None
    if failed:
        months = recent_months(svc.clock(), svc.settings.max_retention_days // 28 + 3)
        results = processing.reprocess_failed(svc, months)
    else:
        results = {media_id: processing.reprocess(svc, media_id)}
    for item, result in results.items():
        click.echo(f"{item}\t{result}")
    click.echo(f"{len(results)} reprocessed")


@click.command("deployer-policy")
@click.option("--stage", required=True, help="The stage make deploy deploys, e.g. production.")
@click.option("--account-id", help="AWS account id; default: the account of the current credentials.")
@click.option("--region", help="default: the stage's aws_region in zappa_settings.json.")
@click.option("--partition", default="aws", show_default=True, help="aws, aws-cn or aws-us-gov.")
@click.option("--domain", help="With DOMAIN=...: add what zappa certify needs.")
def deployer_policy_command(stage: str, account_id: str | None, region: str | None, partition: str,
                            domain: str | None) -> None:
    """Print the least IAM policy the operator needs to run `make deploy STAGE=<stage>`."""
    from infra.deployer import deployer_policy
    from infra.zappa_stage import read_stage

    region = region or read_stage(stage).get("aws_region")
    if not region:
        raise click.UsageError(f"stage {stage} names no aws_region: pass --region")
    if account_id is None:
        from webapp.aws.clients import OperatorClients

        account_id = OperatorClients(region).sts.get_caller_identity()["Account"]
    click.echo(json.dumps(deployer_policy(stage=stage, account=account_id, region=region, partition=partition,
                                          domain=domain),
                          indent=2))


@click.command("replay-dead-letters")
@click.option("--stage", required=True, help="The stage whose dead-letter queue to replay.")
@click.option("--limit", default=100, show_default=True, help="At most this many events.")
@click.option("--dry-run", is_flag=True, help="Show what is waiting, change nothing.")
def replay_dead_letters_command(stage: str, limit: int, dry_run: bool) -> None:
    """Send each event in the stage's dead-letter queue back to its function (asynchronously,
    as S3 and EventBridge sent it), deleting it from the queue once Lambda has taken it.

    Lambda put it there after the event failed every attempt; fix the cause first (the
    function's logs say it, by the request id shown here). An event that fails again comes
    back to the queue. Processing is idempotent: a replayed upload is recorded once.
    """
    from infra.zappa_stage import read_stage
    from webapp.aws.clients import OperatorClients

    settings = read_stage(stage)
    queue_arn = settings.get("dead_letter_arn")
    if not queue_arn:
        raise click.UsageError(f"stage {stage} has no dead_letter_arn in zappa_settings.json (make deploy writes it)")
    region, account, queue = queue_arn.split(":")[3:6]
    function = f"{settings.get('project_name') or 'mediahub'}-{stage}"
    clients = OperatorClients(region)
    url = clients.sqs.get_queue_url(QueueName=queue, QueueOwnerAWSAccountId=account)["QueueUrl"]
    replayed = 0
    while replayed < limit:
        messages = clients.sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=min(10, limit - replayed), WaitTimeSeconds=1,
            VisibilityTimeout=0 if dry_run else 60, MessageAttributeNames=["All"]).get("Messages", [])
        if not messages:
            break
        for message in messages:
            attributes = {k: v.get("StringValue") for k, v in message.get("MessageAttributes", {}).items()}
            label = f"request {attributes.get('RequestID', '?')}: {attributes.get('ErrorMessage', 'no error message')}"
            if dry_run:
                click.echo(f"waiting: {label}")
            else:
                clients.lambda_.invoke(FunctionName=function, InvocationType="Event",
                                       Payload=message["Body"].encode())
                clients.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
                click.echo(f"replayed: {label}")
            replayed += 1
        if dry_run:
            break
    click.echo(f"{replayed} event(s) {'waiting (first batch shown)' if dry_run else 'sent back to ' + function}")


@click.group()
def main() -> None:
    """Mediahub's operator commands."""


main.add_command(iam_policy_command)
main.add_command(reprocess_command)
main.add_command(deployer_policy_command)
main.add_command(replay_dead_letters_command)

if __name__ == "__main__":
    main()
