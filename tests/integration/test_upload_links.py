"""Upload links: what arrives is private to the link's maker and its sender is answered no link
to it; the sender's options are the maker's; the maker can show an open link again, which a
leaked table alone cannot."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from werkzeug.security import generate_password_hash

from tests.integration.test_admin import PASSWORD, signed_in
from tests.integration.test_sign_in import make_link, use_link
from tests.page_parts import parse
from tests.support import Api, png_bytes, post_to_storage
from webapp.flows import upload_links


@pytest.fixture
def app(make_app):
    return make_app(uploaders="invited", admin_user="root", admin_password_hash=generate_password_hash(PASSWORD))


def test_what_arrives_is_private_and_the_sender_gets_no_link_to_it(app, table_items):
    admin = signed_in(app)
    _, link = make_link(admin.client, "/admin/links", label="Scans", kind="image/")
    guest = app.test_client()
    use_link(guest, link)
    api = Api(guest)
    started = api.start(png_bytes(padding=50), max_downloads=3, retention_days=20)
    assert started.status_code == 201, started.get_json()
    policy = started.get_json()
    assert post_to_storage(policy, png_bytes(padding=50), "photo.png", "image/png").status_code == 201
    done = api.complete(policy["upload_id"])
    assert done.status_code == 201
    media = done.get_json()["media"]
    assert media["links"] == {"page": media["links"]["page"]} and media["sent_to"] == "the site's administrators"
    assert api.complete(policy["upload_id"]).get_json()["media"]["links"].keys() == {"page"}  # a repeat too

    record = api.record(media["id"])
    assert (record["visibility"], record.get("max_downloads"), record["retention_days"]) == ("private", None, 7)
    assert not [item for item in table_items() if item["sk"].startswith("SHARE#")]
    page = guest.get(urlsplit(media["links"]["page"]).path).get_data(as_text=True)
    assert parse(page).find("p", id="sent-to").text().startswith("Sent to the site's administrators.")
    assert 'id="share-link"' not in page and 'id="manage-link"' not in page and 'class="preview"' not in page

    # The page narrows its script's limits to the link's and offers none of the options.
    upload_page = guest.get("/").get_data(as_text=True)
    config = parse(upload_page).find("script", id="upload-config").text()
    assert '"viaLink": true' in config and "application/pdf" not in config
    assert 'name="max_downloads"' not in upload_page and 'name="public"' not in upload_page


def test_an_open_link_is_shown_again_only_with_the_sites_key(app, table_items, monkeypatch):
    admin = signed_in(app)
    _, link = make_link(admin.client, "/admin/links", label="Again")
    token = urlsplit(link).path.rsplit("/", 1)[1]
    listed = admin.client.get("/admin/")
    assert listed.headers["Cache-Control"] == "private, no-store"
    again = parse(listed.get_data(as_text=True)).find("input", class_="link")
    assert again.attrs["value"] == link

    [record] = [item for item in table_items() if item["pk"].startswith("UPLOADLINK#")]
    assert token not in repr(record)  # the table holds a seed and the token's hash, not the token
    svc = app.extensions["mediahub"]
    assert upload_links.token_of(svc, record) == token
    monkeypatch.setattr(svc, "settings", svc.settings.with_overrides(secret_key="another key " * 4))
    assert upload_links.token_of(svc, record) is None  # without the key, the seed gives nothing
