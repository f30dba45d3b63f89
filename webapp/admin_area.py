"""The admin area's decisions: sign-in, listing pages, delete and revoke."""

from __future__ import annotations

import functools
import hmac
import secrets

from itsdangerous import BadSignature, URLSafeSerializer
from werkzeug.security import check_password_hash, generate_password_hash

from webapp import ownership, shares
from webapp.dates import recent_months
from webapp.rules import Refusal
from webapp.services import Services

PAGE_SIZE = 20
MONTHS_LISTED = 24


@functools.cache
def _dummy_hash() -> str:
    """Checked against when the user name is wrong, so both failures take the same time."""
    return generate_password_hash(secrets.token_urlsafe(16))


def enabled(svc: Services) -> bool:
    return bool(svc.settings.admin_user and svc.settings.admin_password_hash)


def credentials_match(svc: Services, username: str, password: str) -> bool:
    settings = svc.settings
    if not enabled(svc):
        return False
    user_ok = hmac.compare_digest(username.encode(), settings.admin_user.encode())
    password_ok = check_password_hash(settings.admin_password_hash if user_ok else _dummy_hash(), password)
    return user_ok and password_ok


def _cursors(svc: Services) -> URLSafeSerializer:
    return URLSafeSerializer(svc.settings.secret_key, salt="mediahub.admin.cursor")


def listing(svc: Services, cursor_token: str | None, search: str | None) -> tuple[list[dict], str | None]:
    """A page of items newest first (a Query per month on the listing index, never a Scan)."""
    cursor = None
    if cursor_token:
        try:
            cursor = _cursors(svc).loads(cursor_token)
        except BadSignature:
            raise Refusal("invalid_request", "That page link is damaged; start from the first page.") from None
    now = svc.clock()
    items, next_cursor = svc.catalog.page(
        months=recent_months(now, MONTHS_LISTED),
        cursor=cursor,
        size=PAGE_SIZE,
        now=int(now),
        search=(search or "").strip()[:100] or None,
    )
    return items, _cursors(svc).dumps(next_cursor) if next_cursor else None


def delete(svc: Services, media_id: str) -> dict:
    media = ownership.live_media(svc, media_id)
    ownership.delete_media(svc, media)
    return media


def revoke_all(svc: Services, media_id: str) -> int:
    return shares.revoke_all(svc, ownership.live_media(svc, media_id), by=shares.ADMIN)
