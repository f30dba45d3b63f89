"""The admin area: sign-in, paging over the listing index, search, delete, revoke."""

import re

import pytest
from werkzeug.security import generate_password_hash

from tests.page_parts import duplicate_ids, parse, table_rows
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
    names = [row["name"] for row in table_rows(first, "admin-items")]
    assert len(names) == 20 and names[0] == "Item 22"  # newest first
    next_link = re.search(r'id="next-page" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    second = admin.client.get(next_link).get_data(as_text=True)
    rest = [row["name"] for row in table_rows(second, "admin-items")]
    assert set(names) | set(rest) == {f"Item {n:02d}" for n in range(23)} and not set(names) & set(rest)
    assert admin.client.get("/admin/?cursor=forged").status_code == 400


def test_search_by_name_or_filename(admin_app):
    uploader = Api(admin_app.test_client())
    uploader.upload(png_bytes(), filename="holiday.png", name="Beach")
    uploader.upload(png_bytes(), filename="report.png", name="Numbers")
    admin = signed_in(admin_app)
    assert [r["name"] for r in table_rows(admin.client.get("/admin/?q=HOLI").get_data(as_text=True), "admin-items")] == ["Beach"]
    assert [r["name"] for r in table_rows(admin.client.get("/admin/?q=numb").get_data(as_text=True), "admin-items")] == ["Numbers"]


def test_admin_deletes_and_revokes(admin_app, bucket_keys):
    uploader = Api(admin_app.test_client())
    kept = uploader.upload(png_bytes(), name="Kept").get_json()["media"]
    doomed = uploader.upload(png_bytes(), name="Doomed").get_json()["media"]
    admin = signed_in(admin_app)
    assert admin.client.post(f"/admin/media/{doomed['id']}/delete").status_code == 400  # no CSRF token
    assert admin.client.post(f"/admin/media/{doomed['id']}/delete", data={"csrf_token": admin.csrf}).status_code == 302
    keys = bucket_keys()  # the upload and its renditions
    assert f"uploads/{kept['id']}/photo.png" in keys and not [key for key in keys if doomed["id"] in key]
    assert admin.client.post(f"/admin/media/{kept['id']}/revoke", data={"csrf_token": admin.csrf}).status_code == 302
    assert admin_app.test_client().get(kept["links"]["share"]).status_code == 410


def test_admin_list_has_unique_ids_marked_times_and_asks_before_destroying(admin_app):
    uploader = Api(admin_app.test_client())
    for name in ("One", "Two", "Three"):
        uploader.upload(png_bytes(), name=name)
    page = signed_in(admin_app).client.get("/admin/").get_data(as_text=True)
    assert duplicate_ids(page) == []
    root = parse(page)
    for row in root.find("table", id="admin-items").find("tbody").find_all("tr"):
        uploaded = row.find("td", data_label="Uploaded").find("time")
        assert uploaded.attrs["title"].endswith(" UTC") and uploaded.text().endswith(" UTC")
        delete, withdraw = row.find_all("form")[1], row.find_all("form")[0]
        assert delete.attrs["action"].endswith("/delete") and delete.attrs.get("data-confirm")
        assert "danger" in delete.find("button").attrs["class"]
        assert withdraw.attrs.get("data-confirm")
    assert all(th.text() for th in root.find("table", id="admin-items").find_all("th"))


def test_links_withdrawn_by_an_admin_say_so_to_the_owner(admin_app):
    uploader = Api(admin_app.test_client())
    media = uploader.upload(png_bytes(), name="Kept").get_json()["media"]
    admin = signed_in(admin_app)
    assert admin.client.post(f"/admin/media/{media['id']}/revoke", data={"csrf_token": admin.csrf}).status_code == 302
    rows = table_rows(uploader.client.get(media["links"]["manage"]).get_data(as_text=True), "shares")
    assert [row["state"].split(" 20")[0] for row in rows] == ["withdrawn by an administrator"]


def try_password(api: Api, password: str, user: str = "root", address: str = "127.0.0.1"):
    return api.client.post("/admin/login", data={"csrf_token": api.csrf, "username": user, "password": password},
                           environ_base={"REMOTE_ADDR": address})


def test_after_five_wrong_passwords_the_sixth_is_refused_without_checking_it(admin_app):
    svc = admin_app.extensions["mediahub"]
    now = [1_796_127_000.0]
    svc.clock = lambda: now[0]
    api = Api(admin_app.test_client())
    assert [try_password(api, f"guess {n}").status_code for n in range(5)] == [401] * 5
    now[0] += 60
    locked = try_password(api, PASSWORD)  # the right one: refused, so it was never checked
    assert locked.status_code == 429 and locked.headers["Retry-After"] == str(900 - 60)
    page = parse(locked.get_data(as_text=True))
    assert page.find("p", class_="error").attrs["data-code"] == "signin_locked"
    assert "was not checked" in page.find("p", class_="error").text()
    assert api.client.get("/admin/").status_code == 302
    from_elsewhere = try_password(Api(admin_app.test_client()), PASSWORD, address="192.0.2.9")
    assert from_elsewhere.status_code == 429  # the account is locked, whoever asks
    as_json = api.client.post("/admin/login", headers={"Accept": "application/json"},
                              data={"csrf_token": api.csrf, "username": "root", "password": PASSWORD})
    assert as_json.status_code == 429 and as_json.get_json()["error"]["code"] == "signin_locked"
    assert as_json.headers["Retry-After"] == str(900 - 60)
    now[0] += 900 - 60  # the lock is over
    assert try_password(api, PASSWORD).status_code == 302
    api = Api(admin_app.test_client())
    assert [try_password(api, f"again {n}").status_code for n in range(5)] == [401] * 5  # a success reset it


def test_after_the_lock_one_guess_per_period_until_one_succeeds(admin_app):
    svc = admin_app.extensions["mediahub"]
    now = [1_796_127_000.0]
    svc.clock = lambda: now[0]
    api = Api(admin_app.test_client())
    for n in range(5):
        try_password(api, f"guess {n}")
    now[0] += 900
    assert try_password(api, "still wrong").status_code == 401
    assert try_password(api, PASSWORD).status_code == 429


def test_one_client_guessing_many_accounts_is_locked_too(admin_app):
    api = Api(admin_app.test_client())
    assert [try_password(api, "x", user=f"user{n}").status_code for n in range(5)] == [401] * 5
    assert try_password(api, PASSWORD).status_code == 429  # this client, even for the real account
    assert try_password(Api(admin_app.test_client()), PASSWORD, address="192.0.2.9").status_code == 302


def test_sorted_by_name_or_size_with_paging_and_an_order_of_its_own_per_cursor(admin_app, monkeypatch):
    from webapp.flows import admin_area

    monkeypatch.setattr(admin_area, "PAGE_SIZE", 2)
    uploader = Api(admin_app.test_client())
    for name, padding in (("b", 10), ("C", 300), ("a", 100)):
        assert uploader.upload(png_bytes(padding=padding), name=name).status_code == 201
    admin = signed_in(admin_app)

    def names(path: str) -> tuple[list[str], str | None]:
        page = admin.client.get(path).get_data(as_text=True)
        found = re.search(r'id="next-page" href="([^"]+)"', page)
        following = found.group(1).replace("&amp;", "&") if found else None
        return [r["name"] for r in table_rows(page, "admin-items")], following

    for order, expected in (("name", ["a", "b", "C"]), ("size", ["C", "a", "b"]), ("oldest", ["b", "C", "a"])):
        first, following = names(f"/admin/?order={order}")
        rest, last = names(following)
        assert (first + rest, last) == (expected, None), order
    _, newest_cursor = names("/admin/")
    assert admin.client.get(newest_cursor.replace("/admin/?", "/admin/?order=name&")).status_code == 400
    assert admin.client.get("/admin/?order=colour").status_code == 400


def test_lifting_a_withdrawal_only_undoes_the_administrators_own(admin_app):
    uploader = Api(admin_app.test_client())
    media = uploader.upload(png_bytes(), name="Kept").get_json()["media"]
    admin = signed_in(admin_app)
    lift = f"/admin/media/{media['id']}/lift"
    assert admin.client.post(lift, data={"csrf_token": admin.csrf}).status_code == 409  # nothing to lift
    assert admin.client.post(f"/admin/media/{media['id']}/revoke", data={"csrf_token": admin.csrf}).status_code == 302
    manage = uploader.client.get(media["links"]["manage"]).get_data(as_text=True)
    assert 'id="admin-withdrawn"' in manage and "Make a new link for anyone" not in manage
    assert admin.client.post(lift).status_code == 400  # no CSRF token
    assert admin.client.post(lift, data={"csrf_token": admin.csrf}).status_code == 302
    manage = uploader.client.get(media["links"]["manage"]).get_data(as_text=True)
    assert 'id="admin-withdrawn"' not in manage and "Make a new link for anyone" in manage
    # The links withdrawn with it stay withdrawn; the owner makes new ones.
    assert admin_app.test_client().get(media["links"]["share"]).status_code == 410


def test_an_item_opens_for_the_admin_through_a_short_signed_link(admin_app):
    media = Api(admin_app.test_client()).upload(png_bytes(), name="Kept").get_json()["media"]
    admin = signed_in(admin_app)
    opened = admin.client.get(f"/admin/media/{media['id']}")
    assert opened.status_code == 302 and opened.headers["Cache-Control"] == "private, no-store"
    assert media["id"] in opened.headers["Location"]
    assert admin_app.test_client().get(f"/admin/media/{media['id']}").status_code == 302  # to the sign-in
    assert "/admin/login" in admin_app.test_client().get(f"/admin/media/{media['id']}").headers["Location"]
    assert 'id="admin-link"' in admin.client.get("/").get_data(as_text=True)
    assert 'id="admin-link"' not in admin_app.test_client().get("/").get_data(as_text=True)
