"""Site access hours: when a technician may start work at a site (weekly windows in site-local time)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dispatch.domain.calendar import require_aware

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _parse(hhmm: str) -> time:
    hours, minutes = hhmm.split(":")
    if hours == "24" and minutes == "00":
        return time(23, 59, 59)
    return time(int(hours), int(minutes))


def validate_access_hours(hours: Mapping[str, Sequence[Sequence[str]]]) -> list[str]:
    """Problems with an access-hours mapping ({"mon": [["07:00", "19:00"]], …}); empty when valid."""
    problems = []
    for day, windows in hours.items():
        if day not in DAYS:
            problems.append(f"unknown day {day!r} (use {', '.join(DAYS)})")
            continue
        for window in windows:
            try:
                start, end = (_parse(w) for w in window)
            except (ValueError, TypeError):
                problems.append(f'{day}: window {window!r} is not ["HH:MM", "HH:MM"]')
                continue
            if end <= start:
                problems.append(f"{day}: window {window!r} ends before it starts")
    return problems


def next_access(hours: Mapping[str, Sequence[Sequence[str]]], tz: str, now: datetime) -> datetime | None:
    """The earliest moment at or after `now` when work may start; `now` itself when open or when the
    mapping is empty (open around the clock); None when the site never opens in the next 7 days."""
    require_aware(now, "now")
    if not hours:
        return now
    zone = ZoneInfo(tz)
    local = now.astimezone(zone)
    for offset in range(8):
        day = local.date() + timedelta(days=offset)
        for window in sorted(hours.get(DAYS[day.weekday()], []), key=lambda w: w[0]):
            start = datetime.combine(day, _parse(window[0]), tzinfo=zone)
            end = datetime.combine(day, _parse(window[1]), tzinfo=zone)
            if end <= local:
                continue
            return max(start, local).astimezone(UTC)
    return None
