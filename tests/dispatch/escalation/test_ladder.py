"""The durable escalation ladder, driven tick by tick with explicit times, and the webhook channel."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

from sqlalchemy import select

from dispatch.core.clock import frozen_at
from dispatch.core.policy import policy_for
from dispatch.core.types import Role
from dispatch.escalation import service as escalation
from dispatch.escalation.models import EscalationEvent
from dispatch.notifications.models import Notification
from dispatch.notifications.service import deliver_pending
from tests.factories import auth_header, make_user, open_trapped_complaint

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def _major(session, settings, *, reported_at=T0):
    return open_trapped_complaint(session, policy_for(settings), now=reported_at)


def _fired(session, ticket_id):
    return [
        e.step_key
        for e in session.scalars(
            select(EscalationEvent).where(EscalationEvent.ticket_id == ticket_id).order_by(EscalationEvent.id)
        )
    ]


def test_major_ladder_fires_each_step_on_time_once(db_session, session_factory, settings):
    """Department at once, head after 5 min, manager after 10 min; running the tick again fires nothing."""
    ticket = _major(db_session, settings)
    escalation.run_due_escalations(session_factory, settings, T0 + timedelta(seconds=10))
    assert _fired(db_session, ticket.id) == ["department"]
    escalation.run_due_escalations(session_factory, settings, T0 + timedelta(minutes=4, seconds=59))
    assert _fired(db_session, ticket.id) == ["department"]
    escalation.run_due_escalations(session_factory, settings, T0 + timedelta(minutes=11))
    escalation.run_due_escalations(session_factory, settings, T0 + timedelta(minutes=11))
    assert _fired(db_session, ticket.id) == ["department", "department_head", "supervising_manager"]
    notices = db_session.scalars(
        select(Notification.audience).where(Notification.ticket_id == ticket.id, Notification.channel == "in_app")
    ).all()
    notices = [a for a in notices if a != "customer"]  # the customer's own "complaint received" notice
    assert sorted(notices) == ["department", "department_head", "supervising_manager"]


def test_acknowledging_stops_notifications_but_not_written_reports(client, db_session, session_factory, settings):
    """After a dispatcher acknowledges, no one else is paged; the 24 h written report still falls due."""
    ticket = _major(db_session, settings)
    escalation.run_due_escalations(session_factory, settings, T0 + timedelta(minutes=1))
    dispatcher = make_user(db_session, role=Role.dispatcher)
    with frozen_at(T0 + timedelta(minutes=2)):  # the API stamps the acknowledgement with the same clock
        listed = client.get("/api/v1/escalations", headers=auth_header(settings, dispatcher)).json()
        assert ticket.id in [e["ticket_id"] for e in listed]
        r = client.post(
            f"/api/v1/escalations/{ticket.id}/acknowledge",
            json={"note": "on it"},
            headers=auth_header(settings, dispatcher),
        )
        assert r.status_code == 200, r.text
        assert (
            client.post(
                f"/api/v1/escalations/{ticket.id}/acknowledge", json={}, headers=auth_header(settings, dispatcher)
            ).status_code
            == 409
        )
    escalation.run_due_escalations(session_factory, settings, T0 + timedelta(minutes=30))
    assert _fired(db_session, ticket.id) == ["department"]
    escalation.run_due_escalations(session_factory, settings, T0 + timedelta(hours=24, minutes=1))
    fired = _fired(db_session, ticket.id)
    assert "written_report_24h" in fired
    assert not {"department_head", "supervising_manager", "director"} & set(fired)


def test_at_risk_ticket_is_escalated_before_it_breaches(db_session, session_factory, settings):
    """A plan ETA later than the deadline marks the ticket at risk and pages the dispatcher before the breach."""
    ticket = _major(db_session, settings)
    escalation.run_due_escalations(session_factory, settings, T0 + timedelta(minutes=1))
    policy = policy_for(settings)
    now = T0 + timedelta(minutes=2)
    escalation.update_eta(db_session, ticket, ticket.due_on_site_at + timedelta(minutes=40), policy, now)
    db_session.commit()
    assert ticket.at_risk is True
    escalation.run_due_escalations(session_factory, settings, now + timedelta(seconds=1))
    fired = _fired(db_session, ticket.id)
    assert any(k.startswith("pre_breach@") for k in fired)
    assert now + timedelta(seconds=1) < ticket.due_on_site_at  # warned well before the breach


def test_webhook_is_retried_with_backoff_and_failures_recorded(db_session, session_factory, settings):
    """A failing webhook is retried later; once it answers, the notice is marked delivered."""
    answers = [500, 200]
    received = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):
            received.append(self.rfile.read(int(self.headers["content-length"])))
            self.send_response(answers.pop(0) if answers else 200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        hooked = settings.model_copy(update={"webhook_url": f"http://127.0.0.1:{server.server_port}/hook"})
        ticket = _major(db_session, hooked)
        escalation.run_due_escalations(session_factory, hooked, T0 + timedelta(seconds=5))
        row = db_session.scalars(
            select(Notification).where(Notification.ticket_id == ticket.id, Notification.channel == "webhook")
        ).one()
        deliver_pending(session_factory, hooked, T0 + timedelta(seconds=6))
        db_session.refresh(row)
        assert (row.status, row.attempts) == ("pending", 1) and "500" in row.last_error
        assert row.next_attempt_at > T0 + timedelta(seconds=6)
        deliver_pending(session_factory, hooked, T0 + timedelta(seconds=7))  # not yet due again
        db_session.refresh(row)
        assert row.attempts == 1
        deliver_pending(session_factory, hooked, row.next_attempt_at)
        db_session.refresh(row)
        assert row.status == "delivered" and row.attempts == 2
        assert b"People trapped" in received[-1]
    finally:
        server.shutdown()


def test_acknowledging_while_a_replan_writes_the_ticket_does_not_deadlock(live_db, settings):
    """A re-plan locks the ticket and then updates its ladder; an acknowledgement at the same moment waits for
    the ticket and then succeeds, instead of holding the ladder against it (the soak found deadlocks) or
    writing from a copy of the ticket the re-plan has since changed."""
    from sqlalchemy.orm import Session

    from dispatch.tickets.models import Ticket

    policy = policy_for(settings)
    now = datetime.now(UTC)
    with Session(live_db) as s:
        ticket_id = _major(s, settings, reported_at=now).id
        dispatcher_id = make_user(s, role=Role.dispatcher).id
        s.commit()
    outcome: dict[str, object] = {}
    with Session(live_db) as replan:
        ticket = replan.scalar(select(Ticket).where(Ticket.id == ticket_id).with_for_update(key_share=True))

        def acknowledge() -> None:
            with Session(live_db) as office:
                try:
                    escalation.acknowledge(
                        office,
                        policy=policy,
                        ticket_id=ticket_id,
                        user_id=dispatcher_id,
                        actor="user",
                        note=None,
                        now=now,
                    )
                    outcome["ack"] = "ok"
                except Exception as exc:  # a deadlock victim would land here
                    outcome["ack"] = repr(exc)

        other = threading.Thread(target=acknowledge)
        other.start()
        other.join(1.5)  # the acknowledgement is now waiting for the ticket, holding nothing the re-plan needs
        escalation.update_eta(replan, ticket, now + timedelta(minutes=30), policy, now)  # writes the ladder too
        replan.commit()
        other.join(10)
    assert outcome == {"ack": "ok"}
