"""Sharing by email through moto's SES over HTTP; revoking; passwords; the owner's controls."""

import re
import time

import pytest
import requests

from tests.support import Api, png_bytes

LINK = re.compile(r'href="(http://localhost/s/[^"]+)"')


@pytest.fixture
def owner(make_app):
    app = make_app(recipients=("@allowed.com", "boss@partner.org"), mail_from="Mediahub <noreply@mediahub.test>")
    api = Api(app.test_client())
    media = api.upload(png_bytes(padding=200), name="Quarterly plan").get_json()["media"]
    return app, api, media


def sent_mail(settings) -> list[dict]:
    return requests.get(f"{settings.aws_endpoint_url}/moto-api/data.json", timeout=10).json()["ses"]["Message"]


def share(api, media, recipients: str, **fields):
    data = {"csrf_token": api.csrf, "recipients": recipients, "days": "3", **fields}
    return api.client.post(media["links"]["manage"] + "/share", data=data)


def link_for(settings, address: str) -> str:
    [mail] = [m for m in sent_mail(settings) if m["destinations"]["ToAddresses"] == [address]]
    return LINK.search(mail["body"]).group(1)


def test_mail_goes_only_to_allowed_recipients_each_with_their_own_link(owner, settings, table_items):
    app, api, media = owner
    answer = share(api, media, "ann@allowed.com\nbob@ALLOWED.com\nmallory@allowed.com.evil.io\nboss@partner.org",
                   message="Please read <b>this</b>")
    assert answer.status_code == 200
    page = answer.get_data(as_text=True)
    assert "Sent to: <span id=\"sent-to\">ann@allowed.com, bob@allowed.com, boss@partner.org</span>" in page
    assert "mallory@allowed.com.evil.io" in page and "not on the list of allowed recipients" in page
    box = re.search(r'<textarea[^>]*name="recipients"[^>]*>(.*?)</textarea>', page, re.S).group(1)
    assert box.strip() == "mallory@allowed.com.evil.io"  # only what still needs attention

    mails = sent_mail(settings)
    assert sorted(m["destinations"]["ToAddresses"][0] for m in mails) == ["ann@allowed.com", "bob@allowed.com", "boss@partner.org"]
    assert all(m["source"] == "Mediahub <noreply@mediahub.test>" and "Quarterly plan" in m["subject"] for m in mails)
    assert "Please read &lt;b&gt;this&lt;/b&gt;" in mails[0]["body"]
    links = {m["destinations"]["ToAddresses"][0]: LINK.search(m["body"]).group(1) for m in mails}
    assert len(set(links.values())) == 3
    shares = {i["recipient"]: i for i in table_items() if i["sk"].startswith("SHARE#")}
    assert set(shares) == {"anyone", "ann@allowed.com", "bob@allowed.com", "boss@partner.org"}
    assert shares["ann@allowed.com"]["expires_at"] <= time.time() + 3 * 86400 + 5


def test_a_recipients_link_counts_for_that_recipient(owner, settings):
    app, api, media = owner
    share(api, media, "ann@allowed.com\nbob@allowed.com")
    ann = link_for(settings, "ann@allowed.com")
    viewer = app.test_client()
    assert viewer.get(ann).status_code == 200
    assert viewer.get(ann + "/download").status_code == 302
    assert viewer.get(ann + "/download").status_code == 302
    manage = api.client.get(media["links"]["manage"]).get_data(as_text=True)
    row = re.search(r"<tr><td>ann@allowed.com</td>.*?</tr>", manage, re.S).group(0)
    assert "<td>2</td>" in row and "UTC" in row
    assert re.search(r"<tr><td>bob@allowed.com</td><td>[^<]+</td>\s*<td>0</td>", manage)


def test_one_recipients_token_does_not_open_anothers_share(owner, settings):
    app, api, media = owner
    share(api, media, "ann@allowed.com\nbob@allowed.com")
    ann, bob = link_for(settings, "ann@allowed.com"), link_for(settings, "bob@allowed.com")
    ann_payload, ann_sig = ann.rsplit("/", 1)[1].split(".")
    bob_payload, _ = bob.rsplit("/", 1)[1].split(".")
    spliced = f"/s/{bob_payload}.{ann_sig}"
    assert app.test_client().get(spliced).status_code == 404
    assert app.test_client().get(spliced + "/download").status_code == 404


def test_a_failed_send_is_shown_and_leaves_no_share(make_app, table_items):
    app = make_app(recipients=("@allowed.com",), mail_from="Mediahub <noreply@mediahub.test>")
    app.extensions["mediahub"].mailer.sender = "unverified@elsewhere.test"  # SES refuses unverified senders
    api = Api(app.test_client())
    media = api.upload(png_bytes()).get_json()["media"]
    page = share(api, media, "ann@allowed.com").get_data(as_text=True)
    assert "The mail service refused these" in page and "MessageRejected" in page
    assert [i["recipient"] for i in table_items() if i["sk"].startswith("SHARE#")] == ["anyone"]


def test_sharing_needs_the_csrf_token(owner, table_items):
    _, api, media = owner
    answer = api.client.post(media["links"]["manage"] + "/share", data={"recipients": "ann@allowed.com", "days": "3"})
    assert answer.status_code == 400
    assert len([i for i in table_items() if i["sk"].startswith("SHARE#")]) == 1


def test_revoke_one_then_all(owner, settings):
    app, api, media = owner
    share(api, media, "ann@allowed.com\nbob@allowed.com")
    ann, bob = link_for(settings, "ann@allowed.com"), link_for(settings, "bob@allowed.com")
    manage = api.client.get(media["links"]["manage"]).get_data(as_text=True)
    revoke_path = re.search(r'<tr><td>ann@allowed.com</td>.*?action="([^"]+/revoke)"', manage, re.S).group(1)
    assert api.client.post(revoke_path, data={"csrf_token": api.csrf}).status_code == 302
    viewer = app.test_client()
    gone = viewer.get(ann)
    assert gone.status_code == 410 and "withdrawn" in gone.get_data(as_text=True)
    assert viewer.get(bob).status_code == 200
    assert api.client.post(media["links"]["manage"] + "/revoke-all", data={"csrf_token": api.csrf}).status_code == 302
    assert viewer.get(bob + "/download").status_code == 410
    assert viewer.get(media["links"]["share"]).status_code == 410


def test_per_recipient_download_limit(owner, settings):
    app, api, media = owner
    share(api, media, "ann@allowed.com", max_downloads="1")
    ann = link_for(settings, "ann@allowed.com")
    viewer = app.test_client()
    assert [viewer.get(ann + "/download").status_code for _ in range(2)] == [302, 410]


def test_password_protected_share(owner, settings):
    app, api, media = owner
    share(api, media, "ann@allowed.com", password="correct horse")
    ann = link_for(settings, "ann@allowed.com")
    viewer = Api(app.test_client())
    asks = viewer.client.get(ann)
    assert asks.status_code == 200 and 'type="password"' in asks.get_data(as_text=True)
    assert viewer.client.get(ann + "/download").status_code == 302
    assert viewer.client.get(ann + "/download").headers["Location"].endswith(ann.split("localhost")[1])
    wrong = viewer.client.post(ann, data={"csrf_token": viewer.csrf, "password": "wrong horse"})
    assert wrong.status_code == 403 and "That password is not right." in wrong.get_data(as_text=True)
    right = viewer.client.post(ann, data={"csrf_token": viewer.csrf, "password": "correct horse"})
    assert right.status_code == 302
    assert "Key-Pair-Id=" in viewer.client.get(ann + "/download").headers["Location"]


def test_repeated_wrong_passwords_lock_the_link(owner, settings):
    app, api, media = owner
    share(api, media, "ann@allowed.com", password="correct horse")
    ann = link_for(settings, "ann@allowed.com")
    viewer = Api(app.test_client())
    statuses = [viewer.client.post(ann, data={"csrf_token": viewer.csrf, "password": f"guess {i}"}).status_code
                for i in range(6)]
    assert statuses == [403] * 5 + [429]
    locked = viewer.client.post(ann, data={"csrf_token": viewer.csrf, "password": "correct horse"})
    assert locked.status_code == 429 and "Try again in 15 minutes" in locked.get_data(as_text=True)


def test_item_password_and_short_passwords(owner):
    app, api, media = owner
    manage = media["links"]["manage"]
    short = api.client.post(manage + "/password", data={"csrf_token": api.csrf, "password": "short"})
    assert short.status_code == 400
    assert api.client.post(manage + "/password", data={"csrf_token": api.csrf, "password": "item password 1"}).status_code == 302
    viewer = Api(app.test_client())
    assert 'type="password"' in viewer.client.get(media["links"]["share"]).get_data(as_text=True)
    opened = viewer.client.post(media["links"]["share"], data={"csrf_token": viewer.csrf, "password": "item password 1"})
    assert opened.status_code == 302


def test_owner_changes_expiry_within_the_maximum(owner, table_items):
    app, api, media = owner
    manage = media["links"]["manage"]
    assert api.client.post(manage + "/expiry", data={"csrf_token": api.csrf, "days": "2"}).status_code == 302
    [meta] = [i for i in table_items() if i["sk"] == "META"]
    assert abs(meta["expires_at"] - (time.time() + 2 * 86400)) < 30
    too_long = api.client.post(manage + "/expiry", data={"csrf_token": api.csrf, "days": "31"})
    assert too_long.status_code == 400 and "1 to 30 days" in too_long.get_data(as_text=True)


def test_local_outbox_lists_the_mail(owner, settings):
    app, api, media = owner
    share(api, media, "ann@allowed.com")
    page = api.client.get("/local/outbox").get_data(as_text=True)
    assert "ann@allowed.com" in page and link_for(settings, "ann@allowed.com") in page
