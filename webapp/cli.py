"""``flask provision`` and ``flask iam-policy`` (run with ``flask --app wsgi ...``)."""

import json

import click
from flask import current_app
from flask.cli import with_appcontext



@click.command("provision")
@click.option("--dry-run", is_flag=True, help="Print the plan; change nothing and call no AWS API.")
@with_appcontext
def provision_command(dry_run: bool) -> None:
    """Create or check the bucket, table, secrets and CloudFront keys. Safe to run again."""
    from webapp import provision
    from webapp.aws import AwsClients

    settings = current_app.config["MEDIAHUB"]
    if dry_run:
        for step in provision.plan(settings):
            click.echo(f"would: {step}")
        return
    for line in provision.run(settings, AwsClients(settings)):
        click.echo(line)


@click.command("iam-policy")
@click.option("--account-id", help="AWS account id; default: the account of the current credentials.")
@click.option("--function-name", default="mediahub-*", show_default=True, help="Lambda function name (for logs).")
@with_appcontext
def iam_policy_command(account_id: str | None, function_name: str) -> None:
    """Print the least-privilege IAM policy of the Lambda role."""
    from webapp import provision
    from webapp.aws import AwsClients

    settings = current_app.config["MEDIAHUB"]
    account = account_id or AwsClients(settings).sts.get_caller_identity()["Account"]
    click.echo(json.dumps(provision.iam_policy(settings, account, function_name), indent=2))
