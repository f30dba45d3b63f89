"""The download limit under contention, through the app over HTTP, on DynamoDB Local."""

import concurrent.futures
import threading

import requests
from werkzeug.serving import make_server

from tests.support import Api, png_bytes


def test_twenty_parallel_downloads_with_a_limit_of_three(make_app, catalog):
    app = make_app()
    app.extensions["mediahub"].catalog = catalog  # records on the real engine; files on moto's S3
    media = Api(app.test_client()).upload(png_bytes(), max_downloads=3).get_json()["media"]

    server = make_server("127.0.0.1", 0, app, threaded=True)
    port = server.server_port
    threading.Thread(target=server.serve_forever, daemon=True).start()
    path = media["links"]["download"].split("localhost", 1)[1]
    barrier = threading.Barrier(20)

    def download(_):
        barrier.wait()
        return requests.get(f"http://127.0.0.1:{port}{path}", allow_redirects=False, timeout=30).status_code

    try:
        with concurrent.futures.ThreadPoolExecutor(20) as pool:
            statuses = list(pool.map(download, range(20)))
    finally:
        server.shutdown()
    assert statuses.count(302) == 3 and statuses.count(410) == 17, statuses
    assert catalog.get_media(media["id"])["download_count"] == 3
