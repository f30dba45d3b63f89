"""moto's server on a loopback port, started once per process."""

from __future__ import annotations

import logging
import socket
import threading

_lock = threading.Lock()
_endpoint: str | None = None


def free_loopback_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_moto_server(port: int | None = None):
    """Start moto's server on 127.0.0.1 and return (server, endpoint URL)."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    port = port or free_loopback_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    return server, f"http://127.0.0.1:{port}"


def local_endpoint() -> str:
    """The endpoint of this process's embedded AWS stand-in, started on first call."""
    global _endpoint
    with _lock:
        if _endpoint is None:
            _server, _endpoint = start_moto_server()
        return _endpoint
