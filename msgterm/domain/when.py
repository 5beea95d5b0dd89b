"""Times people type ("tomorrow 9am", "mon 17:30", "in 2h", an ISO 8601 time), snooze's
presets, and quiet hours. People type and read local time; the store keeps UTC (naive,
as every time in it), so each function takes the local zone's "now" and gives UTC.

Parsing is dateparser's (a maintained parser), told to prefer the future: "mon 17:30" on a
Tuesday is next Monday, and "9am" after nine is tomorrow.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo

from msgterm.domain.errors import ValidationError

#: "in 2h", "in 30 min": dateparser reads "in 2 hours" but not every short unit.
_SHORT = re.compile(r"^\s*in\s+(\d+)\s*(m|min|mins|minute|minutes|h|hr|hrs|hour|hours|d|day|days)\s*$", re.I)
_UNIT = {"m": "minutes", "h": "hours", "d": "days"}


def local_zone() -> tzinfo:
    zone = datetime.now().astimezone().tzinfo
    return zone if zone is not None else UTC


def to_utc(local: datetime) -> datetime:
    """A zone-aware time as the store keeps it (naive UTC)."""
    return local.astimezone(UTC).replace(tzinfo=None)


def to_local(utc: datetime, zone: tzinfo) -> datetime:
    return utc.replace(tzinfo=UTC).astimezone(zone)


def parse_when(text: str, now_utc: datetime, zone: tzinfo) -> datetime:
    """``text`` as a UTC time after ``now_utc``; a clear error for what is not a time or is past."""
    words = text.strip()
    if not words:
        raise ValidationError("say when: for example 'tomorrow 9am', 'mon 17:30', 'in 2h' or 2026-12-08T09:00")
    now_local = to_local(now_utc, zone)
    short = _SHORT.match(words)
    if short:
        amount, unit = int(short.group(1)), _UNIT[short.group(2)[0].lower()]
        return to_utc(now_local + timedelta(**{unit: amount}))
    try:
        parsed: datetime | None = datetime.fromisoformat(words)  # ISO 8601, with or without a zone
    except ValueError:
        parsed = _parse_words(words, now_local)
    if parsed is None:
        raise ValidationError(f"{words!r} is not a time msgterm understands; try 'tomorrow 9am', 'mon 17:30' or 'in 2h'")
    at = parsed.replace(tzinfo=zone) if parsed.tzinfo is None else parsed
    result = to_utc(at)
    if result <= now_utc:
        raise ValidationError(f"{words!r} is {to_local(result, zone):%a %d %b %H:%M}, which has passed; give a time to come")
    return result


def _parse_words(words: str, now_local: datetime) -> datetime | None:
    import dateparser  # its language data takes a moment to load: only when a time is typed

    return dateparser.parse(
        words,
        languages=["en"],
        settings={
            "RELATIVE_BASE": now_local.replace(tzinfo=None),
            "PREFER_DATES_FROM": "future",
            "TIMEZONE": "UTC",  # naive times are read as local below, not by dateparser
            "RETURN_AS_TIMEZONE_AWARE": False,
        },
    )


def snooze_presets(now_utc: datetime, zone: tzinfo) -> list[tuple[str, datetime]]:
    """Snooze's choices: in 1 hour, this evening 18:00 (tomorrow's once past), tomorrow
    09:00, next Monday 09:00; as (label, UTC time)."""
    now = to_local(now_utc, zone)
    evening = datetime.combine(now.date(), time(18), zone)
    if evening <= now:
        evening += timedelta(days=1)
    tomorrow = datetime.combine(now.date() + timedelta(days=1), time(9), zone)
    monday = datetime.combine(now.date() + timedelta(days=7 - now.weekday()), time(9), zone)
    return [
        ("In 1 hour", to_utc(now + timedelta(hours=1))),
        ("This evening" if evening.date() == now.date() else "Tomorrow evening", to_utc(evening)),
        ("Tomorrow morning", to_utc(tomorrow)),
        ("Next Monday", to_utc(monday)),
    ]


@dataclass(frozen=True)
class QuietHours:
    """A daily span in the business's local time when nothing goes out unasked;
    it may cross midnight ("21:00-08:00")."""

    start: time
    end: time

    @classmethod
    def parse(cls, text: str) -> QuietHours:
        match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*", text)
        if not match:
            raise ValidationError(f'quiet_hours {text!r} is not a span like "21:00-08:00"')
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59 or (h1, m1) == (h2, m2):
            raise ValidationError(f'quiet_hours {text!r} is not a span like "21:00-08:00"')
        return cls(time(h1, m1), time(h2, m2))

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"

    def contains(self, utc: datetime, zone: tzinfo) -> bool:
        moment = to_local(utc, zone).time().replace(tzinfo=None)
        if self.start < self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end

    def end_after(self, utc: datetime, zone: tzinfo) -> datetime:
        """When the quiet hours that hold ``utc`` end (UTC); ``utc`` itself outside them."""
        if not self.contains(utc, zone):
            return utc
        local = to_local(utc, zone)
        end = datetime.combine(local.date(), self.end, zone)
        if end <= local:
            end += timedelta(days=1)
        return to_utc(end)
