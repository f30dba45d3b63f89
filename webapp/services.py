"""What the flows need, built once per app and hung on it (``app.extensions``)."""

from __future__ import annotations

import dataclasses
import time
from typing import Callable

from webapp.aws.clients import AwsClients
from webapp.aws.catalog import Catalog
from webapp.config import Settings
from webapp.aws.keystore import load_signing_keys
from webapp.aws.mailer import Mailer
from webapp.aws.signing import CloudFrontLinks, LinkSigner, S3Links
from webapp.aws.storage import Storage
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
    renditions: object | None = None  # webapp.flows.renditions.Jobs: MediaConvert, ffmpeg, or None (off)
    clock: Callable[[], float] = time.time

    def browser_origins(self, *, posts_to_storage: bool) -> set[str]:
        """Origins a page talks to directly: where links are served from, and the bucket's
        origin for a page that posts files (botocore resolves it: the first such page of a
        process loads the SDK; pages that only show links with a CDN do not)."""
        origins = self.links.origins
        return origins | {self.storage.origin} if posts_to_storage else origins

    @classmethod
    def build(cls, settings: Settings, clients: AwsClients | None = None) -> "Services":
        clients = clients or AwsClients(settings)
        storage = Storage(clients.lazy("s3"), settings.bucket)
        return cls(
            settings=settings,
            storage=storage,
            catalog=Catalog(clients.lazy("dynamodb"), settings.table),
            links=link_signer(settings, clients, storage),
            share_tokens=ShareTokens(settings.secret_key),
            upload_tickets=UploadTickets(settings.secret_key),
            mailer=Mailer(clients.lazy("ses"), settings.mail_from) if settings.mail_from else None,
            renditions=rendition_jobs(settings, clients),
        )


def rendition_jobs(settings: Settings, clients: AwsClients):
    """What makes video renditions (``Settings.video_renditions``); None when off."""
    if settings.video_renditions == "mediaconvert":
        from webapp.aws.mediaconvert import MediaConvertJobs

        return MediaConvertJobs(clients.lazy("mediaconvert"))
    if settings.video_renditions == "ffmpeg":
        from webapp.local.transcoder import FfmpegJobs  # local mode only: not in the Lambda package

        return FfmpegJobs(clients.lazy("s3"))
    return None


def link_signer(settings: Settings, clients: AwsClients, storage: Storage) -> LinkSigner:
    """CloudFront when a CDN is configured, else S3 presigned GET."""
    if not settings.cdn_url:
        return S3Links(clients.lazy("s3"), settings.bucket, origin=lambda: storage.origin)
    return CloudFrontLinks(
        settings.cdn_url,
        lambda: load_signing_keys(settings, clients)[-1],  # read once, on the first link
        window_seconds=settings.link_window_seconds,
        bind_ip=settings.bind_links_to_ip,
    )
