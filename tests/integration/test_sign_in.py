"""Signing in with OpenID Connect against the real local provider; who may upload; upload links.

The site's Flask test client is the browser; the provider's own pages are walked over HTTP
(tests/oidc_support.py), and the site redeems the code at the provider's token endpoint.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import requests

from tests.oidc_support import http_sign_in, oidc_provider_factory  # noqa: F401 (a fixture)
from tests.page_parts import parse, table_rows
from tests.support import Api, png_bytes, post_to_storage

CALLBACK = "http://localhost/signin/callback"
ADMIN = "boss@example.com"


@pytest.fixture(scope="module")
def provider(oidc_provider_factory):  # noqa: F811
    return oidc_provider_factory([CALLBACK], groups={ADMIN: ["mediahub-admins"]})


@pytest.fixture
def site(make_app, provider):
    def make(**overrides):
        values = dict(oidc_issuer=provider.issuer, oidc_client_id=provider.client_id,
                      oidc_client_secret=provider.client_secret, uploaders="signed-in",
                      admin_group="mediahub-admins", signin_allowlist=("@example.com",))
        return make_app(**{**values, **overrides})

    return make


def sign_in(app, login: str, next_path: str = "/", client=None):
    """A test client signed in as ``login``: the answer of the site's callback, and the client."""
    client = client or app.test_client()
    started = client.get(f"/signin?next={next_path}")
    assert started.status_code == 302
    back = http_sign_in(requests.Session(), started.headers["Location"], login)
    parts = urlsplit(back)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == CALLBACK and "code=" in parts.query
    return client.get(f"{parts.path}?{parts.query}"), client


def upload(api: Api, name: str):
    started = api.start(png_bytes(padding=50), name=name)
    assert started.status_code == 201, started.get_json()
    policy = started.get_json()
    assert post_to_storage(policy, png_bytes(padding=50), "photo.png", "image/png").status_code == 201
    return api.complete(policy["upload_id"]).get_json()["media"]


def make_link(client, path: str = "/me/links", **fields):
    """Post the upload-link form (My uploads, or the admin area's); answers the response and,
    when one was made, the link the next page shows once."""
    api = Api(client)
    values = {"label": "Photos", "max_files": "5", "max_megabytes": "2", "kind": "any", "days": "1", **fields}
    answer = client.post(path, data={"link-csrf_token": api.csrf, **{f"link-{k}": v for k, v in values.items()}})
    if answer.status_code != 302:
        return answer, None
    page = client.get("/me/uploads" if path == "/me/links" else "/admin/").get_data(as_text=True)
    return answer, parse(page).find("input", id="new-upload-link").attrs["value"]


def use_link(client, link: str) -> None:
    """Open an upload link and press its button, as its holder does."""
    page = client.get(urlsplit(link).path)
    assert page.status_code == 200 and "Upload through this link" in page.get_data(as_text=True)
    csrf = parse(page.get_data(as_text=True)).find("input", id="csrf_token").attrs["value"]
    assert client.post(urlsplit(link).path, data={"csrf_token": csrf}).status_code == 302


def test_without_signing_in_the_upload_page_and_api_say_to_sign_in(site):
    client = site().test_client()
    page = client.get("/")
    assert page.status_code == 401
    root = parse(page.get_data(as_text=True))
    assert root.find("p", id="upload-closed").attrs["data-code"] == "sign_in_required"
    assert root.find("a", id="sign-in") is not None
    api = Api(client)
    refused = api.start(png_bytes())
    assert (refused.status_code, refused.get_json()["error"]["code"]) == (401, "sign_in_required")


def test_sign_in_upload_my_uploads_manage_and_sign_out(site, table_items):
    app = site()
    answer, client = sign_in(app, "ann@example.com", "/")
    assert answer.status_code == 302 and answer.headers["Location"] == "/"
    api = Api(client)
    first, second = upload(api, "First"), upload(api, "Second")
    owners = {item["id"]: item.get("owner") for item in table_items() if item["sk"] == "META" and "owner" in item}
    assert owners[first["id"]] == owners[second["id"]] and owners[first["id"]].startswith("p")

    mine = client.get("/me/uploads")
    assert mine.status_code == 200 and mine.headers["Cache-Control"] == "private, no-store"
    assert [row["name"] for row in table_rows(mine.get_data(as_text=True), "my-items")] == ["Second", "First"]
    # Every manage action without the secret link, at /manage/<id>/mine.
    manage = client.get(f"/manage/{first['id']}/mine")
    assert manage.status_code == 200 and "Manage: First" in manage.get_data(as_text=True)
    renamed = client.post(f"/manage/{first['id']}/mine/expiry",
                          data={"expiry-csrf_token": api.csrf, "expiry-days": "3"})
    assert renamed.status_code == 302

    # Someone else, signed in, sees none of it.
    _, other = sign_in(app, "bob@example.com")
    assert other.get(f"/manage/{first['id']}/mine").status_code == 404
    assert "Nothing yet" in other.get("/me/uploads").get_data(as_text=True)

    # This browser uploaded both: their result pages (share link, a signed preview of the
    # original) open here while signed in ...
    assert client.get(f"/media/{second['id']}").status_code == 200
    signed_out = client.post("/signout", data={"csrf_token": api.csrf})
    assert signed_out.status_code == 302
    # ... and after signing out the same browser is refused them: the next person at a shared
    # computer sees none of them, nor can they start a poster for them.
    for media in (first, second):
        refused = client.get(f"/media/{media['id']}")
        assert refused.status_code in (403, 404), refused.status_code
        assert media["name"] not in refused.get_data(as_text=True)
    with client.session_transaction() as kept:
        assert "uploader" not in kept and "reveal_manage" not in kept
    assert client.get("/me/uploads").headers["Location"].startswith("/signin")
    again = client.get("/signin")  # the provider is asked to show its login page again
    assert "prompt=login" in again.headers["Location"]
    assert client.get(f"/manage/{first['id']}/mine").status_code == 403  # no longer anyone's "mine"


def test_an_address_off_the_allowlist_is_refused(site):
    answer, client = sign_in(site(), "eve@elsewhere.org")
    assert answer.status_code == 403
    assert "eve@elsewhere.org may not sign in here" in answer.get_data(as_text=True)
    assert client.get("/").status_code == 401


def test_a_sign_in_expires(site):
    app = site(signin_hours=1)
    _, client = sign_in(app, "ann@example.com")
    assert client.get("/").status_code == 200
    svc = app.extensions["mediahub"]
    later = svc.clock() + 3601
    svc.clock = lambda: later
    assert client.get("/").status_code == 401


def test_the_providers_admin_group_opens_the_admin_area(site):
    app = site()
    _, boss = sign_in(app, ADMIN, "/admin/")
    assert boss.get("/admin/").status_code == 200
    _, ann = sign_in(app, "ann@example.com")
    assert ann.get("/admin/").status_code == 302


def test_a_forged_callback_is_refused(site):
    client = site().test_client()
    client.get("/signin")
    answer = client.get("/signin/callback?code=made-up&state=wrong")
    assert answer.status_code == 400 and "Sign-in did not complete" in answer.get_data(as_text=True)


def test_invited_mode_without_a_link_is_refused_with_a_clear_page(make_app):
    app = make_app(uploaders="invited")
    page = app.test_client().get("/")
    assert page.status_code == 403
    assert "needs an upload link" in page.get_data(as_text=True)
    assert Api(app.test_client()).start(png_bytes()).get_json()["error"]["code"] == "upload_link_required"


def test_an_upload_link_takes_files_to_its_creator_within_its_limits(site, settings):
    app = site(uploaders="invited,signed-in", mail_from="Mediahub <noreply@mediahub.test>")
    _, creator = sign_in(app, "ann@example.com")
    made, link = make_link(creator, label="Wedding photos", max_files="2", max_megabytes="1", kind="image/", days="3")
    assert made.status_code == 302
    assert "/u/" in link

    guest = app.test_client()
    use_link(guest, link)
    guest_api = Api(guest)
    assert "Wedding photos" in guest.get("/").get_data(as_text=True)
    sent = upload(guest_api, "From a guest")
    wrong_type = guest_api.start(b"%PDF-1.4 x", filename="a.pdf", content_type="application/pdf")
    assert wrong_type.get_json()["error"]["code"] == "type_not_allowed"
    upload(guest_api, "Second")
    full = guest_api.start(png_bytes())
    assert full.status_code == 410 and full.get_json()["error"]["code"] == "upload_link_used_up"

    rows = table_rows(creator.get("/me/uploads").get_data(as_text=True), "my-items")
    assert [row["name"] for row in rows][-1].startswith("From a guest")
    assert creator.get(f"/manage/{sent['id']}/mine").status_code == 200
    mail = requests.get(f"{settings.aws_endpoint_url}/moto-api/data.json", timeout=10).json()["ses"]["Message"]
    assert [m["destinations"]["ToAddresses"] for m in mail] == [["ann@example.com"]] * 2


def test_a_withdrawn_upload_link_takes_nothing_more_and_an_abort_gives_its_file_back(site):
    app = site(uploaders="invited,signed-in", multipart_threshold=5 * 1024 * 1024, max_upload_bytes=50_000_000)
    _, creator = sign_in(app, "ann@example.com")
    api = Api(creator)
    _, link = make_link(creator, label="One file", max_files="1", max_megabytes="20")
    guest = app.test_client()
    use_link(guest, link)
    guest_api = Api(guest)
    big = guest_api.start(b"\0" * 10, filename="clip.mp4", content_type="video/mp4", size=6 * 1024 * 1024,
                          checksum_algorithm="CRC32")
    assert big.status_code == 201 and big.get_json()["method"] == "multipart"
    assert guest_api.start(png_bytes()).status_code == 410  # its one file is taken
    assert guest.delete(f"/api/uploads/{big.get_json()['upload_id']}",
                        headers={"X-CSRFToken": guest_api.csrf}).status_code == 204
    assert guest_api.start(png_bytes()).status_code == 201  # given back
    [row] = table_rows(creator.get("/me/uploads").get_data(as_text=True), "upload-links")
    link_id = parse(creator.get("/me/uploads").get_data(as_text=True)).find("table", id="upload-links") \
        .find_all("tr")[1].attrs["id"].removeprefix("link-")
    assert creator.post(f"/me/links/{link_id}/revoke", data={"csrf_token": api.csrf}).status_code == 302
    closed = app.test_client().get(urlsplit(link).path)
    assert closed.status_code == 410 and "withdrawn" in closed.get_data(as_text=True)


def test_a_signed_in_owner_is_mailed_when_their_file_carries_malware(site, moto_endpoint):
    from webapp.config import DEFAULT_ALLOWED_TYPES
    from webapp.local import scanner
    from webapp.local.outbox import sent_messages

    app = site(malware_scan="guardduty", allowed_types=DEFAULT_ALLOWED_TYPES + ("text/plain",),
               mail_from="Mediahub <noreply@mediahub.test>")
    _, client = sign_in(app, "ann@example.com")
    api = Api(client)
    started = api.start(scanner.EICAR, filename="eicar.txt", content_type="text/plain")
    policy = started.get_json()
    assert post_to_storage(policy, scanner.EICAR, "eicar.txt", "text/plain").status_code == 201
    media = api.complete(policy["upload_id"]).get_json()["media"]
    assert api.record(media["id"])["scan"] == "infected"
    [told] = [m for m in sent_messages(moto_endpoint) if m["to"] == "ann@example.com"]
    assert "withdrawn" in told["subject"]
    rows = table_rows(client.get("/me/uploads").get_data(as_text=True), "my-items")
    assert rows[0]["viewers"] == "Withheld: a threat was found"


def test_the_admins_make_upload_links_too_and_see_what_arrives(make_app):
    from werkzeug.security import generate_password_hash

    from tests.integration.test_admin import PASSWORD, signed_in

    app = make_app(uploaders="invited", admin_user="root", admin_password_hash=generate_password_hash(PASSWORD))
    admin = signed_in(app)
    made, link = make_link(admin.client, "/admin/links", label="Press kit", max_files="3")
    assert made.status_code == 302
    guest = app.test_client()
    use_link(guest, link)
    sent = upload(Api(guest), "Logo")
    rows = table_rows(admin.client.get("/admin/").get_data(as_text=True), "admin-items")
    assert rows[0]["name"] == "Logo (through “Press kit”)"
    assert "owner" not in Api(guest).record(sent["id"])
    [row] = table_rows(admin.client.get("/admin/").get_data(as_text=True), "upload-links")
    assert (row["files"], row["state"]) == ("1 of 3", "open")
    assert make_link(admin.client, "/admin/links", label="")[0].status_code == 400


def test_opening_an_upload_link_switches_nothing_on_without_its_button(site):
    """Another site may send a browser to /u/<token>; only the link page's own POST (with its
    CSRF token) makes that browser upload through the link, and a signed-in person can stop."""
    app = site(uploaders="invited,signed-in")
    _, creator = sign_in(app, "mallory@example.com")
    api = Api(creator)
    _, link = make_link(creator, label="Your uploads")
    _, ann = sign_in(app, "ann@example.com")
    ann_api = Api(ann)
    assert ann.get(urlsplit(link).path).status_code == 200  # a visit alone
    assert ann.post(urlsplit(link).path, data={}).status_code == 400  # no CSRF token: refused, nothing switched on
    mine = upload(ann_api, "Holiday")
    assert ann.get(f"/manage/{mine['id']}/mine").status_code == 200
    assert creator.get(f"/manage/{mine['id']}/mine").status_code == 404
    use_link(ann, link)
    assert "Your uploads" in ann.get("/").get_data(as_text=True)
    assert ann.post("/upload-link/stop", data={"csrf_token": ann_api.csrf}).status_code == 302
    assert "Your uploads" not in ann.get("/").get_data(as_text=True)


def test_a_link_holder_neither_publishes_nor_manages_the_creators_file(site):
    app = site(uploaders="invited,signed-in")
    _, creator = sign_in(app, "ann@example.com")
    api = Api(creator)
    _, link = make_link(creator)
    guest = app.test_client()
    use_link(guest, link)
    guest_api = Api(guest)
    started = guest_api.start(png_bytes(padding=50), name="Mine now", visibility="public")
    policy = started.get_json()
    assert post_to_storage(policy, png_bytes(padding=50), "photo.png", "image/png").status_code == 201
    media = guest_api.complete(policy["upload_id"]).get_json()["media"]
    assert "manage" not in media["links"]
    assert guest_api.record(media["id"])["visibility"] == "private"


def test_sign_in_never_sends_the_browser_to_another_site(site):
    from webapp.account.routes import local_path

    for target in ("//evil.example/x", "/\\evil.example", "/\t/evil.example/x", "/\n/evil.example", "https://evil.example",
                   "/ok\x00", " /x", "evil.example"):
        assert local_path(target) == "/", target
    for target in ("/", "/me/uploads", "/admin/?q=a%20b", "/manage/abc/mine#links-heading"):
        assert local_path(target) == target
    client = site().test_client()
    client.get("/signin?next=/%09/evil.example/x")
    with client.session_transaction() as session:
        assert session["signin_next"] == "/"


def test_only_a_verified_address_is_kept_and_the_uploader_survives_signing_in(site):
    from webapp import identity

    settings = site().extensions["mediahub"].settings.with_overrides(signin_allowlist=())
    person = identity.person_from_claims(settings, {"sub": "1", "email": "Ann@Example.com", "email_verified": False},
                                         1000)
    assert person.email == "" and person.name == "you"
    assert identity.person_from_claims(settings, {"sub": "1", "email": "Ann@Example.com", "email_verified": True},
                                       1000).email == "ann@example.com"
    app = site(uploaders="anyone")
    client = app.test_client()
    client.get("/")
    with client.session_transaction() as session:
        before = session["uploader"]
    sign_in(app, "ann@example.com", client=client)
    with client.session_transaction() as session:
        assert session["uploader"] == before and session["person"]["email"] == "ann@example.com"


def test_a_link_kind_the_site_does_not_take_is_refused(site):
    app = site(uploaders="invited,signed-in", allowed_types=("image/png", "image/jpeg"))
    _, creator = sign_in(app, "ann@example.com")
    api = Api(creator)
    answer, _ = make_link(creator, label="Clips", kind="video/")
    assert answer.status_code == 400 and "does not accept video/" in answer.get_data(as_text=True)


def test_where_anyone_may_upload_a_new_account_is_no_fresh_allowance(site):
    app = site(uploaders="anyone", uploads_per_hour=1)
    _, first = sign_in(app, "ann@example.com")
    upload(Api(first), "One")
    _, second = sign_in(app, "ann2@example.com")
    refused = Api(second).start(png_bytes())
    assert (refused.status_code, refused.get_json()["error"]["code"]) == (429, "rate_limited")
