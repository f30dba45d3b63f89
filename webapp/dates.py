"""Times as the records and the API write them: ISO 8601 in UTC, and month partitions."""

from __future__ import annotations

import datetime as dt


def iso(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def recent_months(now: float, count: int) -> list[str]:
    """``count`` month partitions (``YYYY-MM``), this month first."""
    moment = dt.datetime.fromtimestamp(now, dt.timezone.utc)
    year, month = moment.year, moment.month
    months = []
    for _ in range(count):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return months


def epoch_of(value: float | str) -> float:
    """An epoch from either form the records hold: a number, or ISO 8601 in UTC."""
    if isinstance(value, str):
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    return float(value)


def utc_text(value: float | str) -> str:
    """What a person reads when no script turns it into their own time: minutes, marked UTC."""
    moment = dt.datetime.fromtimestamp(epoch_of(value), dt.timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M UTC")
