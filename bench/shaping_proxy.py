"""A TCP relay on loopback in front of the storage stand-in, for the upload benchmarks.

Connections that come from a browser (their first request carries an ``Origin`` header) are
the link under test: their bytes toward storage (or, with ``download=True``, from it) are
counted and can be rate-limited (a token bucket shared by all of them), and ``cut(seconds)`` drops them all and refuses new ones for that
long, as a dropped Wi-Fi does. The app's own calls to storage pass untouched.
"""

from __future__ import annotations

import socket
import threading
import time

CHUNK = 16 * 1024


class ShapingProxy:
    def __init__(self, upstream_port: int, rate: float | None = None, download: bool = False):
        self.upstream = ("127.0.0.1", upstream_port)
        self.rate = rate
        self.download = download
        self.sent = 0
        self.first_byte: float | None = None
        self.last_byte: float | None = None
        self._cutting = threading.Event()
        self._lock = threading.Lock()
        self._browser_sockets: set[socket.socket] = set()
        self._allowance = 0.0
        self._checked = time.monotonic()
        self._server = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._server.getsockname()[1]}"

    def start(self) -> "ShapingProxy":
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def stop(self) -> None:
        self._server.close()

    def reset(self) -> None:
        with self._lock:
            self.sent, self.first_byte, self.last_byte = 0, None, None

    def cut(self, seconds: float) -> None:
        """Drop every browser connection and refuse new ones for ``seconds``."""
        self._cutting.set()
        with self._lock:
            for sock in list(self._browser_sockets):
                _close(sock)
        time.sleep(seconds)
        self._cutting.clear()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            threading.Thread(target=self._relay, args=(client,), daemon=True).start()

    def _relay(self, client: socket.socket) -> None:
        head = b""
        try:
            while b"\r\n\r\n" not in head and len(head) < 65536:
                data = client.recv(CHUNK)
                if not data:
                    break
                head += data
        except OSError:
            _close(client)
            return
        browser = b"\r\norigin:" in head.lower()
        if browser and self._cutting.is_set():
            _close(client)
            return
        try:
            upstream = socket.create_connection(self.upstream)
        except OSError:
            _close(client)
            return
        if browser:
            with self._lock:
                self._browser_sockets.update((client, upstream))
        pair = (client, upstream)
        threading.Thread(target=self._pump, args=(upstream, client, browser and self.download, pair),
                         daemon=True).start()
        self._pump(client, upstream, browser and not self.download, pair, first=head)

    def _pump(self, source, target, counted: bool, pair, first: bytes = b"") -> None:
        try:
            data = first
            while True:
                if data:
                    if counted:
                        self._spend(len(data))
                    target.sendall(data)
                data = source.recv(CHUNK)
                if not data:
                    break
        except OSError:
            pass
        finally:
            for sock in pair:
                _close(sock)
            with self._lock:
                self._browser_sockets.difference_update(pair)

    def _spend(self, size: int) -> None:
        """Count the bytes, waiting first if the link's rate does not allow them yet."""
        while self.rate:
            with self._lock:
                now = time.monotonic()
                self._allowance = min(self.rate / 4, self._allowance + (now - self._checked) * self.rate)
                self._checked = now
                if self._allowance >= size:
                    self._allowance -= size
                    break
                wait = (size - self._allowance) / self.rate
            time.sleep(wait)
        with self._lock:
            now = time.monotonic()
            self.sent += size
            self.first_byte = self.first_byte or now
            self.last_byte = now


def _close(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()
