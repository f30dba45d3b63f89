"""Mediahub: direct-to-S3 uploads with signed, expiring delivery."""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import threading

from flask import Flask, current_app, request
from flask.sessions import SecureCookieSessionInterface

from webapp.config import Settings
from webapp.extensions import csrf
from webapp.services import Services

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, services: Services | None = None) -> Flask:
    settings = settings or Settings.from_env()
    settings = register_local_mode(settings)
    app = Flask(__name__, template_folder="../templates", static_folder="../static")
    register_config(app, settings)
    register_extensions(app)
    register_services(app, settings, services)
    register_secrets(app, rebuild_services=services is None)
    register_blueprints(app)
    register_error_handlers(app)
    register_response_headers(app)
    register_template_helpers(app)
    register_commands(app)
    return app


def register_local_mode(settings: Settings) -> Settings:
    """With no AWS settings, start the embedded stand-ins: AWS, the bucket and table, and a CDN."""
    if not settings.local_mode:
        return settings
    from webapp.local import stack

    if not settings.aws_endpoint_url:
        settings = settings.with_overrides(aws_endpoint_url=stack.local_endpoint())
        prepare_local_resources(settings)
    if settings.local_cdn and not settings.cdn_url:
        settings = stack.with_local_cdn(settings)
    return settings


SECRET_FIELDS = (("secret_key", "secret_key_secret"), ("oidc_client_secret", "oidc_client_secret_secret"))


def pending_secrets(settings: Settings) -> list[tuple[str, str]]:
    """The secrets named in the environment (Secrets Manager or SSM) whose values are not read yet."""
    return [(field, source) for field, source in SECRET_FIELDS
            if getattr(settings, source) and not getattr(settings, field)]


class SecretsOnFirstUse:
    """Reads the secrets named in the environment on first use, never at start.

    Read at start, one slow answer from Secrets Manager failed the import of the Lambda handler
    (API Gateway's bare 502), and Zappa kept the failed app for the life of the container: every
    later request answered 500 even once AWS was back. Here the start needs no AWS call; each
    request (and each event) first makes sure the secrets are read. A read that fails is bounded
    by the clients' timeouts and attempts (``webapp/aws/clients.py``) and answers ``503
    storage_unavailable``; the next request simply tries again. Until then the app signs nothing:
    the session is neither read nor saved, and the secret key is a throwaway.
    """

    def __init__(self, app: Flask, rebuild_services: bool):
        self.app = app
        self.rebuild_services = rebuild_services
        self._lock = threading.Lock()
        self.ready = not pending_secrets(app.config["MEDIAHUB"])

    def ensure(self) -> None:
        """Read what is still missing; raises botocore's errors when AWS does not answer."""
        if self.ready:
            return
        with self._lock:
            if self.ready:
                return
            from webapp.aws.clients import AwsClients
            from webapp.aws.keystore import read_secret
            from webapp.config import ConfigError

            settings = self.app.config["MEDIAHUB"]
            clients = AwsClients(settings)
            values = {}
            for field, source in pending_secrets(settings):
                # AWS's own errors go up as they are: the app answers them 503 storage_unavailable.
                values[field] = read_secret(clients, getattr(settings, source))
                if values[field] is None:
                    raise ConfigError(f"the secret {getattr(settings, source)} does not exist")
            settings = settings.with_overrides(**values)
            self.app.config.update(MEDIAHUB=settings, SECRET_KEY=settings.secret_key)
            if self.rebuild_services:
                self.app.extensions["mediahub"] = Services.build(settings, clients)
            if "oidc_client_secret" in values:
                from webapp import identity

                identity.init_app(self.app)  # the provider's client, now with its secret
            self.ready = True

    def wsgi(self, wsgi_app):
        """Runs before Flask opens the session, so a request after a successful read has it."""

        def app(environ, start_response):
            try:
                self.ensure()
            except Exception as error:  # answered by the app's error handlers (before_request)
                environ["mediahub.secrets_error"] = error
            return wsgi_app(environ, start_response)

        return app


class SessionAfterSecrets(SecureCookieSessionInterface):
    """No session is read from or saved to a cookie until the secret key has been read."""

    def open_session(self, app: Flask, request):
        if not app.extensions["mediahub.secrets"].ready:
            session = self.session_class()
            session.unsaved = True
            return session
        return super().open_session(app, request)

    def save_session(self, app: Flask, session, response) -> None:
        if getattr(session, "unsaved", False):
            return
        super().save_session(app, session, response)


def register_secrets(app: Flask, *, rebuild_services: bool = True) -> None:
    loader = SecretsOnFirstUse(app, rebuild_services)
    app.extensions["mediahub.secrets"] = loader
    if loader.ready:
        return
    # A throwaway until the real key is read: the 503 page's form token is signed with it, and
    # no session is saved meanwhile (SessionAfterSecrets).
    app.config["SECRET_KEY"] = secrets.token_urlsafe(32)
    app.session_interface = SessionAfterSecrets()
    app.wsgi_app = loader.wsgi(app.wsgi_app)

    def secrets_unavailable():
        error = request.environ.get("mediahub.secrets_error")
        if error is not None:
            raise error

    app.before_request_funcs.setdefault(None, []).insert(0, secrets_unavailable)


def ready_services(app: Flask) -> Services:
    """The app's services once its secrets are read (events call this; requests have it)."""
    app.extensions["mediahub.secrets"].ensure()
    return app.extensions["mediahub"]


def prepare_local_resources(settings: Settings) -> None:
    from webapp.aws.clients import AwsClients
    from webapp.local import resources

    clients = AwsClients(settings)
    lines = resources.ensure_bucket(
        clients.s3, settings.bucket, region=settings.region,
        cors_origins=resources.loopback_origins(settings.port) + ([settings.site_url] if settings.site_url else []),
    )
    lines += resources.ensure_table(clients.dynamodb, settings.table)
    if settings.mail_from:
        lines += resources.ensure_sender(clients.ses, settings.mail_from)
    for line in lines:
        log.info(line)


def register_config(app: Flask, settings: Settings) -> None:
    secure = bool(settings.site_url and settings.site_url.startswith("https://"))
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MEDIAHUB=settings,
        # File bytes never come through the app; anything large is a mistake or an attack.
        MAX_CONTENT_LENGTH=256 * 1024,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure,
        SESSION_COOKIE_NAME="mediahub_session",
        PERMANENT_SESSION_LIFETIME=dt.timedelta(days=settings.retention_days),
        # The session only names the uploader and holds the CSRF secret: set once, it need
        # not be signed again on every request.
        SESSION_REFRESH_EACH_REQUEST=False,
        WTF_CSRF_TIME_LIMIT=None,
        WTF_CSRF_SSL_STRICT=secure,
    )


def register_extensions(app: Flask) -> None:
    from webapp import identity, logs

    csrf.init_app(app)
    identity.init_app(app)
    logs.setup(metrics=app.config["MEDIAHUB"].metrics)
    logs.register(app)


def register_services(app: Flask, settings: Settings, services: Services | None) -> None:
    app.extensions["mediahub"] = services or Services.build(settings)


def services() -> Services:
    return current_app.extensions["mediahub"]


def register_blueprints(app: Flask) -> None:
    from webapp.account.routes import bp as account_bp
    from webapp.admin.routes import bp as admin_bp
    from webapp.embed.routes import bp as embed_bp
    from webapp.media.routes import bp as media_bp
    from webapp.sharing.routes import bp as sharing_bp
    from webapp.uploads.routes import bp as uploads_bp

    app.register_blueprint(uploads_bp)
    app.register_blueprint(media_bp)
    app.register_blueprint(sharing_bp)
    app.register_blueprint(embed_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(account_bp)
    if app.config["MEDIAHUB"].local_mode:
        from webapp.local.outbox import bp as outbox_bp

        app.register_blueprint(outbox_bp)


def register_error_handlers(app: Flask) -> None:
    from webapp.errors import register

    register(app)


def register_response_headers(app: Flask) -> None:
    from webapp.errors import security_headers

    app.after_request(security_headers)


def register_commands(app: Flask) -> None:
    from webapp.cli import iam_policy_command

    app.cli.add_command(iam_policy_command)


def register_template_helpers(app: Flask) -> None:
    from webapp import access, presenters, rules, templating

    templating.use_packaged(app)
    app.jinja_env.filters["human_size"] = rules.human_size
    app.jinja_env.filters["time_tag"] = presenters.time_tag
    app.jinja_env.filters["qr_svg"] = presenters.qr_svg
    app.jinja_env.globals["viewer_states"] = access.VIEWER_STATES  # what lists say for webapp.access's codes

    @app.context_processor
    def site_context():
        from webapp.pages import signed_in

        return {"settings": app.config["MEDIAHUB"], "person": signed_in(services())}
