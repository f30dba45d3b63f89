"""Many people uploading at once through a served site, in local mode: none of them fails."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import requests
from werkzeug.serving import make_server

from tests.support import CSRF_META, png_bytes, post_to_storage
from webapp.local.stack import free_loopback_port

UPLOADS = 50


def one_upload(site: str, number: int) -> int:
    """The whole flow as a browser makes it; the status of its completion (or of what failed)."""
    data = png_bytes(padding=number)
    with requests.Session() as session:
        csrf = CSRF_META.search(session.get(site + "/", timeout=30).text).group(1)
        headers = {"X-CSRFToken": csrf}
        body = {"filename": f"photo-{number}.png", "content_type": "image/png", "size": len(data)}
        started = session.post(site + "/api/uploads", json=body, headers=headers, timeout=30)
        if started.status_code != 201:
            return started.status_code
        policy = started.json()
        sent = post_to_storage(policy, data, body["filename"], "image/png")
        if sent.status_code != 201:
            return sent.status_code
        done = session.post(f"{site}/api/uploads/{policy['upload_id']}/complete", headers=headers, timeout=30)
        return done.status_code


def test_fifty_concurrent_uploads_all_succeed(app, table_items):
    port = free_loopback_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with ThreadPoolExecutor(max_workers=UPLOADS) as pool:
            statuses = list(pool.map(lambda n: one_upload(f"http://127.0.0.1:{port}", n), range(UPLOADS)))
    finally:
        server.shutdown()
    assert statuses == [201] * UPLOADS
    records = [item for item in table_items() if item["sk"] == "META"]
    assert len(records) == UPLOADS and {r["status"] for r in records} == {"ready"}
