"""Ticket state changes and their audit rows, written in the same transaction.

`change_status` is the only sanctioned way to move a ticket's status; a flush guard refuses any status
change that has no audit row pending beside it, so a forgotten audit is a bug that fails loudly.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from dispatch.audit.models import AuditEntry
from dispatch.core.clock import utcnow
from dispatch.core.types import TicketStatus
from dispatch.tickets.models import Ticket


class UnauditedStatusChange(RuntimeError):
    """A ticket's status changed in a flush without an audit entry for it."""


def change_status(
    session: Session,
    ticket: Ticket,
    *,
    to_status: TicketStatus,
    action: str,
    actor: str,
    actor_user_id: int | None = None,
    reason: str | None = None,
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> AuditEntry:
    """Set the ticket's status and add the audit row; the caller's single commit writes both."""
    if ticket.id is None:
        session.flush()
    entry = AuditEntry(
        ticket_id=ticket.id,
        at=at or utcnow(),
        actor=actor,
        actor_user_id=actor_user_id,
        action=action,
        from_status=str(ticket.status) if ticket.status is not None else None,
        to_status=str(to_status),
        reason=reason,
        data=data or {},
    )
    ticket.status = to_status
    session.add(entry)
    return entry


def record_opening(
    session: Session,
    ticket: Ticket,
    *,
    actor: str,
    actor_user_id: int | None = None,
    reason: str | None = None,
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> AuditEntry:
    """Audit the birth of a ticket (from no state to its first status) in the transaction that creates it."""
    session.flush()
    entry = AuditEntry(
        ticket_id=ticket.id,
        at=at or utcnow(),
        actor=actor,
        actor_user_id=actor_user_id,
        action="open",
        from_status=None,
        to_status=str(ticket.status),
        reason=reason,
        data=data or {},
    )
    session.add(entry)
    return entry


def record_event(
    session: Session,
    ticket: Ticket,
    *,
    action: str,
    actor: str,
    actor_user_id: int | None = None,
    reason: str | None = None,
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> AuditEntry:
    """Audit a change that keeps the status (a regrade, a nature change, a link) in the same way."""
    _refuse_stale(session, ticket)
    entry = AuditEntry(
        ticket_id=ticket.id,
        at=at or utcnow(),
        actor=actor,
        actor_user_id=actor_user_id,
        action=action,
        from_status=str(ticket.status),
        to_status=str(ticket.status),
        reason=reason,
        data=data or {},
    )
    session.add(entry)
    return entry


def _refuse_stale(session: Session, ticket: Ticket) -> None:
    """Lock the ticket's row and refuse a stale copy, as the version check refuses a stale UPDATE.

    An audit row that leaves the ticket itself untouched carries no version check: written from a copy read
    before someone else's status change commits, it would become the last row with the old status (found by
    bench/soak.py, where a device's clear raced a technician's event). A ticket with pending changes needs no
    extra query: its UPDATE is version-checked and is flushed before the audit row.
    """
    if ticket.id is None or inspect(ticket).modified:
        return
    current = session.scalar(select(Ticket.version).where(Ticket.id == ticket.id).with_for_update(key_share=True))
    if current != ticket.version:
        raise StaleDataError(f"ticket {ticket.id} changed since it was read (version {ticket.version} -> {current})")


def _refuse_unaudited_status_change(session: Session, _ctx: object, _instances: object) -> None:
    pending = {(e.ticket_id, e.to_status) for e in session.new if isinstance(e, AuditEntry)}
    for obj in session.dirty:
        changed = isinstance(obj, Ticket) and inspect(obj).attrs.status.history.has_changes()
        if changed and (obj.id, str(obj.status)) not in pending:
            raise UnauditedStatusChange(f"ticket {obj.id} moved to {obj.status} without an audit entry")


def _track_created_tickets(session: Session, _ctx: object) -> None:
    created = session.info.setdefault("onsite24_created_tickets", set())
    audited = session.info.setdefault("onsite24_audited_tickets", set())
    for obj in session.new:
        if isinstance(obj, Ticket):
            created.add(obj.id)
        elif isinstance(obj, AuditEntry):
            audited.add(obj.ticket_id)


def _refuse_unaudited_new_ticket(session: Session) -> None:
    session.flush()
    missing = session.info.get("onsite24_created_tickets", set()) - session.info.get("onsite24_audited_tickets", set())
    if missing:
        raise UnauditedStatusChange(f"tickets {sorted(missing)} were opened without an audit entry")


def _forget_tracking(session: Session, *_args: object) -> None:
    session.info.pop("onsite24_created_tickets", None)
    session.info.pop("onsite24_audited_tickets", None)


def install_guard(factory: sessionmaker[Session]) -> None:
    """Refuse, in the sessions of `factory`, a ticket status change or a new ticket without its audit row.

    Registered by `dispatch.core.db.make_sessionmaker` on the sessionmaker every process builds, not on every
    Session by import.
    """
    event.listen(factory, "before_flush", _refuse_unaudited_status_change)
    event.listen(factory, "after_flush", _track_created_tickets)
    event.listen(factory, "before_commit", _refuse_unaudited_new_ticket)
    event.listen(factory, "after_commit", _forget_tracking)
    event.listen(factory, "after_soft_rollback", _forget_tracking)


def apply_transition(
    session: Session,
    ticket: Ticket,
    action: str,
    *,
    actor: str,
    actor_user_id: int | None = None,
    reason: str | None = None,
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> AuditEntry:
    """Move the ticket by a lifecycle action (409 with the allowed actions if illegal), audited."""
    from dispatch.domain.lifecycle import transition

    new_state = transition(str(ticket.status), action)
    return change_status(
        session,
        ticket,
        to_status=TicketStatus(new_state.value),
        action=action,
        actor=actor,
        actor_user_id=actor_user_id,
        reason=reason,
        data=data,
        at=at,
    )
