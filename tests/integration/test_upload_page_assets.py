"""The upload page names its bundle by content hash, and the bundle is cached for a year."""

import re

from webapp import assets


def test_bundle_is_named_by_hash_and_cached_for_a_year(client):
    page = client.get("/").get_data(as_text=True)
    script = re.search(r'<script src="(/static/dist/upload-[A-Z0-9]+\.js)" defer>', page).group(1)
    style = re.search(r'<link rel="stylesheet" href="(/static/dist/upload-[A-Z0-9]+\.css)">', page).group(1)
    for path in (script, style):
        answer = client.get(path)
        assert answer.status_code == 200
        assert answer.headers["Cache-Control"] == assets.IMMUTABLE
    assert "immutable" not in client.get("/static/upload.css").headers.get("Cache-Control", "")
    assert "immutable" not in client.get("/static/dist/manifest.json").headers.get("Cache-Control", "")


def test_page_hands_its_script_the_limits_and_types(client):
    page = client.get("/").get_data(as_text=True)
    config = re.search(r'<script type="application/json" id="upload-config">(.*?)</script>', page, re.S).group(1)
    assert '"maxBytes": 1000000' in config and '"video/quicktime": ["mov", "qt"]' in config
    assert '"audio/x-m4a": "audio/mp4"' in config
