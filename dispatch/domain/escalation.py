"""Escalation ladders and the pre-breach rule, stateless so a durable worker can drive them.

Source: domain.md "Handling clocks and escalation"; issue 4 "Escalation (durable)".

The worker stores, per ticket, the ladder start (the report time), the keys of the steps it has fired,
the acknowledgement and resolution times. Each tick it asks `due_steps(...)`, fires each returned step
and records its key in the same transaction; a step whose key is recorded is never returned again, so
a restarted or racing worker fires every step exactly once (the row lock does the rest). It schedules
its next wake-up with `next_step_at(...)`.

Rules:
* A step is due at `started_at + after`.
* Acknowledgement stops the ladder's `notify` steps: once acknowledged, no notify step fires, even
  one that came due before the acknowledgement but was not fired (someone is on it now).
* `report_due` steps (the written reports of major matters at 24 h and 48 h) still fall due after an
  acknowledgement: the domain asks for them from whoever "cannot solve it", which an acknowledgement
  does not settle.
* Resolution stops everything: once the matter is resolved no step of the ladder fires.
* After a regrade, pass the new grade's ladder with the same `started_at` and fired keys: steps whose
  key already fired under the old ladder do not fire again; earlier steps of a stricter ladder that
  are now overdue fire at once.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from dispatch.domain.calendar import require_aware
from dispatch.domain.policy import Grade, Policy

StepKind = Literal["notify", "report_due"]

PRE_BREACH_PREFIX = "pre_breach@"
OVERDUE_CLOCK_PREFIX = "clock:"
#: The audience whose notice meets the "department notified" clock (3 min / 12 h).
DEPARTMENT_AUDIENCE = "department"


@dataclass(frozen=True)
class Step:
    """One escalation step: `key` (unique in its ladder), `after` the ladder start, who, what kind, text."""

    key: str
    after: timedelta
    audience: str
    kind: StepKind
    message: str

    def due_at(self, started_at: datetime) -> datetime:
        """When the step falls due, aware UTC."""
        return (started_at + self.after).astimezone(UTC)


def ladder_for(grade: Grade, policy: Policy) -> tuple[Step, ...]:
    """The grade's ladder from the policy, in order of `after`."""
    steps = (
        Step(s.key, timedelta(minutes=s.after_minutes), s.audience, s.kind, s.message)
        for s in policy.escalation.ladders[grade]
    )
    return tuple(sorted(steps, key=lambda s: s.after))


def _live(
    ladder: Sequence[Step],
    now: datetime,
    acknowledged_at: datetime | None,
    fired_keys: Collection[str],
    resolved_at: datetime | None,
) -> list[Step]:
    if resolved_at is not None and resolved_at <= now:
        return []
    acknowledged = acknowledged_at is not None and acknowledged_at <= now
    return [s for s in ladder if s.key not in fired_keys and not (acknowledged and s.kind == "notify")]


def due_steps(
    ladder: Sequence[Step],
    started_at: datetime,
    now: datetime,
    acknowledged_at: datetime | None = None,
    fired_keys: Collection[str] = (),
    resolved_at: datetime | None = None,
) -> list[Step]:
    """Steps due at `now` and not yet fired, in ladder order (see the module docstring for the rules)."""
    require_aware(started_at, "started_at")
    require_aware(now, "now")
    return [s for s in _live(ladder, now, acknowledged_at, fired_keys, resolved_at) if s.due_at(started_at) <= now]


def next_step_at(
    ladder: Sequence[Step],
    started_at: datetime,
    now: datetime,
    acknowledged_at: datetime | None = None,
    fired_keys: Collection[str] = (),
    resolved_at: datetime | None = None,
) -> datetime | None:
    """When the worker should next look at this ladder: the earliest unfired live step's due time.

    May be ≤ `now` (fire at once); None when nothing is left to fire.
    """
    require_aware(started_at, "started_at")
    live = _live(ladder, now, acknowledged_at, fired_keys, resolved_at)
    return min((s.due_at(started_at) for s in live), default=None)


def at_risk(eta: datetime | None, on_site_due_at: datetime, now: datetime, margin: timedelta) -> bool:
    """Whether a ticket not yet on site will (likely) miss its on-site deadline.

    At risk when the plan's ETA is at or after `on_site_due_at - margin`; with no ETA (not planned),
    when `now` has reached `on_site_due_at - margin`; always when the deadline has passed. Call it only
    for tickets whose technician has not arrived.
    """
    require_aware(now, "now")
    threshold = on_site_due_at - margin
    if now >= on_site_due_at:
        return True
    if eta is None:
        return now >= threshold
    return eta >= threshold


def pre_breach_key(on_site_due_at: datetime) -> str:
    """Fired-key of the pre-breach step for one deadline; a regrade (new deadline) can warn again."""
    return PRE_BREACH_PREFIX + on_site_due_at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def pre_breach_check_at(on_site_due_at: datetime, policy: Policy) -> datetime:
    """When an unplanned ticket becomes at risk: the deadline minus the policy margin (for scheduling)."""
    return (on_site_due_at - timedelta(minutes=policy.escalation.pre_breach.margin_minutes)).astimezone(UTC)


def pre_breach_step(
    eta: datetime | None,
    on_site_due_at: datetime,
    now: datetime,
    policy: Policy,
    fired_keys: Collection[str] = (),
) -> Step | None:
    """The pre-breach escalation to fire now, or None: escalate before the breach, once per deadline.

    Uses `at_risk` with the policy margin (`escalation.pre_breach`); the step's key is
    `pre_breach_key(on_site_due_at)`, stored with the ladder's fired keys.
    """
    rule = policy.escalation.pre_breach
    key = pre_breach_key(on_site_due_at)
    if key in fired_keys or not at_risk(eta, on_site_due_at, now, timedelta(minutes=rule.margin_minutes)):
        return None
    return Step(key, timedelta(0), rule.audience, "notify", rule.message)


def overdue_clock_key(name: str, due_at: datetime) -> str:
    """Fired-key of an overdue-clock step, once per clock and due time (a reopened job's new clock warns again)."""
    return f"{OVERDUE_CLOCK_PREFIX}{name}@" + due_at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def overdue_clock_steps(
    clocks: Mapping[str, datetime | None],
    started_at: datetime,
    now: datetime,
    policy: Policy,
    fired_keys: Collection[str] = (),
) -> list[Step]:
    """Steps to fire now for clocks the policy escalates (`escalation.overdue_clocks`) that are due and undone.

    `clocks` are the ticket's pending clocks (`sla.pending_clocks`: met ones None). Each step fires once per
    clock and due time; its `after` is measured from `started_at` so `Step.due_at` is the clock's due time.
    """
    require_aware(now, "now")
    steps = []
    for name, rule in policy.escalation.overdue_clocks.items():
        due = clocks.get(name)
        if due is None or due > now:
            continue
        key = overdue_clock_key(name, due)
        if key not in fired_keys:
            steps.append(Step(key, due - started_at, rule.audience, "notify", rule.message))
    return steps


def overdue_clock_next_at(
    clocks: Mapping[str, datetime | None], policy: Policy, fired_keys: Collection[str] = ()
) -> datetime | None:
    """When the next escalated clock falls due undone (for the worker's schedule), or None."""
    pending = [
        due
        for name in policy.escalation.overdue_clocks
        if (due := clocks.get(name)) is not None and overdue_clock_key(name, due) not in fired_keys
    ]
    return min(pending, default=None)


def routine_keys(ladder: Sequence[Step]) -> set[str]:
    """The ladder's routine first notice to the department (it meets the "department notified" clock)."""
    return {s.key for s in ladder if s.audience == DEPARTMENT_AUDIENCE and s.after == timedelta(0)}


def needs_person(fired_keys: Collection[str], ladder: Sequence[Step], *, urgent: bool) -> bool:
    """Whether a ticket's fired escalation needs a person to take it up: for an urgent matter (major, or an
    emergency: `sla.is_urgent`) from its first notice; otherwise only beyond the routine first notice to the
    department, which is how every ordinary ticket starts."""
    if urgent:
        return bool(fired_keys)
    routine = routine_keys(ladder)
    return any(k not in routine for k in fired_keys)
