"""The upload page's bundle: built by esbuild (frontend/build.mjs) into static/dist/ with
content-hashed names, listed in static/dist/manifest.json, which is read here once.

A hashed name changes whenever the content does, so the files are served with a year-long,
immutable cache lifetime and a deploy never leaves a browser on an old script.
"""

from __future__ import annotations

import functools
import json
import logging
from pathlib import Path

log = logging.getLogger(__name__)

DIST = Path(__file__).resolve().parent.parent / "static" / "dist"
IMMUTABLE = "public, max-age=31536000, immutable"


@functools.cache
def manifest() -> dict[str, str]:
    try:
        return json.loads((DIST / "manifest.json").read_text())
    except FileNotFoundError:
        log.error("static/dist/manifest.json is missing: build the upload page with `node frontend/build.mjs`")
        return {}


def bundled(name: str) -> str | None:
    """The static path of a bundled file (``upload.js`` → ``dist/upload-<hash>.js``), None if not built."""
    hashed = manifest().get(name)
    return f"dist/{hashed}" if hashed else None


def is_bundled_file(path: str) -> bool:
    """Whether a request path names one of the hashed files (never the manifest)."""
    return path.startswith("/static/dist/") and path.endswith((".js", ".css"))
