"""``iam-policy``: the least-privilege policy of the function's role, for a stage.
``reprocess <id>|--failed``: processing run again (``webapp.processing.reprocess``).

Runs without starting the app (``python -m webapp.cli iam-policy``), so it needs no
secret that does not exist yet; it is also registered as ``flask --app wsgi iam-policy``.
The CDK stack attaches the very same statements (both call ``webapp.iam``).
"""

import json

import click

from webapp.config import ConfigError, Settings


@click.command("iam-policy")
@click.option("--stage", default="dev", show_default=True, help="Zappa stage; the function is mediahub-<stage>.")
@click.option("--account-id", help="AWS account id; default: the account of the current credentials.")
def iam_policy_command(stage: str, account_id: str | None) -> None:
    """Print the IAM policy of the Lambda role for the settings in the environment."""
    from webapp import iam

    try:
        settings = Settings.from_env()
    except ConfigError as error:
        raise click.UsageError(str(error)) from None
    if account_id is None:
        from webapp.aws.clients import AwsClients

        account_id = AwsClients(settings).sts.get_caller_identity()["Account"]
    secret_names = tuple(n for n in (settings.cloudfront_keys_secret, settings.secret_key_secret) if n)
    document = iam.policy_document(
        bucket=settings.bucket, table=settings.table, region=settings.region, account=account_id,
        function_name=f"mediahub-{stage}", mail_from=None if settings.local_mode else settings.mail_from,
        secret_names=secret_names,
    )
    click.echo(json.dumps(document, indent=2))


@click.command("reprocess")
@click.argument("media_id", required=False)
@click.option("--failed", is_flag=True, help="Every live item whose processing or video rendition failed, "
              "or whose processing is still pending 15 minutes after its upload.")
def reprocess_command(media_id: str | None, failed: bool) -> None:
    """Run processing again for one item, or for every failed one (after a fix, or for what the
    dead-letter queue holds), with the settings in the environment."""
    from webapp import create_app, processing
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


@click.group()
def main() -> None:
    """Mediahub's operator commands."""


main.add_command(iam_policy_command)
main.add_command(reprocess_command)

if __name__ == "__main__":
    main()
