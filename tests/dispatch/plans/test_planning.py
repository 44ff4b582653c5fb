"""The live plan, drafts and dispatcher moves on a real database with the real optimizer."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from dispatch.app import create_app
from dispatch.audit.service import change_status
from dispatch.core.clock import utcnow
from dispatch.core.policy import policy_for
from dispatch.core.types import Category, Channel, EquipmentType, Role, TicketStatus, VisitStatus
from dispatch.notifications.models import Notification
from dispatch.plans import service as plans
from dispatch.plans.models import Plan
from dispatch.plans.requests import request_replan
from dispatch.tickets.models import Ticket, Visit
from dispatch.tickets.schemas import Impact
from dispatch.tickets.service import open_complaint
from dispatch.workforce.models import TechnicianShift
from tests.factories import auth_header, make_depot, make_site, make_technician, make_user

FAST_POLICY = "[routing]\ntime_limit_seconds = 0.3\ndraft_time_limit_seconds = 0.5\n"


@pytest.fixture
def fast(settings, tmp_path):
    path = tmp_path / "policy.toml"
    path.write_text(FAST_POLICY)
    return settings.model_copy(update={"policy_file": path})


@pytest.fixture
def fast_client(fast, session_factory):
    from fastapi.testclient import TestClient

    from dispatch.app import create_app

    app = create_app(fast, session_factory=session_factory)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def _tech(session, skills, *, lat=28.2282, lon=112.9388, hours=10):
    depot = make_depot(session, lat=lat, lon=lon)
    tech = make_technician(session, skills=skills, depot=depot)
    now = utcnow()
    session.add(
        TechnicianShift(technician_id=tech.id, starts_at=now - timedelta(hours=1), ends_at=now + timedelta(hours=hours))
    )
    session.flush()
    return tech


def _ticket(session, settings, etype, *, lat=28.21, lon=112.95, impact=None, category=Category.EQUIPMENT):
    _site, unit = make_site(session, lat=lat, lon=lon, equipment_type=etype)
    return open_complaint(
        session,
        policy=policy_for(settings),
        now=utcnow(),
        actor="test",
        actor_user_id=None,
        channel=Channel.phone,
        category=category,
        symptom=f"{etype.value} fault",
        impact=impact or Impact(equipment_down=True),
        equipment_id=unit.id,
    ).ticket


def test_live_replan_assigns_skilled_technicians_with_eta(fast_client, db_session, session_factory, fast):
    """New tickets are planned to technicians with the right skill; tickets show technician and ETA."""
    crane_tech = _tech(db_session, ["tower_crane"])
    lift_tech = _tech(db_session, ["elevator"])
    crane = _ticket(db_session, fast, EquipmentType.tower_crane)
    lift = _ticket(db_session, fast, EquipmentType.elevator, lat=28.25, lon=112.90)
    assert plans.run_live_replan(session_factory, fast, utcnow()) >= 2
    db_session.expire_all()
    assert db_session.get(Ticket, crane.id).assigned_technician_id == crane_tech.id
    assert db_session.get(Ticket, lift.id).assigned_technician_id == lift_tech.id
    for t in (crane, lift):
        ticket = db_session.get(Ticket, t.id)
        assert ticket.status is TicketStatus.assigned and ticket.eta_at is not None
        assert ticket.eta_at <= ticket.due_on_site_at and not ticket.at_risk
    assigned = db_session.scalars(
        select(Notification).where(Notification.ticket_id == crane.id, Notification.kind == "customer.assigned")
    ).all()
    assert assigned and crane_tech.name in assigned[0].body  # the customer is told who comes, and when
    dispatcher = make_user(db_session, role=Role.dispatcher)
    live = fast_client.get("/api/v1/plans/live", headers=auth_header(fast, dispatcher)).json()
    stops = {s["ticket_id"]: s for r in live["routes"] for s in r["stops"]}
    assert set(stops) >= {crane.id, lift.id}
    assert stops[crane.id]["reasons"], "every planned visit says why"
    assert plans.run_live_replan(session_factory, fast, utcnow()) == 0, "nothing pending, nothing solved"


def test_ticket_nobody_can_serve_is_unassigned_with_the_reason(fast_client, db_session, session_factory, fast):
    """A base-station fault with no base-station technician on shift stays unassigned and says why."""
    _tech(db_session, ["tower_crane"])
    station = _ticket(db_session, fast, EquipmentType.base_station)
    plans.run_live_replan(session_factory, fast, utcnow())
    dispatcher = make_user(db_session, role=Role.dispatcher)
    live = fast_client.get("/api/v1/plans/live", headers=auth_header(fast, dispatcher)).json()
    reasons = {u["ticket_id"]: u["reason"] for u in live["unassigned"]}
    assert "base_station" in reasons[station.id]
    assert db_session.get(Ticket, station.id).status is TicketStatus.new


def test_far_away_technician_marks_major_ticket_at_risk(db_session, session_factory, fast):
    """When the only technician cannot arrive before a major deadline, the ticket is flagged at risk."""
    # ~250 km away: about 8 h on the road each way, so a shift long enough to drive there, work and drive home
    _tech(db_session, ["elevator"], lat=28.2, lon=115.4, hours=20)
    trapped = _ticket(
        db_session, fast, EquipmentType.elevator, category=Category.EMERGENCY, impact=Impact(people_trapped=True)
    )
    plans.run_live_replan(session_factory, fast, utcnow())
    db_session.expire_all()
    ticket = db_session.get(Ticket, trapped.id)
    assert ticket.grade.value == "major"
    assert ticket.eta_at is not None and ticket.eta_at > ticket.due_on_site_at
    assert ticket.at_risk is True
    # The customer hears of it in the plan's own transaction, once (a later re-plan that stays late is not news).
    late = select(Notification).where(Notification.ticket_id == ticket.id, Notification.kind == "customer.late")
    assert len(db_session.scalars(late).all()) >= 1
    told = len(db_session.scalars(late).all())
    request_replan(db_session, reason="test", ticket_id=ticket.id)
    db_session.commit()
    plans.run_live_replan(session_factory, fast, utcnow())
    assert len(db_session.scalars(late).all()) == told


def test_ticket_no_one_can_reach_in_a_shift_is_at_risk_at_once(db_session, session_factory, fast):
    """A ticket the plan cannot place at all is flagged at risk now, not when its deadline is near."""
    _tech(db_session, ["elevator"], lat=31.23, lon=121.47)  # ~900 km: beyond any shift
    far = _ticket(db_session, fast, EquipmentType.elevator)
    plans.run_live_replan(session_factory, fast, utcnow())
    db_session.expire_all()
    ticket = db_session.get(Ticket, far.id)
    assert ticket.eta_at is None and ticket.at_risk is True


def test_draft_preview_apply_and_stale_refusal(fast_client, db_session, session_factory, fast):
    """A dispatcher's draft carries a diff; applying it works once; a draft older than the live plan is a 409."""
    _tech(db_session, ["tower_crane"])
    _ticket(db_session, fast, EquipmentType.tower_crane)
    plans.run_live_replan(session_factory, fast, utcnow())
    dispatcher = make_user(db_session, role=Role.dispatcher)
    headers = auth_header(fast, dispatcher)
    draft = fast_client.post("/api/v1/plans", json={"reason": "morning re-optimisation"}, headers=headers)
    assert draft.status_code == 202 and draft.json()["status"] == "pending"
    plans.run_drafts(session_factory, fast, utcnow())
    ready = fast_client.get(f"/api/v1/plans/{draft.json()['id']}", headers=headers).json()
    assert ready["status"] == "ready" and "moves" in ready["diff"] and "km_delta" in ready["diff"]
    applied = fast_client.post(f"/api/v1/plans/{ready['id']}/apply", headers=headers)
    assert applied.status_code == 200, applied.text
    assert fast_client.get("/api/v1/plans/live", headers=headers).json()["fingerprint"] == ready["fingerprint"]

    second = fast_client.post("/api/v1/plans", json={}, headers=headers).json()
    plans.run_drafts(session_factory, fast, utcnow())
    _ticket(db_session, fast, EquipmentType.tower_crane, lat=28.3)
    plans.run_live_replan(session_factory, fast, utcnow())  # the live plan moves on
    stale = fast_client.post(f"/api/v1/plans/{second['id']}/apply", headers=headers)
    assert stale.status_code == 409 and stale.headers["content-type"] == "application/problem+json"


def test_move_to_unskilled_technician_is_refused_and_pin_holds(fast_client, db_session, session_factory, fast):
    """Dragging a crane job to an elevator technician is refused with the reason; a valid pin survives re-plans."""
    near = _tech(db_session, ["tower_crane"])
    far = _tech(db_session, ["tower_crane"], lat=28.6, lon=113.3)
    lift_only = _tech(db_session, ["elevator"])
    crane = _ticket(db_session, fast, EquipmentType.tower_crane)
    plans.run_live_replan(session_factory, fast, utcnow())
    db_session.expire_all()
    assert db_session.get(Ticket, crane.id).assigned_technician_id == near.id
    dispatcher = make_user(db_session, role=Role.dispatcher)
    headers = auth_header(fast, dispatcher)
    bad = fast_client.post(
        "/api/v1/plans/validate-move", json={"ticket_id": crane.id, "technician_id": lift_only.id}, headers=headers
    ).json()
    assert bad["feasible"] is False and "skill" in bad["reasons"][0]
    refused = fast_client.post(
        "/api/v1/plans/pin", json={"ticket_id": crane.id, "technician_id": lift_only.id}, headers=headers
    )
    assert refused.status_code == 422 and "skill" in refused.json()["detail"]
    ok = fast_client.post("/api/v1/plans/pin", json={"ticket_id": crane.id, "technician_id": far.id}, headers=headers)
    assert ok.status_code == 200 and ok.json()["feasible"] is True and ok.json()["eta"]
    plans.run_live_replan(session_factory, fast, utcnow())
    plans.run_live_replan(session_factory, fast, utcnow())
    db_session.expire_all()
    assert db_session.get(Ticket, crane.id).assigned_technician_id == far.id


def test_accepted_visit_is_not_moved_by_a_replan(db_session, session_factory, fast):
    """Work a technician has accepted stays with them when new tickets arrive."""
    first = _tech(db_session, ["tower_crane"], lat=28.6, lon=113.3)
    _tech(db_session, ["tower_crane"])
    crane = _ticket(db_session, fast, EquipmentType.tower_crane)
    plans.run_live_replan(session_factory, fast, utcnow())
    db_session.expire_all()
    visit = db_session.scalars(select(Visit).where(Visit.ticket_id == crane.id)).one()
    visit.technician_id, visit.status = first.id, VisitStatus.accepted  # the far technician accepted it
    db_session.commit()
    _ticket(db_session, fast, EquipmentType.tower_crane, lat=28.22)
    plans.run_live_replan(session_factory, fast, utcnow())
    db_session.expire_all()
    assert db_session.get(Visit, visit.id).technician_id == first.id
    assert db_session.scalar(select(Plan.id).where(Plan.status == "live")) is not None


def test_visit_dropped_at_a_time_starts_no_earlier_and_keeps_it_through_replans(
    fast_client, db_session, session_factory, fast
):
    """A dispatcher drops a visit on a technician at 3 hours from now: the plan starts it then, not before."""
    near = _tech(db_session, ["tower_crane"])
    other = _tech(db_session, ["tower_crane"], lat=28.3, lon=113.0)
    crane = _ticket(db_session, fast, EquipmentType.tower_crane)
    plans.run_live_replan(session_factory, fast, utcnow())
    db_session.expire_all()
    headers = auth_header(fast, make_user(db_session, role=Role.dispatcher))
    at = (utcnow() + timedelta(hours=3)).replace(microsecond=0)

    preview = fast_client.post(
        "/api/v1/plans/validate-move",
        json={"ticket_id": crane.id, "technician_id": other.id, "start_at": at.isoformat()},
        headers=headers,
    ).json()
    assert preview["feasible"] is True and preview["late_minutes"] == 0

    pinned = fast_client.post(
        "/api/v1/plans/pin",
        json={"ticket_id": crane.id, "technician_id": other.id, "start_at": at.isoformat()},
        headers=headers,
    )
    assert pinned.status_code == 200, pinned.text
    plans.run_live_replan(session_factory, fast, utcnow())
    plans.run_live_replan(session_factory, fast, utcnow())
    db_session.expire_all()
    visit = db_session.scalars(select(Visit).where(Visit.ticket_id == crane.id)).one()
    assert visit.technician_id == other.id != near.id
    assert visit.pinned_start_at == at
    # The optimizer counts in whole seconds from "now".
    assert visit.planned_start_at is not None and visit.planned_start_at >= at - timedelta(seconds=1)


def test_a_start_time_in_the_past_or_without_technician_is_refused_with_its_field(fast_client, db_session, fast):
    tech = _tech(db_session, ["tower_crane"])
    crane = _ticket(db_session, fast, EquipmentType.tower_crane)
    headers = auth_header(fast, make_user(db_session, role=Role.dispatcher))
    past = fast_client.post(
        "/api/v1/plans/validate-move",
        json={"ticket_id": crane.id, "technician_id": tech.id, "start_at": (utcnow() - timedelta(hours=2)).isoformat()},
        headers=headers,
    )
    assert past.status_code == 422 and past.json()["errors"][0]["pointer"] == "/start_at"
    alone = fast_client.post(
        "/api/v1/plans/pin",
        json={"ticket_id": crane.id, "start_at": (utcnow() + timedelta(hours=1)).isoformat()},
        headers=headers,
    )
    assert alone.status_code == 422 and alone.json()["errors"][0]["pointer"] == "/start_at"
    naive = fast_client.post(
        "/api/v1/plans/pin",
        json={"ticket_id": crane.id, "technician_id": tech.id, "start_at": "2026-11-23T10:00:00"},
        headers=headers,
    )
    assert naive.status_code == 422 and naive.json()["errors"][0]["pointer"] == "/start_at"


def test_tickets_changed_during_the_solve_do_not_throw_the_replan_away(db_session, session_factory, fast, monkeypatch):
    """Edits committed while the optimizer runs (agents, technicians, the gateway) are kept and the plan still lands;
    a ticket cancelled meanwhile is left alone."""
    from dispatch.tickets.service import cancel

    _tech(db_session, ["tower_crane"])
    crane = _ticket(db_session, fast, EquipmentType.tower_crane)
    gone = _ticket(db_session, fast, EquipmentType.tower_crane, lat=28.22)
    db_session.commit()
    real_solve = plans._solve

    def solve_while_others_commit(*args, **kwargs):  # type: ignore[no-untyped-def]
        plan = real_solve(*args, **kwargs)
        with session_factory() as other:
            other.get(Ticket, crane.id).special_request = "bring a spare gearbox"
            other.commit()
            cancel(
                other,
                policy=policy_for(fast),
                ticket_id=gone.id,
                reason="customer fixed it",
                actor="test",
                actor_user_id=None,
                now=utcnow(),
            )
        return plan

    monkeypatch.setattr(plans, "_solve", solve_while_others_commit)
    assert plans.run_live_replan(session_factory, fast, utcnow()) >= 2
    db_session.expire_all()
    planned = db_session.get(Ticket, crane.id)
    assert planned.status is TicketStatus.assigned and planned.special_request == "bring a spare gearbox"
    assert db_session.get(Ticket, gone.id).status is TicketStatus.cancelled
    assert db_session.scalar(select(Plan.id).where(Plan.status == "live")) is not None


def test_backlog_beyond_the_live_limit_queues_the_least_urgent_with_its_reason(
    db_session, session_factory, settings, tmp_path
):
    """With more open tickets than the live plan holds, the most urgent are planned and the rest are queued:
    the dispatcher sees why, in their language, and a queued ticket comes in once there is room."""
    path = tmp_path / "policy.toml"
    path.write_text(FAST_POLICY + "live_max_visits = 2\n")
    small = settings.model_copy(update={"policy_file": path})
    _tech(db_session, ["tower_crane"])
    general = _ticket(db_session, small, EquipmentType.tower_crane, impact=Impact())
    serious = _ticket(db_session, small, EquipmentType.tower_crane, lat=28.22, impact=Impact(equipment_down=True))
    major = _ticket(
        db_session,
        small,
        EquipmentType.tower_crane,
        lat=28.23,
        category=Category.EMERGENCY,
        impact=Impact(people_trapped=True),
    )
    assert major.due_on_site_at < serious.due_on_site_at < general.due_on_site_at
    plans.run_live_replan(session_factory, small, utcnow())
    db_session.expire_all()
    assert db_session.get(Ticket, major.id).status is TicketStatus.assigned
    assert db_session.get(Ticket, serious.id).status is TicketStatus.assigned
    queued = db_session.get(Ticket, general.id)
    assert queued.status is TicketStatus.new and queued.assigned_technician_id is None
    dispatcher = make_user(db_session, role=Role.dispatcher)
    headers = {**auth_header(small, dispatcher), "Accept-Language": "zh-CN"}
    with TestClient(create_app(small, session_factory=session_factory)) as c:
        live = c.get("/api/v1/plans/live", headers=headers).json()
    reasons = {u["ticket_id"]: u["reason"] for u in live["unassigned"]}
    assert "排队" in reasons[general.id]
    # The major is cancelled: there is room again and the queued ticket is planned at the next re-plan.
    change_status(
        db_session, db_session.get(Ticket, major.id), to_status=TicketStatus.cancelled, action="cancel", actor="test"
    )
    request_replan(db_session, reason="test", ticket_id=major.id)
    db_session.commit()
    plans.run_live_replan(session_factory, small, utcnow())
    db_session.expire_all()
    assert db_session.get(Ticket, general.id).status is TicketStatus.assigned
