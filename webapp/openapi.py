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
                        "description": (
                            "`method: post`: post the file to `url` with `fields` first and the file last, as "
                            "`file`. `method: multipart` (files above the multipart threshold): cut the file into "
                            "`part_count` parts of `part_size` bytes (the last holds the rest), sign them with "
                            "`POST /api/uploads/{upload_id}/parts`, PUT each to its URL, then complete."
                        ),
                        "content": {"application/json": {"schema": {"oneOf": [
                            {"$ref": "#/components/schemas/UploadPolicy"},
                            {"$ref": "#/components/schemas/MultipartPlan"},
                        ]}}},
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
                    "409": _error("Nothing uploaded yet, or parts still missing", ["upload_missing"]),
                    "422": _error("The object broke a rule and was deleted", ["upload_rejected"]),
                    "503": _error("Storage unreachable", ["storage_unavailable"]),
                },
            }
        },
        "/api/uploads/{upload_id}/parts": {
            "parameters": [{"name": "upload_id", "in": "path", "required": True, "schema": {"type": "string"}}],
            "post": {
                "summary": "Sign a batch of part URLs, just in time",
                "description": (
                    "Each URL signs the part's exact Content-Length and the checksum sent here (base64 of the "
                    "digest, in the upload's `checksum_algorithm`); send the body with the returned `headers`. "
                    "URLs expire in minutes: ask again for a retry."
                ),
                "operationId": "signParts",
                "parameters": [{"$ref": "#/components/parameters/CSRF"}],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PartBatch"}}},
                },
                "responses": {
                    "200": {"description": "Signed part URLs",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/SignedParts"}}}},
                    "400": _error("Refused", ["invalid_request", "csrf_failed"]),
                    "403": _error("Started by another session", ["not_your_upload"]),
                    "404": _error("Unknown upload id", ["upload_not_found"]),
                },
            },
            "get": {
                "summary": "The parts storage already holds, to resume",
                "operationId": "listParts",
                "responses": {
                    "200": {"description": "Parts held",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/HeldParts"}}}},
                    "403": _error("Started by another session", ["not_your_upload"]),
                    "404": _error("Unknown, completed or cancelled upload", ["upload_not_found"]),
                    "503": _error("Storage unreachable", ["storage_unavailable"]),
                },
            },
        },
        "/api/uploads/{upload_id}": {
            "delete": {
                "summary": "Cancel a multipart upload: storage drops every part",
                "operationId": "abortUpload",
                "parameters": [
                    {"name": "upload_id", "in": "path", "required": True, "schema": {"type": "string"}},
                    {"$ref": "#/components/parameters/CSRF"},
                ],
                "responses": {
                    "204": {"description": "Nothing is left"},
                    "400": _error("Refused", ["csrf_failed"]),
                    "403": _error("Started by another session", ["not_your_upload"]),
                    "404": _error("Unknown upload id", ["upload_not_found"]),
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
                    "checksum_algorithm": {"type": "string", "enum": ["SHA256", "CRC32"],
                                           "description": "for multipart uploads; SHA256 by default"},
                },
            },
            "UploadPolicy": {
                "type": "object",
                "required": ["upload_id", "method", "url", "fields", "expires_at"],
                "properties": {
                    "upload_id": {"type": "string"},
                    "method": {"type": "string", "enum": ["post"]},
                    "url": {"type": "string", "format": "uri"},
                    "fields": {"type": "object", "additionalProperties": {"type": "string"}},
                    "expires_at": {"type": "string", "format": "date-time"},
                },
            },
            "MultipartPlan": {
                "type": "object",
                "required": ["upload_id", "method", "key", "part_size", "part_count", "checksum_algorithm"],
                "properties": {
                    "upload_id": {"type": "string"},
                    "method": {"type": "string", "enum": ["multipart"]},
                    "key": {"type": "string"},
                    "part_size": {"type": "integer", "minimum": 1},
                    "part_count": {"type": "integer", "minimum": 1, "maximum": 10000},
                    "checksum_algorithm": {"type": "string", "enum": ["SHA256", "CRC32"]},
                },
            },
            "PartBatch": {
                "type": "object",
                "required": ["parts"],
                "properties": {
                    "parts": {
                        "type": "array", "minItems": 1, "maxItems": 100,
                        "items": {
                            "type": "object",
                            "required": ["number", "checksum"],
                            "properties": {"number": {"type": "integer", "minimum": 1, "maximum": 10000},
                                           "checksum": {"type": "string"}},
                        },
                    }
                },
            },
            "SignedParts": {
                "type": "object",
                "required": ["parts", "expires_at"],
                "properties": {
                    "parts": {"type": "array", "items": {
                        "type": "object",
                        "required": ["number", "url", "size", "headers"],
                        "properties": {
                            "number": {"type": "integer"},
                            "url": {"type": "string", "format": "uri"},
                            "size": {"type": "integer"},
                            "headers": {"type": "object", "additionalProperties": {"type": "string"}},
                        },
                    }},
                    "expires_at": {"type": "string", "format": "date-time"},
                },
            },
            "HeldParts": {
                "type": "object",
                "required": ["parts", "part_size", "part_count"],
                "properties": {
                    "parts": {"type": "array", "items": {
                        "type": "object",
                        "required": ["number", "size", "etag"],
                        "properties": {"number": {"type": "integer"}, "size": {"type": "integer"},
                                       "etag": {"type": "string"}},
                    }},
                    "part_size": {"type": "integer"},
                    "part_count": {"type": "integer"},
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
