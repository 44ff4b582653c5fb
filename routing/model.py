"""The OR-Tools routing model of a dispatch problem (issue 5, "The routing package"); no search here.

Layout of the model's nodes:

- node 0: a shared "end anywhere" node; arriving there costs nothing and takes no time, so a
  route ends wherever its last service ends (which must be inside the shift);
- nodes 1..K: one start node per *vehicle* = one technician-shift. The first shift starts at the
  technician's current position (or the in-progress site when that job ends), later shifts at the
  depot (service centre or partner service point);
- then, for every visit, an *on-time* node whose arrival window ends at the deadline (hard), and a
  *late* copy without that bound that costs a fixed fee by grade plus a small slope per second late.
  Both sit in one disjunction with a drop penalty by grade, so a visit is served on time, served
  late, or left unassigned — the solver always returns a plan (routing-notes: count late visits,
  don't sum minutes).

Travel is priced from integer matrices registered once (``RegisterTransitMatrix``); per-vehicle
move costs use unary vectors. No Python callback runs per arc during the search.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Any

from ortools.constraint_solver import pywrapcp

from routing.problem import Location, Problem, SolveParams, Technician, Visit
from routing.travel import TravelMatrix

__all__ = ["BuiltModel", "Vehicle", "build_model", "locations_of", "vehicles_of"]

END = 0


@dataclass(frozen=True)
class Vehicle:
    """One technician-shift: where and when it can start, when it must be done (seconds from now)."""

    tech_id: str
    shift_index: int
    start_s: int
    end_s: int
    start_location: Location
    start_kind: str  # "current position", "in-progress site", "service centre", "partner point"


def vehicles_of(problem: Problem, params: SolveParams) -> list[Vehicle]:
    """The technician-shifts still usable at ``problem.now`` (inside the planning horizon)."""
    horizon = round(params.horizon_h * 3600)
    out: list[Vehicle] = []
    for tech in problem.technicians:
        first = True
        busy_until = 0
        if tech.in_progress is not None:
            busy_until = math.ceil(tech.in_progress.remaining_minutes * 60)
        avail = problem.seconds(tech.available_from) if tech.available_from else 0
        for k, shift in enumerate(tech.shifts):
            s0 = max(0, problem.seconds(shift.start), avail)
            s1 = min(problem.seconds(shift.end), horizon)
            if s1 <= 0 or s1 <= s0:
                continue
            if first:
                if tech.in_progress is not None:
                    loc, kind = tech.in_progress.location, "in-progress site"
                    s0 = max(s0, busy_until)
                elif tech.position is not None:
                    loc, kind = tech.position, "current position"
                else:
                    loc, kind = tech.depot, _depot_kind(tech)
                first = False
                if s0 > s1:
                    continue  # the job in progress eats the whole shift
            else:
                loc, kind = tech.depot, _depot_kind(tech)
            out.append(Vehicle(tech.id, k, s0, s1, loc, kind))
    return out


def _depot_kind(tech: Technician) -> str:
    return "partner point" if tech.depot_kind == "partner_point" else "service centre"


def locations_of(problem: Problem, vehicles: list[Vehicle]) -> list[Location]:
    """Matrix rows: vehicle start locations first, then visit sites (in ``problem.visits`` order)."""
    return [v.start_location for v in vehicles] + [v.location for v in problem.visits]


@dataclass
class BuiltModel:
    """The routing model and the maps between its indices and the problem's objects."""

    problem: Problem
    params: SolveParams
    travel: TravelMatrix  # over locations_of(problem, vehicles)
    vehicles: list[Vehicle]
    manager: Any
    routing: Any
    time: Any
    moves: Any | None
    allowed: dict[str, list[int]]  # visit id -> vehicle indices allowed by skills and pins
    on_node: list[int]  # visit position -> on-time node
    late_node: list[int]
    node_visit: list[int | None]  # node -> visit position (None for start/end nodes)
    committed_chain: dict[int, list[int]] = field(default_factory=dict)  # vehicle -> forced first nodes

    @property
    def n_vehicles(self) -> int:
        return len(self.vehicles)

    def visit_loc(self, visit_pos: int) -> int:
        return len(self.vehicles) + visit_pos

    def index(self, node: int) -> int:
        return int(self.manager.NodeToIndex(node))


def _service_s(v: Visit) -> int:
    return math.ceil(v.service_minutes * 60)


def build_model(problem: Problem, params: SolveParams, travel: TravelMatrix) -> BuiltModel:
    """Build (but do not solve) the routing model; ``travel`` is over ``locations_of(...)``."""
    vehicles = vehicles_of(problem, params)
    visits = problem.visits
    n_veh, n_vis = len(vehicles), len(visits)
    if travel.size != n_veh + n_vis:
        raise ValueError(f"travel matrix is {travel.size}×{travel.size}, expected {n_veh + n_vis}")
    n_nodes = 1 + n_veh + 2 * n_vis
    starts = list(range(1, n_veh + 1))
    on_node = [1 + n_veh + p for p in range(n_vis)]
    late_node = [1 + n_veh + n_vis + p for p in range(n_vis)]
    # The end node (0) has no location of its own: it gets the extra zero column `end_loc` below.
    node_loc: list[int] = list(range(n_veh)) + [n_veh + p for p in range(n_vis)] * 2
    node_visit: list[int | None] = [None] * (1 + n_veh) + list(range(n_vis)) * 2
    service = [0] * (1 + n_veh) + [_service_s(v) for v in visits] * 2

    # One vehicle at least so the manager is valid even with nobody on shift.
    manager = pywrapcp.RoutingIndexManager(n_nodes, max(n_veh, 1), starts or [END], [END] * max(n_veh, 1))
    routing = pywrapcp.RoutingModel(manager)
    if n_veh == 0:
        routing.ActiveVehicleVar(0).SetValue(0)

    # ---- matrices (node level), built once
    secs = travel.seconds
    tc = params.travel_cost_per_s
    fee = [0] * n_nodes
    for p, v in enumerate(visits):
        fee[late_node[p]] = params.late_fee[v.grade]
    # Location rows get one extra zero column for the end node, so each node row is a single
    # list comprehension (this is the hot part of building the model for a few hundred visits).
    end_loc = n_veh + n_vis
    node_l = [end_loc, *node_loc]
    ext = [[*row, 0] for row in secs]
    zero_row = [0] * n_nodes
    time_m: list[list[int]] = [zero_row]
    cost_m: list[list[int]] = [zero_row]
    by_loc: dict[tuple[int, int], tuple[list[int], list[int]]] = {}
    for i in range(1, n_nodes):
        key = (node_l[i], service[i])
        if key not in by_loc:  # on-time and late copies share their travel row
            row = ext[node_l[i]]
            sub = [row[lj] for lj in node_l]
            si = service[i]
            by_loc[key] = (list(map(si.__add__, sub)) if si else sub, list(map(tc.__mul__, sub)))
        trow, crow = by_loc[key]
        time_m.append(trow)
        fi = fee[i]
        cost_m.append(list(map(fi.__add__, crow)) if fi else crow)
    cost_cb = routing.RegisterTransitMatrix(cost_m)
    routing.SetArcCostEvaluatorOfAllVehicles(cost_cb)
    time_cb = routing.RegisterTransitMatrix(time_m)
    horizon = max([v.end_s for v in vehicles] + [1])
    routing.AddDimension(time_cb, horizon, horizon, False, "time")
    tdim = routing.GetDimensionOrDie("time")

    for k, veh in enumerate(vehicles):
        tdim.CumulVar(routing.Start(k)).SetRange(veh.start_s, veh.end_s)
        tdim.CumulVar(routing.End(k)).SetRange(veh.start_s, veh.end_s)

    # ---- visits: windows, skills/pins, disjunction
    skills = {t.id: t.skills for t in problem.technicians}
    allowed: dict[str, list[int]] = {}
    for p, v in enumerate(visits):
        ok = [k for k, veh in enumerate(vehicles) if v.required_skills <= skills[veh.tech_id]]
        if v.pin_technician is not None:
            ok = [k for k in ok if vehicles[k].tech_id == v.pin_technician]
        allowed[v.id] = ok
        earliest = max(0, problem.seconds(v.earliest_start)) if v.earliest_start else 0
        deadline = problem.seconds(v.deadline)
        on_i, late_i = manager.NodeToIndex(on_node[p]), manager.NodeToIndex(late_node[p])
        if earliest > horizon:
            earliest = horizon
        if deadline >= earliest:
            tdim.CumulVar(on_i).SetRange(earliest, min(deadline, horizon))
        else:  # cannot be on time at all
            routing.ActiveVar(on_i).SetValue(0)
        tdim.CumulVar(late_i).SetRange(earliest, horizon)
        if deadline < horizon:
            tdim.SetCumulVarSoftUpperBound(late_i, max(deadline, 0), params.late_cost_per_s[v.grade])
        if v.previous_arrival is not None:
            prev = problem.seconds(v.previous_arrival) + round(params.shift_tolerance_min * 60)
            if params.shift_cost_per_s and prev < horizon:
                tdim.SetCumulVarSoftUpperBound(on_i, max(prev, 0), params.shift_cost_per_s)
        elif params.arrival_cost_per_s:
            tdim.SetCumulVarSoftUpperBound(on_i, 0, params.arrival_cost_per_s)
        for idx in (on_i, late_i):
            routing.VehicleVar(idx).SetValues([-1, *ok])
        routing.AddDisjunction([on_i, late_i], params.drop_penalty[v.grade], 1)

    # ---- moves (re-plan): per-vehicle unary vectors counting visits that change technician
    moves_dim = None
    if params.move_cost and any(v.previous_technician for v in visits) and n_veh:
        cbs = []
        by_tech: dict[str, int] = {}
        for veh in vehicles:
            if veh.tech_id not in by_tech:
                vec = [0] * n_nodes
                for p, v in enumerate(visits):
                    if v.previous_technician is not None and v.previous_technician != veh.tech_id:
                        vec[on_node[p]] = vec[late_node[p]] = 1
                by_tech[veh.tech_id] = routing.RegisterUnaryTransitVector(vec)
            cbs.append(by_tech[veh.tech_id])
        routing.AddDimensionWithVehicleTransits(cbs, 0, n_vis + 1, True, "moves")
        moves_dim = routing.GetDimensionOrDie("moves")
        moves_dim.SetSpanCostCoefficientForAllVehicles(params.move_cost)

    built = BuiltModel(
        problem=problem,
        params=params,
        travel=travel,
        vehicles=vehicles,
        manager=manager,
        routing=routing,
        time=tdim,
        moves=moves_dim,
        allowed=allowed,
        on_node=on_node,
        late_node=late_node,
        node_visit=node_visit,
    )
    _pin_committed(built)
    _pin_order(built)
    return built


def _pin_committed(m: BuiltModel) -> None:
    """Accepted/en-route visits go first on their technician's first usable shift, in pin order."""
    problem, routing, manager = m.problem, m.routing, m.manager
    chains: dict[str, list[int]] = {}
    for p, v in enumerate(problem.visits):
        if v.committed and v.pin_technician is not None:
            chains.setdefault(v.pin_technician, []).append(p)
    for tech_id, positions in chains.items():
        ks = [k for k, veh in enumerate(m.vehicles) if veh.tech_id == tech_id]
        if not ks:
            continue  # nobody on shift: the visits stay pinned to the technician and may be dropped
        k = ks[0]
        veh = m.vehicles[k]
        positions.sort(key=lambda p: (problem.visits[p].pin_order is None, problem.visits[p].pin_order or 0, p))
        t, loc = veh.start_s, k
        prev_index = routing.Start(k)
        chain: list[int] = []
        for p in positions:
            v = problem.visits[p]
            if k not in m.allowed[v.id]:
                break
            vl = m.visit_loc(p)
            earliest = max(0, problem.seconds(v.earliest_start)) if v.earliest_start else 0
            arrive = max(t + m.travel.seconds[loc][vl], earliest)
            done = arrive + _service_s(v)
            if done > veh.end_s:
                break  # does not fit in the shift; leave it to the search
            late = arrive > problem.seconds(v.deadline)
            node, other = (m.late_node[p], m.on_node[p]) if late else (m.on_node[p], m.late_node[p])
            routing.ActiveVar(manager.NodeToIndex(other)).SetValue(0)
            routing.NextVar(prev_index).SetValue(manager.NodeToIndex(node))
            routing.VehicleVar(manager.NodeToIndex(node)).SetValue(k)
            prev_index = manager.NodeToIndex(node)
            chain.append(node)
            t, loc = done, vl
        m.committed_chain[k] = chain


def _pin_order(m: BuiltModel) -> None:
    """Visits pinned to a technician with an order keep that order (arrival times non-decreasing)."""
    problem, routing, manager, tdim = m.problem, m.routing, m.manager, m.time
    solver = routing.solver()
    groups: dict[str, list[tuple[int, int]]] = {}
    for p, v in enumerate(problem.visits):
        if v.pin_order is not None and v.pin_technician is not None and not v.committed:
            groups.setdefault(v.pin_technician, []).append((v.pin_order, p))
    big = max([veh.end_s for veh in m.vehicles] + [1]) + 1

    def arrival(p: int) -> tuple[Any, Any]:
        on_i, late_i = manager.NodeToIndex(m.on_node[p]), manager.NodeToIndex(m.late_node[p])
        active = routing.ActiveVar(on_i) + routing.ActiveVar(late_i)
        expr = tdim.CumulVar(on_i) * routing.ActiveVar(on_i) + tdim.CumulVar(late_i) * routing.ActiveVar(late_i)
        return expr, active

    for items in groups.values():
        items.sort()
        for (_, a), (_, b) in itertools.pairwise(items):
            arr_a, _ = arrival(a)
            arr_b, act_b = arrival(b)
            solver.Add(arr_a <= arr_b + big * (1 - act_b))
