"""The optimizer's input built from the database: technicians on shift, open tickets, visits in progress."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.core.geo import latlon
from dispatch.core.types import TicketStatus, VisitStatus
from dispatch.customers.models import Equipment, Site
from dispatch.domain.access import next_access
from dispatch.domain.policy import Policy
from dispatch.roads.runtime import road_travel
from dispatch.tickets.models import Ticket, Visit
from dispatch.workforce.models import Depot, Technician, TechnicianShift
from routing import problem as rp
from routing.problem import SolveParams
from routing.replan import most_urgent
from routing.travel import HaversineProvider, TravelMatrixProvider

# Tickets the optimizer plans: not yet on site. On-site work is the technician's in-progress job.
PLANNABLE = (
    TicketStatus.new,
    TicketStatus.assigned,
    TicketStatus.accepted,
    TicketStatus.en_route,
    TicketStatus.reopened,
)
LIVE_VISITS = (
    VisitStatus.planned,
    VisitStatus.assigned,
    VisitStatus.accepted,
    VisitStatus.en_route,
    VisitStatus.on_site,
    VisitStatus.paused,
)
COMMITTED = (VisitStatus.accepted, VisitStatus.en_route)


@dataclass
class Snapshot:
    """The problem plus what the service needs to apply a plan back (tickets and visits by id)."""

    problem: rp.Problem
    tickets: dict[int, Ticket]
    visits: dict[int, Visit]  # current live visit per ticket
    not_plannable: dict[int, str] = field(default_factory=dict)  # ticket id -> why it is left out
    # Travel priced on the imported roads where a region has them (great circle elsewhere); None: great circle.
    travel: TravelMatrixProvider | None = None


QUEUED = (
    "queued: the technicians' shifts in the planning horizon are full; "
    "it is planned by deadline as earlier work finishes"
)


def queue_beyond_capacity(snapshot: Snapshot, policy: Policy) -> int:
    """Cut the snapshot's problem to what a live re-plan can hold (``routing.replan.most_urgent``); the visits
    left out are recorded as queued, with the reason the board and the ticket's trail show. Returns how many."""
    problem, queued = most_urgent(
        snapshot.problem,
        solve_params(policy),
        max_visits=policy.routing.live_max_visits,
        travel_minutes=policy.routing.capacity_travel_minutes,
    )
    snapshot.problem = problem
    for visit_id in queued:
        snapshot.not_plannable[int(visit_id)] = QUEUED
    return len(queued)


def solve_params(policy: Policy, *, time_limit: float | None = None, workers: int = 2) -> SolveParams:
    r = policy.routing
    grades = ("major", "serious", "general")
    return SolveParams(
        time_limit_s=time_limit or r.time_limit_seconds,
        late_fee={g: r.late_fee[g] for g in grades},  # type: ignore[index]
        late_cost_per_s={g: r.late_cost_per_second[g] for g in grades},  # type: ignore[index]
        earliness_cost_per_s={g: r.earliness_cost_per_second[g] for g in grades},  # type: ignore[index]
        drop_penalty={g: r.drop_penalty[g] for g in grades},  # type: ignore[index]
        end_at=r.end_at,
        vehicle_fixed_cost=r.vehicle_fixed_cost,
        regroup_cost=r.regroup_cost,
        move_cost=r.move_cost,
        shift_tolerance_min=r.shift_tolerance_minutes,
        horizon_h=r.horizon_hours,
        workers=workers,
    )


def travel_provider(policy: Policy) -> HaversineProvider:
    return HaversineProvider(speed_kmh=policy.routing.speed_kmh, road_factor=policy.routing.road_factor)


def _loc(point: object) -> rp.Location | None:
    ll = latlon(point)
    return rp.Location(ll["lat"], ll["lon"]) if ll else None


def build_snapshot(
    session: Session,
    policy: Policy,
    now: datetime,
    *,
    extra_pins: dict[int, int] | None = None,
    extra_starts: dict[int, datetime] | None = None,
) -> Snapshot:
    """Everything the optimizer needs at `now`. `extra_pins` {ticket id: technician id} and `extra_starts`
    {ticket id: not-before time} preview a move."""
    horizon = now + timedelta(hours=policy.routing.horizon_hours)
    max_age = timedelta(minutes=policy.routing.position_max_age_minutes)
    depots = {d.id: d for d in session.scalars(select(Depot))}
    shifts: dict[int, list[rp.Shift]] = {}
    for s in session.scalars(
        select(TechnicianShift)
        .where(TechnicianShift.ends_at > now, TechnicianShift.starts_at < horizon)
        .order_by(TechnicianShift.technician_id, TechnicianShift.starts_at)
    ):
        shifts.setdefault(s.technician_id, []).append(rp.Shift(max(s.starts_at, now), s.ends_at))

    visits: dict[int, Visit] = {}
    for v in session.scalars(select(Visit).where(Visit.status.in_(LIVE_VISITS)).order_by(Visit.id)):
        visits[v.ticket_id] = v
    sites = {s.id: s for s in session.scalars(select(Site))}
    units = {e.id: e for e in session.scalars(select(Equipment))}

    in_progress: dict[int, rp.InProgress] = {}
    for v in visits.values():
        if v.status in (VisitStatus.on_site, VisitStatus.paused) and v.technician_id is not None:
            ticket = session.get(Ticket, v.ticket_id)
            site = sites.get(ticket.site_id) if ticket else None
            if site is None:
                continue
            elapsed = (now - (v.arrived_at or now)).total_seconds() / 60
            in_progress[v.technician_id] = rp.InProgress(
                str(v.ticket_id),
                _loc(site.location),
                max(v.service_minutes - elapsed, 15.0),
            )

    technicians = []
    for t in session.scalars(select(Technician).where(Technician.is_active.is_(True)).order_by(Technician.id)):
        if t.id not in shifts:
            continue
        depot = depots[t.home_depot_id]
        fresh = t.last_position is not None and t.last_position_at is not None and now - t.last_position_at <= max_age
        technicians.append(
            rp.Technician(
                id=str(t.id),
                name=t.name,
                depot=_loc(depot.location),  # type: ignore[arg-type]
                depot_kind=depot.kind.value,
                shifts=tuple(shifts[t.id]),
                skills=frozenset(t.skills),
                position=_loc(t.last_position) if fresh else None,
                in_progress=in_progress.get(t.id),
                home=_loc(t.home_location) if t.home_location is not None else None,
                capacity=t.van_capacity,
            )
        )
    on_shift = {int(t.id) for t in technicians}

    tickets: dict[int, Ticket] = {}
    not_plannable: dict[int, str] = {}
    routing_visits = []
    busy = {ip.visit_id for ip in in_progress.values()}
    for ticket in session.scalars(select(Ticket).where(Ticket.status.in_(PLANNABLE)).order_by(Ticket.id)):
        tickets[ticket.id] = ticket
        if str(ticket.id) in busy:
            continue
        site = sites.get(ticket.site_id) if ticket.site_id else None
        if site is None:
            not_plannable[ticket.id] = "no site location: record the site before it can be planned"
            continue
        visit = visits.get(ticket.id)
        # A time the dispatcher dropped the visit at is a "not before", still inside the site's access hours.
        not_before = (extra_starts or {}).get(ticket.id)
        if not_before is None and visit is not None and visit.pinned and visit.pinned_start_at is not None:
            not_before = visit.pinned_start_at
        if visit is not None and visit.earliest_arrival_at is not None:
            # The arrival the technician reported ("cannot make the promised time"): the plan never promises earlier.
            not_before = max(not_before or visit.earliest_arrival_at, visit.earliest_arrival_at)
        earliest = next_access(site.access_hours or {}, site.timezone, max(now, not_before or now))
        if earliest is None:
            not_plannable[ticket.id] = "the site's access hours never open in the next 7 days"
            continue
        unit = units.get(ticket.equipment_id) if ticket.equipment_id else None
        skills = frozenset({unit.equipment_type.value}) if unit is not None else frozenset()
        minutes = (visit.service_minutes if visit is not None and visit.service_minutes else None) or (
            policy.routing.service_minutes.get(unit.equipment_type.value, 90) if unit is not None else 90
        )
        pin = None
        committed = False
        if visit is not None and visit.technician_id is not None and visit.technician_id in on_shift:
            committed = visit.status in COMMITTED
            if committed or visit.pinned:
                pin = str(visit.technician_id)
        if extra_pins and ticket.id in extra_pins:
            pin, committed = str(extra_pins[ticket.id]), False
        routing_visits.append(
            rp.Visit(
                id=str(ticket.id),
                ticket_id=str(ticket.id),
                label=ticket.symptom[:80],
                location=_loc(site.location),  # type: ignore[arg-type]
                deadline=ticket.due_on_site_at,
                grade=ticket.grade.value,
                service_minutes=float(minutes),
                required_skills=skills,
                earliest_start=earliest if earliest > now else None,
                pin_technician=pin,
                committed=committed,
                load=ticket.load_units or 0,
                site_id=f"site-{site.id}",
            )
        )
    problem = rp.Problem(now=now, technicians=tuple(technicians), visits=tuple(routing_visits))
    return Snapshot(
        problem=problem,
        tickets=tickets,
        visits=visits,
        not_plannable=not_plannable,
        travel=road_travel(session, policy, problem_locations(problem)),
    )


def problem_locations(problem: rp.Problem) -> list[rp.Location]:
    """Every place the optimizer prices travel between: depots, positions, jobs in progress, visit sites."""
    out: list[rp.Location] = []
    for t in problem.technicians:
        out.append(t.depot)
        if t.position is not None:
            out.append(t.position)
        if t.in_progress is not None and t.in_progress.location is not None:
            out.append(t.in_progress.location)
    out += [v.location for v in problem.visits]
    return out
