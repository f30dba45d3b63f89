"""Embedding and the link API: only allowed origins, only signed links."""

import hashlib

import pytest
import requests

from tests.page_parts import parse
from tests.support import Api, png_bytes

ALLOWED = "https://allowed.example"
API_KEY = "test-api-key-0123456789abcdef"


@pytest.fixture
def site(make_app):
    app = make_app(
        embed_origins=(ALLOWED, "https://*.partner.test", "http://127.0.0.1:8123"),
        api_key_hashes=(hashlib.sha256(API_KEY.encode()).hexdigest(),),
    )
    api = Api(app.test_client())
    media = api.upload(png_bytes(padding=500)).get_json()["media"]
    return app, api, media


@pytest.mark.parametrize(
    "headers",
    [
        {"Referer": ALLOWED + "/blog/post-1"},
        {"Origin": ALLOWED},
        {"Referer": "https://news.partner.test/"},
        {"Referer": "http://127.0.0.1:8123/page.html"},
    ],
)
def test_allowed_pages_get_a_signed_redirect(site, headers):
    _, api, media = site
    answer = api.client.get(f"/embed/{media['id']}", headers=headers)
    assert answer.status_code == 302
    assert "Key-Pair-Id=" in answer.headers["Location"]
    assert answer.headers["Cache-Control"] == "no-store"
    fetched = requests.get(answer.headers["Location"], timeout=10)
    # The clean copy: the picture without the private chunk the uploaded file carries.
    assert f"/renditions/{media['id']}/clean.png" in answer.headers["Location"]
    assert fetched.headers["Content-Type"] == "image/png"
    assert fetched.content.startswith(b"\x89PNG") and b"prVt" not in fetched.content


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Referer": "https://elsewhere.example/"},
        {"Referer": "https://allowed.example.evil.test/"},
        {"Origin": "https://allowed.example.evil.test"},
        {"Origin": "null"},
        {"Origin": "null", "Referer": ALLOWED + "/"},
        {"Referer": "http://allowed.example/"},
        {"Referer": "https://allowed.example:8443/"},
        {"Referer": "https://partner.test/"},
        {"Referer": "https://evilpartner.test/"},
        {"Referer": "not a url"},
    ],
    ids=["missing", "other", "suffix-trick-referer", "suffix-trick-origin", "null", "null-wins", "http",
         "port", "bare-domain", "lookalike", "garbage"],
)
def test_other_pages_get_403_and_a_placeholder(site, headers):
    _, api, media = site
    answer = api.client.get(f"/embed/{media['id']}", headers=headers)
    assert answer.status_code == 403
    assert answer.headers["Content-Type"] == "image/svg+xml"
    assert answer.headers["X-Error-Code"] == "origin_not_allowed"
    assert "Location" not in answer.headers


def test_unknown_item_gets_a_placeholder_too(site):
    _, api, _ = site
    answer = api.client.get("/embed/AAAAAAAAAAAAAAAAAAAAAA", headers={"Referer": ALLOWED + "/"})
    assert answer.status_code == 404 and answer.headers["Content-Type"] == "image/svg+xml"


def test_preflight_from_a_disallowed_origin_gets_no_allow_header(site):
    _, api, media = site
    answer = api.client.options(
        f"/api/media/{media['id']}/link",
        headers={"Origin": "https://allowed.example.evil.test", "Access-Control-Request-Method": "GET"},
    )
    assert "Access-Control-Allow-Origin" not in answer.headers


def test_preflight_from_an_allowed_origin_is_answered(site):
    _, api, media = site
    answer = api.client.options(
        f"/api/media/{media['id']}/link", headers={"Origin": ALLOWED, "Access-Control-Request-Method": "GET"}
    )
    assert answer.status_code == 204
    assert answer.headers["Access-Control-Allow-Origin"] == ALLOWED
    assert "Origin" in answer.headers["Vary"]


def test_link_api_for_an_allowed_origin(site):
    _, api, media = site
    answer = api.client.get(f"/api/media/{media['id']}/link", headers={"Origin": ALLOWED})
    assert answer.status_code == 200
    assert answer.headers["Access-Control-Allow-Origin"] == ALLOWED
    body = answer.get_json()
    assert set(body) == {"url", "expires_at"} and "Key-Pair-Id=" in body["url"]


def test_link_api_refuses_other_origins_without_cors(site):
    _, api, media = site
    answer = api.client.get(f"/api/media/{media['id']}/link", headers={"Origin": "https://elsewhere.example"})
    assert answer.status_code == 403
    assert answer.get_json()["error"]["code"] == "origin_not_allowed"
    assert "Access-Control-Allow-Origin" not in answer.headers


def test_link_api_with_an_api_key_needs_no_origin(site):
    _, api, media = site
    answer = api.client.get(f"/api/media/{media['id']}/link", headers={"Authorization": f"Bearer {API_KEY}"})
    assert answer.status_code == 200 and "url" in answer.get_json()


def test_wrong_api_key_is_401(site):
    _, api, media = site
    answer = api.client.get(f"/api/media/{media['id']}/link", headers={"Authorization": "Bearer wrong"})
    assert answer.status_code == 401
    assert answer.get_json()["error"]["code"] == "api_key_invalid"


def test_many_ids_in_one_call(site):
    app, api, media = site
    other = api.upload(png_bytes()).get_json()["media"]
    client = app.test_client()  # no session, no CSRF token: the key is the credential
    answer = client.post(
        "/api/links",
        json={"ids": [media["id"], other["id"], "AAAAAAAAAAAAAAAAAAAAAA"]},
        headers={"Authorization": f"Bearer {API_KEY}"},
    )
    assert answer.status_code == 200
    body = answer.get_json()
    assert set(body["links"]) == {media["id"], other["id"]}
    assert body["errors"]["AAAAAAAAAAAAAAAAAAAAAA"]["code"] == "media_not_found"
    assert client.post("/api/links", json={"ids": [media["id"]]}).status_code == 401
    too_many = client.post("/api/links", json={"ids": ["x"] * 101}, headers={"Authorization": f"Bearer {API_KEY}"})
    assert too_many.status_code == 400


def test_owner_allows_a_site_for_one_item(site):
    app, api, media = site
    other = api.upload(png_bytes()).get_json()["media"]
    referer = {"Referer": "https://owner-blog.example/post"}
    assert api.client.get(f"/embed/{other['id']}", headers=referer).status_code == 403
    saved = api.client.post(
        other["links"]["manage"] + "/embed",
        data={"embed-csrf_token": api.csrf, "embed-origins": "https://owner-blog.example\nhttps://*.owner.example"},
    )
    assert saved.status_code == 302
    assert api.client.get(f"/embed/{other['id']}", headers=referer).status_code == 302
    assert api.client.get(f"/embed/{media['id']}", headers=referer).status_code == 403  # only that item
    bad = api.client.post(other["links"]["manage"] + "/embed",
                          data={"embed-csrf_token": api.csrf, "embed-origins": "https://fine.example\nowner-blog"})
    assert bad.status_code == 400
    root = parse(bad.get_data(as_text=True))
    assert root.find("h1").text().startswith("Manage:")  # the page itself, not a dead end
    assert root.find("textarea", id="embed-origins").text() == "https://fine.example owner-blog"  # as typed
    assert "owner-blog" in root.find(id="embed-origins-error").text()


def test_items_with_a_download_limit_are_not_embedded(site):
    _, api, _ = site
    limited = api.upload(png_bytes(), max_downloads=3).get_json()["media"]
    answer = api.client.get(f"/embed/{limited['id']}", headers={"Referer": ALLOWED + "/"})
    assert answer.status_code == 403 and answer.headers["X-Error-Code"] == "embedding_not_allowed"


def test_player_allows_framing_only_by_allowed_origins(make_app):
    app = make_app(embed_origins=(ALLOWED,), allowed_types=("video/webm", "image/png"))
    api = Api(app.test_client())
    webm = b"\x1a\x45\xdf\xa3" + b"\x00" * 200
    media = api.upload(webm, filename="clip.webm", content_type="video/webm").get_json()["media"]
    player = api.client.get(f"/embed/{media['id']}/player", headers={"Referer": ALLOWED + "/"})
    assert player.status_code == 200
    policy = player.headers["Content-Security-Policy"]
    assert f"frame-ancestors {ALLOWED}" in policy
    assert "X-Frame-Options" not in player.headers
    assert "<video" in player.get_data(as_text=True)
    framed_elsewhere = api.client.get(f"/embed/{media['id']}/player", headers={"Referer": "https://evil.test/"})
    assert framed_elsewhere.status_code == 403
    assert "<video" not in framed_elsewhere.get_data(as_text=True)


@pytest.mark.parametrize("what", ["disallowed", "unknown", "not a player"])
def test_a_refused_player_is_a_placeholder_any_page_may_frame(make_app, what):
    app = make_app(embed_origins=(ALLOWED,), allowed_types=("video/webm", "image/png"))
    api = Api(app.test_client())
    webm = b"\x1a\x45\xdf\xa3" + b"\x00" * 200
    video = api.upload(webm, filename="clip.webm", content_type="video/webm").get_json()["media"]
    image = api.upload(png_bytes()).get_json()["media"]
    media_id = {"disallowed": video["id"], "unknown": "A" * 22, "not a player": image["id"]}[what]
    answer = api.client.get(f"/embed/{media_id}/player", headers={"Referer": "https://evil.test/"})
    assert answer.status_code in (403, 404)
    assert "frame-ancestors *" in answer.headers["Content-Security-Policy"]
    assert "X-Frame-Options" not in answer.headers
    page = parse(answer.get_data(as_text=True))
    assert page.find(id="player-refused") is not None and page.find("video") is None
    assert "Key-Pair-Id" not in answer.get_data(as_text=True)


def test_gallery_shows_public_items_only(site):
    _, api, _ = site
    public = api.upload(png_bytes(), name="Public one", visibility="public").get_json()["media"]
    page = api.client.get("/gallery").get_data(as_text=True)
    tiles = parse(page).find_all("a", class_="tile")
    assert "Public one" in page and len(tiles) == 1
    assert "Key-Pair-Id=" in page
    assert tiles[0].attrs["href"] == f"/gallery/{public['id']}"
    item = api.client.get(tiles[0].attrs["href"])
    assert item.status_code == 200 and parse(item.get_data(as_text=True)).find("h1").text() == "Public one"
    private = api.upload(png_bytes(), name="Private one").get_json()["media"]
    assert api.client.get(f"/gallery/{private['id']}").status_code == 404
    refused = api.start(png_bytes(), visibility="public", max_downloads=2)
    assert refused.status_code == 400


def embed_snippet(api: Api, media: dict) -> str:
    page = parse(api.client.get(media["links"]["manage"]).get_data(as_text=True))
    return page.find("textarea", id="embed-snippet").text()


def test_an_image_snippet_has_its_size_max_width_and_a_srcset_of_embeddable_thumbnails(make_app):
    app = make_app(embed_origins=(ALLOWED,))
    api = Api(app.test_client())
    media = api.upload(png_bytes(width=2000, height=1000), name="Wide").get_json()["media"]
    snippet = parse(embed_snippet(api, media)).find("img")
    embed = f"http://localhost/embed/{media['id']}"
    assert snippet.attrs["src"] == embed
    assert (snippet.attrs["width"], snippet.attrs["height"]) == ("2000", "1000")
    assert snippet.attrs["style"] == "max-width:100%;height:auto"
    assert snippet.attrs["srcset"] == f"{embed}?w=320 320w, {embed}?w=1280 1280w, {embed} 2000w"
    assert snippet.attrs["sizes"] == "(max-width: 2000px) 100vw, 2000px"
    referer = {"Referer": ALLOWED + "/post"}
    for size in ("320", "1280"):  # each thumbnail link is an embed link: same check, its own copy
        answer = api.client.get(f"/embed/{media['id']}?w={size}", headers=referer)
        assert answer.status_code == 302 and f"thumb-{size}.jpg" in answer.headers["Location"]
        assert api.client.get(f"/embed/{media['id']}?w={size}",
                              headers={"Referer": "https://evil.test/"}).status_code == 403
    assert "thumb" not in api.client.get(f"/embed/{media['id']}", headers=referer).headers["Location"]
    assert api.client.get(f"/embed/{media['id']}?w=999", headers=referer).status_code == 404


def test_a_video_snippet_keeps_the_videos_shape_and_the_player_shows_its_poster(make_app):
    from tests.integration.test_posters import VIDEO, complete_poster, jpeg_bytes, send_poster

    app = make_app(embed_origins=(ALLOWED,))
    api = Api(app.test_client())
    media = api.upload(VIDEO, "clip.webm", "video/webm").get_json()["media"]
    record = app.extensions["mediahub"].catalog.get_media(media["id"])
    width, height = int(record["width"]), int(record["height"])
    frame = parse(embed_snippet(api, media)).find("iframe")
    assert frame.attrs["src"] == f"http://localhost/embed/{media['id']}/player"
    assert f"aspect-ratio:{width}/{height}" in frame.attrs["style"]
    assert "width:100%" in frame.attrs["style"] and "height:auto" in frame.attrs["style"]
    assert int(frame.attrs["width"]) * height == int(frame.attrs["height"]) * width

    _, sent = send_poster(api, media["id"], jpeg_bytes(width, height))
    assert sent.status_code == 201 and complete_poster(api, media["id"]).status_code == 201
    player = api.client.get(f"/embed/{media['id']}/player", headers={"Referer": ALLOWED + "/"})
    video = parse(player.get_data(as_text=True)).find("video")
    assert "poster" in video.attrs and video.attrs["poster"].startswith("http")
    assert "img-src" in player.headers["Content-Security-Policy"]
