"""Transfers over HTTP: several files, one short link, one manage link, mailed once."""

import hashlib
import time
import json

import pytest
import requests

from tests.support import CSRF_META, Api, png_bytes
from tests.oidc_support import oidc_provider_factory  # noqa: F401 (a fixture)
from webapp.local.outbox import sent_messages


@pytest.fixture
def app(make_app):
    return make_app(recipients=("@example.com",), mail_from="Mediahub <noreply@mediahub.test>")


@pytest.fixture
def api(client):
    return Api(client)


def send_transfer(api, count: int, **options) -> tuple[str, list[dict]]:
    started = api.post("/api/transfers", json=options)
    assert started.status_code == 201, started.get_json()
    transfer_id = started.get_json()["transfer_id"]
    media = []
    for n in range(count):
        done = api.upload(png_bytes(padding=100 + n), filename=f"photo-{n}.png", transfer_id=transfer_id)
        assert done.status_code == 201, done.get_json()
        media.append(done.get_json()["media"])
    return transfer_id, media


def finish(api, transfer_id: str) -> dict:
    answer = api.post(f"/api/transfers/{transfer_id}/finish")
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()["transfer"]


def test_files_sent_together_have_one_short_link_that_lasts_as_long_as_the_files(api, client, table_items):
    transfer_id, media = send_transfer(api, 3)
    transfer = finish(api, transfer_id)
    share, manage = transfer["links"]["share"], transfer["links"]["manage"]
    assert [f["id"] for f in transfer["files"]] == [m["id"] for m in media]
    short = share.rsplit("/", 1)[1]
    assert share == f"http://localhost/s/{short}" and len(short) <= 24
    # A full link on the real domain stays under 60 characters.
    assert len(f"https://media.example.com/s/{short}") < 60
    assert transfer["link_follows_files"] and transfer["link_expires_at"] == transfer["files_expire_at"]
    stored = json.dumps(table_items())
    assert short not in stored and manage.rsplit("/", 1)[1] not in stored
    assert hashlib.sha256(short.encode()).hexdigest() in stored
    page = client.get(share)
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert all(m["filename"] in text for m in media)
    assert "until the files' own expiry" in text
    assert 'property="og:title"' in text and 'property="og:image"' in text and 'loading="lazy"' in text
    # The manage link is shown once: a second finish answers without it.
    assert "manage" not in finish(api, transfer_id)["links"]


def test_each_file_of_a_transfer_downloads_and_counts_for_a_visitor_only(api, app, client):
    transfer_id, media = send_transfer(api, 2)
    share = finish(api, transfer_id)["links"]["share"]
    # The uploader's own browser: not counted.
    own = client.get(f"{share}/files/{media[0]['id']}")
    assert own.status_code == 302
    assert api.record(media[0]["id"])["download_count"] == 0
    visitor = app.test_client()
    link = visitor.get(f"{share}/files/{media[0]['id']}/link")
    assert link.status_code == 200
    fetched = requests.get(link.get_json()["url"], timeout=10)
    assert fetched.status_code == 200 and fetched.content.startswith(b"\x89PNG")
    assert api.record(media[0]["id"])["download_count"] == 1
    assert visitor.get(f"{share}/files/not-a-file-of-it-0000").status_code == 404


def test_the_uploaders_address_gets_both_links_once(api, settings, table_items):
    transfer_id, _ = send_transfer(api, 2, email="me@example.com")
    transfer = finish(api, transfer_id)
    finish(api, transfer_id)
    mails = [m for m in sent_messages(settings.aws_endpoint_url) if m["to"] == "me@example.com"]
    assert len(mails) == 1
    assert transfer["links"]["share"] in mails[0]["links"] and transfer["links"]["manage"] in mails[0]["links"]
    assert transfer["mailed_to"] == "me@example.com"
    assert "me@example.com" not in json.dumps(table_items())  # kept only until its mail went


def test_transfer_calls_need_the_pages_csrf_token(api):
    assert api.post("/api/transfers", json={}, csrf=False).status_code == 400
    transfer_id, _ = send_transfer(api, 1)
    assert api.post(f"/api/transfers/{transfer_id}/finish", csrf=False).status_code == 400


def test_an_address_outside_the_recipients_rule_is_refused_before_any_upload(api):
    answer = api.post("/api/transfers", json={"email": "stranger@elsewhere.net"})
    assert answer.status_code == 400
    assert answer.get_json()["error"]["code"] == "recipient_not_allowed"


def test_a_longer_link_than_the_files_is_capped_and_says_so(api):
    answer = api.post("/api/transfers", json={"link_seconds": 5 * 86400, "retention_days": 2})
    assert answer.status_code == 201
    assert "at most 2 days" in answer.get_json()["capped"]


def test_a_shorter_link_is_kept(api):
    transfer_id, _ = send_transfer(api, 1, link_seconds=3600)
    transfer = finish(api, transfer_id)
    assert not transfer["link_follows_files"] and transfer["link_expires_at"] < transfer["files_expire_at"]


def test_manage_page_withdraws_and_deletes(api, app, client):
    transfer_id, media = send_transfer(api, 2)
    transfer = finish(api, transfer_id)
    manage, share = transfer["links"]["manage"], transfer["links"]["share"]
    page = client.get(manage)
    assert page.status_code == 200 and share in page.get_data(as_text=True)
    # One file of it is managed with the same link.
    assert client.get(f"/manage/{media[0]['id']}/{manage.rsplit('/', 1)[1]}").status_code == 200
    api.refresh_csrf()
    assert api.post(f"{manage}/files/{media[0]['id']}/delete").status_code == 302
    assert api.record(media[0]["id"]) is None
    assert api.post(f"{manage}/withdraw").status_code == 302
    assert app.test_client().get(share).status_code == 410
    assert api.post(f"{manage}/delete").status_code == 302
    assert app.test_client().get(share).status_code == 404
    assert client.get(manage).status_code == 404


def test_a_file_cannot_join_someone_elses_transfer(api, app):
    transfer_id, _ = send_transfer(api, 1)
    other = Api(app.test_client())
    answer = other.start(png_bytes(), transfer_id=transfer_id)
    assert answer.status_code == 404 and answer.get_json()["error"]["code"] == "transfer_not_found"


def test_old_signed_links_keep_working(api, client):
    media = api.upload(png_bytes()).get_json()["media"]
    assert client.get(media["links"]["share"]).status_code == 200


def test_signed_in_people_find_every_transfer_in_my_uploads(make_app, oidc_provider_factory):  # noqa: F811
    from tests.integration.test_sign_in import CALLBACK, sign_in

    provider = oidc_provider_factory([CALLBACK])
    app = make_app(oidc_issuer=provider.issuer, oidc_client_id=provider.client_id,
                   oidc_client_secret=provider.client_secret, uploaders="signed-in",
                   signin_allowlist=("@example.com",))
    _, client = sign_in(app, "ann@example.com")
    api = Api(client)
    transfer_id, media = send_transfer(api, 2)
    finish(api, transfer_id)
    mine = client.get("/me/uploads").get_data(as_text=True)
    assert f"/t/{transfer_id}/mine" in mine and "2 files" in mine
    # Managed without the secret link, as its owner; nobody else.
    page = client.get(f"/t/{transfer_id}/mine")
    assert page.status_code == 200 and media[1]["filename"] in page.get_data(as_text=True)
    _, other = sign_in(app, "bob@example.com")
    assert other.get(f"/t/{transfer_id}/mine").status_code == 403


def test_a_file_link_longer_than_the_file_says_it_was_capped(api, client):
    media = api.upload(png_bytes(), retention_days=2).get_json()["media"]
    manage = media["links"]["manage"]
    made = client.post(manage + "/links", data={"anyone-csrf_token": api.csrf, "anyone-days": "5"},
                       follow_redirects=True)
    assert "You asked for 5 days, but the file is kept only until" in made.get_data(as_text=True)
    shared = client.post(manage + "/share", data={"share-csrf_token": api.csrf, "share-recipients": "ann@example.com",
                                                  "share-days": "5"})
    assert "You asked for 5 days" in shared.get_data(as_text=True)
    page = client.get(manage).get_data(as_text=True)
    # The page opens with the file's preview and its share link, the sections below.
    assert page.index('id="manage-preview"') < page.index('id="manage-share-link"') < page.index("<dl")


def test_a_transfer_kept_longer_than_the_site_allows_says_it_was_capped(api, client, settings):
    transfer_id, _ = send_transfer(api, 1)
    manage = finish(api, transfer_id)["links"]["manage"]
    answer = client.post(manage + "/expiry", data={"expiry-csrf_token": api.csrf, "expiry-days": "400"},
                         follow_redirects=True)
    assert f"Files can be kept at most {settings.max_retention_days} days" in answer.get_data(as_text=True)


def test_through_an_upload_link_the_maker_gets_one_mail_per_batch_and_the_sender_no_link(make_app, settings):
    from webapp.flows import upload_links

    app = make_app(uploaders="invited", mail_from="Mediahub <noreply@mediahub.test>")
    svc = app.extensions["mediahub"]
    request = upload_links.LinkRequest(label="Holiday", max_files=5, max_bytes=1_000_000, days=3, types=())
    link, token = upload_links.create(svc, request, creator="p-maker", creator_email="maker@example.com")
    sender = app.test_client()
    page = sender.get(f"/u/{token}")
    csrf = CSRF_META.search(page.get_data(as_text=True)).group(1)
    assert sender.post(f"/u/{token}", data={"csrf_token": csrf}).status_code == 302
    api = Api(sender)
    transfer_id, _ = send_transfer(api, 3)
    transfer = finish(api, transfer_id)
    assert transfer["links"] == {}
    mails = [m for m in sent_messages(settings.aws_endpoint_url) if m["to"] == "maker@example.com"]
    assert len(mails) == 1 and "3 files" in mails[0]["subject"]


def test_the_uploaders_own_downloads_never_use_up_a_recipients_limit(api, app, client):
    media = api.upload(png_bytes(), max_downloads=1).get_json()["media"]
    for _ in range(3):
        assert client.get(media["links"]["download"]).status_code == 302
    assert api.record(media["id"])["download_count"] == 0
    recipient = app.test_client()
    assert recipient.get(media["links"]["download"]).status_code == 302
    assert recipient.get(media["links"]["download"]).status_code == 410


def test_a_transfers_password_guards_its_page_and_files(api, app, client):
    transfer_id, media = send_transfer(api, 2)
    links = finish(api, transfer_id)["links"]
    assert client.post(links["manage"] + "/password", data={"item-csrf_token": api.csrf,
                                                              "item-password": "correct horse"}).status_code == 302
    visitor = app.test_client()
    locked = visitor.get(links["share"])
    assert locked.status_code == 401 and 'og:image' not in locked.get_data(as_text=True)
    assert visitor.get(f"{links['share']}/files/{media[0]['id']}/link").status_code == 401
    csrf = CSRF_META.search(locked.get_data(as_text=True)).group(1)
    wrong = visitor.post(links["share"], data={"csrf_token": csrf, "password": "wrong one"})
    assert wrong.status_code == 403
    right = visitor.post(links["share"], data={"csrf_token": csrf, "password": "correct horse"})
    assert right.status_code == 302
    page = visitor.get(links["share"])
    assert page.status_code == 200 and "og:image" not in page.get_data(as_text=True)
    assert visitor.get(f"{links['share']}/files/{media[0]['id']}/link").status_code == 200


def test_thumbnails_on_a_transfers_page_are_short_redirects_to_signed_pictures(api, app):
    transfer_id, media = send_transfer(api, 2)
    share = finish(api, transfer_id)["links"]["share"]
    visitor = app.test_client()
    page = visitor.get(share).get_data(as_text=True)
    thumb = f"{share.replace('http://localhost', '')}/files/{media[1]['id']}/thumb"
    assert f'src="{thumb}"' in page and "Signature=" not in page.split('property="og:image"')[1].split("<main")[1]
    picture = visitor.get(thumb)
    assert picture.status_code == 302 and requests.get(picture.headers["Location"], timeout=10).status_code == 200
    assert api.record(media[1]["id"])["download_count"] == 0
    # A file of another transfer is not reached through this one.
    other_id, other = send_transfer(api, 1)
    assert visitor.get(f"{share}/files/{other[0]['id']}/thumb").status_code == 404


def test_the_cdn_stand_in_lets_the_sites_pages_read_a_file_and_no_other_site(api, app):
    transfer_id, media = send_transfer(api, 1)
    share = finish(api, transfer_id)["links"]["share"]
    url = app.test_client().get(f"{share}/files/{media[0]['id']}/link").get_json()["url"]
    ours = requests.get(url, headers={"Origin": "http://127.0.0.1:5000"}, timeout=10)
    assert ours.status_code == 200 and ours.headers["Access-Control-Allow-Origin"] == "http://127.0.0.1:5000"
    theirs = requests.get(url, headers={"Origin": "https://evil.example"}, timeout=10)
    assert "Access-Control-Allow-Origin" not in theirs.headers


def test_a_file_kept_longer_on_its_own_page_keeps_its_transfers_link_alive(api, app, client, settings):
    transfer_id, media = send_transfer(api, 1)
    links = finish(api, transfer_id)["links"]
    token = links["manage"].rsplit("/", 1)[1]
    longest = settings.max_retention_days
    svc = app.extensions["mediahub"]
    svc.clock = lambda: time.time() + 5 * 86400  # five days on, kept the longest from then
    answer = client.post(f"/manage/{media[0]['id']}/{token}/expiry",
                         data={"expiry-csrf_token": api.csrf, "expiry-days": str(longest)})
    assert answer.status_code == 302
    kept = api.record(media[0]["id"])["expires_at"]
    assert svc.catalog.get_transfer(transfer_id)["expires_at"] == kept + 86400
    svc.clock = lambda: time.time() + (longest + 3) * 86400  # past the transfer's first end, within the file's
    assert app.test_client().get(links["share"]).status_code == 200
