"""schemathesis against the generated OpenAPI document: whatever it sends, no 5xx, and no
answer that breaks the document."""

from __future__ import annotations

import hashlib

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.support import CSRF_META

API_KEY = "an-api-key-for-the-schema-tests"


@pytest.fixture
def api_app(make_app):
    return make_app(api_key_hashes=(hashlib.sha256(API_KEY.encode()).hexdigest(),),
                    multipart_threshold=1024, max_upload_bytes=64 * 1024**2)


@pytest.fixture
def api_schema(api_app):
    return schemathesis.openapi.from_wsgi("/api/openapi.json", api_app)


@pytest.fixture
def credentials(api_app):
    """A browser session's cookie and CSRF token, and the API key: so cases reach past the gates."""
    client = api_app.test_client()
    csrf = CSRF_META.search(client.get("/").get_data(as_text=True)).group(1)
    cookie = client.get_cookie("mediahub_session").value
    return {"headers": {"X-CSRFToken": csrf, "Authorization": f"Bearer {API_KEY}"},
            "cookies": {"mediahub_session": cookie}}


def test_api_answers_as_described(api_schema, credentials):
    """Every operation, cases generated from the document, both fitting it and not (negative
    cases send bodies of the wrong shape: strings, lists, numbers where an object belongs);
    hypothesis drives schemathesis directly: its pytest plugin does not run under this pytest."""
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert {op.label for op in operations} >= {
        "POST /api/uploads", "POST /api/uploads/{upload_id}/parts", "GET /api/uploads/{upload_id}/parts",
        "DELETE /api/uploads/{upload_id}", "POST /api/uploads/{upload_id}/complete", "GET /api/media/{media_id}/link",
        "POST /api/links", "GET /api/health"}, [op.label for op in operations]

    with_body = [op for op in operations if len(op.body)]
    assert {op.label for op in with_body} >= {"POST /api/uploads", "POST /api/uploads/{upload_id}/parts", "POST /api/links"}
    cases = [(op, GenerationMode.POSITIVE) for op in operations] + [(op, GenerationMode.NEGATIVE) for op in with_body]
    for operation, mode in cases:
        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def answers_as_described(case):
            headers = {**(case.headers or {}), **credentials["headers"]}
            response = case.call(headers=headers, cookies=credentials["cookies"])
            case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])

        answers_as_described()


def test_document_covers_every_api_route(api_app):
    document = api_app.test_client().get("/api/openapi.json").get_json()
    routes = {rule.rule.replace("<", "{").replace(">", "}") for rule in api_app.url_map.iter_rules()
              if rule.rule.startswith("/api/")}
    assert routes == set(document["paths"])
    assert document["components"]["schemas"]["UploadRequest"]["required"] == ["filename", "size"]
