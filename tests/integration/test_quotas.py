"""Quotas and rate limits through the app (moto over HTTP): charged when an upload is signed,
refused with 429 and Retry-After, given back once when an upload is aborted or rejected."""

from __future__ import annotations

import pytest

from tests.support import Api, png_bytes, post_to_storage
from webapp import limits
from webapp.parts import MIB

NOW = 1_796_083_200 + 12 * 3600 + 20 * 60  # 2026-12-01 12:20:00 UTC


def clocked(app, now: float = NOW):
    app.extensions["mediahub"].clock = lambda: now
    return app


def declared(size: int) -> dict:
    return {"filename": "photo.png", "content_type": "image/png", "size": size}


def test_the_sixth_upload_in_an_hour_is_refused_with_when_to_come_back(make_app):
    app = clocked(make_app(uploads_per_hour=5))
    api = Api(app.test_client())
    assert [api.start(png_bytes()).status_code for _ in range(5)] == [201] * 5
    refused = api.start(png_bytes())
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "2400"  # 12:20 to 13:00
    error = refused.get_json()["error"]
    assert error["code"] == "rate_limited" and "40 minutes" in error["message"]
    # Another browser from the same address is the same client.
    assert Api(app.test_client()).start(png_bytes()).status_code == 429
    clocked(app, NOW + 2400)  # the next hour
    assert api.start(png_bytes()).status_code == 201


def test_the_address_is_the_identity_not_the_session(make_app):
    app = clocked(make_app(uploads_per_hour=1))
    here, there = app.test_client(), app.test_client()
    assert Api(here).start(png_bytes()).status_code == 201
    other = Api(there)
    answer = other.client.post("/api/uploads", json=declared(100), headers={"X-CSRFToken": other.csrf},
                               environ_base={"REMOTE_ADDR": "192.0.2.44"})
    assert answer.status_code == 201
    forged = other.client.post("/api/uploads", json=declared(100),
                               headers={"X-CSRFToken": other.csrf, "X-Forwarded-For": "192.0.2.45"})
    assert forged.status_code == 429  # a header changes nothing


def test_bytes_per_day_refuse_what_would_pass_the_limit_and_say_until_midnight(make_app):
    app = clocked(make_app(upload_bytes_per_day=1_000_000))
    api = Api(app.test_client())
    assert api.post("/api/uploads", json=declared(600_000)).status_code == 201
    refused = api.post("/api/uploads", json=declared(500_000))
    assert refused.status_code == 429 and refused.get_json()["error"]["code"] == "quota_exceeded"
    assert refused.headers["Retry-After"] == str(11 * 3600 + 40 * 60)  # 12:20 to midnight
    assert api.post("/api/uploads", json=declared(400_000)).status_code == 201  # exactly up to the limit
    assert api.post("/api/uploads", json=declared(1)).status_code == 429


def test_the_post_policy_takes_no_more_than_was_declared(make_app):
    api = Api(clocked(make_app(upload_bytes_per_day=1_000_000)).test_client())
    policy = api.post("/api/uploads", json=declared(600_000)).get_json()
    conditions = __import__("json").loads(__import__("base64").b64decode(policy["fields"]["policy"]))["conditions"]
    assert ["content-length-range", 1, 600_000] in conditions


def test_a_rejected_upload_gives_its_bytes_back_once(make_app, bucket_keys):
    app = clocked(make_app(upload_bytes_per_day=1_000_000))
    api = Api(app.test_client())
    small = png_bytes()
    policy = api.post("/api/uploads", json=declared(900_000)).get_json()
    assert api.post("/api/uploads", json=declared(200_000)).status_code == 429
    post_to_storage(policy, small)  # not what was declared: rejected at completion
    assert api.complete(policy["upload_id"]).status_code == 422
    assert api.complete(policy["upload_id"]).status_code == 422  # said again, not given back again
    assert api.post("/api/uploads", json=declared(900_000)).status_code == 201
    assert api.post("/api/uploads", json=declared(200_000)).status_code == 429


def test_a_recorded_upload_keeps_its_charge(make_app):
    app = clocked(make_app(uploads_per_hour=1))
    api = Api(app.test_client())
    data = png_bytes()
    policy = api.start(data).get_json()
    post_to_storage(policy, data)
    assert api.complete(policy["upload_id"]).status_code == 201
    assert api.start(data).status_code == 429


def test_no_limits_no_counters(make_app, table_items):
    api = Api(make_app().test_client())
    assert [api.start(png_bytes()).status_code for _ in range(3)] == [201] * 3
    assert table_items() == []


@pytest.fixture
def multipart_app(make_app):
    return clocked(make_app(max_upload_bytes=64 * MIB, multipart_threshold=MIB, upload_bytes_per_day=64 * MIB))


def test_an_aborted_upload_gives_its_bytes_back_once(multipart_app, table_items):
    api = Api(multipart_app.test_client())
    first = api.post("/api/uploads", json=declared(40 * MIB))
    assert first.status_code == 201 and first.get_json()["method"] == "multipart"
    assert api.post("/api/uploads", json=declared(40 * MIB)).get_json()["error"]["code"] == "quota_exceeded"
    upload_id = first.get_json()["upload_id"]
    assert api.client.delete(f"/api/uploads/{upload_id}", headers={"X-CSRFToken": api.csrf}).status_code == 204
    second = api.post("/api/uploads", json=declared(40 * MIB))
    assert second.status_code == 201  # the abort gave 40 MiB back...
    assert api.client.delete(f"/api/uploads/{upload_id}", headers={"X-CSRFToken": api.csrf}).status_code == 204
    assert api.post("/api/uploads", json=declared(30 * MIB)).status_code == 429  # ...once
    counters = [item for item in table_items() if item["pk"].startswith("QUOTA#")]
    assert [item["bytes"] for item in counters] == [40 * MIB]
    assert all("192.0.2" not in item["pk"] and "127.0.0.1" not in item["pk"] for item in counters)
    assert counters[0]["expires_at"] == limits.window_start(NOW, limits.DAY) + limits.DAY  # TTL: the day's end


def test_refusals_and_refunds_are_counted(make_app, capsys):
    from tests.integration.test_metrics import metrics_in

    app = clocked(make_app(metrics=True, uploads_per_hour=1))
    api = Api(app.test_client())
    policy = api.start(png_bytes()).get_json()
    assert api.start(png_bytes()).status_code == 429
    post_to_storage(policy, b"not a png")
    assert api.complete(policy["upload_id"]).status_code == 422
    found = metrics_in(capsys.readouterr().out)
    assert {"name": "Refusals", "unit": "Count", "value": 1, "service": "mediahub", "code": "rate_limited"} in found
    assert [m["name"] for m in found].count("UploadsRefunded") == 1
    assert api.start(png_bytes()).status_code == 201  # the rejected upload's place is free again


def test_an_upload_the_s3_event_rejects_gives_its_place_back_once(make_app, settings):
    from tests.support import s3_event
    from webapp import events

    app = clocked(make_app(uploads_per_hour=1))
    svc = app.extensions["mediahub"]
    api = Api(app.test_client())
    policy = api.start(png_bytes()).get_json()
    post_to_storage(policy, b"<html>not a png</html>")
    key = policy["fields"]["key"]
    assert events.object_created(s3_event(settings.bucket, key), services=svc)["rejected"] == 1
    assert api.complete(policy["upload_id"]).status_code == 422  # the browser hears it later
    assert api.start(png_bytes()).status_code == 201
    assert api.start(png_bytes()).status_code == 429  # given back once, not twice
