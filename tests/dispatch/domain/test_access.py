"""Site access hours decide the earliest start of work."""

from datetime import UTC, datetime

from dispatch.domain.access import next_access, validate_access_hours

HOURS = {d: [["07:00", "19:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}


def test_open_site_starts_now_and_closed_site_waits_for_the_next_window():
    """Inside the window work starts at once; at night it starts at the next opening, skipping the weekend."""
    monday_noon = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai
    assert next_access(HOURS, "Asia/Shanghai", monday_noon) == monday_noon
    friday_night = datetime(2026, 11, 27, 14, 0, tzinfo=UTC)  # 22:00 Friday in Shanghai
    assert next_access(HOURS, "Asia/Shanghai", friday_night) == datetime(2026, 11, 29, 23, 0, tzinfo=UTC)


def test_no_hours_means_around_the_clock_and_never_open_is_none():
    """An empty mapping is open 24/7; a site with no window this week cannot be planned."""
    now = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)
    assert next_access({}, "Asia/Shanghai", now) == now
    assert next_access({"mon": []}, "Asia/Shanghai", now) is None


def test_bad_windows_are_reported():
    """Malformed access hours are named, not silently ignored."""
    assert validate_access_hours({"mon": [["19:00", "07:00"]], "xyz": []}) == [
        "mon: window ['19:00', '07:00'] ends before it starts",
        "unknown day 'xyz' (use mon, tue, wed, thu, fri, sat, sun)",
    ]
