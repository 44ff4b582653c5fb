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

A large plan is re-planned in a *neighbourhood* (issue 16, live re-plan at 100 technicians / 1,000
visits): the technicians whose routes are still valid as they stand and that no new visit needs are
locked, their routes only re-timed; the search runs on the few technicians near each visit that needs a
place (new tickets, visits a broken route gave back) and on those whose routes stopped being valid. The
model, the matrices and the search are then a few dozen visits, not a thousand: the time went around
the search (building matrices and the model for every visit), not into it. Small plans, and changes too
big for a neighbourhood (a burst of new tickets), are searched whole as before.
"""

from __future__ import annotations

import itertools
import math
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace

from routing.explain import explain_plan
from routing.model import Vehicle, locations_of, vehicles_of
from routing.plan import Plan, schedule
from routing.problem import GRADES, Location, Problem, SolveParams, Visit
from routing.solve import solve
from routing.travel import HaversineProvider, TravelMatrix, TravelMatrixProvider

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


# Neighbourhood re-plan (see the module docstring). Search settings, not policy: they trade how far a change may
# ripple against how much the search has to carry.
NEIGHBOURHOOD_MIN_VISITS = 120  # plans with fewer visits are searched whole
NEIGHBOURS = 6  # skilled technicians, nearest first, offered each visit that needs a place
MAX_NEW = 25  # more new visits than this at once (a burst) are placed in batches of this many
MAX_FREE_SHARE = 0.5  # a neighbourhood with more of the fleet than this is no neighbourhood: search whole…
WHOLE_SEARCH_MAX_VISITS = 400  # …unless the plan is larger than this (its first solution alone takes seconds)
MAX_OPTIONAL_FREE = 12  # late and waiting visits join the neighbourhood only while it has fewer technicians…
OPTIONAL_NEIGHBOURS = 2  # …each with its own technician and this many nearest others
MIN_SEARCH_SHARE = 0.3  # a neighbourhood's search gets at least this share of the time limit


@dataclass(frozen=True)
class _Sliced:
    """A travel provider that answers from a matrix already priced over a superset of the locations."""

    index: dict[Location, int]
    full: TravelMatrix

    def matrix(self, locations: Sequence[Location]) -> TravelMatrix:
        idx = [self.index[loc] for loc in locations]
        secs, metres = self.full.seconds, self.full.metres
        return TravelMatrix.trusted(  # slices of a checked matrix
            tuple(tuple(row[j] for j in idx) for row in (secs[i] for i in idx)),
            tuple(tuple(row[j] for j in idx) for row in (metres[i] for i in idx)),
        )


def _sliced(locations: list[Location], matrix: TravelMatrix) -> _Sliced:
    index: dict[Location, int] = {}
    for i, loc in enumerate(locations):
        index.setdefault(loc, i)
    return _Sliced(index, matrix)


def _allowed(v: Visit, veh: Vehicle, skills: dict[str, frozenset[str]]) -> bool:
    return v.required_skills <= skills[veh.tech_id] and (v.pin_technician is None or v.pin_technician == veh.tech_id)


def _route_holds(
    problem: Problem,
    matrix: TravelMatrix,
    vehicles: list[Vehicle],
    k: int,
    seq: list[int],
    was_late: set[str],
    skills: dict[str, frozenset[str]],
) -> bool:
    """Is the previous sequence ``seq`` (visit positions) still a valid route for vehicle k as it stands?

    Valid: every visit still allowed (skills, pins), committed visits first, the last service inside the
    shift, and no visit late that was on time in the previous plan.
    """
    veh = vehicles[k]
    n_veh = len(vehicles)
    t, loc = veh.start_s, k
    open_chain = True
    for p in seq:
        v = problem.visits[p]
        if not _allowed(v, veh, skills):
            return False
        if v.committed:
            if not open_chain:
                return False
        else:
            open_chain = False
        vl = n_veh + p
        earliest = max(0, problem.seconds(v.earliest_start)) if v.earliest_start else 0
        start = max(t + matrix.seconds[loc][vl], earliest)
        if start > problem.seconds(v.deadline) and v.id not in was_late:
            return False
        t, loc = start + math.ceil(v.service_minutes * 60), vl
    return t <= veh.end_s


def _urgency(v: Visit) -> tuple[int, object, str]:
    return (GRADES.index(v.grade), v.deadline, v.id)


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
    t0 = time.monotonic()
    params = params or SolveParams()
    stable = with_previous(problem, previous)
    routes = previous_routes(previous, stable)
    vehicles = vehicles_of(stable, params)
    locations = locations_of(stable, vehicles)
    matrix = (travel or HaversineProvider()).matrix(locations)
    provider = _sliced(locations, matrix)
    known = {i for ids in routes.values() for i in ids} | set(previous.unassigned_ids)
    new = sorted((v for v in stable.visits if v.id not in known), key=_urgency)
    if len(stable.visits) >= NEIGHBOURHOOD_MIN_VISITS and len(new) > MAX_NEW:
        # A burst (a storm, a reconnecting gateway): a whole search of a large plan would not even reach its first
        # solution in the limit. Place the new visits in urgency order, MAX_NEW at a time, each batch a
        # neighbourhood re-plan of the plan the last one left.
        plan = previous
        for i in range(0, len(new), MAX_NEW):
            later = {v.id for v in new[i + MAX_NEW :]}
            batch = replace(problem, visits=tuple(v for v in problem.visits if v.id not in later))
            plan = replan(batch, plan, params, provider)
        object.__setattr__(plan, "stats", replace(plan.stats, wall_time_s=round(time.monotonic() - t0, 4)))
        return plan
    free = _neighbourhood(stable, previous, params, matrix, vehicles, routes)
    if free is None:
        return solve(stable, params, provider, initial_routes=routes)

    techs, chosen = free
    pos_of = {v.id: p for p, v in enumerate(stable.visits)}
    sub_visits = [v for v in stable.visits if v.id in chosen]
    sub = replace(stable, technicians=tuple(t for t in stable.technicians if t.id in techs), visits=tuple(sub_visits))
    # The search gets the time left, and no more than its share of the limit: a neighbourhood of a few dozen
    # visits converges long before a search over a whole plan would (which gets the full limit).
    share = params.time_limit_s * min(1.0, max(MIN_SEARCH_SHARE, len(sub_visits) / NEIGHBOURHOOD_MIN_VISITS))
    budget = max(MIN_SEARCH_SHARE * params.time_limit_s, min(share, params.time_limit_s - (time.monotonic() - t0)))
    # One warm search, no cold hedge: a cold start of the neighbourhood ignores where everyone was going (it
    # won 1 re-plan in 4 on a loaded machine, moving 4-7 other visits), and waiting for a helper process that
    # is still looking for its first solution cost seconds.
    sub_plan = solve(
        sub,
        replace(params, time_limit_s=budget, workers=1),
        provider,
        initial_routes={key: ids for key, ids in routes.items() if key[0] in techs},
    )
    solved = {(r.technician_id, r.shift_index): [pos_of[s.visit_id] for s in r.stops] for r in sub_plan.routes}
    sequences = []
    for veh in vehicles:
        key = (veh.tech_id, veh.shift_index)
        if veh.tech_id in techs:
            sequences.append(solved.get(key, []))
        else:
            sequences.append([pos_of[i] for i in routes.get(key, [])])
    stats = replace(
        sub_plan.stats,
        strategy=f"{sub_plan.stats.strategy} in a neighbourhood of {len(techs)} technicians, {len(sub_visits)} visits",
    )
    plan = schedule(stable, params, matrix, vehicles, sequences, stats)
    plan = explain_plan(stable, params, matrix, vehicles, plan)
    object.__setattr__(plan, "stats", replace(plan.stats, wall_time_s=round(time.monotonic() - t0, 4)))
    return plan


def _neighbourhood(
    problem: Problem,
    previous: Plan,
    params: SolveParams,
    matrix: TravelMatrix,
    vehicles: list[Vehicle],
    routes: dict[tuple[str, int], list[str]],
) -> tuple[set[str], set[str]] | None:
    """The technicians to search again and the visits they carry; None to search the whole plan.

    Locked: a technician whose previous routes hold as they stand (``_route_holds``). Free: technicians
    whose routes broke, the pinned technician of a visit that needs a place, and the ``NEIGHBOURS``
    nearest skilled technicians (from where their routes start or pass) of every visit that needs a
    place — new visits; when nothing is new, as room allows, late visits (with their technician) and the
    most urgent of those the previous plan left unassigned.
    """
    visits = problem.visits
    if len(visits) < NEIGHBOURHOOD_MIN_VISITS or not vehicles:
        return None
    skills = {t.id: t.skills for t in problem.technicians}
    pos_of = {v.id: p for p, v in enumerate(visits)}
    was_late = {s.visit_id for r in previous.routes for s in r.stops if s.late}
    keys = {(veh.tech_id, veh.shift_index): k for k, veh in enumerate(vehicles)}
    placed: set[str] = set()
    free: set[str] = set()
    for key, ids in routes.items():
        placed.update(ids)
        k = keys.get(key)
        if k is None or not _route_holds(problem, matrix, vehicles, k, [pos_of[i] for i in ids], was_late, skills):
            free.add(key[0])  # the shift is gone or the route broke: its technician is searched again
    waiting = set(previous.unassigned_ids)
    new = [v for v in visits if v.id not in placed and v.id not in waiting]
    if len(new) > MAX_NEW:
        return None  # (replan batches a burst on a large plan; a small one is searched whole)

    n_veh = len(vehicles)
    # Where each technician's day starts or passes: the places a detour to a new visit would leave from.
    stops_of: dict[str, list[int]] = {}
    for k, veh in enumerate(vehicles):
        stops_of.setdefault(veh.tech_id, []).append(k)
        stops_of[veh.tech_id] += [n_veh + pos_of[i] for i in routes.get((veh.tech_id, veh.shift_index), [])]

    # When and where each vehicle is free to leave for something new: after its committed (accepted, en-route)
    # visits, which stay first.
    free_at: list[tuple[int, int]] = []
    for k, veh in enumerate(vehicles):
        t, here = veh.start_s, k
        for i in routes.get((veh.tech_id, veh.shift_index), []):
            v = visits[pos_of[i]]
            if not v.committed:
                break
            vl = n_veh + pos_of[i]
            access = max(0, problem.seconds(v.earliest_start)) if v.earliest_start else 0
            t, here = max(t + matrix.seconds[here][vl], access) + math.ceil(v.service_minutes * 60), vl
        free_at.append((t, here))

    def nearest(v: Visit, count: int) -> list[str]:
        """The skilled technicians a visit is offered to: alternately the nearest to its route (the cheapest
        detour) and the one who could be there soonest if sent next (what an urgent visit needs)."""
        if v.pin_technician is not None:
            return [v.pin_technician]
        vl, secs = n_veh + pos_of[v.id], matrix.seconds
        skilled = [t.id for t in problem.technicians if t.id in stops_of and v.required_skills <= t.skills]
        near = sorted(skilled, key=lambda tid: (min(secs[a][vl] for a in stops_of[tid]), tid))
        soon_of: dict[str, int] = {}
        for k, veh in enumerate(vehicles):
            t, here = free_at[k]
            if t + secs[here][vl] + math.ceil(v.service_minutes * 60) <= veh.end_s:
                soon_of[veh.tech_id] = min(soon_of.get(veh.tech_id, t + secs[here][vl]), t + secs[here][vl])
        soon = sorted((tid for tid in skilled if tid in soon_of), key=lambda tid: (soon_of[tid], tid))
        out: list[str] = []
        for pair in itertools.zip_longest(near, soon):
            for tid in pair:
                if tid is not None and tid not in out and len(out) < count:
                    out.append(tid)
        return out

    needs = sorted(new, key=_urgency)
    for v in needs:
        free.update(nearest(v, NEIGHBOURS))
    # With nothing new to place (a visit ended or was cancelled, a shift started), and while the neighbourhood
    # is still small: the late visits (their technician and a few neighbours may do better now) and the most
    # urgent of the visits the previous plan could not place. Not beside new visits: a late general visit costs
    # the model more than a dozen moves, and a new major's re-plan would reshuffle others to rescue it.
    holder = {i: key[0] for key, ids in routes.items() for i in ids}
    late = sorted((visits[pos_of[i]] for i in was_late if i in holder and holder[i] not in free), key=_urgency)
    unplaced = sorted((v for v in visits if v.id not in placed and v.id in waiting), key=_urgency)
    for v in [] if new else (late + unplaced)[:MAX_NEW]:
        if len(free) >= MAX_OPTIONAL_FREE:
            break
        needs.append(v)
        free.update(nearest(v, OPTIONAL_NEIGHBOURS))
        if v.id in holder:
            free.add(holder[v.id])
    if len(free) > MAX_FREE_SHARE * len(stops_of) and len(visits) <= WHOLE_SEARCH_MAX_VISITS:
        return None  # as good as the whole plan, and small enough to search whole
    chosen = {i for key, ids in routes.items() if key[0] in free for i in ids} | {
        v.id for v in needs if v.id not in holder
    }
    # A visit on a free technician's route that is pinned elsewhere frees that technician too (rare: a new pin).
    for vid in list(chosen):
        pin = visits[pos_of[vid]].pin_technician
        if pin is not None and pin not in free:
            free.add(pin)
            chosen |= {i for key, ids in routes.items() if key[0] == pin for i in ids}
    return free, chosen


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
