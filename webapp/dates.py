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
