"""Return visits: the call to the customer within 2 working days of completion (domain.md "Handling clocks")."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.audit.service import change_status, record_event
from dispatch.confirmations.models import ConfirmationLink
from dispatch.core.auth import Principal
from dispatch.core.errors import Conflict, NotFound
from dispatch.core.types import TicketStatus
from dispatch.domain.lifecycle import TicketAction, transition
from dispatch.return_visits.models import ReturnVisitTask
from dispatch.return_visits.schemas import ReturnVisitIn, ReturnVisitLogged, ReturnVisitOut
from dispatch.tickets.models import Ticket


def task_out(task: ReturnVisitTask, now: datetime) -> ReturnVisitOut:
    return ReturnVisitOut(
        id=task.id,
        ticket_id=task.ticket_id,
        reason=task.reason,
        status=task.status,
        due_at=task.due_at,
        done_at=task.done_at,
        outcome=task.outcome,
        note=task.note,
        overdue=(task.status == "open" and task.due_at < now)
        or (task.done_at is not None and task.done_at > task.due_at),
    )


def list_return_visits(session: Session, *, ticket_id: int, now: datetime) -> list[ReturnVisitOut]:
    if session.get(Ticket, ticket_id) is None:
        raise NotFound(f"Ticket {ticket_id} not found.", key="error.ticket.not-found", params={"ticket_id": ticket_id})
    tasks = session.scalars(
        select(ReturnVisitTask).where(ReturnVisitTask.ticket_id == ticket_id).order_by(ReturnVisitTask.id)
    )
    return [task_out(t, now) for t in tasks]


def log_return_visit(
    session: Session, *, ticket_id: int, principal: Principal, call: ReturnVisitIn, now: datetime
) -> ReturnVisitLogged:
    """Mark the open return-visit task done; a confirmed ticket (or one whose customer refused to sign) closes.

    A reached customer who raises a new complaint keeps the ticket open for the agent to reopen or link.
    """
    ticket = session.scalar(select(Ticket).where(Ticket.id == ticket_id).with_for_update())
    if ticket is None:
        raise NotFound(f"Ticket {ticket_id} not found.", key="error.ticket.not-found", params={"ticket_id": ticket_id})
    task = session.scalar(
        select(ReturnVisitTask)
        .where(ReturnVisitTask.ticket_id == ticket_id, ReturnVisitTask.status == "open")
        .order_by(ReturnVisitTask.due_at)
        .limit(1)
        .with_for_update()
    )
    if task is None:
        raise Conflict(
            f"Ticket {ticket_id} has no open return visit.",
            key="error.return-visit.none-open",
            params={"ticket_id": ticket_id},
        )
    task.status = "done"
    task.done_at = now
    task.done_by_user_id = principal.user_id
    task.outcome = call.outcome
    task.note = call.note
    if call.outcome != "unreachable":  # the customer was spoken to: the return-visit clock is met
        ticket.deadlines = {**(ticket.deadlines or {}), "return_visit_done_at": now.isoformat()}
    refused = session.scalar(
        select(ConfirmationLink.jti).where(
            ConfirmationLink.ticket_id == ticket_id, ConfirmationLink.refused_at.is_not(None)
        )
    )
    closable = call.outcome == "reached" and (
        ticket.status is TicketStatus.confirmed or (ticket.status is TicketStatus.resolved and refused is not None)
    )
    data = {"return_visit_id": task.id, "outcome": call.outcome, "on_time": now <= task.due_at}
    if closable:
        change_status(
            session,
            ticket,
            to_status=TicketStatus(transition(ticket.status.value, TicketAction.CLOSE).value),
            action=TicketAction.CLOSE.value,
            actor=principal.actor,
            actor_user_id=principal.user_id,
            reason="return visit logged",
            data=data,
            at=now,
        )
        ticket.closed_at = now
        ticket.closure_note = call.note
    else:
        record_event(
            session,
            ticket,
            action="return_visit",
            actor=principal.actor,
            actor_user_id=principal.user_id,
            reason=call.note,
            data=data,
            at=now,
        )
    session.commit()
    return ReturnVisitLogged(task=task_out(task, now), ticket_status=ticket.status.value, closed=closable)
