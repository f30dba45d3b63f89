"""The admin area: sign-in, paging over the listing index, search, delete, revoke."""

import re

import pytest
from werkzeug.security import generate_password_hash

from tests.support import Api, png_bytes

PASSWORD = "admin password 123"


@pytest.fixture
def admin_app(make_app):
    return make_app(admin_user="root", admin_password_hash=generate_password_hash(PASSWORD))


def signed_in(app) -> Api:
    api = Api(app.test_client())
    page = api.client.get("/admin/login")
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    answer = api.client.post("/admin/login", data={"csrf_token": csrf, "username": "root", "password": PASSWORD})
    assert answer.status_code == 302
    api.refresh_csrf()  # signing in starts a fresh session
    return api


def test_not_signed_in_goes_to_the_login_page(admin_app):
    answer = admin_app.test_client().get("/admin/")
    assert answer.status_code == 302 and "/admin/login" in answer.headers["Location"]
    assert "Admin sign-in" in admin_app.test_client().get(answer.headers["Location"]).get_data(as_text=True)


@pytest.mark.parametrize(("user", "password"), [("root", "wrong"), ("admin", PASSWORD), ("", "")])
def test_wrong_credentials_are_refused(admin_app, user, password):
    api = Api(admin_app.test_client())
    answer = api.client.post("/admin/login", data={"csrf_token": api.csrf, "username": user, "password": password})
    assert answer.status_code in (200, 401)
    assert "do not match" in answer.get_data(as_text=True) or not user
    assert api.client.get("/admin/").status_code == 302


def test_login_needs_csrf(admin_app):
    answer = admin_app.test_client().post("/admin/login", data={"username": "root", "password": PASSWORD})
    assert answer.status_code == 400


def test_admin_area_is_off_without_credentials(make_app):
    assert make_app().test_client().get("/admin/").status_code == 404


def test_paging_across_more_than_one_page(admin_app):
    uploader = Api(admin_app.test_client())
    for number in range(23):
        assert uploader.upload(png_bytes(), filename=f"file-{number:02d}.png", name=f"Item {number:02d}").status_code == 201
    admin = signed_in(admin_app)
    first = admin.client.get("/admin/").get_data(as_text=True)
    names = re.findall(r"<tr><td>(Item \d\d)</td>", first)
    assert len(names) == 20 and names[0] == "Item 22"  # newest first
    next_link = re.search(r'id="next-page" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    second = admin.client.get(next_link).get_data(as_text=True)
    rest = re.findall(r"<tr><td>(Item \d\d)</td>", second)
    assert set(names) | set(rest) == {f"Item {n:02d}" for n in range(23)} and not set(names) & set(rest)
    assert admin.client.get("/admin/?cursor=forged").status_code == 400


def test_search_by_name_or_filename(admin_app):
    uploader = Api(admin_app.test_client())
    uploader.upload(png_bytes(), filename="holiday.png", name="Beach")
    uploader.upload(png_bytes(), filename="report.png", name="Numbers")
    admin = signed_in(admin_app)
    assert re.findall(r"<tr><td>(\w+)</td>", admin.client.get("/admin/?q=HOLI").get_data(as_text=True)) == ["Beach"]
    assert re.findall(r"<tr><td>(\w+)</td>", admin.client.get("/admin/?q=numb").get_data(as_text=True)) == ["Numbers"]


def test_admin_deletes_and_revokes(admin_app, bucket_keys):
    uploader = Api(admin_app.test_client())
    kept = uploader.upload(png_bytes(), name="Kept").get_json()["media"]
    doomed = uploader.upload(png_bytes(), name="Doomed").get_json()["media"]
    admin = signed_in(admin_app)
    assert admin.client.post(f"/admin/media/{doomed['id']}/delete").status_code == 400  # no CSRF token
    assert admin.client.post(f"/admin/media/{doomed['id']}/delete", data={"csrf_token": admin.csrf}).status_code == 302
    assert bucket_keys() == [f"uploads/{kept['id']}/photo.png"]
    assert admin.client.post(f"/admin/media/{kept['id']}/revoke", data={"csrf_token": admin.csrf}).status_code == 302
    assert admin_app.test_client().get(kept["links"]["share"]).status_code == 410
