"""What the flows need, built once per app and hung on it (``app.extensions``)."""

from __future__ import annotations

import dataclasses
import functools
import time
from typing import Callable

from webapp.aws import AwsClients, storage_origins
from webapp.catalog import Catalog
from webapp.config import Settings
from webapp.keystore import load_signing_keys
from webapp.mailer import Mailer
from webapp.signing import CloudFrontLinks, LinkSigner, S3Links
from webapp.storage import Storage
from webapp.tokens import ShareTokens, UploadTickets


@dataclasses.dataclass
class Services:
    settings: Settings
    storage: Storage
    catalog: Catalog
    links: LinkSigner
    share_tokens: ShareTokens
    upload_tickets: UploadTickets
    mailer: Mailer | None = None
    clock: Callable[[], float] = time.time

    @functools.cached_property
    def browser_origins(self) -> set[str]:
        """Origins the site's pages talk to directly: where files are posted and served from."""
        return storage_origins(self.settings) | self.links.origins

    @classmethod
    def build(cls, settings: Settings, clients: AwsClients | None = None) -> "Services":
        clients = clients or AwsClients(settings)
        return cls(
            settings=settings,
            storage=Storage(clients.lazy("s3"), settings.bucket, region=settings.region,
                            credentials=clients.credentials, reader=clients.lazy("lean_s3")),
            catalog=Catalog(clients.lazy("dynamodb"), settings.table, writer=clients.lazy("lean_dynamodb")),
            links=link_signer(settings, clients),
            share_tokens=ShareTokens(settings.secret_key),
            upload_tickets=UploadTickets(settings.secret_key),
            mailer=Mailer(clients.lazy("ses"), settings.mail_from) if settings.mail_from else None,
        )


def link_signer(settings: Settings, clients: AwsClients) -> LinkSigner:
    """CloudFront when a CDN is configured, else S3 presigned GET."""
    if not settings.cdn_url:
        return S3Links(clients.lazy("s3"), settings.bucket, origins=storage_origins(settings))
    return CloudFrontLinks(
        settings.cdn_url,
        lambda: load_signing_keys(settings, clients)[-1],  # read once, on the first link
        window_seconds=settings.link_window_seconds,
        bind_ip=settings.bind_links_to_ip,
    )
