"""moto's server on a loopback port, started once per process."""

from __future__ import annotations

import logging
import secrets
import socket
import threading

_lock = threading.Lock()
_endpoint: str | None = None
_signing_key = None
_cdns: dict = {}


def free_loopback_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_moto_server(port: int | None = None):
    """Start moto's server on 127.0.0.1, behind the storage gate (``webapp.local.gate``: it
    refuses what S3 refuses on uploads), and return (server, endpoint URL)."""
    from moto.server import ThreadedMotoServer
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import make_server

    from webapp.local.gate import StorageGate
    from webapp.local.moto_fixes import serialise_dynamodb

    class GatedMotoServer(ThreadedMotoServer):
        """moto's threaded server with its application wrapped in the gate."""

        def _server_entry(self) -> None:
            app = StorageGate(DomainDispatcherApplication(create_backend_app))
            self._server = make_server(self._ip_address, self._port, app, True, request_handler=MotoRequestHandler)
            self._server_ready_event.set()
            self._server.serve_forever()

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    serialise_dynamodb()
    server = GatedMotoServer(ip_address="127.0.0.1", port=port or 0, verbose=False)
    server.start()
    host, bound = server.get_host_and_port()
    return server, f"http://{host}:{bound}"


def local_signing_key():
    """One CloudFront key pair per process, made at start, like a freshly provisioned key."""
    global _signing_key
    with _lock:
        if _signing_key is None:
            from webapp.aws.signing import new_signing_key

            _signing_key = new_signing_key("LOCAL" + secrets.token_hex(6).upper())
        return _signing_key


def with_local_cdn(settings):
    """Settings pointing at a local CloudFront stand-in that trusts this process's key."""
    from webapp.aws.clients import AwsClients
    from webapp.local.cdn import LocalCdn
    from webapp.aws.signing import signing_keys_document

    key = local_signing_key()
    origin = (settings.aws_endpoint_url, settings.bucket)
    with _lock:
        cdn = _cdns.get(origin)
        if cdn is None:
            cdn = LocalCdn(AwsClients(settings).s3, settings.bucket)
            cdn.start()
            _cdns[origin] = cdn
    cdn.trust(key.key_id, key.public_key)
    cdn.allow_origin(settings.site_url)
    return settings.with_overrides(cdn_url=cdn.base_url, cloudfront_keys=signing_keys_document([key]))


def local_endpoint() -> str:
    """The endpoint of this process's embedded AWS stand-in, started on first call."""
    global _endpoint
    with _lock:
        if _endpoint is None:
            _server, _endpoint = start_moto_server()
        return _endpoint
