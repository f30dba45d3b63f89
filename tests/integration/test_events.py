"""Lambda events against moto's server: the ObjectCreated safety net and the cleanup schedule."""

import json

import pytest

from tests.support import HTML_BYTES, Api, png_bytes, post_to_storage, s3_event
from webapp import events, rules


@pytest.fixture
def site(app):
    return app, Api(app.test_client()), app.extensions["mediahub"]


def uploaded_without_callback(api, data=None, **fields):
    """Start an upload and send the file, but never call back. Returns (media id, key)."""
    data = data or png_bytes()
    policy = api.start(data, **fields).get_json()
    post_to_storage(policy, data, fields.get("filename", "photo.png"))
    key = policy["fields"]["key"]
    return rules.media_id_from_key(key), key


def test_event_records_an_upload_whose_callback_never_came(site, settings):
    app, api, svc = site
    data = png_bytes()
    policy = api.start(data, filename="a b+c.png", name="Lake", caption="Late evening").get_json()
    post_to_storage(policy, data, "a b+c.png")
    key = policy["fields"]["key"]
    media_id = rules.media_id_from_key(key)
    assert events.object_created(s3_event(settings.bucket, key), services=svc) == {
        "recorded": 1, "already": 0, "rejected": 0, "removed": 0, "ignored": 0}
    media = svc.catalog.get_media(media_id)
    assert media["status"] == "ready" and media["s3_key"] == key
    assert (media["name"], media["caption"]) == ("Lake", "Late evening")  # carried by the object itself
    answer = api.complete(policy["upload_id"])  # the late callback finds the same record
    assert answer.status_code == 200 and answer.get_json()["media"]["id"] == media_id


def test_same_event_twice_gives_one_record(site, settings, table_items):
    app, api, svc = site
    upload_id, key = uploaded_without_callback(api)
    events.object_created(s3_event(settings.bucket, key), services=svc)
    assert events.object_created(s3_event(settings.bucket, key), services=svc)["already"] == 1
    assert len([i for i in table_items() if i["sk"] == "META"]) == 1
    assert len([i for i in table_items() if i["sk"].startswith("SHARE#")]) == 1


def test_event_after_the_callback_changes_nothing(site, settings):
    app, api, svc = site
    media = api.upload(png_bytes()).get_json()["media"]
    before = svc.catalog.get_media(media["id"])
    key = before["s3_key"]
    assert events.object_created(s3_event(settings.bucket, key), services=svc)["already"] == 1
    assert svc.catalog.get_media(media["id"]) == before


def test_rule_breaking_object_is_removed(site, settings, bucket_keys):
    app, api, svc = site
    media_id, key = uploaded_without_callback(api, HTML_BYTES)
    assert events.object_created(s3_event(settings.bucket, key), services=svc)["rejected"] == 1
    assert bucket_keys() == []
    assert svc.catalog.get_media(media_id)["status"] == "rejected"


@pytest.mark.parametrize("key", ["uploads/AAAAAAAAAAAAAAAAAAAAAA/x.png", "uploads/../x.png"])
def test_object_nobody_started_is_removed(site, settings, aws, bucket_keys, key):
    app, api, svc = site
    aws.s3.put_object(Bucket=settings.bucket, Key=key, Body=png_bytes())
    assert events.object_created(s3_event(settings.bucket, key), services=svc)["removed"] == 1
    assert bucket_keys() == []


def test_other_key_in_a_known_uploads_folder_is_removed(site, settings, aws, bucket_keys):
    app, api, svc = site
    media_id, key = uploaded_without_callback(api)
    stray = f"uploads/{media_id}/other.png"
    aws.s3.put_object(Bucket=settings.bucket, Key=stray, Body=png_bytes())
    assert events.object_created(s3_event(settings.bucket, stray), services=svc)["removed"] == 1
    assert bucket_keys() == [key]


def test_cleanup_removes_expired_and_abandoned_and_keeps_live(site, settings, bucket_keys, table_items):
    app, api, svc = site
    live = api.upload(png_bytes(), filename="live.png", retention_days=30).get_json()["media"]
    short = api.upload(png_bytes(), filename="short.png", retention_days=1).get_json()["media"]
    abandoned_id, _ = uploaded_without_callback(api, filename="abandoned.png")
    api.start(png_bytes(), filename="never-sent.png")  # leaves nothing behind: nothing is written before the file
    real_clock = svc.clock
    svc.clock = lambda: real_clock() + 2 * 86400  # two days on: past the short item and a day-old upload

    removed = events.cleanup(services=svc)
    assert removed == {"expired": 1, "abandoned": 1}
    assert [key for key in bucket_keys() if key.startswith("uploads/")] == [f"uploads/{live['id']}/live.png"]
    remaining = {i["pk"] for i in table_items() if i["pk"].startswith("MEDIA#")}
    assert remaining == {f"MEDIA#{live['id']}"}
    assert short["id"] and abandoned_id
    assert events.cleanup(services=svc) == {"expired": 0, "abandoned": 0}  # safe to run twice


def test_cleanup_work_is_bounded_per_run(site, monkeypatch):
    app, api, svc = site
    for number in range(3):
        api.upload(png_bytes(), filename=f"f{number}.png", retention_days=1)
    real_clock = svc.clock
    svc.clock = lambda: real_clock() + 2 * 86400
    monkeypatch.setattr(events, "CLEANUP_BATCH", 2)
    assert events.cleanup(services=svc)["expired"] == 2
    assert events.cleanup(services=svc)["expired"] == 1


def test_events_log_one_json_line_without_keys(site, settings, capsys):
    app, api, svc = site
    media_id, key = uploaded_without_callback(api, filename="secret-name.png")
    events.object_created(s3_event(settings.bucket, key), services=svc)
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    [line] = [entry for entry in lines if entry.get("event") == "object_created"]
    assert line["service"] == "mediahub" and line["level"] == "INFO" and line["message"] == "event"
    assert line["recorded"] == 1 and line["status"] == "ok" and "duration_ms" in line
    assert "secret-name" not in json.dumps(lines) and media_id not in json.dumps(line)


def test_request_logs_name_the_route_not_the_token(site, capsys):
    app, api, svc = site
    media = api.upload(png_bytes()).get_json()["media"]
    token = media["links"]["share"].rsplit("/", 1)[1]
    capsys.readouterr()
    api.client.get(media["links"]["download"])
    out = capsys.readouterr().out
    entry = json.loads([line for line in out.splitlines() if '"route"' in line][-1])
    assert entry["route"] == "/s/<token>/download" and entry["status"] == 302
    assert token not in out


def test_abandoned_objects_are_found_a_page_per_run(site, monkeypatch, bucket_keys):
    app, api, svc = site
    for number in range(3):
        uploaded_without_callback(api, filename=f"gone{number}.png")
    real_clock = svc.clock
    svc.clock = lambda: real_clock() + 2 * 86400
    monkeypatch.setattr(events, "CLEANUP_BATCH", 2)
    assert events.cleanup(services=svc)["abandoned"] == 2
    assert events.cleanup(services=svc)["abandoned"] == 1
    assert bucket_keys() == []


def test_cleanup_keeps_fresh_unrecorded_uploads(site, bucket_keys):
    app, api, svc = site
    uploaded_without_callback(api)  # the callback may still come
    assert events.cleanup(services=svc) == {"expired": 0, "abandoned": 0}
    assert len(bucket_keys()) == 1


def test_a_failing_request_logs_its_route_not_its_token(make_app, capsys, caplog):
    """Flask's own error line carries the request's path; ours names the rule."""
    app = make_app()
    app.config["TESTING"] = False
    app.config["PROPAGATE_EXCEPTIONS"] = False
    svc = app.extensions["mediahub"]

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    svc.share_tokens.read = broken
    token = "Zm9vYmFyYmF6cXV4LXNlY3JldC10b2tlbi12YWx1ZQ"
    with caplog.at_level("ERROR"):
        answer = app.test_client().get(f"/s/{token}")
    assert answer.status_code == 500
    logged = caplog.text + capsys.readouterr().out
    assert "Exception on /s/<token> [GET]" in logged
    assert token not in logged
