"""Contention through the app, with records on DynamoDB Local (a real engine's atomicity) and files on moto's S3."""

import concurrent.futures
import threading

import requests
from werkzeug.serving import make_server

from tests.support import Api, png_bytes, post_to_storage
from webapp import rules


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


def test_concurrent_completions_create_exactly_one_record(make_app, catalog):
    app = make_app()
    app.extensions["mediahub"].catalog = catalog
    client = app.test_client()
    api = Api(client)
    data = png_bytes()
    policy = api.start(data).get_json()
    post_to_storage(policy, data)
    cookie = client.get_cookie("mediahub_session").value
    barrier = threading.Barrier(8)

    def complete(_):
        other = app.test_client()
        other.set_cookie("mediahub_session", cookie)
        barrier.wait()
        return other.post(f"/api/uploads/{policy['upload_id']}/complete", headers={"X-CSRFToken": api.csrf}).status_code

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        statuses = sorted(pool.map(complete, range(8)))
    assert statuses.count(201) == 1 and statuses.count(200) == 7, statuses
    assert len(catalog.shares_of(rules.media_id_from_key(policy["fields"]["key"]))) == 1
