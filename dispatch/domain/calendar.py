"""Working days of the region, for clocks counted in working days (the return visit).

A date is a working day when, in this order of precedence:
1. it is in `extra_working_days` → working; in `extra_holidays` → not working;
2. the `holidays` library lists it as an official make-up working weekend (China's 调休) → working;
3. the library lists it as a public holiday → not working;
4. otherwise its ISO weekday is in `working_weekdays`.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import holidays

from dispatch.domain.policy import CalendarPolicy, Policy


def require_aware(value: datetime, name: str) -> datetime:
    """Refuse naive datetimes: every instant in the domain is timezone-aware."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")
    return value


@dataclass(frozen=True)
class WorkingCalendar:
    """The region's working-day calendar (policy `[calendar]`); build with `from_policy`."""

    tz: zoneinfo.ZoneInfo
    working_weekdays: frozenset[int]
    extra_holidays: frozenset[date]
    extra_working_days: frozenset[date]
    _public: holidays.HolidayBase = field(repr=False, compare=False)

    @classmethod
    def from_policy(cls, policy: Policy | CalendarPolicy) -> WorkingCalendar:
        cal = policy.calendar if isinstance(policy, Policy) else policy
        return cls(
            tz=zoneinfo.ZoneInfo(cal.timezone),
            working_weekdays=frozenset(cal.working_weekdays),
            extra_holidays=frozenset(cal.extra_holidays),
            extra_working_days=frozenset(cal.extra_working_days),
            _public=holidays.country_holidays(cal.country, subdiv=cal.subdivision),
        )

    def holiday_name(self, day: date) -> str | None:
        """The public holiday's name on `day`, if the library lists one."""
        return self._public.get(day)

    def is_working_day(self, day: date) -> bool:
        """Whether `day` (a local date in the region) is a working day; see the module docstring."""
        if day in self.extra_working_days:
            return True
        if day in self.extra_holidays:
            return False
        is_holiday = day in self._public  # also loads that year, including its make-up working days
        if day in getattr(self._public, "weekend_workdays", ()):
            return True
        if is_holiday:
            return False
        return day.isoweekday() in self.working_weekdays

    def add_working_days(self, start: datetime, n: int) -> datetime:
        """The same local time of day on the `n`-th working day after `start`'s local date, as aware UTC.

        Counting starts the day after `start` whether or not `start` falls on a working day: completion
        on Friday 17:00 + 2 working days → Tuesday 17:00; on Saturday 10:00 + 2 → Tuesday 10:00. Local
        means the region's time zone (`calendar.timezone`); a local time that does not exist on the
        target day (DST gap) resolves forward as zoneinfo does.
        """
        require_aware(start, "start")
        if n < 1:
            raise ValueError("n must be at least 1")
        local = start.astimezone(self.tz)
        day = local.date()
        counted = 0
        for _ in range(n * 30 + 60):  # no real calendar has that many days off in a row
            day += timedelta(days=1)
            if self.is_working_day(day):
                counted += 1
                if counted == n:
                    return datetime.combine(day, local.timetz().replace(tzinfo=None), self.tz).astimezone(UTC)
        raise ValueError("calendar has no working days")
