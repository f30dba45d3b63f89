"""The upload flow over HTTP: the app (test client) against moto's server, real multipart POSTs."""

import json

import pytest
import requests

from tests.support import HTML_BYTES, Api, png_bytes, post_to_storage, put_around_policy


@pytest.fixture
def api(client):
    return Api(client)


def test_whole_flow_records_the_upload(api, table_items, bucket_keys):
    data = png_bytes(padding=2000)
    done = api.upload(data, filename="Fête.png", name="Party", caption="At the lake")
    assert done.status_code == 201
    media = done.get_json()["media"]
    assert media["name"] == "Party"
    assert media["caption"] == "At the lake"
    assert media["filename"] == "Fête.png"
    assert media["content_type"] == "image/png"
    assert media["size"] == len(data)
    assert media["download_count"] == 0
    assert media["created_at"].endswith("Z") and media["expires_at"].endswith("Z")
    for link in ("page", "share", "download", "manage"):
        assert media["links"][link].startswith("http://localhost/")
    assert [key for key in bucket_keys() if key.startswith("uploads/")] == [f"uploads/{media['id']}/Fête.png"]
    ready = [item for item in table_items() if item["sk"] == "META"]
    assert [item["status"] for item in ready] == ["ready"]
    assert "manage_hash" in ready[0] and media["links"]["manage"].rsplit("/", 1)[1] not in json.dumps(ready)


def test_download_counts_and_redirects_to_the_bytes(api, app):
    data = png_bytes(padding=100)
    media = api.upload(data, filename="Fête d’été.png").get_json()["media"]
    client = app.test_client()  # a recipient: the uploader's own downloads are not counted
    download = client.get(media["links"]["download"])
    assert download.status_code == 302
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.headers["Cache-Control"] == "no-store"
    fetched = requests.get(download.headers["Location"], timeout=10)
    assert fetched.status_code == 200
    # Viewers get the clean copy processing made: the picture without the original's extra chunk.
    assert b"prVt" in data and b"prVt" not in fetched.content and fetched.content.startswith(b"\x89PNG")
    assert fetched.headers["Content-Disposition"] == (
        "attachment; filename=\"Fete dete.png\"; filename*=UTF-8''F%C3%AAte%20d%E2%80%99%C3%A9t%C3%A9.png"
    )
    client.get(media["links"]["download"])
    assert api.record(media["id"])["download_count"] == 2


def test_share_page_shows_details_and_preview(api, client):
    media = api.upload(png_bytes(), name="Sunset").get_json()["media"]
    page = client.get(media["links"]["share"])
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Sunset" in text and "<img" in text and "/download" in text
    assert page.headers["Referrer-Policy"] == "no-referrer"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"filename": "big.png", "content_type": "image/png", "size": 1_000_001}, "file_too_large"),
        ({"filename": "page.html", "content_type": "text/html", "size": 10}, "type_not_allowed"),
        ({"filename": "x.exe", "content_type": "application/x-msdownload", "size": 10}, "type_not_allowed"),
        ({"filename": "page.html", "content_type": "image/png", "size": 10}, "type_not_allowed"),
        ({"filename": "a.png", "content_type": "image/png", "size": 0}, "invalid_request"),
        ({"filename": "a.png", "content_type": "image/png"}, "invalid_request"),
        ({"content_type": "image/png", "size": 3}, "invalid_request"),
        (None, "invalid_request"),
    ],
)
def test_start_refusals(api, body, code, table_items):
    answer = api.post("/api/uploads", json=body)
    assert answer.status_code == 400
    error = answer.get_json()["error"]
    assert error["code"] == code and error["message"]
    assert table_items() == []


def test_post_without_csrf_token_is_refused(api, table_items):
    answer = api.post("/api/uploads", json={"filename": "a.png", "content_type": "image/png", "size": 3}, csrf=False)
    assert answer.status_code == 400
    assert answer.get_json()["error"]["code"] == "csrf_failed"
    assert table_items() == []


def test_completion_without_csrf_token_is_refused(api):
    policy = api.start(png_bytes()).get_json()
    assert api.post(f"/api/uploads/{policy['upload_id']}/complete", csrf=False).status_code == 400


def test_completion_replayed_five_times_gives_one_record(api, table_items):
    data = png_bytes()
    policy = api.start(data).get_json()
    post_to_storage(policy, data)
    answers = [api.complete(policy["upload_id"]) for _ in range(5)]
    assert [a.status_code for a in answers] == [201, 200, 200, 200, 200]
    # What processing found (sizes, processing and scan state) arrives after the first answer.
    derived = {"links", "width", "height", "duration_seconds", "pages", "processing", "scan"}
    assert {json.dumps({k: v for k, v in a.get_json()["media"].items() if k not in derived})
            for a in answers}.__len__() == 1
    assert "manage" in answers[0].get_json()["media"]["links"]
    assert all("manage" not in a.get_json()["media"]["links"] for a in answers[1:])
    metas = [i for i in table_items() if i["sk"] == "META"]
    shares = [i for i in table_items() if i["sk"].startswith("SHARE#")]
    assert len(metas) == 1 and len(shares) == 1


def test_forged_upload_id_is_refused(api):
    for forged in ("AAAAAAAAAAAAAAAAAAAAAA", "x" * 200, "<script>", "..etc"):
        answer = api.complete(forged)
        assert answer.status_code == 404
        assert answer.get_json()["error"]["code"] == "upload_not_found"


def test_someone_elses_upload_id_is_refused(app, api, table_items):
    data = png_bytes()
    policy = api.start(data).get_json()
    post_to_storage(policy, data)
    stranger = Api(app.test_client())
    answer = stranger.complete(policy["upload_id"])
    assert answer.status_code == 403
    assert answer.get_json()["error"]["code"] == "not_your_upload"
    assert table_items() == []  # nothing recorded, nothing lost
    assert api.complete(policy["upload_id"]).status_code == 201


def test_completion_before_the_file_arrives(api):
    policy = api.start(png_bytes()).get_json()
    answer = api.complete(policy["upload_id"])
    assert answer.status_code == 409
    assert answer.get_json()["error"]["code"] == "upload_missing"


def test_object_bigger_than_declared_is_rejected_and_deleted(aws, settings, api, bucket_keys, table_items):
    declared = png_bytes()
    policy = api.start(declared).get_json()
    refused = post_to_storage(policy, png_bytes(padding=5000))  # storage enforces the policy's range ...
    assert (refused.status_code, "<Code>EntityTooLarge</Code>" in refused.text) == (400, True)
    assert bucket_keys() == []
    put_around_policy(aws.s3, settings.bucket, policy, png_bytes(padding=5000))  # ... and so does completion
    answer = api.complete(policy["upload_id"])
    assert answer.status_code == 422
    error = answer.get_json()["error"]
    assert error["code"] == "upload_rejected" and "declared" in error["message"]
    assert bucket_keys() == []
    assert [i["status"] for i in table_items()] == ["rejected"]
    assert api.complete(policy["upload_id"]).status_code == 422


def test_an_empty_object_is_rejected_and_deleted_not_a_storage_failure(aws, settings, api, bucket_keys, table_items):
    """S3 answers a ranged read of an empty object with 416. The policy's length range keeps an
    empty POST out (EntityTooSmall); one put there another way is a broken upload, not a
    storage outage."""
    policy = api.start(png_bytes()).get_json()
    refused = post_to_storage(policy, b"")
    assert (refused.status_code, "<Code>EntityTooSmall</Code>" in refused.text) == (400, True)
    put_around_policy(aws.s3, settings.bucket, policy, b"")
    assert bucket_keys() == [policy["fields"]["key"]]
    for _ in range(2):
        answer = api.complete(policy["upload_id"])
        assert answer.status_code == 422
        error = answer.get_json()["error"]
        assert error["code"] == "upload_rejected" and "0 bytes" in error["message"]
    assert bucket_keys() == []
    assert [i["status"] for i in table_items()] == ["rejected"]


def test_html_declared_as_png_is_rejected_and_deleted(api, bucket_keys):
    policy = api.start(HTML_BYTES).get_json()
    post_to_storage(policy, HTML_BYTES, "photo.png", "image/png")
    answer = api.complete(policy["upload_id"])
    assert answer.status_code == 422
    assert "text/html" in answer.get_json()["error"]["message"]
    assert bucket_keys() == []


def test_stored_type_other_than_declared_is_rejected(aws, settings, api, bucket_keys):
    data = png_bytes()
    policy = api.start(data).get_json()
    fields = {**policy["fields"], "Content-Type": "text/html"}
    refused = requests.post(policy["url"], data=fields, files={"file": ("p.png", data, "text/html")}, timeout=10)
    assert (refused.status_code, "Invalid according to Policy" in refused.text) == (403, True)  # as S3 does
    put_around_policy(aws.s3, settings.bucket, {**policy, "fields": fields}, data)  # and completion checks too
    answer = api.complete(policy["upload_id"])
    assert answer.status_code == 422
    assert bucket_keys() == []


def test_caption_is_escaped_on_every_page(api, client):
    caption = "<script>alert(1)</script>"
    media = api.upload(png_bytes(), name="<b>bold</b>", caption=caption).get_json()["media"]
    for link in ("page", "share", "manage"):
        text = client.get(media["links"][link]).get_data(as_text=True)
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
        assert "<script>alert(1)" not in text
        assert "<b>bold</b>" not in text


def test_pages_carry_a_content_security_policy(client):
    policy = client.get("/").headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "connect-src 'self' http://127.0.0.1:" in policy


def test_result_page_is_only_for_the_uploading_browser(app, api):
    media = api.upload(png_bytes()).get_json()["media"]
    first = api.client.get(media["links"]["page"])
    assert first.status_code == 200 and "/manage/" in first.get_data(as_text=True)
    again = api.client.get(media["links"]["page"])
    assert again.status_code == 200 and "/manage/" not in again.get_data(as_text=True)
    assert app.test_client().get(media["links"]["page"]).status_code == 404


@pytest.mark.parametrize("mutate", [lambda t: t[:-2] + "xx", lambda t: "nonsense", lambda t: t + "."])
def test_tampered_share_tokens_get_404(api, client, mutate):
    media = api.upload(png_bytes()).get_json()["media"]
    token = media["links"]["share"].rsplit("/", 1)[1]
    for path in (f"/s/{mutate(token)}", f"/s/{mutate(token)}/download"):
        answer = client.get(path)
        assert answer.status_code == 404
        assert "not one of ours" in answer.get_data(as_text=True)


def test_expired_share_link_gets_410_and_counts_nothing(app, api, client):
    media = api.upload(png_bytes()).get_json()["media"]
    services = app.extensions["mediahub"]
    services.clock = lambda: 4_000_000_000.0
    answer = client.get(media["links"]["download"])
    assert answer.status_code == 410
    assert "expired" in answer.get_data(as_text=True)
    services.clock = __import__("time").time
    assert api.record(media["id"])["download_count"] == 0


def test_owner_deletes_and_everything_is_gone(api, client, bucket_keys, table_items):
    media = api.upload(png_bytes()).get_json()["media"]
    manage = media["links"]["manage"]
    assert client.post(manage + "/delete").status_code == 400  # no CSRF token
    deleted = client.post(manage + "/delete", data={"csrf_token": api.csrf})
    assert deleted.status_code == 302
    assert bucket_keys() == [] and table_items() == []  # the short link's record too
    gone = client.get(media["links"]["download"])
    assert gone.status_code == 404 and "deleted" in gone.get_data(as_text=True)


def test_wrong_manage_token_is_refused(api, client):
    media = api.upload(png_bytes()).get_json()["media"]
    wrong = media["links"]["manage"][:-3] + "abc"
    assert client.get(wrong).status_code == 403


def test_no_script_form_post_explains_and_stores_nothing(api, client, table_items):
    answer = client.post("/", data={"csrf_token": api.csrf, "name": "x"})
    assert answer.status_code == 400
    assert "needs JavaScript" in answer.get_data(as_text=True)
    assert table_items() == []


def test_openapi_document_is_valid(client):
    from openapi_spec_validator import validate

    spec = client.get("/api/openapi.json").get_json()
    validate(spec)
    assert {"/api/uploads", "/api/uploads/{upload_id}/complete", "/api/uploads/{upload_id}/parts",
            "/api/uploads/{upload_id}"} <= set(spec["paths"])


def test_unknown_api_path_answers_json(client):
    answer = client.get("/api/nothing")
    assert answer.status_code == 404
    assert answer.get_json()["error"]["code"] == "not_found"


def test_the_manage_page_is_never_cached(api, client):
    """It holds the secret manage link and every recipient's link (defect 3 of the access issue)."""
    media = api.upload(png_bytes()).get_json()["media"]
    page = client.get(media["links"]["manage"])
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    refused = client.post(media["links"]["manage"] + "/share", data={"csrf_token": api.csrf, "share-recipients": ""})
    assert refused.status_code == 400 and refused.headers["Cache-Control"] == "no-store"
