"""Working-day calendar: weekends, Chinese public holidays, make-up Saturdays, overrides, other countries."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from dispatch.domain.calendar import WorkingCalendar
from dispatch.domain.policy import default_policy_data, validate_policy

SH = ZoneInfo("Asia/Shanghai")


def _calendar(**calendar: object) -> WorkingCalendar:
    data = copy.deepcopy(default_policy_data())
    data["calendar"].update(calendar)
    return WorkingCalendar.from_policy(validate_policy(data))


def test_friday_evening_plus_two_working_days_is_tuesday(calendar: WorkingCalendar) -> None:
    """Completed Friday 17:00 in Shanghai, the return visit is due Tuesday 17:00 local (09:00 UTC)."""
    done = datetime(2026, 3, 6, 17, 0, tzinfo=SH)
    assert calendar.add_working_days(done, 2) == datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


def test_saturday_counts_from_the_next_day(calendar: WorkingCalendar) -> None:
    """Completed on a Saturday, counting starts Monday: +2 working days is Tuesday."""
    done = datetime(2026, 3, 7, 10, 0, tzinfo=SH)
    assert calendar.add_working_days(done, 2) == datetime(2026, 3, 10, 10, 0, tzinfo=SH)


def test_national_day_week_is_skipped(calendar: WorkingCalendar) -> None:
    """Completed on 30 Sep 2024, the National Day holiday (1–7 Oct) is skipped: due 9 Oct."""
    assert not calendar.is_working_day(date(2024, 10, 1))
    assert not calendar.is_working_day(date(2024, 10, 7))
    done = datetime(2024, 9, 30, 10, 0, tzinfo=SH)
    assert calendar.add_working_days(done, 2) == datetime(2024, 10, 9, 10, 0, tzinfo=SH)


def test_make_up_weekend_days_are_working_days(calendar: WorkingCalendar) -> None:
    """China's make-up working Sunday 29 Sep and Saturday 12 Oct 2024 count as working days."""
    assert calendar.is_working_day(date(2024, 9, 29))
    assert calendar.is_working_day(date(2024, 10, 12))
    assert not calendar.is_working_day(date(2024, 10, 13))
    friday = datetime(2024, 9, 27, 18, 0, tzinfo=SH)
    assert calendar.add_working_days(friday, 2) == datetime(2024, 9, 30, 18, 0, tzinfo=SH)
    assert calendar.add_working_days(datetime(2024, 10, 11, 15, 0, tzinfo=SH), 1) == datetime(
        2024, 10, 12, 15, 0, tzinfo=SH
    )


def test_local_date_decides_not_utc_date(calendar: WorkingCalendar) -> None:
    """Friday 01:00 in Shanghai is still Thursday in UTC; the region's local date counts."""
    done = datetime(2026, 3, 5, 17, 0, tzinfo=UTC)  # Friday 6 Mar 01:00 in Shanghai
    assert calendar.add_working_days(done, 2) == datetime(2026, 3, 10, 1, 0, tzinfo=SH)


def test_deployment_extras_override_the_library() -> None:
    """A company shutdown day is skipped and an announced extra working Saturday counts."""
    cal = _calendar(extra_holidays=[date(2026, 3, 9)], extra_working_days=[date(2026, 3, 7)])
    done = datetime(2026, 3, 6, 17, 0, tzinfo=SH)
    assert cal.add_working_days(done, 2) == datetime(2026, 3, 10, 17, 0, tzinfo=SH)  # Sat 7, Tue 10


def test_other_country_and_time_zone() -> None:
    """A US deployment skips the observed Independence Day and counts in New York time."""
    ny = ZoneInfo("America/New_York")
    cal = _calendar(country="US", timezone="America/New_York")
    assert cal.holiday_name(date(2026, 7, 3)) == "Independence Day (observed)"
    done = datetime(2026, 7, 2, 9, 0, tzinfo=ny)
    assert cal.add_working_days(done, 2) == datetime(2026, 7, 7, 9, 0, tzinfo=ny)


def test_korean_calendar_skips_chuseok() -> None:
    """A Korean deployment skips Chuseok (24–26 Sep 2026)."""
    seoul = ZoneInfo("Asia/Seoul")
    cal = _calendar(country="KR", timezone="Asia/Seoul")
    done = datetime(2026, 9, 23, 11, 0, tzinfo=seoul)  # Wednesday before Chuseok
    assert cal.add_working_days(done, 1) == datetime(2026, 9, 28, 11, 0, tzinfo=seoul)


def test_naive_start_is_refused(calendar: WorkingCalendar) -> None:
    """A timestamp without a time zone is a bug; it is refused, not guessed."""
    with pytest.raises(ValueError, match="timezone-aware"):
        calendar.add_working_days(datetime(2026, 3, 6, 17, 0), 2)
