"""Typed builders with deterministic defaults, for arranging test data through the real models."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from geoalchemy2.elements import WKTElement
from sqlalchemy.orm import Session

from dispatch.audit.service import record_opening
from dispatch.core.auth import Principal, create_access_token, hash_password
from dispatch.core.settings import Settings
from dispatch.core.types import Category, Channel, DepotKind, EquipmentType, Grade, Role, TicketStatus, VisitStatus
from dispatch.customers.models import Customer, Equipment, Site
from dispatch.domain.policy import Policy, load_policy
from dispatch.domain.sla import promise_deadline
from dispatch.tickets.models import Ticket, Visit
from dispatch.users.models import User
from dispatch.workforce.models import Depot, Technician

_seq = itertools.count(1)
PASSWORD = "correct horse battery"
BASE_TIME = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
DEFAULT_POLICY = load_policy()


def point(lat: float, lon: float) -> WKTElement:
    return WKTElement(f"POINT({lon} {lat})", srid=4326)


def make_depot(
    session: Session, *, kind: DepotKind = DepotKind.service_centre, lat: float = 28.2282, lon: float = 112.9388
) -> Depot:
    depot = Depot(name=f"Depot {next(_seq)}", kind=kind, region="changsha", location=point(lat, lon))
    session.add(depot)
    session.flush()
    return depot


def make_technician(session: Session, *, skills: list[str] | None = None, depot: Depot | None = None) -> Technician:
    depot = depot or make_depot(session)
    tech = Technician(name=f"Tech {next(_seq)}", home_depot_id=depot.id, skills=skills or ["tower_crane"])
    session.add(tech)
    session.flush()
    return tech


_PASSWORD_HASH = hash_password(PASSWORD)  # hashed once: argon2 is slow on purpose


def make_user(session: Session, *, role: Role = Role.dispatcher, technician: Technician | None = None) -> User:
    """A user whose password is PASSWORD (real argon2 hash, computed once per test session)."""
    if role is Role.technician and technician is None:
        technician = make_technician(session)
    user = User(
        username=f"{role.value}{next(_seq)}",
        full_name=f"Test {role.value}",
        password_hash=_PASSWORD_HASH,
        role=role,
        technician_id=technician.id if technician else None,
    )
    session.add(user)
    session.commit()
    return user


def token_for(settings: Settings, user: User, *, minutes: int | None = None) -> str:
    principal = Principal(user.id, user.username, user.role, user.technician_id)
    return create_access_token(settings, principal, minutes=minutes)


def auth_header(settings: Settings, user: User) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(settings, user)}"}


def make_site(
    session: Session,
    *,
    lat: float = 28.20,
    lon: float = 112.95,
    equipment_type: EquipmentType = EquipmentType.tower_crane,
) -> tuple[Site, Equipment]:
    n = next(_seq)
    # Test customers read English (the model's default is the demo region's zh-CN): the customer pages follow it.
    customer = Customer(name=f"Customer {n}", phone=f"1380000{n:04d}", language="en")
    session.add(customer)
    session.flush()
    site = Site(customer_id=customer.id, name=f"Site {n}", address=f"Road {n}", location=point(lat, lon))
    session.add(site)
    session.flush()
    unit = Equipment(
        site_id=site.id,
        equipment_type=equipment_type,
        model="ZJ5510",
        serial_number=f"SN-{n:06d}",
        device_id=f"dev-{n:06d}",
    )
    session.add(unit)
    session.flush()
    return site, unit


def make_ticket(
    session: Session,
    *,
    grade: Grade = Grade.GENERAL,
    reported_at: datetime = BASE_TIME,
    status: TicketStatus = TicketStatus.new,
    equipment: Equipment | None = None,
) -> Ticket:
    if equipment is None:
        _site, equipment = make_site(session)
    ticket = Ticket(
        channel=Channel.phone,
        site_id=equipment.site_id,
        equipment_id=equipment.id,
        category=Category.EQUIPMENT,
        symptom="test",
        grade=grade,
        reported_at=reported_at,
        due_on_site_at=promise_deadline(reported_at, grade, DEFAULT_POLICY),  # the packaged policy's promise
        status=status,
    )
    session.add(ticket)
    record_opening(session, ticket, actor="test")
    session.flush()
    return ticket


def make_visit(
    session: Session,
    *,
    ticket: Ticket,
    technician: Technician,
    status: VisitStatus = VisitStatus.assigned,
    sequence: int = 1,
    planned_start_at: datetime | None = None,
) -> Visit:
    """A visit as the planner leaves it: assigned to a technician, with a route position and planned times."""
    start = planned_start_at or BASE_TIME + timedelta(hours=sequence)
    visit = Visit(
        ticket_id=ticket.id,
        technician_id=technician.id,
        status=status,
        sequence=sequence,
        planned_departure_at=start - timedelta(minutes=30),
        planned_arrival_at=start,
        planned_start_at=start,
        planned_end_at=start + timedelta(minutes=90),
    )
    session.add(visit)
    session.flush()
    return visit


def open_trapped_complaint(
    session: Session, policy: Policy, *, now: datetime, reported_at: datetime | None = None
) -> Ticket:
    """A phone complaint about people trapped in a lift (a major ticket whose escalation ladder starts at once),
    through the real intake service, on a new site."""
    from dispatch.tickets.schemas import Impact
    from dispatch.tickets.service import open_complaint

    _site, lift = make_site(session, equipment_type=EquipmentType.elevator)
    return open_complaint(
        session,
        policy=policy,
        now=now,
        actor="test",
        actor_user_id=None,
        channel=Channel.phone,
        category=Category.EMERGENCY,
        symptom="People trapped",
        impact=Impact(people_trapped=True),
        equipment_id=lift.id,
        reported_at=reported_at or now,
    ).ticket
