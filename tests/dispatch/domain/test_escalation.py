"""Escalation: steps come due on time, acknowledgement stops notifications, nothing fires twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dispatch.domain.escalation import (
    at_risk,
    due_steps,
    ladder_for,
    next_step_at,
    pre_breach_check_at,
    pre_breach_key,
    pre_breach_step,
)
from dispatch.domain.policy import Grade, Policy

T0 = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)


def _keys(steps: list) -> list[str]:
    return [s.key for s in steps]


def test_major_ladder_comes_due_over_time(policy: Policy) -> None:
    """An unacknowledged major matter reaches the department at once, the head at 5 min, the manager at 10."""
    ladder = ladder_for(Grade.MAJOR, policy)
    assert _keys(due_steps(ladder, T0, T0)) == ["department"]
    assert _keys(due_steps(ladder, T0, T0 + timedelta(minutes=4, seconds=59))) == ["department"]
    assert _keys(due_steps(ladder, T0, T0 + timedelta(minutes=5))) == ["department", "department_head"]
    assert _keys(due_steps(ladder, T0, T0 + timedelta(minutes=10))) == [
        "department",
        "department_head",
        "supervising_manager",
    ]


def test_fired_keys_make_it_idempotent(policy: Policy) -> None:
    """A worker that recorded a step never gets it again, so restarts and races fire each step once."""
    ladder = ladder_for(Grade.MAJOR, policy)
    fired: set[str] = set()
    fired_log: list[str] = []
    for minute in (0, 0, 3, 5, 5, 6, 12, 12, 30):  # repeated ticks, as after a restart
        for step in due_steps(ladder, T0, T0 + timedelta(minutes=minute), fired_keys=fired):
            fired_log.append(step.key)
            fired.add(step.key)
    assert fired_log == ["department", "department_head", "supervising_manager", "director"]


def test_acknowledgement_stops_notifications_but_not_written_reports(policy: Policy) -> None:
    """Acknowledged at 4 min: no head/manager notification, yet the 24 h and 48 h reports still fall due."""
    ladder = ladder_for(Grade.MAJOR, policy)
    ack = T0 + timedelta(minutes=4)
    fired = {"department"}
    assert due_steps(ladder, T0, T0 + timedelta(hours=23), ack, fired) == []
    assert _keys(due_steps(ladder, T0, T0 + timedelta(hours=24), ack, fired)) == ["written_report_24h"]
    assert _keys(due_steps(ladder, T0, T0 + timedelta(hours=49), ack, fired)) == [
        "written_report_24h",
        "written_report_48h",
    ]
    assert next_step_at(ladder, T0, T0 + timedelta(hours=1), ack, fired) == T0 + timedelta(hours=24)


def test_late_acknowledgement_suppresses_unfired_notifications(policy: Policy) -> None:
    """If the worker was down and the head's step was not sent before the ack, it is not sent afterwards."""
    ladder = ladder_for(Grade.MAJOR, policy)
    ack = T0 + timedelta(minutes=7)
    assert due_steps(ladder, T0, T0 + timedelta(minutes=8), ack, {"department"}) == []


def test_resolution_stops_the_whole_ladder(policy: Policy) -> None:
    """A resolved matter gets no further steps, not even written reports."""
    ladder = ladder_for(Grade.MAJOR, policy)
    resolved = T0 + timedelta(hours=3)
    now = T0 + timedelta(hours=30)
    assert due_steps(ladder, T0, now, T0 + timedelta(minutes=2), {"department"}, resolved) == []
    assert next_step_at(ladder, T0, now, None, (), resolved) is None


def test_next_step_at_schedules_the_worker(policy: Policy) -> None:
    """The worker wakes at the next pending step; an overdue one means wake now; None when done."""
    ladder = ladder_for(Grade.GENERAL, policy)
    assert next_step_at(ladder, T0, T0, None, {"department"}) == T0 + timedelta(hours=12)
    assert next_step_at(ladder, T0, T0 + timedelta(hours=13), None, set()) == T0
    assert next_step_at(ladder, T0, T0, None, {"department", "department_head"}) is None


def test_regrade_to_major_fires_overdue_steps_once(policy: Policy) -> None:
    """General upgraded to major at 20 min: head, manager, director told at once; department not again."""
    fired = {"department"}
    now = T0 + timedelta(minutes=20)
    steps = due_steps(ladder_for(Grade.MAJOR, policy), T0, now, None, fired)
    assert _keys(steps) == ["department_head", "supervising_manager", "director"]


@pytest.mark.parametrize(
    ("eta_minutes_before_due", "now_minutes_before_due", "expected"),
    [
        (60, 120, False),  # arrives an hour early
        (31, 120, False),  # just outside the 30 min margin
        (30, 120, True),  # inside the margin (at its edge): escalate now
        (-15, 120, True),  # the plan is late
        (None, 45, False),  # unplanned, still time
        (None, 30, True),  # unplanned and inside the margin
        (60, -1, True),  # the deadline has passed
    ],
)
def test_at_risk(eta_minutes_before_due: int | None, now_minutes_before_due: int, expected: bool) -> None:
    """A plan arriving after the deadline, or within 30 min of it, is at risk before it breaches."""
    due = T0 + timedelta(hours=4)
    eta = None if eta_minutes_before_due is None else due - timedelta(minutes=eta_minutes_before_due)
    now = due - timedelta(minutes=now_minutes_before_due)
    assert at_risk(eta, due, now, timedelta(minutes=30)) is expected


def test_pre_breach_step_fires_once_per_deadline(policy: Policy) -> None:
    """The dispatcher is warned once that the plan misses the deadline; a new deadline may warn again."""
    due = T0 + timedelta(hours=4)
    late_eta = due + timedelta(minutes=10)
    step = pre_breach_step(late_eta, due, T0 + timedelta(minutes=30), policy)
    assert step is not None
    assert (step.key, step.audience, step.kind) == ("pre_breach@20260601T120000Z", "dispatcher", "notify")
    assert pre_breach_step(late_eta, due, T0 + timedelta(minutes=31), policy, {step.key}) is None
    assert pre_breach_step(due - timedelta(hours=1), due, T0, policy) is None
    new_due = due - timedelta(hours=8) + timedelta(hours=12)
    assert pre_breach_key(new_due) != step.key
    assert pre_breach_check_at(due, policy) == due - timedelta(minutes=30)
