"""Discrete-event dispatch simulator: optimizer vs greedy (issue 5, "Simulator").

Replays a stream of complaints against a region faster than real time. A complaint becomes known
at ``reported_at`` and is due on site ``promise_hours[grade]`` later. Technicians travel at
``speed_kmh`` over great-circle distance × ``road_factor``, work only inside their shifts (travel
and service both), start each shift at their depot and do one visit at a time.

- ``greedy``: first come, first served — each new complaint is queued on the skilled technician
  who can start it soonest (nearest as tie-break), behind whatever that technician already holds.
- ``optimizer``: rolling horizon — at every event (new complaint, visit end, shift start) while
  something is pending and someone is free, all pending work is re-planned with ``routing.solve``;
  a visit is committed only when a technician actually leaves for it (routing-notes).

- ``clairvoyant``: hindsight (issue 16) — one long static solve over every complaint of the scenario,
  known in advance, with the rule that a technician leaves for a site no earlier than its report. The
  product's model prices arrival windows, not departures, so the plan is timed legally afterwards (leave
  at the later of the previous job's end and the report) and re-solved a few rounds with each visit's
  earliest arrival raised to its report plus the leg from its planned predecessor; the best legal timing
  wins. Its trace passes ``check_trace`` like the other two.

``on_time_bound(scenario)`` is a valid upper bound on any policy's on-time count: a complaint counts
only if some skilled technician-shift can be on site in time by some chain of visits it could legally
make (each left for no earlier than its report, served in full inside the shift), capacity ignored.
``check_trace(scenario, trace)`` lists every rule a trace breaks (travel times, shifts, skills,
reports, one job at a time); the tests and bench/clairvoyant.py run it on every policy's trace.

Usage: ``python -m routing.simulate --scenario FILE --policy optimizer|greedy|clairvoyant --json [--trace FILE]``.
Output keys: policy, tickets, on_time, on_time_rate, by_grade, late_minutes_p95 (over the tickets
that were late or never served; unserved tickets count until the simulation end), travel_km,
replans, replan_ms_p95.
"""

from __future__ import annotations

import argparse
import heapq
import json
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from routing.problem import GRADES, InProgress, Location, Problem, Shift, SolveParams, Technician, Visit
from routing.solve import solve
from routing.travel import HaversineProvider

__all__ = ["POLICIES", "check_trace", "load_scenario", "main", "on_time_bound", "run_simulation"]

POLICIES = ("greedy", "optimizer", "clairvoyant")

TraceFn = Callable[[dict[str, Any]], None]


@dataclass
class _Complaint:
    id: str
    reported: float  # seconds from scenario start
    due: float
    loc: Location
    grade: str
    skills: frozenset[str]
    service_s: int
    equipment: str = ""
    start: float | None = None  # service start, once served


@dataclass
class _Tech:
    id: str
    depot: Location
    depot_kind: str
    skills: frozenset[str]
    shifts: list[tuple[float, float]]
    loc: Location
    busy_until: float = 0.0
    busy_site: Location | None = None
    busy_job: str | None = None
    queue: list[str] = field(default_factory=list)  # greedy only


def _parse_time(value: Any, start: datetime) -> float:
    if isinstance(value, int | float):
        return float(value) * 3600  # hours from the scenario start
    when = datetime.fromisoformat(str(value))
    if when.tzinfo is None:
        raise ValueError(f"time {value!r} needs a UTC offset")
    return (when - start).total_seconds()


def load_scenario(data: dict[str, Any]) -> dict[str, Any]:
    """Validate a scenario dict and convert it to internal form (times in seconds from start)."""
    for key in ("start", "promise_hours", "travel", "depots", "technicians", "complaints"):
        if key not in data:
            raise ValueError(f"scenario misses {key!r}")
    start = datetime.fromisoformat(data["start"])
    if start.tzinfo is None:
        raise ValueError("scenario start needs a UTC offset")
    promise = data["promise_hours"]
    for g in GRADES:
        if g not in promise:
            raise ValueError(f"promise_hours misses {g!r}")
    depots = {d["id"]: (Location(d["lat"], d["lon"]), d.get("kind", "service_centre")) for d in data["depots"]}
    techs = []
    for t in data["technicians"]:
        if t["depot"] not in depots:
            raise ValueError(f"technician {t['id']}: unknown depot {t['depot']}")
        loc, kind = depots[t["depot"]]
        shifts = sorted((_parse_time(a, start), _parse_time(b, start)) for a, b in t["shifts"])
        techs.append(_Tech(t["id"], loc, kind, frozenset(t.get("skills", [])), shifts, loc))
    complaints = []
    for c in data["complaints"]:
        if c["grade"] not in GRADES:
            raise ValueError(f"complaint {c['id']}: unknown grade {c['grade']!r}")
        rep = _parse_time(c["reported_at"], start)
        complaints.append(
            _Complaint(
                id=c["id"],
                reported=rep,
                due=rep + float(promise[c["grade"]]) * 3600,
                loc=Location(c["lat"], c["lon"]),
                grade=c["grade"],
                skills=frozenset(c.get("skills", [])),
                service_s=math.ceil(float(c.get("service_minutes", 60)) * 60),
                equipment=c.get("equipment_type", ""),
            )
        )
    complaints.sort(key=lambda c: (c.reported, c.id))
    travel = data["travel"]
    return {
        "name": data.get("name", ""),
        "start": start,
        "horizon_s": float(data.get("horizon_hours", 72)) * 3600,
        "provider": HaversineProvider(speed_kmh=float(travel["speed_kmh"]), road_factor=float(travel["road_factor"])),
        "techs": techs,
        "complaints": complaints,
    }


def _shift_at(tech: _Tech, t: float) -> tuple[float, float] | None:
    for a, b in tech.shifts:
        if a <= t < b:
            return a, b
    return None


class _Sim:
    def __init__(self, sc: dict[str, Any], trace: TraceFn | None, time_limit_s: float) -> None:
        self.sc = sc
        self.start: datetime = sc["start"]
        self.provider: HaversineProvider = sc["provider"]
        self.techs: list[_Tech] = sc["techs"]
        self.complaints: dict[str, _Complaint] = {c.id: c for c in sc["complaints"]}
        self.trace = trace
        self.time_limit_s = time_limit_s
        self.travel_m = 0.0
        self.replans = 0
        self.replan_ms: list[float] = []
        self.pending: list[str] = []  # known, not yet departed for
        self.events: list[tuple[float, int, str, str]] = []
        self.seq = 0

    def at(self, t: float) -> datetime:
        return self.start + timedelta(seconds=t)

    def push(self, t: float, kind: str, ref: str) -> None:
        self.seq += 1
        heapq.heappush(self.events, (t, self.seq, kind, ref))

    def location_for(self, tech: _Tech, t: float) -> Location:
        """Where the technician is when free at t: last site within a shift, depot at a shift start."""
        shift = _shift_at(tech, t)
        if shift is None or (tech.busy_until <= shift[0]):
            return tech.depot
        return tech.loc

    def dispatch(self, tech: _Tech, c: _Complaint, depart: float) -> None:
        """The technician leaves now for c: travel, serve, free again at the end."""
        here = self.location_for(tech, depart)
        leg_s = self.provider.seconds(here, c.loc)
        arrive = depart + leg_s
        end = arrive + c.service_s
        self.travel_m += self.provider.metres(here, c.loc)
        c.start = arrive
        tech.loc = c.loc
        tech.busy_until = end
        tech.busy_site = c.loc
        tech.busy_job = c.id
        if self.trace is not None:
            self.trace(
                {
                    "complaint_id": c.id,
                    "technician_id": tech.id,
                    "depart_at": self.at(depart).isoformat(),
                    "arrive_at": self.at(arrive).isoformat(),
                    "start_at": self.at(arrive).isoformat(),
                    "end_at": self.at(end).isoformat(),
                }
            )


def _p95(values: list[float]) -> float:
    if not values:
        return 0.0
    s = sorted(values)
    return s[min(len(s) - 1, math.ceil(0.95 * len(s)) - 1)]


# ------------------------------------------------------------------------------------ greedy


def _run_greedy(sim: _Sim) -> None:
    for c in sim.complaints.values():
        sim.push(c.reported, "report", c.id)
    # per technician: when/where the end of their queue is
    tail: dict[str, tuple[float, Location]] = {t.id: (0.0, t.depot) for t in sim.techs}
    while sim.events:
        t, _, kind, ref = heapq.heappop(sim.events)
        if kind == "report":
            c = sim.complaints[ref]
            best: tuple[float, float, _Tech, float] | None = None
            for tech in sim.techs:
                if not c.skills <= tech.skills:
                    continue
                last_end, here = tail[tech.id]
                free_at = max(last_end, t)
                depart = _greedy_departure(sim, tech, free_at, last_end, here, c)
                if depart is None:
                    continue
                origin = _origin(tech, depart, last_end, here)
                start = depart + sim.provider.seconds(origin, c.loc)
                dist = sim.provider.metres(origin, c.loc)
                if best is None or (start, dist) < (best[0], best[1]):
                    best = (start, dist, tech, depart)
            if best is None:
                continue  # nobody can ever do it: it stays unserved
            _, _, tech, depart = best
            tech.queue.append(c.id)
            origin = _origin(tech, depart, tail[tech.id][0], tail[tech.id][1])
            end = depart + sim.provider.seconds(origin, c.loc) + c.service_s
            tail[tech.id] = (end, c.loc)
            sim.push(depart, "depart", f"{tech.id}|{c.id}")
        elif kind == "depart":
            tech_id, cid = ref.split("|")
            tech = next(x for x in sim.techs if x.id == tech_id)
            sim.dispatch(tech, sim.complaints[cid], t)


def _origin(tech: _Tech, depart: float, last_end: float, here: Location) -> Location:
    """Start location for a departure: the depot at a shift start reached while off duty."""
    shift = _shift_at(tech, depart)
    if shift is not None and last_end <= shift[0]:
        return tech.depot
    return here


def _greedy_departure(
    sim: _Sim, tech: _Tech, free_at: float, last_end: float, here: Location, c: _Complaint
) -> float | None:
    """Earliest departure ≥ free_at with travel and service inside one shift (the depot at a shift
    start when the last job ended before that shift)."""
    for a, b in tech.shifts:
        if b <= free_at:
            continue
        depart = max(a, free_at)
        origin = tech.depot if last_end <= a else here
        if depart + sim.provider.seconds(origin, c.loc) + c.service_s <= b:
            return depart
    return None


# --------------------------------------------------------------------------------- optimizer


def _run_optimizer(sim: _Sim) -> None:
    for c in sim.complaints.values():
        sim.push(c.reported, "report", c.id)
    for tech in sim.techs:
        for a, _ in tech.shifts:
            sim.push(a, "shift", tech.id)
    end_of_sim = max([c.reported for c in sim.complaints.values()] + [0.0]) + 72 * 3600
    params = SolveParams(time_limit_s=sim.time_limit_s, workers=1, horizon_h=96)
    while sim.events:
        t, _, kind, ref = heapq.heappop(sim.events)
        if t > end_of_sim:
            break
        if kind == "report":
            sim.pending.append(ref)
        # handle all events at the same instant before planning
        while sim.events and sim.events[0][0] <= t:
            _, _, k2, r2 = heapq.heappop(sim.events)
            if k2 == "report":
                sim.pending.append(r2)
        if not sim.pending:
            continue
        idle = [x for x in sim.techs if x.busy_until <= t and _shift_at(x, t) is not None]
        if not idle:
            continue
        problem = _problem_at(sim, t)
        t0 = time.perf_counter()
        plan = solve(problem, params, sim.provider)
        sim.replan_ms.append((time.perf_counter() - t0) * 1000)
        sim.replans += 1
        for tech in idle:
            shift = _shift_at(tech, t)
            stops = [
                s
                for r in plan.routes
                if r.technician_id == tech.id and shift is not None and r.start_at <= sim.at(t + 1)
                for s in r.stops
            ]
            if not stops:
                continue
            c = sim.complaints[stops[0].visit_id]
            if c.id not in sim.pending:
                continue
            sim.pending.remove(c.id)
            sim.dispatch(tech, c, t)
            sim.push(tech.busy_until, "free", tech.id)


def _problem_at(sim: _Sim, t: float) -> Problem:
    now = sim.at(t)
    techs = []
    for x in sim.techs:
        shifts = tuple(Shift(sim.at(a), sim.at(b)) for a, b in x.shifts if b > t)
        if not shifts:
            continue
        in_progress = None
        position = None
        if x.busy_until > t and x.busy_site is not None and x.busy_job is not None:
            in_progress = InProgress(x.busy_job, x.busy_site, (x.busy_until - t) / 60)
        elif _shift_at(x, t) is not None:
            position = sim.location_for(x, t)
        techs.append(
            Technician(
                id=x.id,
                depot=x.depot,
                shifts=shifts,
                skills=x.skills,
                depot_kind="partner_point" if x.depot_kind == "partner_point" else "service_centre",
                position=position,
                in_progress=in_progress,
            )
        )
    visits = tuple(
        Visit(
            id=c.id,
            location=c.loc,
            deadline=sim.at(c.due),
            grade=c.grade,  # type: ignore[arg-type]
            service_minutes=c.service_s / 60,
            required_skills=c.skills,
        )
        for c in (sim.complaints[i] for i in sim.pending)
    )
    return Problem(now=now, technicians=tuple(techs), visits=visits)


# ------------------------------------------------------------------------------- clairvoyant


def _static_problem(sim: _Sim, earliest: dict[str, float]) -> Problem:
    """Every complaint of the scenario as a visit at the scenario start; ``earliest`` arrival by complaint."""
    techs = tuple(
        Technician(
            id=x.id,
            depot=x.depot,
            shifts=tuple(Shift(sim.at(a), sim.at(b)) for a, b in x.shifts),
            skills=x.skills,
            depot_kind="partner_point" if x.depot_kind == "partner_point" else "service_centre",
        )
        for x in sim.techs
        if x.shifts
    )
    visits = tuple(
        Visit(
            id=c.id,
            location=c.loc,
            deadline=sim.at(c.due),
            grade=c.grade,  # type: ignore[arg-type]
            service_minutes=c.service_s / 60,
            required_skills=c.skills,
            earliest_start=sim.at(earliest[c.id]),
        )
        for c in sim.complaints.values()
    )
    return Problem(now=sim.at(0), technicians=techs, visits=visits)


def _legal_timing(
    sim: _Sim, routes: dict[tuple[str, int], list[str]]
) -> tuple[int, list[tuple[_Tech, _Complaint, float]], dict[str, float]]:
    """Time planned routes by the simulator's rules: each shift starts at the depot, a technician leaves for
    a complaint at the later of the previous job's end and its report, and serves it only if the work ends
    inside the shift (else it is skipped). Returns the on-time count, the departures in order per technician,
    and each served complaint's leg from its predecessor (seconds)."""
    on_time = 0
    departures: list[tuple[_Tech, _Complaint, float]] = []
    legs: dict[str, float] = {}
    for tech in sim.techs:
        for k, (a, b) in enumerate(tech.shifts):
            t, here = max(a, 0.0), tech.depot
            for cid in routes.get((tech.id, k), []):
                c = sim.complaints[cid]
                depart = max(t, c.reported)
                leg = sim.provider.seconds(here, c.loc)
                end = depart + leg + c.service_s
                if depart >= b or end > b:
                    continue
                departures.append((tech, c, depart))
                legs[cid] = leg
                on_time += int(depart + leg <= c.due)
                t, here = end, c.loc
    return on_time, departures, legs


def _run_clairvoyant(sim: _Sim, rounds: int = 3) -> None:
    complaints = list(sim.complaints.values())
    if not complaints:
        return
    horizon_h = (max(c.due for c in complaints) - 0) / 3600 + 24
    params = SolveParams(time_limit_s=sim.time_limit_s, workers=2, horizon_h=max(horizon_h, 1.0))
    earliest = {c.id: c.reported for c in complaints}
    best: tuple[int, list[tuple[_Tech, _Complaint, float]]] | None = None
    initial: dict[tuple[str, int], list[str]] | None = None
    for _ in range(rounds):
        t0 = time.perf_counter()
        plan = solve(_static_problem(sim, earliest), params, sim.provider, initial_routes=initial)
        sim.replan_ms.append((time.perf_counter() - t0) * 1000)
        sim.replans += 1
        routes = {(r.technician_id, r.shift_index): [s.visit_id for s in r.stops] for r in plan.routes}
        on_time, departures, legs = _legal_timing(sim, routes)
        if best is None or on_time > best[0]:
            best = (on_time, departures)
        # The model's arrival window said "not before the report"; the road says "not before the report plus
        # the leg from where the technician was": tighten it for the planned predecessor and search again.
        tightened = {cid: sim.complaints[cid].reported + leg for cid, leg in legs.items()}
        if all(earliest.get(cid) == when for cid, when in tightened.items()):
            break
        earliest.update(tightened)
        initial = routes
    assert best is not None
    for tech, c, depart in best[1]:  # per technician in time order: the simulator's own dispatch
        sim.dispatch(tech, c, depart)


def on_time_bound(scenario: dict[str, Any]) -> dict[str, Any]:
    """An upper bound on the on-time count any policy can reach on ``scenario``, in total and by grade.

    Complaint c counts if some technician-shift with its skills can be on site by its due time having
    left its depot at the shift start and made only legal moves before: every visit of the chain left for
    no earlier than that complaint's report, served in full inside the shift (earliest arrivals by a
    label-setting search per shift; waiting is allowed, so arrival times only grow along a chain). Each
    complaint is judged alone — two complaints may both count through the same technician — so the bound
    is optimistic, never below what a real plan achieves.
    """
    sc = load_scenario(scenario)
    provider: HaversineProvider = sc["provider"]
    complaints: list[_Complaint] = sc["complaints"]
    n = len(complaints)
    reachable = [False] * n
    sites = [c.loc for c in complaints]
    depots = sorted({t.depot for t in sc["techs"]}, key=lambda loc: (loc.lat, loc.lon))
    m = provider.matrix([*depots, *sites]).seconds
    d0 = len(depots)
    for tech in sc["techs"]:
        mine = [i for i, c in enumerate(complaints) if c.skills <= tech.skills]
        dep = depots.index(tech.depot)
        for a, b in tech.shifts:
            todo = [i for i in mine if complaints[i].reported < b]
            best = {i: max(a, complaints[i].reported) + m[dep][d0 + i] for i in todo}
            heap = [(t, i) for i, t in best.items()]
            heapq.heapify(heap)
            done: set[int] = set()
            while heap:
                t, i = heapq.heappop(heap)
                if i in done or t > best[i]:
                    continue
                done.add(i)
                c = complaints[i]
                end = t + c.service_s
                if end > b:
                    continue  # cannot be served in this shift, so no chain continues from it
                if t <= c.due:
                    reachable[i] = True
                row = m[d0 + i]
                for j in todo:
                    if j in done:
                        continue
                    cand = max(end, complaints[j].reported) + row[d0 + j]
                    if cand < best[j]:
                        best[j] = cand
                        heapq.heappush(heap, (cand, j))
    by_grade = {
        g: {
            "tickets": sum(1 for c in complaints if c.grade == g),
            "on_time": sum(1 for i, c in enumerate(complaints) if c.grade == g and reachable[i]),
        }
        for g in GRADES
    }
    return {"tickets": n, "on_time": sum(reachable), "by_grade": by_grade}


def check_trace(scenario: dict[str, Any], trace: list[dict[str, Any]]) -> list[str]:
    """Every rule of the simulator that ``trace`` breaks, as messages (an empty list: a legal trace).

    Each complaint served at most once, by a technician with its skills, who left no earlier than its report
    and no earlier than the end of their previous job, inside a shift that the work ends in, from the depot at a
    shift's first job (else the previous site), with exactly the travel time and the service time.
    """
    travel = scenario["travel"]
    provider = HaversineProvider(float(travel["speed_kmh"]), float(travel["road_factor"]))
    techs = {t["id"]: t for t in scenario["technicians"]}
    depots = {d["id"]: Location(d["lat"], d["lon"]) for d in scenario["depots"]}
    comp = {c["id"]: c for c in scenario["complaints"]}
    errors: list[str] = []
    seen: set[str] = set()
    by_tech: dict[str, list[dict[str, Any]]] = {}
    for rec in trace:
        cid, tid = rec.get("complaint_id"), rec.get("technician_id")
        if cid is None or tid is None or cid not in comp or tid not in techs:
            errors.append(f"unknown complaint {cid!r} or technician {tid!r}")
            continue
        if cid in seen:
            errors.append(f"{cid}: served twice")
        seen.add(cid)
        by_tech.setdefault(tid, []).append(rec)
    for tid, recs in by_tech.items():
        t = techs[tid]
        shifts = [(datetime.fromisoformat(a), datetime.fromisoformat(b)) for a, b in t["shifts"]]
        recs.sort(key=lambda r: datetime.fromisoformat(r["depart_at"]))
        prev: dict[str, Any] | None = None
        for rec in recs:
            c = comp[rec["complaint_id"]]
            cid = c["id"]
            dep, arr = datetime.fromisoformat(rec["depart_at"]), datetime.fromisoformat(rec["arrive_at"])
            start, end = datetime.fromisoformat(rec["start_at"]), datetime.fromisoformat(rec["end_at"])
            if not set(c.get("skills", [])) <= set(t.get("skills", [])):
                errors.append(f"{cid}: {tid} lacks the skills {sorted(set(c['skills']) - set(t['skills']))}")
            if dep < datetime.fromisoformat(c["reported_at"]):
                errors.append(f"{cid}: {tid} left at {dep.isoformat()}, before the report {c['reported_at']}")
            shift = next(((a, b) for a, b in shifts if a <= dep < b), None)
            if shift is None:
                errors.append(f"{cid}: {tid} left at {dep.isoformat()}, outside every shift")
                prev = rec
                continue
            if end > shift[1]:
                errors.append(f"{cid}: {tid} works until {end.isoformat()}, after the shift ends")
            same_shift = prev is not None and datetime.fromisoformat(prev["end_at"]) > shift[0]
            origin = (
                Location(comp[prev["complaint_id"]]["lat"], comp[prev["complaint_id"]]["lon"])
                if same_shift and prev is not None
                else depots[t["depot"]]
            )
            leg = provider.seconds(origin, Location(c["lat"], c["lon"]))
            if (arr - dep).total_seconds() != leg:
                errors.append(f"{cid}: travel {(arr - dep).total_seconds():.0f} s, the road takes {leg} s")
            if start < arr:
                errors.append(f"{cid}: service starts before arrival")
            if (end - start).total_seconds() != math.ceil(float(c.get("service_minutes", 60)) * 60):
                errors.append(f"{cid}: service lasts {(end - start).total_seconds():.0f} s")
            if prev is not None and dep < datetime.fromisoformat(prev["end_at"]):
                errors.append(f"{cid}: {tid} left before finishing {prev['complaint_id']}")
            prev = rec
    return errors


# ------------------------------------------------------------------------------------- API


def run_simulation(
    scenario: dict[str, Any], policy: str, trace: TraceFn | None = None, time_limit_s: float = 0.1
) -> dict[str, Any]:
    """Simulate ``scenario`` (the JSON dict of issue 5) under ``policy`` ("optimizer" | "greedy" | "clairvoyant";
    ``time_limit_s`` is the limit per re-plan, or per static round for the clairvoyant plan).

    ``trace`` receives one dict per visit: complaint_id, technician_id, depart_at, arrive_at,
    start_at, end_at (ISO 8601 with offset).
    """
    if policy not in POLICIES:
        raise ValueError(f"policy must be one of {', '.join(POLICIES)}, got {policy!r}")
    sc = load_scenario(scenario)
    sim = _Sim(sc, trace, time_limit_s)
    if policy == "greedy":
        _run_greedy(sim)
    elif policy == "clairvoyant":
        _run_clairvoyant(sim)
    else:
        _run_optimizer(sim)
    complaints = list(sim.complaints.values())
    end_of_sim = max([c.due for c in complaints] + [c.start or 0 for c in complaints] + [0.0])
    by_grade: dict[str, dict[str, Any]] = {}
    late_minutes: list[float] = []
    on_time = 0
    for g in GRADES:
        mine = [c for c in complaints if c.grade == g]
        ok = sum(1 for c in mine if c.start is not None and c.start <= c.due)
        by_grade[g] = {
            "tickets": len(mine),
            "on_time": ok,
            "rate": round(ok / len(mine), 4) if mine else None,
        }
    for c in complaints:
        if c.start is not None and c.start <= c.due:
            on_time += 1
        else:
            late_minutes.append(((c.start if c.start is not None else end_of_sim) - c.due) / 60)
    return {
        "policy": policy,
        "tickets": len(complaints),
        "on_time": on_time,
        "on_time_rate": round(on_time / len(complaints), 4) if complaints else None,
        "by_grade": by_grade,
        "late_minutes_p95": round(_p95(late_minutes), 1),
        "travel_km": round(sim.travel_m / 1000, 1),
        "replans": sim.replans,
        "replan_ms_p95": round(_p95(sim.replan_ms), 1),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m routing.simulate", description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", type=Path, required=True)
    ap.add_argument("--policy", choices=POLICIES, required=True)
    ap.add_argument("--json", action="store_true", help="print the result as JSON")
    ap.add_argument("--trace", type=Path, help="write one JSON line per visit to this file")
    ap.add_argument(
        "--time-limit", type=float, default=0.1, help="solver limit per re-plan, or per clairvoyant round (s)"
    )
    args = ap.parse_args(argv)
    scenario = json.loads(args.scenario.read_text())
    fh = args.trace.open("w") if args.trace else None
    try:
        trace = (lambda rec: fh.write(json.dumps(rec) + "\n")) if fh else None
        result = run_simulation(scenario, args.policy, trace, args.time_limit)
    finally:
        if fh:
            fh.close()
    if args.json:
        print(json.dumps(result))
    else:
        for k, v in result.items():
            print(f"{k}: {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
