"""The technician's reported ETA is kept by the re-plan; every change of who goes, every notice and photo is on the
ticket's timeline; a draft's diff names people, times and the deadlines it keeps or loses."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from dispatch.app import create_app
from dispatch.audit.models import AuditEntry
from dispatch.core.clock import utcnow
from dispatch.core.types import EquipmentType, Role, TicketStatus
from dispatch.plans import service as plans
from dispatch.tickets.models import Ticket, Visit
from dispatch.visits.models import JobPhoto
from dispatch.workforce.models import TechnicianShift
from tests.dispatch.plans.test_planning import FAST_POLICY, _tech, _ticket
from tests.factories import auth_header, make_user


@pytest.fixture
def fast(settings, tmp_path):  # type: ignore[no-untyped-def]
    path = tmp_path / "policy.toml"
    path.write_text(FAST_POLICY)
    return settings.model_copy(update={"policy_file": path})


@pytest.fixture
def fast_client(fast, session_factory):  # type: ignore[no-untyped-def]
    app = create_app(fast, session_factory=session_factory)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def _visit(db_session, ticket_id):
    db_session.expire_all()
    return db_session.scalar(select(Visit).where(Visit.ticket_id == ticket_id).order_by(Visit.id.desc()).limit(1))


def test_reported_eta_is_kept_by_the_next_replan(fast_client, db_session, session_factory, fast):
    """After "cannot make the promised time, ETA 20:00" the re-plan keeps 20:00 and the ticket stays at risk."""
    tech = _tech(db_session, ["tower_crane"], hours=30)
    user = make_user(db_session, role=Role.technician, technician=tech)
    crane = _ticket(db_session, fast, EquipmentType.tower_crane)
    plans.run_live_replan(session_factory, fast, utcnow())
    visit = _visit(db_session, crane.id)
    assert visit.technician_id == tech.id
    headers = auth_header(fast, user)
    url = f"/api/v1/jobs/{visit.id}/events"
    assert fast_client.post(url, json={"kind": "accept"}, headers=headers).status_code == 200
    new_eta = (crane.due_on_site_at + timedelta(hours=1)).replace(microsecond=0)
    r = fast_client.post(
        url,
        json={"kind": "cannot_meet_time", "new_eta": new_eta.isoformat(), "reason": "gearbox part on the way"},
        headers=headers,
    )
    assert r.status_code == 200, r.text
    plans.run_live_replan(session_factory, fast, utcnow())
    visit = _visit(db_session, crane.id)
    ticket = db_session.get(Ticket, crane.id)
    assert visit.planned_arrival_at >= new_eta - timedelta(seconds=1)
    assert ticket.eta_at >= new_eta - timedelta(seconds=1) and ticket.at_risk is True


def test_pin_to_another_technician_is_a_reassignment_on_the_timeline(fast_client, db_session, session_factory, fast):
    """Pinning a planned visit to someone else reads "reassigned: A → B" on the ticket's timeline."""
    first = _tech(db_session, ["tower_crane"])
    second = _tech(db_session, ["tower_crane"], lat=28.3, lon=112.9)
    crane = _ticket(db_session, fast, EquipmentType.tower_crane)
    plans.run_live_replan(session_factory, fast, utcnow())
    visit = _visit(db_session, crane.id)
    planned = visit.technician_id
    other = second if planned == first.id else first
    names = {first.id: first.name, second.id: second.name}
    headers = auth_header(fast, make_user(db_session, role=Role.dispatcher))
    r = fast_client.post("/api/v1/plans/pin", json={"ticket_id": crane.id, "technician_id": other.id}, headers=headers)
    assert r.status_code == 200, r.text
    timeline = fast_client.get(f"/api/v1/tickets/{crane.id}/timeline", headers=headers).json()
    assert isinstance(timeline, list), timeline
    titles = [e["title"] for e in timeline]
    assert any(names[planned] in t and other.name in t and "reassigned" in t for t in titles), titles


def test_live_replan_reassignment_is_audited_with_names(fast_client, db_session, session_factory, fast):
    """When the planner moves a visit to another technician (the first one's shift ended), the move is audited."""
    first = _tech(db_session, ["tower_crane"])
    crane = _ticket(db_session, fast, EquipmentType.tower_crane)
    plans.run_live_replan(session_factory, fast, utcnow())
    assert _visit(db_session, crane.id).technician_id == first.id
    for shift in db_session.scalars(select(TechnicianShift).where(TechnicianShift.technician_id == first.id)):
        db_session.delete(shift)
    second = _tech(db_session, ["tower_crane"], lat=28.3, lon=112.9)
    db_session.commit()
    from dispatch.plans.requests import request_replan

    request_replan(db_session, reason="shift ended", ticket_id=crane.id)
    db_session.commit()
    plans.run_live_replan(session_factory, fast, utcnow())
    assert _visit(db_session, crane.id).technician_id == second.id
    moved = db_session.scalars(
        select(AuditEntry).where(AuditEntry.ticket_id == crane.id, AuditEntry.action == "visit_reassigned")
    ).all()
    assert [(m.data["from_technician"], m.data["to_technician"]) for m in moved] == [(first.id, second.id)]
    headers = auth_header(fast, make_user(db_session, role=Role.dispatcher))
    timeline = fast_client.get(f"/api/v1/tickets/{crane.id}/timeline", headers=headers).json()
    assert any(first.name in e["title"] and second.name in e["title"] for e in timeline)


def test_notices_and_photos_are_on_the_timeline(fast_client, db_session, session_factory, fast):
    """The customer's "complaint received" notice and a technician's photo show on the ticket's timeline."""
    tech = _tech(db_session, ["tower_crane"])
    crane = _ticket(db_session, fast, EquipmentType.tower_crane)
    plans.run_live_replan(session_factory, fast, utcnow())
    visit = _visit(db_session, crane.id)
    db_session.add(
        JobPhoto(
            id="p" * 40,
            visit_id=visit.id,
            ticket_id=crane.id,
            content_type="image/jpeg",
            size_bytes=10,
            sha256="0" * 64,
            storage_key="k",
        )
    )
    db_session.commit()
    assert visit.technician_id == tech.id
    headers = auth_header(fast, make_user(db_session, role=Role.dispatcher))
    timeline = fast_client.get(f"/api/v1/tickets/{crane.id}/timeline", headers=headers).json()
    kinds = {e["kind"] for e in timeline}
    assert {"notification", "photo"} <= kinds
    notice = next(e for e in timeline if e["kind"] == "notification")
    assert notice["detail"] and notice["data"]["channel"]


def test_draft_diff_counts_the_unplannable_and_names_the_moves(fast_client, db_session, session_factory, fast):
    """A ticket without a site counts as unassigned in the draft's diff; moves carry names, ETAs and deadlines."""
    _tech(db_session, ["tower_crane"])
    _ticket(db_session, fast, EquipmentType.tower_crane)
    from dispatch.core.policy import policy_for
    from dispatch.core.types import Category, Channel
    from dispatch.tickets.schemas import Impact
    from dispatch.tickets.service import open_complaint

    orphan = open_complaint(
        db_session,
        policy=policy_for(fast),
        now=utcnow(),
        actor="test",
        actor_user_id=None,
        channel=Channel.phone,
        category=Category.EQUIPMENT,
        symptom="unknown machine",
        impact=Impact(equipment_down=True),
        serial_number="NOT-REGISTERED-1",
        customer_name="Caller",
        customer_phone="13700001234",
    ).ticket
    headers = auth_header(fast, make_user(db_session, role=Role.dispatcher))
    draft = fast_client.post("/api/v1/plans", json={"reason": "test"}, headers=headers).json()
    plans.run_drafts(session_factory, fast, utcnow())
    ready = fast_client.get(f"/api/v1/plans/{draft['id']}", headers=headers).json()
    diff = ready["diff"]
    assert diff["unassigned_after"] >= 1 and str(orphan.id) in diff["unassigned_tickets_after"]
    assert diff["added"] and diff["added"][0]["to_name"] and diff["added"][0]["deadline"]
    assert diff["added"][0]["after"]["eta"]
    assert db_session.get(Ticket, orphan.id).status is TicketStatus.new
