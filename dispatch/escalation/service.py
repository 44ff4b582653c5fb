"""Durable escalation: ladder state lives in `ticket_escalations`; the worker fires due steps exactly once.

Exactly once, even with killed or racing workers, because (1) a worker takes ladders with
`FOR UPDATE SKIP LOCKED`, (2) a fired step is recorded in `escalation_events` (unique per ticket and step)
and in the ladder's fired keys in the same transaction as its notification, and (3) nothing is recorded
unless that transaction commits — a killed worker's half-done tick simply happens again.
"""

from __future__ import annotations

import logging
import os
import socket
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, String, and_, cast, func, or_, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session, sessionmaker

from dispatch.audit.service import record_event
from dispatch.core.errors import Conflict, NotFound
from dispatch.core.policy import policy_for
from dispatch.core.settings import Settings
from dispatch.core.types import FINISHED_TICKET_STATUSES, OPEN_TICKET_STATUSES, Category, Grade, TicketStatus
from dispatch.domain import escalation as ladder_rules
from dispatch.domain.policy import Policy
from dispatch.escalation.models import EscalationEvent, TicketEscalation
from dispatch.notifications import customer as customer_notices
from dispatch.notifications.service import notify
from dispatch.tickets.models import Ticket
from dispatch.tickets.views import clocks_of

log = logging.getLogger("onsite24.escalation")

# Tickets already on site or beyond no longer need the pre-breach watch.
_BEFORE_ARRIVAL = {
    TicketStatus.new,
    TicketStatus.assigned,
    TicketStatus.accepted,
    TicketStatus.en_route,
    TicketStatus.reopened,
}


def _ladder(ticket: Ticket, policy: Policy) -> tuple[ladder_rules.Step, ...]:
    return ladder_rules.ladder_for(Grade(ticket.grade), policy)


def _clocks(ticket: Ticket) -> dict[str, datetime | None]:
    return clocks_of(
        status=ticket.status,
        due_on_site_at=ticket.due_on_site_at,
        on_site_at=ticket.on_site_at,
        closed_at=ticket.closed_at,
        deadlines=ticket.deadlines,
    )


def schedule_next_check(state: TicketEscalation, ticket: Ticket, policy: Policy, now: datetime) -> None:
    """When a worker must look again: the next ladder step, the pre-breach point while not on site, or the due
    time of a handling clock (report back, …) that is escalated when it falls due undone."""
    if ticket.status in FINISHED_TICKET_STATUSES or ticket.closed_at is not None:
        state.next_check_at = None  # a finished ticket needs nobody
        return
    candidates = []
    clock_at = ladder_rules.overdue_clock_next_at(_clocks(ticket), policy, state.fired_keys)
    if clock_at is not None:
        candidates.append(clock_at)
    step_at = ladder_rules.next_step_at(
        _ladder(ticket, policy), state.started_at, now, state.acknowledged_at, state.fired_keys, state.resolved_at
    )
    if step_at is not None:
        candidates.append(step_at)
    if ticket.status in _BEFORE_ARRIVAL and state.resolved_at is None:
        key = ladder_rules.pre_breach_key(ticket.due_on_site_at)
        if key not in state.fired_keys:
            check = ladder_rules.pre_breach_check_at(ticket.due_on_site_at, policy)
            if ticket.eta_at is not None and ticket.at_risk:
                check = now
            candidates.append(check)
    state.next_check_at = min(candidates) if candidates else None


def needs_person_clause(policy: Policy) -> ColumnElement[bool]:
    """SQL for "this escalation needs a person" (the open list and the board's badge), as
    `ladder_rules.needs_person` says: an unacknowledged escalation of an open urgent ticket (major or emergency),
    or beyond the routine first notice to the department for the others; or a fired overdue-clock step whose
    clock is still undone. A finished ticket never."""
    routine = sorted({k for grade in Grade for k in ladder_rules.routine_keys(_grade_ladder(grade, policy))})
    fired = func.array_to_string(TicketEscalation.fired_keys, " ")
    undone_clocks = [
        and_(
            fired.like(f"%{ladder_rules.OVERDUE_CLOCK_PREFIX}{name}@%"),
            ~Ticket.deadlines.has_key(f"{name}_done_at"),
        )
        for name in policy.escalation.overdue_clocks
    ]
    beyond_routine = and_(
        TicketEscalation.acknowledged_at.is_(None),
        Ticket.status.in_(OPEN_TICKET_STATUSES),
        or_(
            Ticket.grade == Grade.MAJOR,
            Ticket.category == Category.EMERGENCY,
            ~TicketEscalation.fired_keys.contained_by(cast(routine, ARRAY(String(80)))),
        ),
    )
    return and_(
        Ticket.status.not_in(FINISHED_TICKET_STATUSES),
        Ticket.closed_at.is_(None),
        or_(beyond_routine, *undone_clocks),
    )


def _grade_ladder(grade: Grade, policy: Policy) -> tuple[ladder_rules.Step, ...]:
    return ladder_rules.ladder_for(grade, policy)


def start_ladder(session: Session, ticket: Ticket, policy: Policy, now: datetime) -> TicketEscalation:
    """Create the ladder for a new ticket; its first step (notify the department) is due at once."""
    state = TicketEscalation(ticket_id=ticket.id, started_at=ticket.reported_at, fired_keys=[])
    schedule_next_check(state, ticket, policy, now)
    session.add(state)
    return state


def reschedule(session: Session, ticket: Ticket, policy: Policy, now: datetime) -> None:
    """After a regrade, a new ETA or a state change: recompute when the ladder needs a worker next."""
    state = session.scalar(select(TicketEscalation).where(TicketEscalation.ticket_id == ticket.id))
    if state is None:
        return
    if ticket.status not in OPEN_TICKET_STATUSES and state.resolved_at is None:
        state.resolved_at = now
    schedule_next_check(state, ticket, policy, now)


def _fire(
    session: Session,
    settings: Settings,
    ticket: Ticket,
    state: TicketEscalation,
    step: ladder_rules.Step,
    now: datetime,
    worker: str,
) -> None:
    due_at = step.due_at(state.started_at)
    session.add(
        EscalationEvent(
            ticket_id=ticket.id,
            step_key=step.key,
            audience=step.audience,
            kind=step.kind,
            message=step.message,
            due_at=due_at,
            fired_at=now,
            fired_by=worker,
        )
    )
    state.fired_keys = [*state.fired_keys, step.key]
    notify(
        session,
        settings,
        kind=f"escalation.{step.kind}",
        audience=step.audience,
        ticket_id=ticket.id,
        now=now,
        subject=f"[{ticket.grade.value}] ticket {ticket.id}: {step.message}",
        body=f"{ticket.symptom}\nOn-site deadline: {ticket.due_on_site_at.isoformat()}",
        payload={"step": step.key, "due_at": due_at.isoformat(), "grade": ticket.grade.value},
    )


def run_due_escalations(
    factory: sessionmaker[Session], settings: Settings, now: datetime, *, batch: int = 50, worker: str | None = None
) -> int:
    """One tick: fire every due step of up to `batch` ladders, each ladder in its own transaction."""
    policy = policy_for(settings)
    worker = worker or f"worker:{socket.gethostname()}:{os.getpid()}"
    fired = 0
    with factory() as session:
        due = session.execute(
            select(TicketEscalation.id, TicketEscalation.ticket_id)
            .where(TicketEscalation.next_check_at <= now)
            .order_by(TicketEscalation.next_check_at)
            .limit(batch)
        ).all()
    for escalation_id, ticket_id in due:
        with factory() as session:
            # Ticket first, then its ladder: the order every other writer (re-plan, technician events, an
            # acknowledgement) takes them in, so the two cannot deadlock. A ticket someone is writing right now
            # is skipped and checked at the next tick.
            ticket = session.scalar(
                select(Ticket).where(Ticket.id == ticket_id).with_for_update(key_share=True, skip_locked=True)
            )
            if ticket is None:
                continue
            state = session.scalar(
                select(TicketEscalation)
                .where(TicketEscalation.id == escalation_id, TicketEscalation.next_check_at <= now)
                .with_for_update(skip_locked=True)
            )
            if state is None:
                continue  # another worker has it, or it was handled meanwhile
            if ticket.status not in OPEN_TICKET_STATUSES and state.resolved_at is None:
                state.resolved_at = ticket.resolved_at or ticket.closed_at or now
            steps = ladder_rules.due_steps(
                _ladder(ticket, policy),
                state.started_at,
                now,
                state.acknowledged_at,
                state.fired_keys,
                state.resolved_at,
            )
            for step in steps:
                _fire(session, settings, ticket, state, step, now, worker)
            if ticket.status in _BEFORE_ARRIVAL and state.resolved_at is None:
                pre = ladder_rules.pre_breach_step(ticket.eta_at, ticket.due_on_site_at, now, policy, state.fired_keys)
                if pre is not None:
                    if not ticket.at_risk:
                        ticket.at_risk = True
                        record_event(
                            session,
                            ticket,
                            action="at_risk",
                            actor=worker,
                            at=now,
                            reason="The planned arrival misses the on-site deadline"
                            if ticket.eta_at
                            else "No technician planned and the deadline is near",
                            data={"eta_at": ticket.eta_at.isoformat() if ticket.eta_at else None},
                        )
                    _fire(session, settings, ticket, state, pre, now, worker)
                    steps.append(pre)
                    if ticket.eta_at is None:
                        customer_notices.unplanned_late(session, ticket, now=now)
            for overdue in ladder_rules.overdue_clock_steps(
                _clocks(ticket), state.started_at, now, policy, state.fired_keys
            ):
                _fire(session, settings, ticket, state, overdue, now, worker)
                steps.append(overdue)
            schedule_next_check(state, ticket, policy, now)
            session.commit()
            fired += len(steps)
    return fired


def acknowledge(
    session: Session, *, policy: Policy, ticket_id: int, user_id: int, actor: str, note: str | None, now: datetime
) -> TicketEscalation:
    """Someone has taken the matter up: the ladder's notify steps stop (written reports still fall due)."""
    # Ticket first, then its ladder (the order of the re-plan and the worker: the soak found deadlocks otherwise).
    ticket = session.scalar(select(Ticket).where(Ticket.id == ticket_id).with_for_update(key_share=True))
    state = session.scalar(select(TicketEscalation).where(TicketEscalation.ticket_id == ticket_id).with_for_update())
    if state is None:
        raise NotFound(
            f"Ticket {ticket_id} has no escalation.", key="error.escalation.none", params={"ticket_id": ticket_id}
        )
    if state.acknowledged_at is not None:
        raise Conflict(
            f"The escalation of ticket {ticket_id} was already acknowledged.",
            key="error.escalation.acknowledged",
            params={"ticket_id": ticket_id},
        )
    assert ticket is not None
    state.acknowledged_at = now
    state.acknowledged_by_id = user_id
    state.acknowledgement_note = note
    record_event(
        session, ticket, action="escalation_acknowledged", actor=actor, actor_user_id=user_id, reason=note, at=now
    )
    schedule_next_check(state, ticket, policy, now)
    session.commit()
    return state


def update_eta(session: Session, ticket: Ticket, eta: datetime | None, policy: Policy, now: datetime) -> None:
    """The plan's ETA changed: mark at risk at once when it misses the deadline (escalated by the worker)."""
    ticket.eta_at = eta
    margin = timedelta(minutes=policy.escalation.pre_breach.margin_minutes)
    if ticket.status in _BEFORE_ARRIVAL:
        ticket.at_risk = ladder_rules.at_risk(eta, ticket.due_on_site_at, now, margin)
    reschedule(session, ticket, policy, now)
    customer_notices.eta_changed(session, ticket, now=now)
