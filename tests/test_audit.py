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


def test_the_guard_holds_for_the_products_sessions_not_every_session(connection):
    """The audit guard is registered on the product's sessionmaker (dispatch.core.db), not on every Session in
    the process by importing a module: a bare Session is not the product's, and the guard stays out of it."""
    from sqlalchemy.orm import Session

    from dispatch.core.db import make_sessionmaker

    product = make_sessionmaker(connection, join_transaction_mode="create_savepoint")()
    ticket = make_ticket(product)
    product.commit()
    ticket.status = TicketStatus.cancelled
    with pytest.raises(UnauditedStatusChange):
        product.flush()
    product.rollback()
    product.close()

    bare = Session(bind=connection, join_transaction_mode="create_savepoint")
    other = make_ticket(bare)
    other.status = TicketStatus.cancelled
    bare.flush()  # no guard here: the hooks belong to the product's factory
    bare.close()


def test_audit_rows_cannot_be_edited_or_deleted(db_session):
    """The database itself refuses UPDATE and DELETE on the audit log."""
    make_ticket(db_session)
    db_session.commit()
    for statement in ("UPDATE audit_log SET reason = 'rewritten'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError, match="append-only"), db_session.begin_nested():
            db_session.execute(text(statement))


def test_audit_row_from_a_stale_copy_is_refused(live_db):
    """A status-keeping audit row written from a copy read before someone else's status change commits is
    refused like a stale UPDATE, so the last audit row always names the ticket's real status."""
    from sqlalchemy.orm import Session
    from sqlalchemy.orm.exc import StaleDataError

    from dispatch.audit.service import record_event
    from dispatch.tickets.models import Ticket

    with Session(live_db) as setup:
        ticket_id = make_ticket(setup).id
        setup.commit()
    with Session(live_db) as device, Session(live_db) as technician:
        stale = device.get(Ticket, ticket_id)  # the gateway's read of the ticket, before the technician's change
        fresh = technician.get(Ticket, ticket_id)
        change_status(technician, fresh, to_status=TicketStatus.assigned, action="assign", actor="user:1")
        technician.commit()
        with pytest.raises(StaleDataError):
            record_event(device, stale, action="alarm_cleared", actor="device:d1", reason="cleared")
        device.rollback()
        # Read again, the same event is written and the trail ends with the real status.
        record_event(device, device.get(Ticket, ticket_id), action="alarm_cleared", actor="device:d1")
        device.commit()
    with Session(live_db) as check:
        last = check.scalars(select(AuditEntry).where(AuditEntry.ticket_id == ticket_id).order_by(AuditEntry.id))
        trail = [(e.action, e.to_status) for e in last]
        assert trail[-1] == ("alarm_cleared", "assigned")
        assert check.get(Ticket, ticket_id).status is TicketStatus.assigned


def test_concurrent_change_answers_409_problem_not_500(settings, session_factory):
    """When the version check refuses a write because the ticket changed at the same moment, the caller gets a
    409 problem+json to send again, never a 500."""
    from fastapi.testclient import TestClient
    from sqlalchemy.orm.exc import StaleDataError

    from dispatch.app import create_app

    app = create_app(settings, session_factory=session_factory)

    @app.get("/__test/stale")
    def _stale() -> None:
        raise StaleDataError("UPDATE statement on table 'tickets' expected to update 1 row(s); 0 were matched.")

    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.get("/__test/stale", headers={"Accept-Language": "zh-CN"})
    assert r.status_code == 409 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["type"].endswith("/stale-update") and "同时修改" in r.json()["detail"]
