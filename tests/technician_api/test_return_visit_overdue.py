"""A return-visit call that is not logged in time is escalated to the department head, exactly once."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from dispatch.notifications.models import Notification
from dispatch.return_visits.jobs import KIND, escalate_overdue_return_visits
from dispatch.return_visits.models import ReturnVisitTask
from tests.factories import BASE_TIME, make_ticket


def test_overdue_return_call_is_escalated_once(db_session, session_factory, settings):
    """Past its due time the call pages the department head; running the job again pages no one."""
    ticket = make_ticket(db_session)
    due = BASE_TIME + timedelta(days=2)
    db_session.add(ReturnVisitTask(ticket_id=ticket.id, reason="completion", status="open", due_at=due))
    db_session.commit()
    assert escalate_overdue_return_visits(session_factory, settings, due - timedelta(minutes=1)) == 0
    assert escalate_overdue_return_visits(session_factory, settings, due + timedelta(minutes=1)) == 1
    assert escalate_overdue_return_visits(session_factory, settings, due + timedelta(hours=1)) == 0
    notices = db_session.scalars(select(Notification).where(Notification.kind == KIND)).all()
    assert [(n.audience, n.ticket_id) for n in notices if n.channel == "in_app"] == [("department_head", ticket.id)]


def test_logged_call_is_not_escalated(db_session, session_factory, settings):
    """A call already logged as done is left alone."""
    ticket = make_ticket(db_session)
    due = BASE_TIME + timedelta(days=2)
    db_session.add(
        ReturnVisitTask(
            ticket_id=ticket.id, reason="completion", status="done", due_at=due, done_at=due - timedelta(hours=1)
        )
    )
    db_session.commit()
    assert escalate_overdue_return_visits(session_factory, settings, due + timedelta(hours=1)) == 0
