"""The malware gate's back end against moto's server: local mode's GuardDuty stand-in, verdicts in
either order, quarantine, and the event shapes AWS delivers."""

from __future__ import annotations

import io
import json

import pytest
from PIL import Image

from tests.support import Api, post_to_storage, s3_event
from webapp import events, rules
from webapp.flows import scanning
from webapp.config import DEFAULT_ALLOWED_TYPES
from webapp.local import scanner
from webapp.local.outbox import sent_messages

EICAR = scanner.EICAR


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), "teal").save(out, "JPEG")
    return out.getvalue()


@pytest.fixture
def site(make_app):
    app = make_app(malware_scan="guardduty", allowed_types=DEFAULT_ALLOWED_TYPES + ("text/plain",),
                   mail_from="Mediahub <noreply@mediahub.test>")
    return app, Api(app.test_client()), app.extensions["mediahub"]


def tags_of(aws, settings, key: str) -> dict:
    answer = aws.s3.get_object_tagging(Bucket=settings.bucket, Key=key)
    return {tag["Key"]: tag["Value"] for tag in answer["TagSet"]}


def test_eicar_is_quarantined_never_shareable_and_its_owner_told(site, aws, settings, bucket_keys, moto_endpoint):
    app, api, svc = site
    answer = api.upload(EICAR, filename="eicar.txt", content_type="text/plain")
    assert answer.status_code == 201
    media_id = answer.get_json()["media"]["id"]
    record = svc.catalog.get_media(media_id)
    assert record["scan"] == "infected" and not scanning.may_share(record, "guardduty")
    assert record["quarantine_key"] == f"quarantine/{media_id}/eicar.txt"
    assert bucket_keys() == [record["quarantine_key"]]  # gone from uploads/, nothing derived
    body = aws.s3.get_object(Bucket=settings.bucket, Key=record["quarantine_key"])["Body"].read()
    assert body == EICAR

    # Told: with an address on the record, a repeated verdict does not tell twice, a late
    # "clean" does not undo it.
    svc.catalog.set_fields(media_id, {"scan": "pending", "owner_email": "owner@example.com"})
    key = record["s3_key"]
    aws.s3.put_object(Bucket=settings.bucket, Key=key, Body=EICAR)
    verdict = scanner.scan(aws.s3, settings.bucket, key)
    assert events.scan_result(verdict, services=svc) == {"infected": 1}
    assert events.scan_result(verdict, services=svc) == {"infected": 1}
    mails = [m for m in sent_messages(moto_endpoint) if "owner@example.com" in json.dumps(m)]
    assert len(mails) == 1 and "withdrawn" in json.dumps(mails[0])
    clean = json.loads(json.dumps(verdict).replace("THREATS_FOUND", "NO_THREATS_FOUND"))
    events.scan_result(clean, services=svc)
    assert svc.catalog.get_media(media_id)["scan"] == "infected"


def test_a_clean_file_becomes_shareable_when_its_scan_finishes(site, aws, settings):
    app, api, svc = site
    media = api.upload(jpeg(), filename="ok.jpg", content_type="image/jpeg").get_json()["media"]
    record = svc.catalog.get_media(media["id"])
    assert record["scan"] == "clean" and scanning.may_share(record, "guardduty")
    assert tags_of(aws, settings, record["s3_key"]) == {"GuardDutyMalwareScanStatus": "NO_THREATS_FOUND"}
    assert record["processing"] == "ready"


def test_on_aws_the_item_waits_for_the_verdict_delivered_through_sns(site, aws, settings):
    app, api, svc = site
    data = jpeg()
    policy = api.start(data, filename="wait.jpg", content_type="image/jpeg").get_json()
    post_to_storage(policy, data, "wait.jpg", "image/jpeg")
    key = policy["fields"]["key"]
    media_id = rules.media_id_from_key(key)
    events.object_created(s3_event(settings.bucket, key), services=svc)  # no verdict yet
    record = svc.catalog.get_media(media_id)
    assert record["scan"] == "pending" and not scanning.may_share(record, "guardduty")
    assert not scanning.may_share({k: v for k, v in record.items() if k != "scan"}, "guardduty")

    verdict = scanner.scan(aws.s3, settings.bucket, key)
    through_sns = {"Records": [{"EventSource": "aws:sns", "Sns": {"Message": json.dumps(verdict)}}]}
    assert events.scan_result(through_sns, services=svc) == {"clean": 1}
    assert svc.catalog.get_media(media_id)["scan"] == "clean"


def test_a_verdict_before_the_record_is_read_from_the_tag(site, aws, settings):
    app, api, svc = site
    policy = api.start(EICAR, filename="early.txt", content_type="text/plain").get_json()
    post_to_storage(policy, EICAR, "early.txt", "text/plain")
    key = policy["fields"]["key"]
    verdict = scanner.scan(aws.s3, settings.bucket, key)
    assert events.scan_result(verdict, services=svc) == {"ignored": 1}  # nothing recorded yet
    events.object_created(s3_event(settings.bucket, key), services=svc)
    assert svc.catalog.get_media(rules.media_id_from_key(key))["scan"] == "infected"


def test_other_buckets_and_inconclusive_scans(site, aws, settings, monkeypatch):
    app, api, svc = site
    counted = []
    monkeypatch.setattr(scanning, "count", lambda name, *args, **kwargs: counted.append(name))
    media = api.upload(jpeg(), filename="x.jpg", content_type="image/jpeg").get_json()["media"]
    key = svc.catalog.get_media(media["id"])["s3_key"]
    svc.catalog.set_fields(media["id"], {"scan": "pending"})
    verdict = scanner.scan(aws.s3, settings.bucket, key)
    elsewhere = json.loads(json.dumps(verdict).replace(f'"{settings.bucket}"', '"someone-elses-bucket"'))
    assert events.scan_result(elsewhere, services=svc) == {"ignored": 1}
    unsupported = json.loads(json.dumps(verdict).replace("NO_THREATS_FOUND", "UNSUPPORTED"))
    assert events.scan_result(unsupported, services=svc) == {"pending": 1}
    assert svc.catalog.get_media(media["id"])["scan"] == "pending" and counted == ["ScanInconclusive"]


def test_with_scanning_off_items_say_so(make_app):
    app = make_app()
    api, svc = Api(app.test_client()), app.extensions["mediahub"]
    media = api.upload(jpeg(), filename="off.jpg", content_type="image/jpeg").get_json()["media"]
    record = svc.catalog.get_media(media["id"])
    assert record["scan"] == "off" and scanning.may_share(record, "off")


def test_the_stand_in_finds_eicar_across_reads():
    assert scanner.contains_eicar([b"x" * 10 + EICAR[:20], EICAR[20:] + b"tail"])
    assert not scanner.contains_eicar([b"x" * 100, EICAR[:-1]])
