"""The manage page's embed code, pasted into another site's 760 px column, in Chromium: the
image fits the column at its own shape (its srcset's thumbnails are embed links too), and the
player's frame keeps the video's shape and shows its poster."""

from __future__ import annotations

import html
import re

import pytest
import requests

from tests.e2e.conftest import wait_until
from tests.integration.test_posters import VIDEO, jpeg_bytes
from tests.support import CSRF_META, png_bytes, post_to_storage, upload_over_http
from webapp.local.stack import free_loopback_port

COLUMN = 760


@pytest.fixture
def blog(other_site):
    """A blog with a column of COLUMN px; ``start(port, snippet)`` puts the snippet in a post."""

    def start(port: int, snippet: str) -> str:
        return other_site(port, '<!doctype html><html><head><meta charset="utf-8"><title>Blog</title>'
                          f'<style>body{{margin:0}} main{{max-width:{COLUMN}px;margin:0 auto}}</style></head>'
                          f'<body><main id="column"><p>A post with something embedded:</p>{snippet}'
                          '<p>The end.</p></main></body></html>')

    return start


def snippet_of(session: requests.Session, media: dict) -> str:
    page = session.get(media["links"]["manage"], timeout=10).text
    found = re.search(r'<textarea[^>]*id="embed-snippet"[^>]*>(.*?)</textarea>', page, re.S)
    return html.unescape(found.group(1)).strip()


BOX = "(selector) => { const r = document.querySelector(selector).getBoundingClientRect(); return [r.width, r.height]; }"
FITS = "() => document.getElementById('column').scrollWidth <= %d && document.documentElement.scrollWidth <= window.innerWidth" % COLUMN


def test_an_embedded_image_fits_a_760_px_column_at_its_own_shape(serve, page, blog):
    port = free_loopback_port()
    site = serve(embed_origins=(f"http://127.0.0.1:{port}",))
    session = requests.Session()
    media = upload_over_http(site, png_bytes(width=2000, height=1000), session=session)
    snippet = snippet_of(session, media)
    assert "srcset=" in snippet

    page.goto(blog(port, snippet))
    wait_until(page, "document.querySelector('#column img').complete")
    assert page.evaluate("document.querySelector('#column img').naturalWidth") > 0  # it loaded
    width, height = page.evaluate(BOX, "#column img")
    assert width == COLUMN and abs(height - COLUMN / 2) <= 1, (width, height)
    assert page.evaluate(FITS)


def test_an_embedded_player_keeps_the_videos_shape_and_shows_its_poster(serve, page, blog):
    port = free_loopback_port()
    site = serve(embed_origins=(f"http://127.0.0.1:{port}",))
    session = requests.Session()
    media = upload_over_http(site, VIDEO, "clip.webm", "video/webm", session=session)
    csrf = CSRF_META.search(session.get(site + "/", timeout=10).text).group(1)
    frame_bytes = jpeg_bytes(640, 360)
    policy = session.post(f"{site}/api/media/{media['id']}/poster", json={"size": len(frame_bytes)},
                          headers={"X-CSRFToken": csrf}, timeout=10).json()
    assert post_to_storage(policy, frame_bytes, "poster.jpg").status_code == 201
    assert session.post(f"{site}/api/media/{media['id']}/poster/complete", headers={"X-CSRFToken": csrf},
                        timeout=10).status_code == 201
    snippet = snippet_of(session, media)
    assert "<iframe" in snippet

    posters: list[int] = []
    page.on("response", lambda r: posters.append(r.status) if "poster" in r.url else None)
    page.goto(blog(port, snippet))
    width, height = page.evaluate(BOX, "#column iframe")
    assert width <= COLUMN and abs(height - width * 360 / 640) <= 1, (width, height)
    assert page.evaluate(FITS)
    player = page.frame_locator("#column iframe")
    assert player.locator("video").get_attribute("poster")
    for _ in range(100):
        if 200 in posters:
            break
        page.wait_for_timeout(100)
    assert 200 in posters, posters  # the poster was fetched through its signed link

    page.set_viewport_size({"width": 400, "height": 800})  # a phone: the frame shrinks, same shape
    width, height = page.evaluate(BOX, "#column iframe")
    assert width <= 400 and abs(height - width * 360 / 640) <= 1, (width, height)
    assert page.evaluate(FITS)
