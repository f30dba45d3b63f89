"""The admin area's decisions: sign-in (with its lockout), listing pages in four orders,
delete, withdraw and lifting a withdrawal."""

from __future__ import annotations

import functools
import hmac
import secrets

from itsdangerous import BadSignature, URLSafeSerializer
from werkzeug.security import check_password_hash, generate_password_hash

from webapp import access, limits
from webapp.flows import delivery, ownership, scanning, shares
from webapp.dates import iso, recent_months
from webapp.rules import Refusal
from webapp.services import Services

PAGE_SIZE = 20
ADMIN_VIEWER = access.Viewer(admin=True)
MONTHS_LISTED = 24
# The orders of the list. Newest and oldest page through the month index itself (a cursor per
# page); by name or size, the newest SORTED_AT_MOST live items are read from the same index
# (Queries, never a Scan) and sorted, and a page is an offset into that order.
ORDERS = {"newest": "Newest first", "oldest": "Oldest first", "name": "Name (A to Z)", "size": "Largest first"}
SORTED_AT_MOST = 1000


@functools.cache
def _dummy_hash() -> str:
    """Checked against when the user name is wrong, so both failures take the same time."""
    return generate_password_hash(secrets.token_urlsafe(16))


def enabled(svc: Services) -> bool:
    return bool(svc.settings.admin_user and svc.settings.admin_password_hash)


def by_group(svc: Services) -> bool:
    """The admin area may also come with the sign-in provider's group claim (MEDIAHUB_ADMIN_GROUP)."""
    return bool(svc.settings.sign_in_on and svc.settings.admin_group)


def session_is_admin(value, now: float) -> bool:
    """The session's admin mark: True after the password sign-in; after a sign-in with the
    provider's admin group, the time that sign-in stops counting."""
    return value is True or (type(value) is int and value > now)


def credentials_match(svc: Services, username: str, password: str) -> bool:
    settings = svc.settings
    if not enabled(svc):
        return False
    user_ok = hmac.compare_digest(username.encode(), settings.admin_user.encode())
    password_ok = check_password_hash(settings.admin_password_hash if user_ok else _dummy_hash(), password)
    return user_ok and password_ok


def sign_in(svc: Services, username: str, password: str, client: str) -> bool:
    """Check a sign-in, throttled per account named and per client (``client``: an identity).

    Each attempt is counted in DynamoDB before the password is checked, so the limit holds
    across instances and against parallel guesses. After ``admin_signin_attempts`` wrong
    passwords in a row the next attempt is refused (429) without checking the password, for
    ``admin_lock_seconds``; then one attempt per lock period, until one succeeds and clears
    both counters.
    """
    settings = svc.settings
    now = int(svc.clock())
    account, client_key = limits.signin_keys(settings.secret_key, username, client)
    counted = []
    for key in (account, client_key):
        if not svc.catalog.begin_signin(key, now, allowed=settings.admin_signin_attempts,
                                        lock_seconds=settings.admin_lock_seconds):
            for earlier in counted:
                svc.catalog.undo_signin(earlier)
            last = svc.catalog.counter(key).get("last_at", now)
            raise limits.signin_locked(last + settings.admin_lock_seconds - now)
        counted.append(key)
    if not credentials_match(svc, username, password):
        return False
    for key in counted:
        svc.catalog.forget_signin_failures(key)
    return True


def _cursors(svc: Services) -> URLSafeSerializer:
    return URLSafeSerializer(svc.settings.secret_key, salt="mediahub.admin.cursor")


def listing(svc: Services, cursor_token: str | None, search: str | None, order: str = "newest",
            client_ip: str | None = None) -> tuple[list[dict], str | None]:
    """A page of items in ``order`` (``ORDERS``), each with a thumbnail link when it has one."""
    if order not in ORDERS:
        raise Refusal("invalid_request", f"Sort by one of: {', '.join(ORDERS)}.")
    cursor = None
    if cursor_token:
        try:
            cursor = _cursors(svc).loads(cursor_token)
        except BadSignature:
            raise Refusal("invalid_request", "That page link is damaged; start from the first page.") from None
        if not isinstance(cursor, dict) or cursor.get("order", "newest") != order:
            raise Refusal("invalid_request", "That page link belongs to another order; start from the first page.")
    now = svc.clock()
    search = (search or "").strip()[:100] or None
    months = recent_months(now, MONTHS_LISTED)
    if order in ("newest", "oldest"):
        items, next_cursor = svc.catalog.page(
            months=months if order == "newest" else months[::-1], cursor=cursor, size=PAGE_SIZE, now=int(now),
            search=search, newest_first=order == "newest")
        next_cursor = {**next_cursor, "order": order} if next_cursor else None
    else:
        items, next_cursor = _sorted_page(svc, months, order, int((cursor or {}).get("offset", 0)), search, int(now))
    listed = access.manageable(items, ADMIN_VIEWER, now=now, scan_mode=scanning.mode(svc))
    for item in listed:
        copy = delivery.thumbnail(item, 320) if item.get("scan") != scanning.INFECTED else None
        item["thumbnail_url"] = (delivery.signed_url(svc, item, now, inline=True, copy=copy, client_ip=client_ip)
                                 if copy else None)
    return listed, _cursors(svc).dumps(next_cursor) if next_cursor else None


def _sorted_page(svc: Services, months: list[str], order: str, offset: int, search: str | None,
                 now: int) -> tuple[list[dict], dict | None]:
    found: list[dict] = []
    cursor = None
    while len(found) < SORTED_AT_MOST:
        items, cursor = svc.catalog.page(months=months, cursor=cursor, size=min(100, SORTED_AT_MOST - len(found)),
                                         now=now, search=search)
        found.extend(items)
        if cursor is None:
            break
    if order == "name":
        found.sort(key=lambda item: ((item.get("name") or item["filename"]).casefold(), item["id"]))
    else:
        found.sort(key=lambda item: (-int(item["size"]), item["id"]))
    page = found[offset:offset + PAGE_SIZE]
    more = offset + PAGE_SIZE < len(found)
    return page, {"order": order, "offset": offset + PAGE_SIZE} if more else None


def delete(svc: Services, media_id: str) -> dict:
    media = ownership.live_media(svc, media_id)
    ownership.delete_media(svc, media)
    return media


def revoke_all(svc: Services, media_id: str) -> int:
    return shares.revoke_all(svc, ownership.live_media(svc, media_id), by=shares.ADMIN)


def lift_withdrawal(svc: Services, media_id: str) -> dict:
    """Lift the administrators' withdrawal: the file is back on the surfaces its settings allow,
    and its owner may share it again. Links withdrawn with it stay withdrawn (their holders were
    told so); the owner makes new ones."""
    media = ownership.live_media(svc, media_id)
    if media.get("withdrawn_by") != shares.ADMIN:
        raise Refusal("not_withdrawn", "This file is not withdrawn by an administrator: there is nothing to lift.", 409)
    svc.catalog.set_fields(media_id, {"withdrawal_lifted_at": iso(svc.clock())},
                           remove=("withdrawn", "withdrawn_by", "withdrawn_at"))
    return media


def original_link(svc: Services, media_id: str, client_ip: str | None) -> str:
    """The file itself, for an administrator reviewing it (not counted as a download)."""
    return ownership.original_link(svc, ownership.live_media(svc, media_id), client_ip)
