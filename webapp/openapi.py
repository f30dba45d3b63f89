"""OpenAPI 3 description of the JSON API, served at /api/openapi.json."""

_ERROR = {"$ref": "#/components/schemas/Error"}


def _error(description: str, codes: list[str]) -> dict:
    return {
        "description": f"{description} (codes: {', '.join(codes)})",
        "content": {"application/json": {"schema": _ERROR}},
    }


_MEDIA_RESPONSE = {
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["media"],
                "properties": {"media": {"$ref": "#/components/schemas/Media"}},
            }
        }
    }
}

SPEC = {
    "openapi": "3.0.3",
    "info": {
        "title": "Mediahub API",
        "version": "1.0.0",
        "description": (
            "Upload straight to S3 with a presigned POST, then confirm. State-changing calls need "
            "the CSRF token from the page's <meta name=\"csrf-token\"> in an X-CSRFToken header, "
            "and the session cookie that came with it."
        ),
    },
    "paths": {
        "/api/uploads": {
            "post": {
                "summary": "Start an upload: get a POST policy for one exact key",
                "operationId": "createUpload",
                "parameters": [{"$ref": "#/components/parameters/CSRF"}],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/UploadRequest"}}},
                },
                "responses": {
                    "201": {
                        "description": "Post the file to `url` with `fields` first and the file last, as `file`.",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/UploadPolicy"}}},
                    },
                    "400": _error("Refused", ["file_too_large", "type_not_allowed", "invalid_request", "csrf_failed"]),
                    "503": _error("Storage unreachable", ["storage_unavailable"]),
                },
            }
        },
        "/api/uploads/{upload_id}/complete": {
            "post": {
                "summary": "Confirm an upload: the server checks the object and records it",
                "operationId": "completeUpload",
                "parameters": [
                    {"name": "upload_id", "in": "path", "required": True, "schema": {"type": "string"}},
                    {"$ref": "#/components/parameters/CSRF"},
                ],
                "responses": {
                    "201": {"description": "Recorded now; `links.manage` is shown this once.", **_MEDIA_RESPONSE},
                    "200": {"description": "Already recorded: the same record.", **_MEDIA_RESPONSE},
                    "400": _error("Refused", ["csrf_failed"]),
                    "403": _error("Started by another session", ["not_your_upload"]),
                    "404": _error("Unknown upload id", ["upload_not_found"]),
                    "409": _error("Nothing uploaded yet", ["upload_missing"]),
                    "422": _error("The object broke a rule and was deleted", ["upload_rejected"]),
                    "503": _error("Storage unreachable", ["storage_unavailable"]),
                },
            }
        },
        "/api/health": {
            "get": {"summary": "Liveness; touches no AWS service", "responses": {"200": {"description": "{\"status\": \"ok\"}"}}}
        },
        "/api/openapi.json": {
            "get": {"summary": "This document", "responses": {"200": {"description": "OpenAPI 3 JSON"}}}
        },
    },
    "components": {
        "parameters": {
            "CSRF": {"name": "X-CSRFToken", "in": "header", "required": True, "schema": {"type": "string"}}
        },
        "schemas": {
            "Error": {
                "type": "object",
                "required": ["error"],
                "properties": {
                    "error": {
                        "type": "object",
                        "required": ["code", "message"],
                        "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
                    }
                },
            },
            "UploadRequest": {
                "type": "object",
                "required": ["filename", "content_type", "size"],
                "properties": {
                    "filename": {"type": "string"},
                    "content_type": {"type": "string", "example": "image/png"},
                    "size": {"type": "integer", "minimum": 1},
                    "name": {"type": "string", "maxLength": 200},
                    "caption": {"type": "string", "maxLength": 500},
                },
            },
            "UploadPolicy": {
                "type": "object",
                "required": ["upload_id", "url", "fields", "expires_at"],
                "properties": {
                    "upload_id": {"type": "string"},
                    "url": {"type": "string", "format": "uri"},
                    "fields": {"type": "object", "additionalProperties": {"type": "string"}},
                    "expires_at": {"type": "string", "format": "date-time"},
                },
            },
            "Media": {
                "type": "object",
                "required": ["id", "filename", "name", "caption", "content_type", "size", "created_at",
                             "expires_at", "download_count", "links"],
                "properties": {
                    "id": {"type": "string"},
                    "filename": {"type": "string"},
                    "name": {"type": "string"},
                    "caption": {"type": "string"},
                    "content_type": {"type": "string"},
                    "size": {"type": "integer"},
                    "created_at": {"type": "string", "format": "date-time"},
                    "expires_at": {"type": "string", "format": "date-time"},
                    "download_count": {"type": "integer"},
                    "links": {
                        "type": "object",
                        "required": ["page"],
                        "properties": {
                            "page": {"type": "string", "format": "uri"},
                            "share": {"type": "string", "format": "uri"},
                            "download": {"type": "string", "format": "uri"},
                            "manage": {"type": "string", "format": "uri"},
                        },
                    },
                },
            },
        },
    },
}
