"""The audit log: every ticket state change has its row, in the same transaction, and rows never change."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from dispatch.audit.models import AuditEntry
from dispatch.audit.service import UnauditedStatusChange, change_status
from dispatch.core.types import TicketStatus
from tests.factories import make_ticket


def test_status_change_writes_audit_row(db_session):
    """Moving a ticket records who, when, from, to and why."""
    ticket = make_ticket(db_session)
    change_status(
        db_session,
        ticket,
        to_status=TicketStatus.assigned,
        action="assign",
        actor="user:1",
        reason="nearest skilled technician",
    )
    db_session.commit()
    rows = db_session.scalars(select(AuditEntry).where(AuditEntry.ticket_id == ticket.id).order_by(AuditEntry.id))
    entries = [(e.action, e.from_status, e.to_status, e.reason) for e in rows]
    assert entries == [("open", None, "new", None), ("assign", "new", "assigned", "nearest skilled technician")]


def test_unaudited_status_change_is_refused(db_session):
    """Code that changes a status without auditing it fails instead of writing a silent change."""
    ticket = make_ticket(db_session)
    db_session.commit()
    ticket.status = TicketStatus.cancelled
    with pytest.raises(UnauditedStatusChange):
        db_session.flush()
    db_session.rollback()


def test_audit_rows_cannot_be_edited_or_deleted(db_session):
    """The database itself refuses UPDATE and DELETE on the audit log."""
    make_ticket(db_session)
    db_session.commit()
    for statement in ("UPDATE audit_log SET reason = 'rewritten'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError, match="append-only"), db_session.begin_nested():
            db_session.execute(text(statement))
