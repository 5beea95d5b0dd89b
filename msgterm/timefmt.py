"""Times as the front desk reads them: local time, relative in lists."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


def local(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC).astimezone()


def local_day_start(now: datetime, days_back: int = 0) -> datetime:
    """Where the local day ``days_back`` days before today begins, as the store's naive UTC:
    "Today" is the front desk's day, not UTC's (at 22:00 in New York, UTC is tomorrow)."""
    day = local(now).date() - timedelta(days=days_back)
    midnight = datetime(day.year, day.month, day.day).astimezone()  # the local offset of that day (DST)
    return midnight.astimezone(UTC).replace(tzinfo=None)


def relative(at: datetime, now: datetime) -> str:
    """'now', '5m', '3h', 'Tue', 'Nov 3' — short enough for a list column."""
    seconds = (now - at).total_seconds()
    if seconds < 60:
        return "now"
    if seconds < 3600:
        return f"{int(seconds // 60)}m"
    if seconds < 86400:
        return f"{int(seconds // 3600)}h"
    if seconds < 6 * 86400:
        return local(at).strftime("%a")
    return local(at).strftime("%b %-d")
