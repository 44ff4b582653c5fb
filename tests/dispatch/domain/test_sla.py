"""Deadlines: the on-site promise per grade, department notification, completion clocks, next clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from dispatch.domain.calendar import WorkingCalendar
from dispatch.domain.grading import ComplaintFacts, grade_with_policy
from dispatch.domain.impact import Impact
from dispatch.domain.policy import Category, Grade, Policy
from dispatch.domain.sla import (
    cannot_meet_notice_due_at,
    compute_deadlines,
    next_clock,
    on_completion_deadlines,
    regrade_deadlines,
)

SH = ZoneInfo("Asia/Shanghai")


def test_gearbox_complaint_is_due_on_site_in_12_hours(policy: Policy) -> None:
    """The crane gearbox complaint at 09:30 Shanghai is serious: on site by 21:30, department by 21:30."""
    reported = datetime(2026, 2, 5, 9, 30, tzinfo=SH)
    facts = ComplaintFacts(
        category=Category.EQUIPMENT, equipment_type="tower_crane", impact=Impact(equipment_down=True)
    )
    grade = grade_with_policy(facts, policy).grade
    d = compute_deadlines(reported, grade, facts.category, policy)
    assert d.grade is Grade.SERIOUS
    assert d.on_site_due_at == datetime(2026, 2, 5, 13, 30, tzinfo=UTC)
    assert d.department_notify_due_at == datetime(2026, 2, 5, 13, 30, tzinfo=UTC)
    assert d.on_site_due_at.tzinfo is UTC


def test_people_trapped_is_due_in_4_hours_and_notified_in_3_minutes(policy: Policy) -> None:
    """People trapped in an elevator: major, on site within 4 h, department told within 3 min."""
    reported = datetime(2026, 5, 1, 22, 15, tzinfo=UTC)
    facts = ComplaintFacts(category=Category.EMERGENCY, equipment_type="elevator", impact=Impact(people_trapped=True))
    d = compute_deadlines(reported, grade_with_policy(facts, policy).grade, facts.category, policy)
    assert d.grade is Grade.MAJOR
    assert d.on_site_due_at == datetime(2026, 5, 2, 2, 15, tzinfo=UTC)
    assert d.department_notify_due_at == reported + timedelta(minutes=3)


def test_on_site_clock_runs_through_nights_and_holidays(policy: Policy) -> None:
    """The on-site promise is wall-clock hours: a general complaint on National Day eve is due next day."""
    reported = datetime(2024, 9, 30, 20, 0, tzinfo=SH)
    d = compute_deadlines(reported, Grade.GENERAL, Category.EQUIPMENT, policy)
    assert d.on_site_due_at == datetime(2024, 10, 1, 20, 0, tzinfo=SH)
    assert d.department_notify_due_at == datetime(2024, 10, 1, 8, 0, tzinfo=SH)


def test_emergency_category_is_urgent_whatever_the_grade(policy: Policy) -> None:
    """An emergency complaint is notified within 3 minutes even if someone graded it lower."""
    reported = datetime(2026, 1, 10, 3, 0, tzinfo=UTC)
    d = compute_deadlines(reported, Grade.GENERAL, Category.EMERGENCY, policy)
    assert d.department_notify_due_at == reported + timedelta(minutes=3)


def test_regrade_recomputes_from_the_report_time(policy: Policy) -> None:
    """Upgrading a general ticket to major moves the deadline to report + 4 h, not regrade time + 4 h."""
    reported = datetime(2026, 1, 10, 3, 0, tzinfo=UTC)
    d = compute_deadlines(reported, Grade.GENERAL, Category.EQUIPMENT, policy)
    up = regrade_deadlines(d, Grade.MAJOR, policy)
    assert up.on_site_due_at == reported + timedelta(hours=4)
    assert up.department_notify_due_at == reported + timedelta(minutes=3)
    assert up.reported_at == reported


def test_completion_clocks_for_a_major_job(policy: Policy, calendar: WorkingCalendar) -> None:
    """After a major job done Fri 17:00: report back and responder 2 h, verification 8 h, visit Tue."""
    done = datetime(2026, 3, 6, 17, 0, tzinfo=SH)
    c = on_completion_deadlines(done, Grade.MAJOR, policy, calendar)
    assert c.report_back_due_at == datetime(2026, 3, 6, 19, 0, tzinfo=SH)
    assert c.first_responder_due_at == datetime(2026, 3, 6, 19, 0, tzinfo=SH)
    assert c.follow_up_verification_due_at == datetime(2026, 3, 7, 1, 0, tzinfo=SH)
    assert c.return_visit_due_at == datetime(2026, 3, 10, 17, 0, tzinfo=SH)


def test_no_follow_up_verification_below_major(policy: Policy, calendar: WorkingCalendar) -> None:
    """Only major matters get the 8-hour follow-up verification."""
    done = datetime(2024, 9, 30, 10, 0, tzinfo=SH)
    c = on_completion_deadlines(done, Grade.SERIOUS, policy, calendar)
    assert c.follow_up_verification_due_at is None
    assert c.return_visit_due_at == datetime(2024, 10, 9, 10, 0, tzinfo=SH)  # National Day skipped


def test_cannot_meet_notice_is_due_in_2_hours(policy: Policy) -> None:
    """Once a technician says the time cannot be met, the customer notice is due within 2 h."""
    detected = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)
    assert cannot_meet_notice_due_at(detected, policy) == datetime(2026, 4, 1, 11, 0, tzinfo=UTC)


def test_next_clock_is_the_earliest_pending_one() -> None:
    """The board shows the earliest clock not yet met, with its time left; met clocks (None) are skipped."""
    now = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)
    clocks = {
        "department_notify": None,
        "on_site": now + timedelta(hours=3, seconds=30),
        "cannot_meet_notice": now + timedelta(hours=1),
    }
    nxt = next_clock(clocks, now)
    assert nxt is not None
    assert (nxt.name, nxt.seconds_left, nxt.breached) == ("cannot_meet_notice", 3600, False)


def test_next_clock_goes_negative_when_breached() -> None:
    """A clock past due shows negative seconds so the board can sort breached tickets first."""
    now = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)
    nxt = next_clock({"on_site": now - timedelta(minutes=5, milliseconds=500)}, now)
    assert nxt is not None
    assert (nxt.seconds_left, nxt.breached) == (-301, True)
    assert next_clock({"on_site": None}, now) is None


def test_naive_report_time_is_refused(policy: Policy) -> None:
    """A report time without a zone is refused rather than silently read as UTC."""
    with pytest.raises(ValueError, match="reported_at must be timezone-aware"):
        compute_deadlines(datetime(2026, 1, 1, 8, 0), Grade.MAJOR, Category.EQUIPMENT, policy)
