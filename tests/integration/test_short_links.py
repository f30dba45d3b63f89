"""A file's share links are short (``/s/<22 characters>``), looked up by their hash; links made
before short ids (signed tokens) keep working until they expire. Through moto's DynamoDB and SES."""

import hashlib
import json
import re
import time

import pytest
import requests

from tests.page_parts import parse
from tests.support import Api, png_bytes
from webapp.tokens import ShareClaim, short_id_for

SITE = "https://media.example.com"
LINK = re.compile(r'href="(http://localhost/s/[^"]+)"')


@pytest.fixture
def owner(make_app):
    app = make_app(recipients=("@allowed.com",), mail_from="Mediahub <noreply@mediahub.test>")
    api = Api(app.test_client())
    media = api.upload(png_bytes(padding=200), name="Site plan").get_json()["media"]
    return app, api, media


def submit(api, media, action: str, prefix: str, **fields):
    data = {f"{prefix}-csrf_token": api.csrf, **{f"{prefix}-{name}": value for name, value in fields.items()}}
    return api.client.post(media["links"]["manage"] + action, data=data)


def short_of(link: str) -> str:
    return link.rsplit("/", 1)[1]


def file_shares(table_items) -> dict[str, dict]:
    return {i["share_id"]: i for i in table_items() if i["sk"].startswith("SHARE#")}


def short_records(table_items) -> list[dict]:
    return [i for i in table_items() if i["pk"].startswith("SHORT#")]


def assert_short_and_working(app, link: str) -> str:
    short = short_of(link)
    assert link == f"http://localhost/s/{short}"
    assert len(short) <= 24 and len(f"{SITE}/s/{short}") < 60
    viewer = app.test_client()
    page = viewer.get(link)
    assert page.status_code == 200 and "Site plan" in page.get_data(as_text=True)
    assert viewer.get(link + "/download").status_code == 302
    return short


def assert_leaked_table_opens_nothing(app, table_items, shorts: list[str]):
    """Every stored value (the records' keys and fields) tried as a link: none opens anything,
    and no short id is stored, only its SHA-256."""
    items = table_items()
    stored = json.dumps(items)
    for short in shorts:
        assert short not in stored and hashlib.sha256(short.encode()).hexdigest() in stored
    values = {v.split("#", 1)[-1] for i in items for v in i.values() if isinstance(v, str)}
    viewer = app.test_client()
    for value in values:
        if re.fullmatch(r"[A-Za-z0-9_-]+", value):
            assert viewer.get(f"/s/{value}").status_code == 404, value
            assert viewer.get(f"/s/{value}/download").status_code == 404, value


def test_the_link_made_at_upload_is_short_and_works(owner, table_items):
    app, api, media = owner
    short = assert_short_and_working(app, media["links"]["share"])
    assert media["links"]["download"] == media["links"]["share"] + "/download"
    [record] = short_records(table_items)
    [made] = file_shares(table_items).values()
    assert record["kind"] == "file" and record["media_id"] == media["id"] and record["share_id"] == made["share_id"]
    assert record["expires_at"] == made["expires_at"]  # DynamoDB's TTL takes it with its share
    assert api.client.get(media["links"]["download"]).status_code == 302  # the uploader's own: not counted
    assert api.record(media["id"])["download_count"] == 1
    assert api.client.get(media["links"]["page"]).get_data(as_text=True).count(short) >= 1
    assert_leaked_table_opens_nothing(app, table_items, [short])


def test_a_new_link_for_anyone_is_short_and_works(owner, settings, table_items):
    app, api, media = owner
    [first] = file_shares(table_items)
    revoked = api.client.post(f"{media['links']['manage']}/shares/{first}/revoke", data={"csrf_token": api.csrf})
    assert revoked.status_code == 302
    assert submit(api, media, "/links", "anyone", days="5").status_code == 302
    [new] = [s for share_id, s in file_shares(table_items).items() if share_id != first]
    short = short_id_for(settings.secret_key, new["share_id"])
    root = parse(api.client.get(media["links"]["manage"]).get_data(as_text=True))
    assert root.find("input", id="anyone-link").attrs["value"] == f"http://localhost/s/{short}"  # the one to copy
    assert_short_and_working(app, f"http://localhost/s/{short}")
    assert {r["share_id"]: r["expires_at"] for r in short_records(table_items)}[new["share_id"]] == new["expires_at"]
    assert_leaked_table_opens_nothing(app, table_items, [short, short_of(media["links"]["share"])])


def test_each_recipients_link_is_short_and_keeps_verification(owner, settings, table_items):
    app, api, media = owner
    answer = submit(api, media, "/share", "share", recipients="ann@allowed.com\nbob@allowed.com", days="3",
                    verify="y")
    assert answer.status_code == 200
    mails = requests.get(f"{settings.aws_endpoint_url}/moto-api/data.json", timeout=10).json()["ses"]["Message"]
    links = {m["destinations"]["ToAddresses"][0]: LINK.search(m["body"]).group(1) for m in mails}
    assert set(links) == {"ann@allowed.com", "bob@allowed.com"}
    for link in links.values():
        short = short_of(link)
        assert len(short) <= 24 and len(f"{SITE}/s/{short}") < 60
        asked = app.test_client().get(link)
        assert asked.status_code == 401 and "E-mail me a code" in asked.get_data(as_text=True)  # proved first
    shorts = [short_of(link) for link in links.values()]
    assert_leaked_table_opens_nothing(app, table_items, shorts + [short_of(media["links"]["share"])])


def test_a_recipients_short_link_opens_and_downloads(owner, settings):
    app, api, media = owner
    submit(api, media, "/share", "share", recipients="ann@allowed.com", days="3")
    mails = requests.get(f"{settings.aws_endpoint_url}/moto-api/data.json", timeout=10).json()["ses"]["Message"]
    link = LINK.search(mails[0]["body"]).group(1)
    assert len(f"{SITE}/s/{short_of(link)}") < 60
    viewer = app.test_client()
    assert viewer.get(link).status_code == 200
    assert viewer.get(link + "/download").status_code == 302


def test_an_old_signed_link_still_works_until_it_expires(owner, table_items):
    app, api, media = owner
    svc = app.extensions["mediahub"]
    [made] = file_shares(table_items).values()
    old = svc.share_tokens.issue(ShareClaim(media["id"], made["share_id"], made["expires_at"]))
    assert len(old) > 60
    viewer = app.test_client()
    page = viewer.get(f"/s/{old}")
    assert page.status_code == 200 and "Site plan" in page.get_data(as_text=True)
    assert viewer.get(f"/s/{old}/download").status_code == 302
    assert api.record(media["id"])["download_count"] == 1
    ended = svc.share_tokens.issue(ShareClaim(media["id"], made["share_id"], int(time.time()) - 1))
    assert viewer.get(f"/s/{ended}").status_code == 410


def test_a_withdrawn_short_link_stays_withdrawn_and_deleting_the_file_removes_its_records(owner, table_items):
    app, api, media = owner
    link = media["links"]["share"]
    assert api.client.post(media["links"]["manage"] + "/revoke-all", data={"csrf_token": api.csrf}).status_code == 302
    assert app.test_client().get(link).status_code == 410
    assert len(short_records(table_items)) == 1  # the record only names the share; the share says withdrawn
    assert submit(api, media, "/links", "anyone", days="5").status_code == 302  # shared again: a new link
    assert app.test_client().get(link).status_code == 410
    assert len(short_records(table_items)) == 2
    assert api.client.post(media["links"]["manage"] + "/delete", data={"csrf_token": api.csrf}).status_code == 302
    assert short_records(table_items) == []
    gone = app.test_client().get(link)
    assert gone.status_code == 404 and "what it shared was deleted" in gone.get_data(as_text=True)


def test_a_files_short_id_is_not_a_transfers_link(owner):
    app, api, media = owner
    short = short_of(media["links"]["share"])
    viewer = app.test_client()
    assert viewer.get(f"/s/{short}/files.json").status_code == 404
    assert viewer.get(f"/s/{short}/files/{media['id']}/link").status_code == 404
    other = short[:-1] + ("A" if short[-1] != "A" else "B")
    assert viewer.get(f"/s/{other}").status_code == 404
    root = parse(api.client.get(media["links"]["manage"]).get_data(as_text=True))
    assert root.find("input", id="anyone-link").attrs["value"] == media["links"]["share"]


def test_after_a_key_change_short_links_still_work_and_pages_show_a_signed_link(make_app, settings):
    before = make_app()
    media = Api(before.test_client()).upload(png_bytes(), name="Site plan").get_json()["media"]
    after = make_app(secret_key="a-different-secret-key-for-this-site-0123")
    viewer = after.test_client()
    assert viewer.get(media["links"]["share"]).status_code == 200  # looked up by its hash: no key needed
    root = parse(after.test_client().get(media["links"]["manage"]).get_data(as_text=True))
    shown = root.find("input", id="anyone-link").attrs["value"]
    assert shown != media["links"]["share"] and len(short_of(shown)) > 24  # its short id cannot be derived again
    page = viewer.get(shown)
    assert page.status_code == 200 and "Site plan" in page.get_data(as_text=True)
