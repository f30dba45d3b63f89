"""Every JSON endpoint reads its body one way (``webapp.errors.json_object``): anything but a
JSON object (a string, a list, a number, a boolean, null, broken JSON, another content type) is
``400 invalid_request`` in the one error shape, never a 500 and never a change."""

from __future__ import annotations

import hashlib

import pytest

from tests.support import CSRF_META

API_KEY = "an-api-key-for-the-body-tests"
MEDIA_ID = "A" * 22

ENDPOINTS = [
    ("POST", "/api/uploads"),
    ("POST", f"/api/uploads/{MEDIA_ID}/parts"),
    ("DELETE", f"/api/uploads/{MEDIA_ID}"),
    ("POST", f"/api/uploads/{MEDIA_ID}/complete"),
    ("POST", f"/api/media/{MEDIA_ID}/poster"),
    ("POST", f"/api/media/{MEDIA_ID}/poster/complete"),
    ("POST", "/api/links"),
]

NOT_AN_OBJECT = [
    ('"x"', "application/json"),
    ("[1]", "application/json"),
    ("5", "application/json"),
    ("true", "application/json"),
    ("null", "application/json"),
    ("{not json", "application/json"),
    ('{"ids": ["x"]}', "text/plain"),
    ('{"ids": ["x"]}', "application/x-www-form-urlencoded"),
]


@pytest.fixture
def caller(make_app):
    app = make_app(api_key_hashes=(hashlib.sha256(API_KEY.encode()).hexdigest(),))
    client = app.test_client()
    csrf = CSRF_META.search(client.get("/").get_data(as_text=True)).group(1)
    headers = {"X-CSRFToken": csrf, "Authorization": f"Bearer {API_KEY}"}

    def call(method, path, body, content_type):
        return client.open(path, method=method, data=body, headers={**headers, "Content-Type": content_type})

    return call


@pytest.mark.parametrize("method,path", ENDPOINTS, ids=[f"{m} {p}" for m, p in ENDPOINTS])
@pytest.mark.parametrize("body,content_type", NOT_AN_OBJECT, ids=[f"{b} as {c}" for b, c in NOT_AN_OBJECT])
def test_a_body_that_is_not_a_json_object_is_invalid_request(caller, method, path, body, content_type):
    answer = caller(method, path, body, content_type)
    assert answer.status_code == 400, answer.get_data(as_text=True)
    error = answer.get_json()["error"]
    assert error["code"] == "invalid_request" and error["message"]


@pytest.mark.parametrize("body", ["", "{}", '{"ids": []}', '{"ids": "x"}', '{"ids": [1]}'])
def test_the_links_api_says_what_its_body_lacks(caller, body):
    answer = caller("POST", "/api/links", body, "application/json")
    assert (answer.status_code, answer.get_json()["error"]["code"]) == (400, "invalid_request")


def test_the_links_api_answers_a_right_body(caller):
    answer = caller("POST", "/api/links", '{"ids": ["%s"]}' % MEDIA_ID, "application/json")
    assert answer.status_code == 200
    assert answer.get_json()["errors"][MEDIA_ID]["code"] == "media_not_found"
