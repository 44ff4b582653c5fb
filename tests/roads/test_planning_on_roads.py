"""The live plan on real streets: the planner prices travel on the imported roads, and the technician's job and
the customer's status page show those road ETAs."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from dispatch.core.clock import utcnow
from dispatch.core.policy import policy_for
from dispatch.core.types import Category, Channel, EquipmentType, Role
from dispatch.plans import service as plans
from dispatch.portal import service as portal
from dispatch.roads.runtime import RUNTIME, road_travel
from dispatch.tickets.models import Ticket
from dispatch.tickets.schemas import Impact
from dispatch.tickets.service import open_complaint
from dispatch.workforce.models import Technician, TechnicianShift
from routing.problem import Location
from routing.travel import HaversineProvider
from tests.factories import auth_header, make_depot, make_site, make_technician, make_user, point

FAST_POLICY = "[routing]\ntime_limit_seconds = 0.3\ndraft_time_limit_seconds = 0.5\n"
# A technician in Punavuori, a lift on the far side of the one-way grid in Kruununhaka.
TECH_AT = Location(60.16420, 24.94230)
SITE_AT = Location(60.17420, 24.95030)


@pytest.fixture(autouse=True)
def _fresh_runtime():
    RUNTIME.clear()
    yield
    RUNTIME.clear()


@pytest.fixture
def fast(settings, tmp_path):
    path = tmp_path / "policy.toml"
    path.write_text(FAST_POLICY)
    return settings.model_copy(update={"policy_file": path})


def _setup(db_session, fast):
    depot = make_depot(db_session, lat=60.1689, lon=24.9369)
    tech = make_technician(db_session, skills=["elevator"], depot=depot)
    tech.last_position = point(TECH_AT.lat, TECH_AT.lon)
    tech.last_position_at = utcnow()
    now = utcnow()
    db_session.add(
        TechnicianShift(technician_id=tech.id, starts_at=now - timedelta(hours=1), ends_at=now + timedelta(hours=9))
    )
    _site, unit = make_site(db_session, lat=SITE_AT.lat, lon=SITE_AT.lon, equipment_type=EquipmentType.elevator)
    ticket = open_complaint(
        db_session,
        policy=policy_for(fast),
        now=now,
        actor="test",
        actor_user_id=None,
        channel=Channel.phone,
        category=Category.EQUIPMENT,
        symptom="Door closes slowly",
        impact=Impact(degraded=True),
        equipment_id=unit.id,
    ).ticket
    return tech, ticket


def test_live_plan_uses_road_travel_and_both_surfaces_show_road_etas(
    imported, client, db_session, session_factory, fast
):
    tech, ticket = _setup(db_session, fast)
    policy = policy_for(fast)
    started = utcnow()
    assert plans.run_live_replan(session_factory, fast, started) >= 1
    db_session.expire_all()
    ticket = db_session.get(Ticket, ticket.id)
    assert ticket.assigned_technician_id == tech.id and ticket.eta_at is not None

    road = road_travel(db_session, policy, [TECH_AT, SITE_AT]).matrix([TECH_AT, SITE_AT]).seconds[0][1]
    great = HaversineProvider(speed_kmh=policy.routing.speed_kmh, road_factor=policy.routing.road_factor)
    straight = great.seconds(TECH_AT, SITE_AT)
    assert abs(road - straight) >= 20, "the roads give a different answer from the old model here"
    eta_s = (ticket.eta_at - started).total_seconds()
    assert eta_s == pytest.approx(road, abs=5)

    # The technician's job and the customer's status page carry that ETA.
    user = make_user(db_session, role=Role.technician, technician=db_session.get(Technician, tech.id))
    jobs = client.get("/api/v1/me/jobs", headers=auth_header(fast, user))
    assert jobs.status_code == 200, jobs.text
    job = next(j for j in jobs.json()["items"] if j["ticket_id"] == ticket.id)
    assert datetime.fromisoformat(job["eta"]) == ticket.eta_at
    status = portal.status_json(portal.ticket_view(db_session, ticket), "en")
    assert status["eta"] == ticket.eta_at.isoformat()


def test_without_roads_the_plan_keeps_the_great_circle_model(client, db_session, session_factory, fast):
    _tech, ticket = _setup(db_session, fast)
    policy = policy_for(fast)
    started = utcnow()
    plans.run_live_replan(session_factory, fast, started)
    db_session.expire_all()
    ticket = db_session.get(Ticket, ticket.id)
    great = HaversineProvider(speed_kmh=policy.routing.speed_kmh, road_factor=policy.routing.road_factor)
    assert (ticket.eta_at - started).total_seconds() == pytest.approx(great.seconds(TECH_AT, SITE_AT), abs=5)
