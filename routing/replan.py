"""Re-plan without reshuffling, and the diff a dispatcher sees (issue 5, "Re-plan without reshuffling").

``replan(problem, previous)`` plans the current state again while keeping the live plan stable:
visits in progress (``Technician.in_progress``) and accepted/en-route visits (``Visit.committed``)
stay; every other visit carries its previous technician and ETA, and the model charges
``SolveParams.move_cost`` for giving it to another technician and ``shift_cost_per_s`` for every
second it arrives later than before beyond ``shift_tolerance_min``. One search starts from the
previous routes (checked: OR-Tools silently refuses routes that break the new model, in which case
it searches cold), another searches cold in parallel as a hedge; the cheaper plan wins.

``plan_diff(old, new)`` lists who gains and loses which visit, which deadlines improve or worsen,
and the change in kilometres.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, replace

from routing.model import vehicles_of
from routing.plan import Plan
from routing.problem import GRADES, Problem, SolveParams
from routing.solve import solve
from routing.travel import TravelMatrixProvider

__all__ = ["Move", "PlanDiff", "most_urgent", "plan_diff", "previous_routes", "replan", "with_previous"]


def with_previous(problem: Problem, previous: Plan) -> Problem:
    """``problem`` with each visit's previous technician and ETA taken from ``previous``."""
    visits = []
    stops = {s.visit_id: (r.technician_id, s) for r in previous.routes for s in r.stops}
    for v in problem.visits:
        if v.id not in stops:
            visits.append(replace(v, previous_technician=None, previous_arrival=None))
            continue
        tech, stop = stops[v.id]
        visits.append(replace(v, previous_technician=tech, previous_arrival=stop.arrival))
    return replace(problem, visits=tuple(visits))


def most_urgent(
    problem: Problem,
    params: SolveParams,
    *,
    max_visits: int,
    travel_minutes: float,
    margin: float = 1.25,
) -> tuple[Problem, tuple[str, ...]]:
    """``problem`` cut to the visits the technicians could reach within the horizon, most urgent first.

    A backlog far beyond what the shifts can hold only slows the search down (the first solution alone took
    ~11 s at 1,000 visits and 40 technicians on two cores, bench/soak.py) and the search would drop the excess
    anyway. The cut keeps every visit in progress, committed or pinned by a dispatcher, then the rest by
    deadline (major before serious before general on a tie), up to the smaller of ``max_visits`` and the
    fleet's capacity: the usable shift minutes of every technician-shift in the horizon divided by a typical
    visit (median service time plus ``travel_minutes``), times ``margin``. Returns the cut problem and the ids
    of the visits left to queue; they come in as earlier work finishes.
    """
    visits = problem.visits
    minutes = sum((v.end_s - v.start_s) / 60 for v in vehicles_of(problem, params)) if visits else 0.0
    if minutes <= 0:
        return problem, ()  # nobody on shift: the plan's own reasons say so, not a queue
    typical = statistics.median(v.service_minutes for v in visits) + travel_minutes
    limit = min(max_visits, math.ceil(margin * minutes / max(typical, 1.0)))
    if len(visits) <= limit:
        return problem, ()
    fixed = [v for v in visits if v.committed or v.pin_technician is not None]
    rest = sorted(set(visits) - set(fixed), key=lambda v: (v.deadline, GRADES.index(v.grade), v.id))
    kept = fixed + rest[: max(0, limit - len(fixed))]
    keep = {v.id for v in kept}
    queued = tuple(v.id for v in visits if v.id not in keep)
    return replace(problem, visits=tuple(v for v in visits if v.id in keep)), queued


def previous_routes(previous: Plan, problem: Problem) -> dict[tuple[str, int], list[str]]:
    """The previous routes restricted to visits that are still pending, committed ones first."""
    pending = {v.id: v for v in problem.visits}
    out: dict[tuple[str, int], list[str]] = {}
    for r in previous.routes:
        ids = [s.visit_id for s in r.stops if s.visit_id in pending]
        committed = [i for i in ids if pending[i].committed and pending[i].pin_technician == r.technician_id]
        rest = [i for i in ids if i not in committed]
        if ids:
            out[(r.technician_id, r.shift_index)] = committed + rest
    return out


def replan(
    problem: Problem,
    previous: Plan,
    params: SolveParams | None = None,
    travel: TravelMatrixProvider | None = None,
) -> Plan:
    """Plan ``problem`` (the current state) again, moving as little of ``previous`` as is worth it.

    ``problem`` is the truth now: cancelled or finished visits are simply absent, new ones present,
    technicians carry their in-progress job and current position, committed visits are marked.
    """
    params = params or SolveParams()
    stable = with_previous(problem, previous)
    return solve(stable, params, travel, initial_routes=previous_routes(previous, stable))


@dataclass(frozen=True)
class Move:
    visit_id: str
    from_technician: str | None  # None: was unassigned (or new)
    to_technician: str | None  # None: now unassigned


@dataclass(frozen=True)
class PlanDiff:
    """What changes if ``new`` replaces ``old`` — the board shows this before a dispatcher applies it."""

    moves: tuple[Move, ...]  # visits planned in both, on a different technician
    added: tuple[Move, ...]  # visits planned now that were not planned before
    removed: tuple[Move, ...]  # visits planned before that are not planned now
    deadlines_gained: tuple[str, ...]  # late (or unplanned) before, on time now
    deadlines_lost: tuple[str, ...]  # on time before, late or unplanned now
    eta_changes_min: dict[str, float]  # visit -> minutes later (+) or earlier (-), for visits in both
    km_delta: float
    gains: dict[str, int]  # technician -> visits gained minus lost

    @property
    def moved_ids(self) -> list[str]:
        return [m.visit_id for m in self.moves]


def plan_diff(old: Plan, new: Plan) -> PlanDiff:
    """Compare two plans visit by visit."""
    a, b = old.assignments(), new.assignments()
    moves = tuple(Move(v, a[v], b[v]) for v in sorted(a.keys() & b.keys()) if a[v] != b[v])
    added = tuple(Move(v, None, b[v]) for v in sorted(b.keys() - a.keys()))
    removed = tuple(Move(v, a[v], None) for v in sorted(a.keys() - b.keys()))

    def on_time(plan: Plan, vid: str) -> bool:
        s = plan.stop(vid)
        return s is not None and not s.late

    everyone = sorted(a.keys() | b.keys())
    gained = tuple(v for v in everyone if on_time(new, v) and not on_time(old, v))
    lost = tuple(v for v in everyone if on_time(old, v) and not on_time(new, v))
    eta: dict[str, float] = {}
    for v in sorted(a.keys() & b.keys()):
        so, sn = old.stop(v), new.stop(v)
        if so is not None and sn is not None:
            eta[v] = round((sn.arrival - so.arrival).total_seconds() / 60, 1)
    gains: dict[str, int] = {}
    for m in (*moves, *added, *removed):
        if m.to_technician:
            gains[m.to_technician] = gains.get(m.to_technician, 0) + 1
        if m.from_technician:
            gains[m.from_technician] = gains.get(m.from_technician, 0) - 1
    km = round(new.objective.travel_km - old.objective.travel_km, 2)
    return PlanDiff(moves, added, removed, gained, lost, eta, km, gains)
