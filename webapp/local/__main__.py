"""``python -m webapp.local``: the site in local mode on 127.0.0.1 (``PORT``, default 5000)."""

import logging
import os

from werkzeug.serving import run_simple

from webapp import create_app
from webapp.config import ConfigError, Settings


def start_local_sign_in(env=os.environ):
    """Local mode with signed-in uploaders and no provider configured: start a real OpenID
    Connect provider on loopback (webapp.local.oidc) and point the settings at it."""
    if "signed-in" not in env.get("MEDIAHUB_UPLOADERS", "").lower():
        return None
    if env.get("MEDIAHUB_BUCKET", "").strip() or env.get("MEDIAHUB_OIDC_ISSUER", "").strip():
        return None
    from webapp.local.oidc import LocalProvider, LocalProviderError

    port = env.get("PORT", "").strip() or "5000"
    admins = [login.strip() for login in env.get("MEDIAHUB_LOCAL_ADMINS", "").split(",") if login.strip()]
    try:
        provider = LocalProvider.start(
            redirect_uris=[f"http://127.0.0.1:{port}/signin/callback", f"http://localhost:{port}/signin/callback"],
            post_logout_redirect_uris=[f"http://127.0.0.1:{port}/", f"http://localhost:{port}/"],
            groups={login: ["mediahub-admins"] for login in admins},
        )
    except LocalProviderError as error:
        raise SystemExit(f"Local sign-in provider: {error}")
    env["MEDIAHUB_OIDC_ISSUER"] = provider.issuer
    env["MEDIAHUB_OIDC_CLIENT_ID"] = provider.client_id
    env["MEDIAHUB_OIDC_CLIENT_SECRET"] = provider.client_secret
    admin_note = f"; administrators: {', '.join(admins)}" if admins else ""
    print(f"Local OpenID Connect provider on {provider.issuer}: any address signs in there "
          f"(no password is checked){admin_note}.", flush=True)
    return provider


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    provider = start_local_sign_in()
    try:
        settings = Settings.from_env()
    except ConfigError as error:
        raise SystemExit(f"Configuration error: {error}")
    app = create_app(settings)
    mode = "local mode (in-memory AWS stand-ins)" if settings.local_mode else f"bucket {settings.bucket}"
    print(f"Mediahub on http://127.0.0.1:{settings.port} — {mode}. Stop with Ctrl-C.", flush=True)
    try:
        run_simple("127.0.0.1", settings.port, app, threaded=True)
    finally:
        if provider is not None:
            provider.stop()


if __name__ == "__main__":
    main()
