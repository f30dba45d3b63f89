"""Sharing by email through moto's SES over HTTP; revoking; passwords; the owner's controls."""

import re
import time

import pytest
import requests

from tests.page_parts import control_for, duplicate_ids, parse, row_node, table_rows
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


def submit(api, media, action: str, prefix: str, **fields):
    """Post one of the manage page's forms, its fields named with the form's prefix."""
    data = {f"{prefix}-csrf_token": api.csrf, **{f"{prefix}-{name}": value for name, value in fields.items()}}
    return api.client.post(media["links"]["manage"] + action, data=data)


def share(api, media, recipients: str, **fields):
    return submit(api, media, "/share", "share", recipients=recipients, **{"days": "3", **fields})


def manage_page(api, media) -> str:
    answer = api.client.get(media["links"]["manage"])
    assert answer.status_code == 200
    return answer.get_data(as_text=True)


def shares_by_recipient(api, media) -> dict[str, dict]:
    return {row["recipient"]: row for row in table_rows(manage_page(api, media), "shares")}


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
    box = re.search(r'<textarea[^>]*name="share-recipients"[^>]*>(.*?)</textarea>', page, re.S).group(1)
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
    rows = shares_by_recipient(api, media)
    assert rows["ann@allowed.com"]["downloads"] == "2" and "UTC" in rows["ann@allowed.com"]["last-download"]
    assert rows["bob@allowed.com"]["downloads"] == "0" and rows["bob@allowed.com"]["last-download"] == "—"


def test_one_recipients_token_does_not_open_anothers_share(owner, settings, table_items):
    """Links made before short ids were signed tokens: one's signature on another's claim is no link."""
    from webapp.tokens import ShareClaim

    app, api, media = owner
    share(api, media, "ann@allowed.com\nbob@allowed.com")
    svc = app.extensions["mediahub"]
    made = {i["recipient"]: i for i in table_items() if i["sk"].startswith("SHARE#")}
    ann, bob = (svc.share_tokens.issue(ShareClaim(media["id"], made[who]["share_id"], made[who]["expires_at"]))
                for who in ("ann@allowed.com", "bob@allowed.com"))
    assert app.test_client().get(f"/s/{ann}").status_code == 200
    ann_payload, ann_sig = ann.split(".")
    bob_payload, _ = bob.split(".")
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
    assert len([i for i in table_items() if i["pk"].startswith("SHORT#")]) == 1  # the failed link's record went too


def test_sharing_needs_the_csrf_token(owner, table_items):
    _, api, media = owner
    answer = api.client.post(media["links"]["manage"] + "/share",
                             data={"share-recipients": "ann@allowed.com", "share-days": "3"})
    assert answer.status_code == 400
    assert len([i for i in table_items() if i["sk"].startswith("SHARE#")]) == 1


def test_revoke_one_then_all(owner, settings):
    app, api, media = owner
    share(api, media, "ann@allowed.com\nbob@allowed.com")
    ann, bob = link_for(settings, "ann@allowed.com"), link_for(settings, "bob@allowed.com")
    row = row_node(manage_page(api, media), "shares", "recipient", "ann@allowed.com")
    revoke_path = row.find("form").attrs["action"]
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
    short = submit(api, media, "/password", "item", password="short")
    assert short.status_code == 400
    assert submit(api, media, "/password", "item", password="item password 1").status_code == 302
    viewer = Api(app.test_client())
    assert 'type="password"' in viewer.client.get(media["links"]["share"]).get_data(as_text=True)
    opened = viewer.client.post(media["links"]["share"], data={"csrf_token": viewer.csrf, "password": "item password 1"})
    assert opened.status_code == 302


def test_owner_changes_expiry_within_the_maximum(owner, table_items):
    app, api, media = owner
    assert submit(api, media, "/expiry", "expiry", days="2").status_code == 302
    [meta] = [i for i in table_items() if i["sk"] == "META"]
    assert abs(meta["expires_at"] - (time.time() + 2 * 86400)) < 30
    too_long = submit(api, media, "/expiry", "expiry", days="31")
    assert too_long.status_code == 400 and "1 to 30 days" in too_long.get_data(as_text=True)


def test_local_outbox_lists_the_mail(owner, settings):
    app, api, media = owner
    share(api, media, "ann@allowed.com")
    page = api.client.get("/local/outbox").get_data(as_text=True)
    assert "ann@allowed.com" in page and link_for(settings, "ann@allowed.com") in page


def test_manage_page_ids_are_unique_and_each_label_names_its_own_control(owner):
    _, api, media = owner
    share(api, media, "ann@allowed.com")
    page = manage_page(api, media)
    assert duplicate_ids(page) == []
    forms = {
        "Keep for (days from now)": "/expiry",
        "Password for every link": "/password",
        "Link works for (days)": "/share",
        "Password (optional)": "/share",
        "Sites allowed to embed": "/embed",
        "New link works for (days)": "/links",
    }
    for label, action in forms.items():
        control = control_for(page, label)
        assert control.ancestor("form").attrs["action"].split("#")[0].endswith(action), label


def test_a_too_short_password_is_shown_beside_the_field_and_keeps_what_was_typed(owner, settings, table_items):
    _, api, media = owner
    answer = share(api, media, "ann@allowed.com\nbob@allowed.com", message="See page 4", password="short")
    assert answer.status_code == 400
    page = answer.get_data(as_text=True)
    assert "Manage: Quarterly plan" in page and "Go to the upload page" not in page
    root = parse(page)
    assert root.find("textarea", id="share-recipients").text() == "ann@allowed.com bob@allowed.com"
    assert root.find("textarea", id="share-message").text() == "See page 4"
    password = root.find("input", id="share-password")
    assert password.attrs["minlength"] == "8" and password.attrs["aria-invalid"] == "true"
    assert "share-password-error" in password.attrs["aria-describedby"]
    assert "at least 8 characters" in root.find(id="share-password-error").text()
    assert "At least 8 characters" in root.find(id="share-password-hint").text()
    assert sent_mail(settings) == [] and len([i for i in table_items() if i["sk"].startswith("SHARE#")]) == 1

    item = submit(api, media, "/password", "item", password="short")
    assert item.status_code == 400
    root = parse(item.get_data(as_text=True))
    assert "at least 8 characters" in root.find(id="item-password-error").text()
    assert root.find("input", id="item-password").attrs["minlength"] == "8"


def test_a_refusal_of_what_was_typed_is_shown_inline(owner):
    _, api, media = owner
    too_long = submit(api, media, "/expiry", "expiry", days="45")
    assert too_long.status_code == 400
    root = parse(too_long.get_data(as_text=True))
    assert "1 to 30 days" in root.find(id="expiry-days-error").text()
    assert root.find("input", id="expiry-days").attrs["value"] == "45"
    assert "Manage: Quarterly plan" in root.find("h1").text()
    long_link = share(api, media, "ann@allowed.com", days="90", message="Hello")
    assert long_link.status_code == 400
    root = parse(long_link.get_data(as_text=True))
    assert "1 to 30 days" in root.find(id="share-days-error").text()
    assert root.find("textarea", id="share-recipients").text() == "ann@allowed.com"


def test_rows_follow_the_files_expiry_and_say_used_up(owner, settings):
    app, api, media = owner
    share(api, media, "ann@allowed.com", max_downloads="2", days="5")
    ann = link_for(settings, "ann@allowed.com")
    viewer = app.test_client()
    assert [viewer.get(ann + "/download").status_code for _ in range(2)] == [302, 302]
    assert parse(manage_page(api, media)).find("input", id="expiry-days").attrs["value"] == "7"
    assert submit(api, media, "/expiry", "expiry", days="1").status_code == 302
    page = manage_page(api, media)
    assert parse(page).find("input", id="expiry-days").attrs["value"] == "1"
    file_expiry = parse(page).find(id="media-expires").find("time").attrs["datetime"]
    row = row_node(page, "shares", "recipient", "ann@allowed.com")
    assert row.find("td", class_="expires").find("time").attrs["datetime"] == file_expiry
    assert row.find("td", class_="downloads").text() == "2 of 2"
    assert row.find("td", class_="state").text() == "used up"
    assert all(th.text() for th in parse(page).find("table", id="shares").find_all("th"))


def test_links_table_shows_passwords_and_who_withdrew(owner, settings):
    _, api, media = owner
    share(api, media, "ann@allowed.com", password="correct horse")
    share(api, media, "bob@allowed.com")
    rows = shares_by_recipient(api, media)
    assert rows["ann@allowed.com"]["password"] == "yes" and rows["bob@allowed.com"]["password"] == "no"
    bob = row_node(manage_page(api, media), "shares", "recipient", "bob@allowed.com")
    assert api.client.post(bob.find("form").attrs["action"], data={"csrf_token": api.csrf}).status_code == 302
    rows = shares_by_recipient(api, media)
    assert rows["bob@allowed.com"]["state"].startswith("withdrawn by the owner")
    assert rows["ann@allowed.com"]["state"] == "active"


def test_share_mail_says_when_a_password_is_needed(owner, settings):
    _, api, media = owner
    share(api, media, "ann@allowed.com", password="correct horse")
    share(api, media, "bob@allowed.com")
    mails = {m["destinations"]["ToAddresses"][0]: m["body"] for m in sent_mail(settings)}
    assert "A password is needed to open it" in mails["ann@allowed.com"]
    assert "correct horse" not in mails["ann@allowed.com"]
    assert "password" not in mails["bob@allowed.com"].lower()


def media_expiry(api, media) -> int:
    return api.record(media["id"])["expires_at"]


def test_owner_makes_a_new_link_for_anyone(owner, table_items):
    app, api, media = owner
    assert submit(api, media, "/links", "anyone", days="5").status_code == 302
    anyone = sorted((i["expires_at"] for i in table_items() if i["sk"].startswith("SHARE#") and i["recipient"] == "anyone"))
    # Beside the one made at upload, which lasts as long as the file.
    assert len(anyone) == 2 and abs(anyone[0] - (time.time() + 5 * 86400)) < 30
    assert anyone[1] == media_expiry(api, media)
    root = parse(manage_page(api, media))
    link = root.find("input", id="anyone-link").attrs["value"]
    assert link == media["links"]["share"]  # the longest-lasting: the upload's, as long as the file
    assert root.find(id="anyone-heading").ancestor("section").find("svg") is not None
    viewer = app.test_client()
    opened = viewer.get(link)
    assert opened.status_code == 200 and "Quarterly plan" in opened.get_data(as_text=True)
    too_long = submit(api, media, "/links", "anyone", days="400")
    assert too_long.status_code == 400
    assert "1 to 30 days" in parse(too_long.get_data(as_text=True)).find(id="anyone-days-error").text()


def test_share_page_says_until_when_and_how_many_downloads_are_left(owner, settings):
    app, api, media = owner
    share(api, media, "ann@allowed.com", max_downloads="3")
    ann = link_for(settings, "ann@allowed.com")
    viewer = app.test_client()
    assert viewer.get(ann + "/download").status_code == 302
    root = parse(viewer.get(ann).get_data(as_text=True))
    facts = root.find(id="link-facts")
    assert root.find(id="downloads-left").text() == "2 downloads left."
    moment = facts.find("time")
    assert moment.attrs["datetime"].endswith("Z") and moment.attrs["title"].endswith("UTC")


def test_times_are_time_elements_with_utc_in_the_title(owner):
    _, api, media = owner
    root = parse(manage_page(api, media))
    times = root.find_all("time")
    assert times and all(t.attrs["title"].endswith(" UTC") and "data-relative" in t.attrs for t in times)
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", t.attrs["datetime"]) for t in times)


def test_manage_page_offers_copyable_links_and_an_embed_snippet(owner):
    _, api, media = owner
    root = parse(manage_page(api, media))
    copied = {button.attrs["data-copy"] for button in root.find_all("button") if "data-copy" in button.attrs}
    assert {"anyone-link", "embed-url", "embed-snippet"} <= copied
    snippet = root.find("textarea", id="embed-snippet").text()
    assert snippet == (f'<img src="http://localhost/embed/{media["id"]}" width="2" height="2" alt="Quarterly plan" '
                       'style="max-width:100%;height:auto">')  # too small for thumbnails: no srcset


def test_destructive_forms_ask_first(owner):
    _, api, media = owner
    root = parse(manage_page(api, media))
    for action in ("/delete", "/revoke-all", "/revoke"):
        forms = [f for f in root.find_all("form") if f.attrs["action"].endswith(action)]
        assert forms and all(f.attrs.get("data-confirm") for f in forms), action
        assert all("danger" in f.find("button").attrs["class"] for f in forms)
    assert root.find("dialog", id="confirm-dialog") is not None


def test_result_page_shows_a_preview_a_qr_code_and_the_manage_link_once(make_app):
    import segno

    app = make_app()
    api = Api(app.test_client())
    media = api.upload(png_bytes(width=8, height=8), name="Badge").get_json()["media"]
    first = parse(api.client.get(f"/media/{media['id']}").get_data(as_text=True))
    assert first.find("img", class_="preview").attrs["alt"] == "Badge"
    assert first.find("input", id="manage-link").attrs["value"] == media["links"]["manage"]
    assert "shown only this once" in first.find(id="manage-once").text()
    share_link = first.find("input", id="share-link").attrs["value"]
    drawn = first.find("div", class_="qr").find("path", class_="qrline").attrs["d"]
    expected = segno.make(share_link, error="m").svg_inline(scale=4, border=4, omitsize=True)
    assert f'd="{drawn}"' in expected
    again = parse(api.client.get(f"/media/{media['id']}").get_data(as_text=True))
    assert again.find("input", id="manage-link") is None
    assert "is not shown again" in again.find(id="manage-once").text()
