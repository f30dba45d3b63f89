"""Another site, on another loopback port, embeds an image through /embed/<id>."""


import pytest

from tests.e2e.conftest import wait_until
from tests.support import png_bytes, upload_over_http
from webapp.local.stack import free_loopback_port


@pytest.fixture
def host_page(other_site):
    """A page of another site showing the embed, served from its own loopback origin."""
    return lambda port, image_url: other_site(
        port, f'<!doctype html><title>Blog</title><img id="embedded" src="{image_url}" alt="embedded">')


def image_width(page) -> int:
    wait_until(page, "document.getElementById('embedded').complete")
    return page.evaluate("document.getElementById('embedded').naturalWidth")


def test_embed_shows_on_an_allowed_site_and_not_on_another(serve, page, host_page):
    allowed_port, other_port = free_loopback_port(), free_loopback_port()
    site = serve(embed_origins=(f"http://127.0.0.1:{allowed_port}",))
    media = upload_over_http(site, png_bytes(width=64, height=48))
    embed_url = f"{site}/embed/{media['id']}"

    page.goto(host_page(allowed_port, embed_url))
    assert image_width(page) == 64

    page.goto(host_page(other_port, embed_url))
    assert image_width(page) != 64
