"""``python -m webapp.local``: the site in local mode on 127.0.0.1 (``PORT``, default 5000)."""

import logging

from werkzeug.serving import run_simple

from webapp import create_app
from webapp.config import ConfigError, Settings


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        settings = Settings.from_env()
    except ConfigError as error:
        raise SystemExit(f"Configuration error: {error}")
    app = create_app(settings)
    mode = "local mode (in-memory AWS stand-ins)" if settings.local_mode else f"bucket {settings.bucket}"
    print(f"Mediahub on http://127.0.0.1:{settings.port} — {mode}. Stop with Ctrl-C.", flush=True)
    run_simple("127.0.0.1", settings.port, app, threaded=True)


if __name__ == "__main__":
    main()
