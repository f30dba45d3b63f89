"""Limits under races: a served site on loopback, its counters on DynamoDB Local (a real
engine's conditional writes), its files on moto's S3. Twenty clients start at once."""

from __future__ import annotations

import concurrent.futures
import re
import threading

import pytest
import requests
from werkzeug.security import generate_password_hash
from werkzeug.serving import make_server

from tests.support import CSRF_META

CLIENTS = 20
PASSWORD = "the right password 42"
ADMIN_SIGNIN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


@pytest.fixture
def served(make_app, catalog):
    """Start a site with these settings, on a real server thread; yields its base URL."""
    servers = []

    def serve(**overrides):
        app = make_app(**overrides)
        app.extensions["mediahub"].catalog = catalog
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}", app

    yield serve
    for server in servers:
        server.shutdown()


def all_at_once(work) -> list:
    """Each client gets ready (its own session and CSRF token), then all go at the same moment."""
    barrier = threading.Barrier(CLIENTS)

    def client(number):
        with requests.Session() as session:
            go = work(session, number)
            barrier.wait()
            return go()

    with concurrent.futures.ThreadPoolExecutor(CLIENTS) as pool:
        return list(pool.map(client, range(CLIENTS)))


def starting_upload(site: str, size: int):
    def ready(session, number):
        csrf = CSRF_META.search(session.get(site + "/", timeout=30).text).group(1)
        body = {"filename": f"photo-{number}.png", "content_type": "image/png", "size": size}

        def go():
            answer = session.post(site + "/api/uploads", json=body, headers={"X-CSRFToken": csrf}, timeout=30)
            code = answer.json()["error"]["code"] if answer.status_code != 201 else None
            return answer.status_code, code, answer.headers.get("Retry-After")

        return go

    return ready


def test_twenty_parallel_uploads_with_five_an_hour(served, catalog):
    site, _ = served(uploads_per_hour=5)
    answers = all_at_once(starting_upload(site, 1000))
    statuses = [status for status, _, _ in answers]
    assert statuses.count(201) == 5 and statuses.count(429) == 15, statuses
    refused = [(code, retry) for status, code, retry in answers if status == 429]
    assert {code for code, _ in refused} == {"rate_limited"}
    assert all(1 <= int(retry) <= 3600 for _, retry in refused)


def test_twenty_parallel_uploads_against_bytes_per_day(served, catalog):
    site, _ = served(upload_bytes_per_day=1_000_000)
    answers = all_at_once(starting_upload(site, 200_000))
    statuses = [status for status, _, _ in answers]
    assert statuses.count(201) == 5 and statuses.count(429) == 15, statuses
    assert {code for status, code, _ in answers if status == 429} == {"quota_exceeded"}


def test_twenty_parallel_wrong_passwords_check_five(served, monkeypatch):
    site, app = served(admin_user="root", admin_password_hash=generate_password_hash(PASSWORD))
    from webapp.flows import admin_area

    checked = []
    real = admin_area.credentials_match
    monkeypatch.setattr(admin_area, "credentials_match", lambda *args: checked.append(1) or real(*args))

    def ready(session, number):
        csrf = ADMIN_SIGNIN.search(session.get(site + "/admin/login", timeout=30).text).group(1)
        form = {"csrf_token": csrf, "username": "root", "password": f"guess {number}"}
        return lambda: session.post(site + "/admin/login", data=form, timeout=30).status_code

    statuses = all_at_once(ready)
    assert statuses.count(401) == 5 and statuses.count(429) == 15, statuses
    assert len(checked) == 5


def test_a_charge_is_given_back_once_however_many_ask_at_once(catalog):
    from webapp import limits

    now = 1_796_083_200 + 3600
    charge = limits.upload_charge("someone", 1000, now)
    for media_id in ("first-upload-id-0001", "second-upload-id-002"):
        assert catalog.charge_upload(charge, media_id=media_id, per_hour=10, bytes_per_day=10_000) is None
    barrier = threading.Barrier(CLIENTS)

    def refund(_):
        barrier.wait()
        return catalog.refund_upload("first-upload-id-0001", now)

    with concurrent.futures.ThreadPoolExecutor(CLIENTS) as pool:
        given = list(pool.map(refund, range(CLIENTS)))
    assert given.count(True) == 1
    counter = catalog.counter(charge.counter_pk, charge.counter_sk)
    assert (counter[charge.hour_field], counter["bytes"]) == (1, 1000)  # the second upload's charge stays
    assert catalog.refund_upload("never-charged-id-0003", now) is False
