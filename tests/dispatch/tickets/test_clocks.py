"""One "next clock" on every surface; handling clocks a person completes; escalations that need a person."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from dispatch.audit.service import change_status
from dispatch.core.clock import frozen_at
from dispatch.core.policy import policy_for
from dispatch.core.types import Role, TicketStatus
from dispatch.escalation import service as escalation
from dispatch.escalation.models import EscalationEvent
from dispatch.tickets.models import Ticket
from tests.factories import auth_header, make_ticket, make_user, open_trapped_complaint

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def _board_item(client, headers, ticket_id):
    groups = client.get("/api/v1/board/queue/groups", headers=headers).json()["groups"]
    return next(i for g in groups.values() for i in g["items"] if i["id"] == ticket_id)


def _resolved(db_session, *, completed_at, grade="major"):
    """A ticket whose job was completed at `completed_at`, with the completion clocks the technician API sets."""
    from dispatch.core.types import Grade

    ticket = make_ticket(
        db_session, grade=Grade(grade), reported_at=completed_at - timedelta(hours=2), status=TicketStatus.resolved
    )
    ticket.on_site_at = completed_at - timedelta(hours=1)
    ticket.resolved_at = completed_at
    ticket.deadlines = {
        "department_notify_due_at": (ticket.reported_at + timedelta(minutes=3)).isoformat(),
        "department_notify_done_at": ticket.reported_at.isoformat(),
        "completed_at": completed_at.isoformat(),
        "report_back_due_at": (completed_at + timedelta(hours=2)).isoformat(),
        "first_responder_due_at": (completed_at + timedelta(hours=2)).isoformat(),
        "follow_up_verification_due_at": (completed_at + timedelta(hours=8)).isoformat(),
    }
    db_session.commit()
    return ticket


def test_major_ticket_next_clock_is_the_on_site_countdown_everywhere(client, db_session, session_factory, settings):
    """Once the department notice fired on time, the tickets API and the board both count down to on-site."""
    ticket = open_trapped_complaint(db_session, policy_for(settings), now=T0)
    escalation.run_due_escalations(session_factory, settings, T0 + timedelta(seconds=20))
    dispatcher = make_user(db_session, role=Role.dispatcher)
    with frozen_at(T0 + timedelta(minutes=30)):  # the token is minted with the frozen clock too
        headers = auth_header(settings, dispatcher)
        listed = client.get("/api/v1/tickets", headers=headers).json()["items"]
        mine = next(t for t in listed if t["id"] == ticket.id)
        queued = _board_item(client, headers, ticket.id)
    assert mine["next_clock"]["name"] == "on_site" and mine["next_clock"]["breached"] is False
    assert queued["next_clock"] == mine["next_clock"]
    notify = next(c for c in mine["clocks"] if c["name"] == "department_notify")
    assert notify["done_at"] is not None and notify["breached"] is False


def test_resolved_ticket_shows_no_breach_and_completes_its_clocks(client, db_session, settings):
    """After completion the next clock is the report back; completing it records who, when and the note."""
    done = T0 + timedelta(hours=3)
    ticket = _resolved(db_session, completed_at=done)
    dispatcher = make_user(db_session, role=Role.dispatcher)
    with frozen_at(done + timedelta(minutes=30)):
        headers = auth_header(settings, dispatcher)
        t = client.get(f"/api/v1/tickets/{ticket.id}", headers=headers).json()
        assert t["next_clock"]["name"] in {"report_back", "first_responder"} and t["next_clock"]["breached"] is False
        assert not any(c["breached"] for c in t["clocks"])
        r = client.post(
            f"/api/v1/tickets/{ticket.id}/clocks/report_back/complete",
            json={"note": "Told the site manager the gearbox was replaced"},
            headers=headers,
        )
        assert r.status_code == 200, r.text
        again = client.post(f"/api/v1/tickets/{ticket.id}/clocks/report_back/complete", json={}, headers=headers)
        assert again.status_code == 409
        bad = client.post(f"/api/v1/tickets/{ticket.id}/clocks/on_site/complete", json={}, headers=headers)
        assert bad.status_code == 422
        timeline = client.get(f"/api/v1/tickets/{ticket.id}/timeline", headers=headers).json()
    clock = next(c for c in r.json()["clocks"] if c["name"] == "report_back")
    assert clock["done_by"] == dispatcher.full_name and clock["note"].startswith("Told the site manager")
    assert clock["completable"] is False and clock["breached"] is False
    assert r.json()["next_clock"]["name"] == "first_responder"
    assert any(e["data"].get("clock") == "report_back" for e in timeline)


def test_clock_not_running_is_a_conflict(client, db_session, settings):
    """A report back cannot be completed before the job is."""
    ticket = make_ticket(db_session)
    dispatcher = make_user(db_session, role=Role.dispatcher)
    r = client.post(
        f"/api/v1/tickets/{ticket.id}/clocks/report_back/complete", json={}, headers=auth_header(settings, dispatcher)
    )
    assert r.status_code == 409


def test_undone_clock_escalates_once_and_stops_when_done(client, db_session, session_factory, settings):
    """A report back still undone at 2 h is escalated once, listed as needing a person, and leaves when done."""
    done = T0
    ticket = _resolved(db_session, completed_at=done)
    state = escalation.start_ladder(db_session, ticket, policy_for(settings), done)
    state.fired_keys = ["department", "department_head"]
    state.resolved_at = done
    escalation.schedule_next_check(state, ticket, policy_for(settings), done)
    db_session.commit()
    assert state.next_check_at == done + timedelta(hours=2)
    later = done + timedelta(hours=2, minutes=1)
    escalation.run_due_escalations(session_factory, settings, later)
    escalation.run_due_escalations(session_factory, settings, later + timedelta(minutes=1))
    keys = db_session.scalars(select(EscalationEvent.step_key).where(EscalationEvent.ticket_id == ticket.id)).all()
    assert sorted(k.split("@")[0] for k in keys) == ["clock:first_responder", "clock:report_back"]
    dispatcher = make_user(db_session, role=Role.dispatcher)
    with frozen_at(later + timedelta(minutes=5)):
        headers = auth_header(settings, dispatcher)
        listed = client.get("/api/v1/escalations", headers=headers).json()
        assert ticket.id in [e["ticket_id"] for e in listed]
        for clock in ("report_back", "first_responder"):
            r = client.post(f"/api/v1/tickets/{ticket.id}/clocks/{clock}/complete", json={}, headers=headers)
            assert r.status_code == 200, r.text
            assert next(c for c in r.json()["clocks"] if c["name"] == clock)["breached"] is True  # done late
        listed = client.get("/api/v1/escalations", headers=headers).json()
    assert ticket.id not in [e["ticket_id"] for e in listed]


def test_escalation_list_counts_what_needs_a_person(client, db_session, session_factory, settings):
    """The routine department notice of a general ticket is not listed; a closed ticket's escalation is not open."""
    policy = policy_for(settings)
    general = make_ticket(db_session, reported_at=T0)
    escalation.start_ladder(db_session, general, policy, T0)
    major = open_trapped_complaint(db_session, policy, now=T0)
    db_session.commit()
    escalation.run_due_escalations(session_factory, settings, T0 + timedelta(minutes=6))
    dispatcher = make_user(db_session, role=Role.dispatcher)
    with frozen_at(T0 + timedelta(minutes=7)):
        headers = auth_header(settings, dispatcher)
        listed = [e["ticket_id"] for e in client.get("/api/v1/escalations", headers=headers).json()]
        assert major.id in listed and general.id not in listed
        db_session.expire_all()  # the worker's sessions moved the ticket's version on
        closing = db_session.get(Ticket, major.id)
        change_status(db_session, closing, to_status=TicketStatus.closed, action="close", actor="test")
        closing.closed_at = T0 + timedelta(minutes=7)
        db_session.commit()
        everything = client.get("/api/v1/escalations", params={"open": "false"}, headers=headers).json()
        listed = [e["ticket_id"] for e in client.get("/api/v1/escalations", headers=headers).json()]
    assert major.id not in listed
    closed = next(e for e in everything if e["ticket_id"] == major.id)
    assert closed["next_check_at"] is None
