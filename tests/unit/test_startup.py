"""A cold start that serves a page loads no AWS SDK and no crypto: that is most of its cost."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json, sys
import wsgi
status = wsgi.app.test_client().get("/").status_code
print(json.dumps({"status": status, "loaded": [m for m in ("boto3", "botocore.session", "botocore.client",
                                                          "cryptography.hazmat.primitives.asymmetric.rsa")
                                               if m in sys.modules]}))
"""


def test_first_page_needs_no_aws_sdk():
    env = {
        "PATH": os.environ["PATH"], "PYTHONPATH": str(ROOT),
        "MEDIAHUB_BUCKET": "media", "MEDIAHUB_SECRET_KEY": "k" * 40,
        "MEDIAHUB_CDN_URL": "https://d111111abcdef8.cloudfront.net", "MEDIAHUB_CLOUDFRONT_KEYS_SECRET": "keys",
        "MEDIAHUB_MAIL_FROM": "Mediahub <noreply@media.example.com>",
    }
    ran = subprocess.run([sys.executable, "-c", PROBE], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert ran.returncode == 0, ran.stderr
    result = json.loads(ran.stdout.strip().splitlines()[-1])
    assert result == {"status": 200, "loaded": []}
