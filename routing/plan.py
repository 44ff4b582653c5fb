"""Typed output of the optimiser: who goes where, when, and why (issue 5, "The routing package").

``Plan`` holds per technician-shift the ordered stops with ETA (arrival), service start and end and
the travel leg that leads there; the visits left unassigned with their reason; late visits with
their minutes late; the objective broken down; solver statistics; and plain-language reasons per
visit (filled by ``routing.explain``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from routing.model import Vehicle, home_legs, site_key
from routing.problem import Problem, SolveParams
from routing.travel import TravelMatrix

__all__ = ["Objective", "Plan", "Route", "SolverStats", "Stop", "schedule"]


@dataclass(frozen=True)
class Stop:
    """One visit on a route. ``late_minutes`` > 0 means the on-site promise is broken."""

    visit_id: str
    ticket_id: str
    grade: str
    arrival: datetime  # ETA on site
    start: datetime  # service start (after waiting for the site's access hours)
    end: datetime
    deadline: datetime
    travel_s: int  # the leg from the previous stop (or the route start)
    travel_m: int
    late_minutes: float = 0.0
    committed: bool = False

    @property
    def late(self) -> bool:
        return self.late_minutes > 0

    @property
    def slack_minutes(self) -> float:
        """Minutes between service start and the deadline (negative when late)."""
        return (self.deadline - self.start).total_seconds() / 60


@dataclass(frozen=True)
class Route:
    """The ordered visits of one technician in one shift."""

    technician_id: str
    shift_index: int
    start_at: datetime  # when the technician can leave the start location
    start_kind: str  # current position / in-progress site / service centre / partner point
    stops: tuple[Stop, ...]
    # Where and when the day ends: the drive home after the last stop (None: the route ends anywhere).
    end_kind: str | None = None  # home / service centre / partner point
    home_at: datetime | None = None  # arrival at home base
    home_travel_s: int = 0
    home_travel_m: int = 0

    @property
    def travel_s(self) -> int:
        """All driving of the route, the drive home included."""
        return sum(s.travel_s for s in self.stops) + self.home_travel_s

    @property
    def travel_m(self) -> int:
        return sum(s.travel_m for s in self.stops) + self.home_travel_m


@dataclass(frozen=True)
class Objective:
    """The plan's cost in cost units (see ``SolveParams``), by component, and plain figures."""

    travel: int = 0
    lateness: int = 0
    drops: int = 0
    moves: int = 0
    arrival: int = 0  # earliness: waiting priced by grade
    fixed: int = 0  # technicians called out
    grouping: int = 0  # coming back to a site already visited
    travel_km: float = 0.0
    late_visits: int = 0
    unassigned_visits: int = 0
    moved_visits: int = 0

    @property
    def total(self) -> int:
        return self.travel + self.lateness + self.drops + self.moves + self.arrival + self.fixed + self.grouping


@dataclass(frozen=True)
class SolverStats:
    status: str
    wall_time_s: float
    strategy: str  # the search whose plan won
    objective_value: int | None = None
    searches: int = 1
    warm_start: str | None = None  # None (cold), "used", "rejected" (routes broke the new model)
    cpu_s: float = 0.0  # CPU seconds all searches together received (wall time × cores on an idle machine)


@dataclass(frozen=True)
class Plan:
    now: datetime
    routes: tuple[Route, ...]
    unassigned: tuple[tuple[str, str], ...]  # (visit_id, reason)
    objective: Objective
    stats: SolverStats
    reasons: dict[str, tuple[str, ...]] = field(default_factory=dict)  # visit_id -> plain-language reasons
    # The same reasons, line for line, as (code, values): the caller writes them in its reader's language
    # (times as ISO 8601, durations in seconds, names and skills as given). English `reasons` stay the default.
    reason_codes: dict[str, tuple[tuple[str, dict[str, Any]], ...]] = field(default_factory=dict)

    def assignments(self) -> dict[str, str]:
        """visit id -> technician id for every planned visit."""
        return {s.visit_id: r.technician_id for r in self.routes for s in r.stops}

    def stop(self, visit_id: str) -> Stop | None:
        for r in self.routes:
            for s in r.stops:
                if s.visit_id == visit_id:
                    return s
        return None

    def route_of(self, technician_id: str) -> list[Stop]:
        """All stops of a technician over their shifts, in time order."""
        return [s for r in self.routes if r.technician_id == technician_id for s in r.stops]

    def fingerprint(self) -> str:
        """A short stable hash of who does what when: lets the API refuse a stale draft (409)."""
        items = sorted(
            f"{r.technician_id}|{r.shift_index}|{i}|{s.visit_id}|{s.arrival.isoformat()}"
            for r in self.routes
            for i, s in enumerate(r.stops)
        )
        items += sorted(f"unassigned|{vid}" for vid, _ in self.unassigned)
        return hashlib.sha256("\n".join(items).encode()).hexdigest()[:16]

    @property
    def late(self) -> list[Stop]:
        return [s for r in self.routes for s in r.stops if s.late]

    @property
    def unassigned_ids(self) -> list[str]:
        return [vid for vid, _ in self.unassigned]


def schedule(
    problem: Problem,
    params: SolveParams,
    travel: TravelMatrix,
    vehicles: list[Vehicle],
    sequences: list[list[int]],
    stats: SolverStats,
    unassigned: list[tuple[str, str]] | None = None,
) -> Plan:
    """Time the given visit sequences (visit positions per vehicle) at the earliest and price them.

    Each technician leaves as soon as the previous job ends, waits on site for the access hours if
    needed; the plan therefore shows the earliest ETA the route allows.
    """
    n_veh = len(vehicles)
    homes = home_legs(vehicles, len(problem.visits))
    routes: list[Route] = []
    obj = dict.fromkeys(("travel", "lateness", "drops", "moves", "arrival", "fixed", "grouping"), 0)
    site_count: dict[str, int] = {}
    for v in problem.visits:
        site_count[site_key(v)] = site_count.get(site_key(v), 0) + 1
    travel_m_total = late_count = moved = 0
    served: set[int] = set()
    for k, seq in enumerate(sequences):
        if not seq:
            continue
        veh = vehicles[k]
        t, loc = veh.start_s, k
        stops: list[Stop] = []
        obj["fixed"] += params.vehicle_fixed_cost
        prev_site: str | None = None
        for p in seq:
            v = problem.visits[p]
            served.add(p)
            vl = n_veh + p
            leg_s, leg_m = travel.seconds[loc][vl], travel.metres[loc][vl]
            arrival = t + leg_s
            earliest = max(0, problem.seconds(v.earliest_start)) if v.earliest_start else 0
            start = max(arrival, earliest)
            end = start + v.service_s
            late_s = max(0, start - problem.seconds(v.deadline))
            obj["travel"] += params.travel_cost_per_s * leg_s + params.travel_cost_per_m * leg_m
            site = site_key(v)
            if site_count[site] > 1 and site != prev_site:
                obj["grouping"] += params.regroup_cost
            prev_site = site
            if late_s:
                late_count += 1
                obj["lateness"] += params.late_fee[v.grade] + params.late_cost_per_s[v.grade] * late_s
            if v.previous_technician is not None and v.previous_technician != veh.tech_id:
                moved += 1
                obj["moves"] += params.move_cost
            if v.previous_arrival is None or v.grade == "major":
                obj["arrival"] += params.earliness_cost_per_s[v.grade] * start
            stops.append(
                Stop(
                    visit_id=v.id,
                    ticket_id=v.ticket_id,
                    grade=v.grade,
                    arrival=problem.at(arrival),
                    start=problem.at(start),
                    end=problem.at(end),
                    deadline=v.deadline,
                    travel_s=leg_s,
                    travel_m=leg_m,
                    late_minutes=round(late_s / 60, 1),
                    committed=v.committed,
                )
            )
            travel_m_total += leg_m
            t, loc = end, vl
        home = homes[k]
        home_s = home_m = 0
        if home is not None:
            home_s, home_m = travel.seconds[loc][home], travel.metres[loc][home]
            obj["travel"] += params.travel_cost_per_s * home_s + params.travel_cost_per_m * home_m
            travel_m_total += home_m
        routes.append(
            Route(
                veh.tech_id,
                veh.shift_index,
                problem.at(veh.start_s),
                veh.start_kind,
                tuple(stops),
                end_kind=veh.end_kind,
                home_at=problem.at(t + home_s) if home is not None else None,
                home_travel_s=home_s,
                home_travel_m=home_m,
            )
        )
    reasons = dict(unassigned or [])
    missing = [
        (problem.visits[p].id, reasons.get(problem.visits[p].id, "not planned"))
        for p in range(len(problem.visits))
        if p not in served
    ]
    for vid, _ in missing:
        obj["drops"] += params.drop_penalty[problem.visit(vid).grade]
    objective = Objective(
        **obj,
        travel_km=round(travel_m_total / 1000, 2),
        late_visits=late_count,
        unassigned_visits=len(missing),
        moved_visits=moved,
    )
    return Plan(
        now=problem.now,
        routes=tuple(routes),
        unassigned=tuple(missing),
        objective=objective,
        stats=stats,
    )
