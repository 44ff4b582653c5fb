"""Absolute deadlines of a ticket from the policy's promise and handling clocks.

All inputs and outputs are timezone-aware; outputs are UTC. Source: domain.md "The promise" and
"Handling clocks and escalation"; issue 4 "Clocks". Regrading recomputes from the original
`reported_at` (never from the time of the regrade), so a downgrade cannot extend a promise already
made beyond what the new grade allows from the report, and an upgrade can bring it forward.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from dispatch.domain.calendar import WorkingCalendar, require_aware
from dispatch.domain.policy import Category, Grade, Policy


@dataclass(frozen=True)
class Deadlines:
    """Deadlines fixed at intake (and on regrade), aware UTC.

    `on_site_due_at`: technician on site (major 4 h, serious 12 h, general 24 h, capped at 24 h).
    `department_notify_due_at`: responsible department told (3 min for emergency or major, else 12 h).
    """

    reported_at: datetime
    grade: Grade
    category: Category
    on_site_due_at: datetime
    department_notify_due_at: datetime


@dataclass(frozen=True)
class CompletionDeadlines:
    """Deadlines that start when the job is completed, aware UTC.

    `report_back_due_at` (2 h), `first_responder_due_at` (2 h), `follow_up_verification_due_at`
    (8 h, major only, else None), `return_visit_due_at` (2 working days, see `WorkingCalendar`).
    """

    completed_at: datetime
    report_back_due_at: datetime
    first_responder_due_at: datetime
    follow_up_verification_due_at: datetime | None
    return_visit_due_at: datetime


@dataclass(frozen=True)
class NextClock:
    """The earliest unmet clock; `seconds_left` is negative once it is breached (whole seconds, floor)."""

    name: str
    due_at: datetime
    seconds_left: int

    @property
    def breached(self) -> bool:
        return self.seconds_left < 0


def is_urgent(grade: Grade, category: Category) -> bool:
    """Emergencies and major matters take the 3-minute department notification (domain.md)."""
    return grade is Grade.MAJOR or category is Category.EMERGENCY


def promise_deadline(reported_at: datetime, grade: Grade, policy: Policy) -> datetime:
    """On-site deadline: `reported_at` + the grade's on-site hours, never more than the hard cap."""
    require_aware(reported_at, "reported_at")
    hours = min(policy.promise.on_site_hours[grade], policy.promise.hard_cap_hours)
    return (reported_at + timedelta(hours=hours)).astimezone(UTC)


def compute_deadlines(reported_at: datetime, grade: Grade, category: Category, policy: Policy) -> Deadlines:
    """Deadlines at intake (see `Deadlines`); also used on regrade with the original `reported_at`."""
    require_aware(reported_at, "reported_at")
    clocks = policy.clocks
    notify = (
        timedelta(minutes=clocks.department_notify_urgent_minutes)
        if is_urgent(grade, category)
        else timedelta(hours=clocks.department_notify_ordinary_hours)
    )
    return Deadlines(
        reported_at=reported_at.astimezone(UTC),
        grade=grade,
        category=category,
        on_site_due_at=promise_deadline(reported_at, grade, policy),
        department_notify_due_at=(reported_at + notify).astimezone(UTC),
    )


def regrade_deadlines(deadlines: Deadlines, new_grade: Grade, policy: Policy) -> Deadlines:
    """Deadlines for a new grade, recomputed from the original report time."""
    return compute_deadlines(deadlines.reported_at, new_grade, deadlines.category, policy)


def on_completion_deadlines(
    completed_at: datetime, grade: Grade, policy: Policy, calendar: WorkingCalendar
) -> CompletionDeadlines:
    """Deadlines that start at completion (see `CompletionDeadlines`)."""
    require_aware(completed_at, "completed_at")
    clocks = policy.clocks
    done = completed_at.astimezone(UTC)
    return CompletionDeadlines(
        completed_at=done,
        report_back_due_at=done + timedelta(hours=clocks.report_back_hours),
        first_responder_due_at=done + timedelta(hours=clocks.first_responder_hours),
        follow_up_verification_due_at=(
            done + timedelta(hours=clocks.follow_up_verification_hours) if grade is Grade.MAJOR else None
        ),
        return_visit_due_at=calendar.add_working_days(done, clocks.return_visit_working_days),
    )


def cannot_meet_notice_due_at(detected_at: datetime, policy: Policy) -> datetime:
    """When the "we cannot meet the promised time" notice is due: detection + 2 h (domain.md)."""
    require_aware(detected_at, "detected_at")
    return (detected_at + timedelta(hours=policy.clocks.cannot_meet_notice_hours)).astimezone(UTC)


#: Clocks a person completes by an action on the ticket (who, when, note): the department's report back, telling
#: the first responder, and the follow-up verification of a major matter (domain.md "Handling clocks").
COMPLETABLE_CLOCKS = ("report_back", "first_responder", "follow_up_verification")
DUE_SUFFIX = "_due_at"
DONE_SUFFIX = "_done_at"


def pending_clocks(
    *,
    due_on_site_at: datetime,
    on_site_at: datetime | None,
    closed: bool,
    deadlines: Mapping[str, str | None] | None,
    met: Mapping[str, datetime | None] | None = None,
) -> dict[str, datetime | None]:
    """Every clock of a ticket, with None for the ones met (or not applicable): the one definition that every
    surface (the tickets API, the board's queue, the escalation worker) reads `next_clock` from.

    `on_site` is met by the first arrival; a clock stored in `deadlines` as `<name>_due_at` is met when
    `<name>_done_at` is set (the department notified, the customer told of a late arrival, report back, …).
    Keys without the `_due_at` suffix (`completed_at`, `cannot_meet_reported_at`) are facts, not clocks. `met`
    gives when clocks were met that are recorded elsewhere (`department_notify`: when the department's notice
    fired). A closed (or cancelled, invalid) ticket has no pending clock.
    """
    if closed:
        return {}
    stored = deadlines or {}
    clocks: dict[str, datetime | None] = {"on_site": due_on_site_at if on_site_at is None else None}
    for key, value in stored.items():
        if not key.endswith(DUE_SUFFIX) or not value:
            continue
        name = key.removesuffix(DUE_SUFFIX)
        due = datetime.fromisoformat(value)
        require_aware(due, key)
        clocks[name] = None if stored.get(name + DONE_SUFFIX) or (met or {}).get(name) else due
    return clocks


def next_clock(clocks: Mapping[str, datetime | None], now: datetime) -> NextClock | None:
    """The earliest clock still to meet; `None` values are met or not applicable and are skipped.

    Ties go to the first in the mapping's order. Returns None when no clock is pending.
    """
    require_aware(now, "now")
    pending = [(due, name) for name, due in clocks.items() if due is not None]
    if not pending:
        return None
    due, name = min(pending, key=lambda item: item[0])  # min() keeps the first of equal times
    return NextClock(name=name, due_at=due.astimezone(UTC), seconds_left=math.floor((due - now).total_seconds()))
