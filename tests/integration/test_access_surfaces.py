"""Each surface asks the one access decision: one request per surface, and the access defects.

Defect 1: a password on the file, or "Withdraw every link", left a public file in the gallery and
its embed answering; the manage page could not take a file out of the gallery. Defect 2: the link
API handed out uncounted links to a file with a download limit. Defect 5: links withdrawn by the
admins said "withdrawn by the file's owner".
"""

import hashlib

import pytest
from werkzeug.security import generate_password_hash

from tests.integration.test_admin import PASSWORD, signed_in
from tests.integration.test_sharing import submit
from tests.page_parts import parse, table_rows
from tests.support import Api, png_bytes

ALLOWED = "https://allowed.example"
API_KEY = "test-api-key-0123456789abcdef"
BEARER = {"Authorization": f"Bearer {API_KEY}"}


@pytest.fixture
def site(make_app):
    app = make_app(embed_origins=(ALLOWED,), api_key_hashes=(hashlib.sha256(API_KEY.encode()).hexdigest(),),
                   admin_user="root", admin_password_hash=generate_password_hash(PASSWORD))
    owner = Api(app.test_client())
    media = owner.upload(png_bytes(padding=300), name="Harbour", visibility="public").get_json()["media"]
    return app, owner, media


def surfaces(app, media) -> dict:
    """What a stranger gets from each surface: a status (and error code) per surface."""
    visitor = app.test_client()
    gallery = parse(visitor.get("/gallery").get_data(as_text=True))
    listed = any(media["id"] in (a.attrs.get("href") or "") for a in gallery.find_all("a"))
    item = visitor.get(f"/gallery/{media['id']}")
    embed = visitor.get(f"/embed/{media['id']}", headers={"Referer": ALLOWED + "/post"})
    one = visitor.get(f"/api/media/{media['id']}/link", headers=BEARER)
    many = visitor.post("/api/links", json={"ids": [media["id"]]}, headers=BEARER).get_json()
    share = visitor.get(media["links"]["share"])
    return {
        "gallery": listed,
        "gallery_item": item.status_code,
        "embed": (embed.status_code, embed.headers.get("X-Error-Code")),
        "link": (one.status_code, ((one.get_json() or {}).get("error") or {}).get("code")),
        "links": media["id"] in many["links"] or many["errors"][media["id"]]["code"],
        "share": share.status_code,
    }


def test_a_public_file_is_on_every_surface(site):
    app, _, media = site
    assert surfaces(app, media) == {"gallery": True, "gallery_item": 200, "embed": (302, None), "link": (200, None),
                                    "links": True, "share": 200}


def test_a_password_on_the_file_takes_it_off_every_surface_without_a_link(site):
    app, owner, media = site
    assert submit(owner, media, "/password", "item", password="correct horse").status_code == 302
    assert surfaces(app, media) == {
        "gallery": False, "gallery_item": 404, "embed": (403, "password_protected"),
        "link": (403, "password_protected"), "links": "password_protected",
        "share": 200,  # the share page asks for the password
    }
    assert "password" in app.test_client().get(media["links"]["share"]).get_data(as_text=True).lower()


def test_withdrawing_every_link_withdraws_the_file_until_it_is_shared_again(site):
    app, owner, media = site
    assert owner.client.post(media["links"]["manage"] + "/revoke-all",
                             data={"csrf_token": owner.csrf}).status_code == 302
    after = surfaces(app, media)
    assert after == {"gallery": False, "gallery_item": 410, "embed": (410, "media_withdrawn"),
                     "link": (410, "media_withdrawn"), "links": "media_withdrawn", "share": 410}
    page = owner.client.get(media["links"]["manage"]).get_data(as_text=True)
    assert parse(page).find("p", id="viewers-told").text().endswith("Withdrawn.")
    # A new link is the owner sharing again: the file is back where it was.
    assert submit(owner, media, "/links", "anyone", days="3").status_code == 302
    again = surfaces(app, media)
    assert again["gallery"] and again["embed"] == (302, None) and again["links"] is True


def test_the_manage_page_takes_a_file_out_of_the_gallery_and_back(site):
    app, owner, media = site
    assert submit(owner, media, "/visibility", "gallery", visibility="private").status_code == 302
    assert owner.record(media["id"])["visibility"] == "private" and "gsi2pk" not in owner.record(media["id"])
    hidden = surfaces(app, media)
    assert not hidden["gallery"] and hidden["gallery_item"] == 404
    assert hidden["embed"] == (302, None)  # unlisted is not withdrawn: embeds and links still work
    assert submit(owner, media, "/visibility", "gallery", visibility="public").status_code == 302
    assert surfaces(app, media)["gallery"]
    assert submit(owner, media, "/visibility", "gallery", visibility="everyone").status_code == 400


def test_the_link_api_refuses_a_file_with_a_download_limit(site):
    app, owner, _ = site
    limited = owner.upload(png_bytes(padding=10), max_downloads=2).get_json()["media"]
    visitor = app.test_client()
    one = visitor.get(f"/api/media/{limited['id']}/link", headers=BEARER)
    assert (one.status_code, one.get_json()["error"]["code"]) == (403, "download_limited")
    many = visitor.post("/api/links", json={"ids": [limited["id"]]}, headers=BEARER).get_json()
    assert many["links"] == {} and many["errors"][limited["id"]]["code"] == "download_limited"
    assert owner.record(limited["id"])["download_count"] == 0
    assert submit(owner, limited, "/visibility", "gallery", visibility="public").status_code == 400


def test_links_withdrawn_by_the_admins_say_so_to_visitors_and_stay_withdrawn(site):
    app, owner, media = site
    admin = signed_in(app)
    assert admin.client.post(f"/admin/media/{media['id']}/revoke", data={"csrf_token": admin.csrf}).status_code == 302
    answer = app.test_client().get(media["links"]["share"])
    assert answer.status_code == 410
    text = answer.get_data(as_text=True)
    assert "withdrawn by the site" in text and "owner" not in text
    # The owner cannot undo the admins' withdrawal: not by withdrawing again, not with a new link.
    assert owner.client.post(media["links"]["manage"] + "/revoke-all",
                             data={"csrf_token": owner.csrf}).status_code == 302
    assert owner.record(media["id"])["withdrawn_by"] == "admin"
    refused = submit(owner, media, "/links", "anyone", days="3")
    assert refused.status_code == 403 and "administrators withdrew" in refused.get_data(as_text=True)
    assert surfaces(app, media)["embed"] == (410, "media_withdrawn")


def test_the_admin_list_says_what_viewers_are_told(site):
    app, owner, media = site
    submit(owner, media, "/password", "item", password="correct horse")
    rows = table_rows(signed_in(app).client.get("/admin/").get_data(as_text=True), "admin-items")
    assert [row["viewers"] for row in rows] == ["Through its links only (password)"]
