"""A cold start loads the AWS SDK and crypto only when a request needs them: that is most of its cost.

The upload page needs botocore (its Content-Security-Policy names the bucket's origin as
botocore addresses it); a share or error page with a CDN needs neither.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json, sys
import wsgi
status = wsgi.app.test_client().get(sys.argv[1]).status_code
print(json.dumps({"status": status, "loaded": [m for m in ("boto3", "botocore.session", "botocore.client",
                                                          "cryptography.hazmat.primitives.asymmetric.rsa")
                                               if m in sys.modules]}))
"""


def first_page(path: str) -> dict:
    env = {
        "PATH": os.environ["PATH"], "PYTHONPATH": str(ROOT),
        "MEDIAHUB_BUCKET": "media", "MEDIAHUB_SECRET_KEY": "k" * 40, "MEDIAHUB_UPLOADERS": "anyone",
        "MEDIAHUB_CDN_URL": "https://d111111abcdef8.cloudfront.net", "MEDIAHUB_CLOUDFRONT_KEYS_SECRET": "keys",
        "MEDIAHUB_MAIL_FROM": "Mediahub <noreply@media.example.com>",
        "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "example",
    }
    ran = subprocess.run([sys.executable, "-c", PROBE, path], env=env, cwd=ROOT, capture_output=True, text=True,
                         timeout=60)
    assert ran.returncode == 0, ran.stderr
    return json.loads(ran.stdout.strip().splitlines()[-1])


def test_a_share_page_needs_no_aws_sdk_and_no_crypto():
    assert first_page("/s/not-a-real-token") == {"status": 404, "loaded": []}


def test_the_upload_page_needs_botocore_for_its_policy_origin_but_no_crypto():
    result = first_page("/")
    assert result["status"] == 200
    assert "botocore.client" in result["loaded"]
    assert "cryptography.hazmat.primitives.asymmetric.rsa" not in result["loaded"]
