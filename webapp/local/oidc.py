"""A real OpenID Connect provider on loopback, for local mode and the tests.

Sign-in is tested against the real thing rather than a fake: panva's ``oidc-provider`` (npm,
pinned in package.json, installed by ``npm ci``) runs in a Node child process, started and
stopped from here the way DynamoDB Local is. It serves discovery, JWKS, authorization with
its development login page (any login name signs in, no password is checked) and consent
page, a token endpoint that authenticates the client (client_secret_basic) and requires PKCE
(S256), and signed ID tokens carrying ``email``, ``email_verified``, ``name`` and ``groups``.

The login name is the account: ``sub`` is the name as typed, ``email`` the name lower-cased,
``name`` the part before ``@``, and ``groups`` comes from the ``groups`` map given at start
(``{"admin@example.com": ["mediahub-admins"]}``). It listens on 127.0.0.1 only, keeps
everything in memory, and is killed on :meth:`LocalProvider.stop`, at interpreter exit, and
(through its stdin closing) whenever the Python process that started it goes away.
"""

from __future__ import annotations

import atexit
import collections
import json
import logging
import os
import pathlib
import secrets
import shutil
import subprocess
import threading
import time
import urllib.error
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCRIPT = pathlib.Path(__file__).resolve().with_name("oidc_provider.mjs")
PACKAGE = ROOT / "node_modules" / "oidc-provider" / "package.json"
READY_PREFIX = "READY "
START_TIMEOUT = 30.0

log = logging.getLogger(__name__)
_running: set[LocalProvider] = set()


class LocalProviderError(RuntimeError):
    """The local OpenID Connect provider could not be started."""


class LocalProviderUnavailable(LocalProviderError):
    """Node.js or the npm package ``oidc-provider`` is not installed."""


def missing_requirement() -> str | None:
    """Why the provider cannot run here, or None when Node and the npm package are present."""
    if shutil.which("node") is None:
        return "node is not on PATH; the local OpenID Connect provider needs Node.js (run `make test` or `npm ci`)"
    if not PACKAGE.is_file():
        return (f"the npm package oidc-provider is not installed in {ROOT / 'node_modules'} "
                "(run `make test` or `npm ci`)")
    return None


class LocalProvider:
    """One running provider with one confidential client. Use :meth:`start`, or ``with``."""

    def __init__(self, process: subprocess.Popen, issuer: str, client_id: str, client_secret: str,
                 output: collections.deque[str]):
        self.process = process
        self.issuer = issuer
        self.client_id = client_id
        self.client_secret = client_secret
        self.metadata_url = f"{issuer}/.well-known/openid-configuration"
        self._output = output

    @classmethod
    def start(
        cls,
        *,
        redirect_uris: list[str],
        client_id: str = "mediahub-local",
        client_secret: str | None = None,
        groups: dict[str, list[str]] | None = None,
        post_logout_redirect_uris: list[str] | None = None,
        port: int = 0,
        timeout: float = START_TIMEOUT,
    ) -> LocalProvider:
        """Start the provider and return once its discovery document answers."""
        problem = missing_requirement()
        if problem:
            raise LocalProviderUnavailable(problem)
        if not redirect_uris:
            raise ValueError("redirect_uris must list at least one URL")
        client_secret = client_secret or secrets.token_urlsafe(32)
        config = {
            "port": port,
            "client_id": client_id,
            "client_secret": client_secret,
            "redirect_uris": list(redirect_uris),
            "post_logout_redirect_uris": list(post_logout_redirect_uris or []),
            "groups": {login: list(names) for login, names in (groups or {}).items()},
            "cookie_keys": [secrets.token_hex(32)],
            "exit_with_stdin": True,
        }
        # The configuration (with the client secret) travels in the environment, not argv,
        # so it does not show in process listings.
        env = {**os.environ, "MEDIAHUB_OIDC_PROVIDER_CONFIG": json.dumps(config), "NODE_ENV": "development"}
        process = subprocess.Popen(
            ["node", str(SCRIPT)],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        output: collections.deque[str] = collections.deque(maxlen=40)
        ready: list[str] = []
        got_ready = threading.Event()

        def pump(stream, is_stdout: bool) -> None:
            for line in stream:
                line = line.rstrip("\n")
                if is_stdout and not got_ready.is_set() and line.startswith(READY_PREFIX):
                    ready.append(line[len(READY_PREFIX):].strip())
                    got_ready.set()
                    continue
                output.append(line)
                if line.startswith("oidc_provider "):
                    log.warning("%s", line)
                else:
                    log.debug("%s", line)
            stream.close()

        for stream, is_stdout in ((process.stdout, True), (process.stderr, False)):
            threading.Thread(target=pump, args=(stream, is_stdout), daemon=True,
                             name="oidc-provider-output").start()

        provider = cls(process, "", client_id, client_secret, output)
        _running.add(provider)
        deadline = time.monotonic() + timeout
        try:
            while not got_ready.wait(0.1):
                if process.poll() is not None:
                    raise LocalProviderError(
                        f"the local OpenID Connect provider exited with status {process.returncode} "
                        f"before it was ready{provider._tail()}")
                if time.monotonic() > deadline:
                    raise LocalProviderError(
                        f"the local OpenID Connect provider printed no READY line within {timeout:.0f} s"
                        f"{provider._tail()}")
            provider.issuer = ready[0]
            provider.metadata_url = f"{provider.issuer}/.well-known/openid-configuration"
            provider._wait_for_discovery(deadline)
        except BaseException:
            provider.stop()
            raise
        return provider

    def _wait_for_discovery(self, deadline: float) -> None:
        problem = "no answer"
        while True:
            try:
                with urllib.request.urlopen(self.metadata_url, timeout=2) as response:
                    metadata = json.load(response)
                if metadata.get("issuer") == self.issuer:
                    return
                problem = f"issuer {metadata.get('issuer')!r}, expected {self.issuer!r}"
            except (OSError, ValueError) as error:
                problem = str(error)
            if self.process.poll() is not None:
                raise LocalProviderError(
                    f"the local OpenID Connect provider exited with status {self.process.returncode} "
                    f"while its discovery document was awaited{self._tail()}")
            if time.monotonic() > deadline:
                raise LocalProviderError(
                    f"the local OpenID Connect provider's discovery document {self.metadata_url} did not "
                    f"answer in time ({problem}){self._tail()}")
            time.sleep(0.1)

    def _tail(self) -> str:
        time.sleep(0.1)  # let the output threads catch the last lines
        lines = list(self._output)[-20:]
        return ("; its last output:\n" + "\n".join(lines)) if lines else "; it printed nothing"

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        """Stop the provider (idempotent)."""
        _running.discard(self)
        if self.process.poll() is None:
            try:
                self.process.terminate()
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if self.process.stdin and not self.process.stdin.closed:
            try:
                self.process.stdin.close()
            except OSError:
                pass

    def __enter__(self) -> LocalProvider:
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<LocalProvider {self.issuer or '(starting)'} client_id={self.client_id!r} {state}>"


@atexit.register
def _stop_all() -> None:
    for provider in list(_running):
        provider.stop()
