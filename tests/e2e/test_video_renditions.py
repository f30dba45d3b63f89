"""A phone's video, as phones record it (HEVC in QuickTime, made with ffmpeg's libx265), plays in
Chromium on the share page and in an embed through its H.264 rendition, with a poster. Debian's
Chromium has no HEVC decoder (checked first), so playback proves the rendition is what plays."""

from __future__ import annotations

import threading

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Response

from tests.e2e.conftest import wait_until
from tests.integration.test_renditions import HEIGHT, WIDTH, hevc_clip
from tests.support import upload_over_http
from webapp.local.stack import free_loopback_port

PLAYS = """async () => {
  const video = document.querySelector('video');
  video.muted = true;
  await video.play();
  await new Promise(resolve => setTimeout(resolve, 600));
  return {src: video.currentSrc, time: video.currentTime, width: video.videoWidth, height: video.videoHeight,
          poster: video.poster, error: video.error && video.error.code};
}"""


@pytest.fixture
def site(make_app):
    embedder_port = free_loopback_port()
    port = free_loopback_port()
    url = f"http://127.0.0.1:{port}"
    embedder = f"http://127.0.0.1:{embedder_port}"
    app = make_app(site_url=url, max_upload_bytes=5_000_000, video_renditions="ffmpeg", embed_origins=(embedder,))
    svc = app.extensions["mediahub"]
    servers = [make_server("127.0.0.1", port, app, threaded=True)]

    def host(player_url: str) -> str:
        html = f'<!doctype html><title>Blog</title><iframe id="player" src="{player_url}" width="640" height="360"></iframe>'
        servers.append(make_server("127.0.0.1", embedder_port, Response(html, content_type="text/html"), threaded=True))
        threading.Thread(target=servers[-1].serve_forever, daemon=True).start()
        return embedder + "/post.html"

    threading.Thread(target=servers[0].serve_forever, daemon=True).start()
    yield url, svc, host
    svc.renditions.idle(60)
    for server in servers:
        server.shutdown()


def test_a_hevc_phone_video_plays_everywhere_through_its_rendition(page, site, tmp_path):
    url, svc, host = site
    page.goto(url + "/")
    assert page.evaluate("document.createElement('video').canPlayType('video/mp4; codecs=\"hvc1.1.6.L93.B0\"')") == ""
    media = upload_over_http(url, hevc_clip(tmp_path / "IMG_0001.MOV", seconds=3), filename="IMG_0001.MOV",
                             content_type="video/quicktime", visibility="public")
    assert svc.renditions.idle(120)

    posters = []
    page.on("response", lambda response: "frame.0000000.jpg" in response.url and posters.append(response.status))
    page.goto(media["links"]["share"])
    wait_until(page, "document.querySelector('video.preview') && document.querySelector('video.preview').poster")
    played = page.evaluate(PLAYS)
    assert "/renditions/" in played["src"] and "video.mp4" in played["src"], played
    assert played["error"] is None and played["time"] > 0 and (played["width"], played["height"]) == (WIDTH, HEIGHT)
    assert "frame.0000000.jpg" in played["poster"]

    page.goto(host(f"{url}/embed/{media['id']}/player"))
    page.frame_locator("#player").locator("video").wait_for()
    player = page.frames[1]
    played = player.evaluate(PLAYS)
    assert "video.mp4" in played["src"] and played["error"] is None and played["time"] > 0, played
    assert "frame.0000000.jpg" in played["poster"]
    assert posters and set(posters) == {200}  # the browser fetched the posters it was given
    poster = page.request.get(played["poster"])
    assert poster.ok and poster.body().startswith(b"\xff\xd8")
