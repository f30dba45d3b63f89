"""moto's server on loopback for the deploy rehearsal, in a process of its own.

    python tests/deploy/rehearsal_moto.py   (prints ``port <n>`` once it listens)

Two of moto's own faults are corrected here, since each would stop the rehearsal at a step AWS
runs:

- updating a stack whose ``AWS::S3::Bucket`` has tags but no ``BucketName`` raises
  ``KeyError: 'BucketName'`` in moto (it reads the name from the properties instead of the
  bucket it updates) and answers 500: the correction tags the bucket moto already has;
- moto has no ``ListFunctionUrlConfigs`` (``zappa update`` calls it to remove a function URL
  the settings no longer ask for) and answers 404: the correction lists the one URL config
  moto keeps per function.
"""

from __future__ import annotations

import json
import re
import sys
import time
from urllib.parse import unquote


def fix_bucket_update() -> None:
    from moto.s3.models import FakeBucket

    original = FakeBucket.update_from_cloudformation_json.__func__

    def update(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name):
        properties = cloudformation_json.get("Properties", {})
        if "Tags" in properties and "BucketName" not in properties:
            cloudformation_json = {**cloudformation_json,
                                   "Properties": {**properties, "BucketName": original_resource.name}}
        return original(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name)

    FakeBucket.update_from_cloudformation_json = classmethod(update)


def add_list_function_url_configs() -> None:
    from moto.awslambda import urls
    from moto.awslambda.models import lambda_backends
    from moto.core import DEFAULT_ACCOUNT_ID

    def list_function_url_configs(request, full_url, headers):
        name = unquote(re.search(r"/functions/([^/]+)/urls", full_url).group(1))
        scope = re.search(r"Credential=[^/]+/\d+/([^/]+)/", request.headers.get("Authorization", ""))
        backend = lambda_backends[DEFAULT_ACCOUNT_ID][scope.group(1) if scope else "us-east-1"]
        try:
            configs = [backend.get_function_url_config(name).to_dict()]
        except Exception:  # moto raises its own not-found errors here
            configs = []
        return 200, {"Content-Type": "application/json"}, json.dumps({"FunctionUrlConfigs": configs})

    urls.url_paths[r"{0}/(?P<api_version>[^/]+)/functions/(?P<function_name>[\w_:%-]+)/urls/?$"] = \
        list_function_url_configs


def main() -> None:
    from moto.server import ThreadedMotoServer

    fix_bucket_update()
    add_list_function_url_configs()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    print(f"port {server.get_host_and_port()[1]}", flush=True)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    sys.exit(main())
