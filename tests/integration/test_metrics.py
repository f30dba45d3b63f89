"""CloudWatch metrics in embedded metric format: what an upload, a refusal, a download and an
AWS failure write to stdout, where Lambda's log stream hands them to CloudWatch."""

import json

import pytest

from tests.support import Api, png_bytes
from webapp.aws.clients import AwsClients
from webapp.config import Settings


def metrics_in(out: str) -> list[dict]:
    """Each EMF document as {name: value, dimensions...}, in order."""
    found = []
    for line in out.splitlines():
        if not line.startswith("{") or '"_aws"' not in line:
            continue
        document = json.loads(line)
        [directive] = document["_aws"]["CloudWatchMetrics"]
        assert directive["Namespace"] == "Mediahub"
        for metric in directive["Metrics"]:
            dimensions = {name: document[name] for group in directive["Dimensions"] for name in group}
            value = document[metric["Name"]]
            found.append({"name": metric["Name"], "unit": metric["Unit"],
                          "value": value[0] if isinstance(value, list) else value,
                          **dimensions})
    return found


@pytest.fixture
def site(make_app):
    app = make_app(metrics=True)
    return app, Api(app.test_client())


def test_an_upload_and_a_download_are_counted(site, capsys):
    app, api = site
    data = png_bytes(padding=300)
    media = api.upload(data).get_json()["media"]
    token = media["links"]["share"].rsplit("/", 1)[1]
    viewer = app.test_client()  # a recipient: the uploader's own downloads are not counted
    assert viewer.get(media["links"]["download"]).status_code == 302
    out = capsys.readouterr().out
    counted = metrics_in(out)
    names = [m["name"] for m in counted]
    assert names.count("UploadsStarted") == 1 and names.count("UploadsCompleted") == 1
    assert names.count("Downloads") == 1
    [size] = [m for m in counted if m["name"] == "UploadBytes"]
    assert size["value"] == len(data) and size["unit"] == "Bytes" and size["service"] == "mediahub"
    assert token not in out and media["id"] not in out


def test_refusals_are_counted_by_code(site, capsys):
    app, api = site
    api.start(png_bytes(), size=10**12)
    api.client.post("/api/uploads", json={})  # no CSRF token
    refusals = [m for m in metrics_in(capsys.readouterr().out) if m["name"] == "Refusals"]
    assert [m["code"] for m in refusals] == ["file_too_large", "csrf_failed"]


def test_aws_failures_are_counted_by_code(site, settings, capsys):
    app, api = site
    svc = app.extensions["mediahub"]
    svc.storage._s3 = AwsClients(settings.with_overrides(aws_endpoint_url="http://127.0.0.1:9")).s3
    policy = api.start(png_bytes()).get_json()
    assert api.complete(policy["upload_id"]).status_code == 503
    failures = [m for m in metrics_in(capsys.readouterr().out) if m["name"] == "AwsErrors"]
    assert [m["code"] for m in failures] == ["EndpointConnectionError"]


def test_local_mode_writes_no_metrics_unless_asked(make_app, capsys):
    app = make_app()
    Api(app.test_client()).upload(png_bytes())
    assert metrics_in(capsys.readouterr().out) == []
    assert Settings.from_env({}).metrics is False
    assert Settings.from_env({"MEDIAHUB_BUCKET": "b", "MEDIAHUB_SECRET_KEY": "k" * 40,
                              "MEDIAHUB_UPLOADERS": "anyone"}).metrics is True
    assert Settings.from_env({"MEDIAHUB_METRICS": "true"}).metrics is True
