"""Quotas, rate limits and sign-in lockout: who is counted, in which window, and what to answer.

Pure rules: plain values in, plain values out. The counters themselves live in DynamoDB
(``webapp/aws/catalog.py``), so a limit holds across every Lambda instance at once.

Windows are fixed and aligned to UTC: an hour for the number of uploads started, a day for
the bytes declared. Both counters of a day sit on one item (the hour's count is the
attribute ``h<hour>``), so one conditional update charges both or neither, and the item's
TTL removes it when the day is over.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import ipaddress
import math
from typing import Mapping

from webapp.rules import Refusal, human_size

HOUR = 3600
DAY = 86400


class Limited(Refusal):
    """A refusal that says when to come back: answered 429 with ``Retry-After``."""

    def __init__(self, code: str, message: str, retry_after: int):
        super().__init__(code, message, 429, retry_after=max(1, int(retry_after)))


def source_address(environ: Mapping) -> str:
    """The address the connection came from, never a header a client can write.

    On Lambda, Zappa builds ``REMOTE_ADDR`` from ``X-Forwarded-For`` (the last-but-one entry),
    which a client can fill in on a regional API; so the address is read from the event
    itself, ``requestContext.identity.sourceIp`` (REST APIs) or
    ``requestContext.http.sourceIp`` (HTTP APIs), which API Gateway sets from the
    connection. Elsewhere (gunicorn, the development server) ``REMOTE_ADDR`` is the peer of
    the socket, as no proxy middleware rewrites it.
    """
    event = environ.get("lambda.event")
    if isinstance(event, Mapping):
        context = event.get("requestContext") or {}
        for holder in (context.get("identity"), context.get("http")):
            if isinstance(holder, Mapping) and holder.get("sourceIp"):
                return str(holder["sourceIp"])
    return str(environ.get("REMOTE_ADDR") or "unknown")


def address_identity(address: str) -> str:
    """The identity of an anonymous client: its IPv4 address, or its IPv6 /64.

    One IPv6 subscriber holds a whole /64 and can pick a new address per request, so the
    network, not the address, is what a limit can hold on to.
    """
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return f"address:{address[:64]}"
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return f"address:{parsed.ipv4_mapped}"
        return f"address:{ipaddress.ip_network(f'{parsed}/64', strict=False)}"
    return f"address:{parsed}"


def identity_key(secret: str, identity: str) -> str:
    """What the table stores for an identity: a keyed hash, so no address is kept in the clear
    (an unkeyed hash of an IPv4 address is undone by trying all 2^32)."""
    return hmac.new(secret.encode(), identity.encode(), hashlib.sha256).hexdigest()[:32]


def window_start(now: float, length: int) -> int:
    return int(now // length * length)


def seconds_left(now: float, length: int) -> int:
    """Seconds until the window holding ``now`` ends (at least 1)."""
    return max(1, math.ceil(window_start(now, length) + length - now))


@dataclasses.dataclass(frozen=True)
class Charge:
    """What one upload takes from an identity's allowance, and where it is counted."""

    identity: str  # the keyed hash
    day: int  # start of the UTC day, epoch seconds
    hour_field: str  # the attribute counting this hour's uploads on the day's item
    size: int
    expires_at: int  # the day's end: the counter item's TTL

    @property
    def counter_pk(self) -> str:
        return f"QUOTA#{self.identity}"

    @property
    def counter_sk(self) -> str:
        return f"DAY#{self.day}"


def upload_charge(identity: str, size: int, now: float) -> Charge:
    day = window_start(now, DAY)
    hour = (window_start(now, HOUR) - day) // HOUR
    return Charge(identity=identity, day=day, hour_field=f"h{hour:02d}", size=size, expires_at=day + DAY)


def refusal_for(counter: Mapping, charge: Charge, *, per_hour: int, bytes_per_day: int, now: float) -> Limited:
    """Why a charge was refused, from the counter as it stands: the hour's count, else the day's bytes."""
    started = int(counter.get(charge.hour_field, 0))
    if per_hour and started >= per_hour:
        wait = seconds_left(now, HOUR)
        return Limited(
            "rate_limited",
            f"You have started {started} uploads this hour, the most allowed. "
            f"Try again in {_duration(wait)}.",
            wait,
        )
    used = int(counter.get("bytes", 0))
    wait = seconds_left(now, DAY)
    return Limited(
        "quota_exceeded",
        f"This file ({human_size(charge.size)}) would take today's uploads past the limit of "
        f"{human_size(bytes_per_day)} ({human_size(used)} used). Try again in {_duration(wait)}, "
        "or send a smaller file.",
        wait,
    )


def _duration(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} seconds"
    minutes = math.ceil(seconds / 60)
    if minutes < 120:
        return f"{minutes} minutes"
    return f"{minutes // 60} hours {minutes % 60} minutes" if minutes % 60 else f"{minutes // 60} hours"


def signin_keys(secret: str, username: str, client: str) -> tuple[str, str]:
    """The two sign-in counters an attempt is charged to: the account named, and the client."""
    account = identity_key(secret, "account:" + username.strip().casefold())
    return f"SIGNIN#account#{account}", f"SIGNIN#client#{identity_key(secret, client)}"


def signin_locked(seconds: int) -> Limited:
    return Limited(
        "signin_locked",
        f"Too many wrong passwords in a row. Sign-in is closed for {_duration(seconds)}; "
        "the password was not checked.",
        seconds,
    )
