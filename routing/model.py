"""The OR-Tools routing model of a dispatch problem (issues 5 and 16); no search here.

Layout of the model's nodes:

- node 0: a shared "end anywhere" node; arriving there costs nothing and takes no time, so a
  route ends wherever its last service ends (which must be inside the shift). Used only when the
  policy lets crews end anywhere (``SolveParams.end_at = "anywhere"``);
- nodes 1..K: one start node per *vehicle* = one technician-shift. The first shift starts at the
  technician's current position (or the in-progress site when that job ends), later shifts at the
  depot (service centre or partner service point);
- then, for every visit, an *on-time* node whose arrival window ends at the deadline (hard), and a
  *late* copy without that bound that costs a fixed fee by grade plus a slope per second late.
  Both sit in one disjunction with a drop penalty by grade, so a visit is served on time, served
  late, or left unassigned — the solver always returns a plan (routing-notes: count late visits,
  don't sum minutes). With ``allow_late=False`` there is no late copy (deadlines are hard);
- last, one *home* node per distinct place where a day ends (the technician's home address, else
  their depot): by default every route ends there, the drive home inside the shift and costed
  like any travel.

Travel is priced from integer matrices registered once (``RegisterTransitMatrix``); per-vehicle
move costs use unary vectors. No Python callback runs per arc during the search. Loads (spare
parts) are a capacity dimension; coming back to a site already visited costs ``regroup_cost``.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Any

from ortools.constraint_solver import pywrapcp

from routing.problem import Location, Problem, SolveParams, Technician, Visit
from routing.travel import TravelMatrix

__all__ = ["BuiltModel", "Vehicle", "build_model", "end_locations", "locations_of", "site_key", "vehicles_of"]

END = 0


@dataclass(frozen=True)
class Vehicle:
    """One technician-shift: where and when it can start, when it must be done (seconds from now),
    and where the day ends (None: anywhere)."""

    tech_id: str
    shift_index: int
    start_s: int
    end_s: int
    start_location: Location
    start_kind: str  # "current position", "in-progress site", "service centre", "partner point"
    end_location: Location | None = None
    end_kind: str | None = None  # "home", "service centre", "partner point"; None: ends anywhere
    capacity: int | None = None


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
        end_loc: Location | None = None
        end_kind: str | None = None
        if params.end_at == "home":
            end_loc, end_kind = (tech.home, "home") if tech.home is not None else (tech.depot, _depot_kind(tech))
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
            out.append(Vehicle(tech.id, k, s0, s1, loc, kind, end_loc, end_kind, tech.capacity))
    return out


def _depot_kind(tech: Technician) -> str:
    return "partner point" if tech.depot_kind == "partner_point" else "service centre"


def end_locations(vehicles: list[Vehicle]) -> list[Location]:
    """The distinct places where days end, in order of first appearance."""
    return list(dict.fromkeys(v.end_location for v in vehicles if v.end_location is not None))


def locations_of(problem: Problem, vehicles: list[Vehicle]) -> list[Location]:
    """Matrix rows: vehicle start locations first, then visit sites (in ``problem.visits`` order), then
    the distinct places where days end (``end_locations``)."""
    return [v.start_location for v in vehicles] + [v.location for v in problem.visits] + end_locations(vehicles)


def site_key(v: Visit) -> str:
    """The site or building a visit is at: its ``site_id``, else its exact location."""
    return v.site_id or f"@{v.location.lat:.6f},{v.location.lon:.6f}"


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
    allowed: dict[str, list[int]]  # visit id -> vehicle indices allowed by skills, pins and load
    on_node: list[int]  # visit position -> on-time node
    late_node: list[int | None]  # visit position -> late copy (None without late copies)
    node_visit: list[int | None]  # node -> visit position (None for start/end nodes)
    end_loc: list[int | None] = field(default_factory=list)  # vehicle -> matrix row of where the day ends
    committed_chain: dict[int, list[int]] = field(default_factory=dict)  # vehicle -> forced first nodes

    @property
    def n_vehicles(self) -> int:
        return len(self.vehicles)

    def visit_loc(self, visit_pos: int) -> int:
        return len(self.vehicles) + visit_pos

    def index(self, node: int) -> int:
        return int(self.manager.NodeToIndex(node))

    def nodes_of(self, visit_pos: int) -> list[int]:
        late = self.late_node[visit_pos]
        return [self.on_node[visit_pos]] if late is None else [self.on_node[visit_pos], late]


def home_legs(vehicles: list[Vehicle], n_visits: int) -> list[int | None]:
    """Matrix row of each vehicle's end location (None: ends anywhere), over ``locations_of``."""
    homes = {loc: i for i, loc in enumerate(end_locations(vehicles))}
    base = len(vehicles) + n_visits
    return [None if v.end_location is None else base + homes[v.end_location] for v in vehicles]


def build_model(problem: Problem, params: SolveParams, travel: TravelMatrix) -> BuiltModel:
    """Build (but do not solve) the routing model; ``travel`` is over ``locations_of(...)``."""
    vehicles = vehicles_of(problem, params)
    visits = problem.visits
    homes = end_locations(vehicles)
    n_veh, n_vis, n_home = len(vehicles), len(visits), len(homes)
    if travel.size != n_veh + n_vis + n_home:
        raise ValueError(f"travel matrix is {travel.size}×{travel.size}, expected {n_veh + n_vis + n_home}")
    copies = 2 if params.allow_late else 1
    n_nodes = 1 + n_veh + copies * n_vis + n_home
    # Vehicles leaving from the same place share one start node (its copies are inactive): OR-Tools groups
    # vehicles into classes by their start and end nodes, and the insertion heuristics and local search work
    # per class — 25 vans at one depot are one class, not 25.
    first_start: dict[Location, int] = {}
    starts = [first_start.setdefault(veh.start_location, 1 + k) for k, veh in enumerate(vehicles)]
    spare_starts = [1 + k for k in range(n_veh) if starts[k] != 1 + k]
    on_node = [1 + n_veh + p for p in range(n_vis)]
    late_node: list[int | None] = [1 + n_veh + n_vis + p for p in range(n_vis)] if params.allow_late else [None] * n_vis
    home_node0 = 1 + n_veh + copies * n_vis
    end_loc = home_legs(vehicles, n_vis)
    ends = [END if el is None else home_node0 + (el - n_veh - n_vis) for el in end_loc]
    zero_col = n_veh + n_vis + n_home  # an extra zero column/row for the "end anywhere" node
    node_l: list[int] = (
        [zero_col]
        + list(range(n_veh))
        + [n_veh + p for p in range(n_vis)] * copies
        + [n_veh + n_vis + h for h in range(n_home)]
    )
    node_visit: list[int | None] = [None] * (1 + n_veh) + list(range(n_vis)) * copies + [None] * n_home
    service = [0] * (1 + n_veh) + [v.service_s for v in visits] * copies + [0] * n_home

    # One vehicle at least so the manager is valid even with nobody on shift.
    manager = pywrapcp.RoutingIndexManager(n_nodes, max(n_veh, 1), starts or [END], ends or [END])
    routing = pywrapcp.RoutingModel(manager)
    if n_veh == 0:
        routing.ActiveVehicleVar(0).SetValue(0)
    unused = spare_starts + ([END] if n_veh and END not in ends else [])
    for node in unused:  # every day ends at home: the "end anywhere" node is no place to go; nor spare starts
        index = manager.NodeToIndex(node)
        routing.AddDisjunction([index], 0)
        routing.ActiveVar(index).SetValue(0)

    # ---- matrices (node level), built once
    secs = travel.seconds
    tc, tm = params.travel_cost_per_s, params.travel_cost_per_m
    fee = [0] * n_nodes
    for p, v in enumerate(visits):
        late = late_node[p]
        if late is not None:
            fee[late] = params.late_fee[v.grade]
    # Same-site grouping: entering a site that has several visits, from anywhere else, costs regroup_cost;
    # the first entry is unavoidable, so only coming back (or splitting the site) pays.
    group_of: list[str | None] = [None] * n_nodes
    entry: list[int] | None = None
    if params.regroup_cost and n_vis > 1:
        keys = [site_key(v) for v in visits]
        counts: dict[str, int] = {}
        for key in keys:
            counts[key] = counts.get(key, 0) + 1
        multi = {key for key, c in counts.items() if c > 1}
        if multi:
            entry = [0] * n_nodes
            for i in range(n_nodes):
                vp = node_visit[i]
                if vp is not None and keys[vp] in multi:
                    group_of[i] = keys[vp]
                    entry[i] = params.regroup_cost
    members: dict[str, list[int]] = {}
    for i, g in enumerate(group_of):
        if g is not None:
            members.setdefault(g, []).append(i)
    # Location rows get one extra zero column for the end node, so each node row is a single
    # list comprehension (this is the hot part of building the model for a few hundred visits).
    ext = [[*row, 0] for row in secs] + [[0] * (zero_col + 1)]
    mext = [[*row, 0] for row in travel.metres] + [[0] * (zero_col + 1)] if tm else None
    time_m: list[list[int]] = []
    cost_m: list[list[int]] = []
    by_loc: dict[tuple[int, int, str | None], tuple[list[int], list[int]]] = {}
    for i in range(n_nodes):
        g = group_of[i]
        row_key = (node_l[i], service[i], g)
        if row_key not in by_loc:  # on-time and late copies share their travel row
            row = ext[node_l[i]]
            sub = [row[lj] for lj in node_l]
            si = service[i]
            crow = list(map(tc.__mul__, sub)) if tc else [0] * n_nodes
            if mext is not None:
                mrow = mext[node_l[i]]
                crow = [c + tm * mrow[lj] for c, lj in zip(crow, node_l, strict=True)]
            if entry is not None:
                crow = list(map(int.__add__, crow, entry))
                if g is not None:
                    for j in members[g]:
                        crow[j] -= entry[j]
            by_loc[row_key] = (list(map(si.__add__, sub)) if si else sub, crow)
        trow, crow = by_loc[row_key]
        time_m.append(trow)
        fi = fee[i]
        cost_m.append(list(map(fi.__add__, crow)) if fi else crow)
    for h in range(n_home):  # nothing leaves a home node; keep its row free
        time_m[home_node0 + h] = [0] * n_nodes
        cost_m[home_node0 + h] = [0] * n_nodes
    time_m[END] = cost_m[END] = [0] * n_nodes
    cost_cb = routing.RegisterTransitMatrix(cost_m)
    routing.SetArcCostEvaluatorOfAllVehicles(cost_cb)
    time_cb = routing.RegisterTransitMatrix(time_m)
    horizon = max([v.end_s for v in vehicles] + [1])
    direct = [0 if el is None else secs[k][el] for k, el in enumerate(end_loc)]
    horizon = max([horizon] + [v.start_s + d for v, d in zip(vehicles, direct, strict=True)])
    routing.AddDimension(time_cb, horizon, horizon, False, "time")
    tdim = routing.GetDimensionOrDie("time")

    for k, veh in enumerate(vehicles):
        tdim.CumulVar(routing.Start(k)).SetRange(veh.start_s, veh.end_s)
        # A technician already too far from home to be back by the shift's end may still drive straight
        # home (the empty route must stay feasible); any visit would make them later still.
        tdim.CumulVar(routing.End(k)).SetRange(veh.start_s, max(veh.end_s, veh.start_s + direct[k]))
    if params.vehicle_fixed_cost:
        routing.SetFixedCostOfAllVehicles(params.vehicle_fixed_cost)

    def m_nodes(p: int) -> list[int]:
        """The visit's nodes: on time, and the late copy when there is one."""
        late = late_node[p]
        return [on_node[p]] if late is None else [on_node[p], late]

    # ---- load: what each visit takes from the van, never more than the van carries
    loads = [v.load for v in visits]
    total_load = sum(loads)
    caps = [total_load if veh.capacity is None else veh.capacity for veh in vehicles]
    if total_load and n_veh:
        vec = [0] * n_nodes
        for p, v in enumerate(visits):
            for copy in m_nodes(p):
                vec[copy] = v.load
        load_cb = routing.RegisterUnaryTransitVector(vec)
        routing.AddDimensionWithVehicleCapacity(load_cb, 0, caps, True, "load")

    # ---- visits: windows, skills/pins/load, disjunction
    skills = {t.id: t.skills for t in problem.technicians}
    allowed: dict[str, list[int]] = {}
    for p, v in enumerate(visits):
        ok = [
            k
            for k, veh in enumerate(vehicles)
            if v.required_skills <= skills[veh.tech_id] and (not v.load or v.load <= caps[k])
        ]
        if v.pin_technician is not None:
            ok = [k for k in ok if vehicles[k].tech_id == v.pin_technician]
        allowed[v.id] = ok
        earliest = max(0, problem.seconds(v.earliest_start)) if v.earliest_start else 0
        deadline = problem.seconds(v.deadline)
        on_i = manager.NodeToIndex(on_node[p])
        late_n = late_node[p]
        late_i = manager.NodeToIndex(late_n) if late_n is not None else None
        if earliest > horizon:
            earliest = horizon
        if deadline >= earliest:
            tdim.CumulVar(on_i).SetRange(earliest, min(deadline, horizon))
        else:  # cannot be on time at all
            routing.ActiveVar(on_i).SetValue(0)
        if late_i is not None:
            tdim.CumulVar(late_i).SetRange(earliest, horizon)
            if deadline < horizon:
                tdim.SetCumulVarSoftUpperBound(late_i, max(deadline, 0), params.late_cost_per_s[v.grade])
        # Only one soft upper bound per cumul: a major is always priced by its earliness (stability never
        # outweighs it); other visits planned before are priced by how much later they come than before.
        if v.previous_arrival is not None and v.grade != "major":
            prev = problem.seconds(v.previous_arrival) + round(params.shift_tolerance_min * 60)
            if params.shift_cost_per_s and prev < horizon:
                tdim.SetCumulVarSoftUpperBound(on_i, max(prev, 0), params.shift_cost_per_s)
        elif params.earliness_cost_per_s[v.grade]:
            tdim.SetCumulVarSoftUpperBound(on_i, 0, params.earliness_cost_per_s[v.grade])
        idxs = [on_i] if late_i is None else [on_i, late_i]
        for idx in idxs:
            routing.VehicleVar(idx).SetValues([-1, *ok])
        routing.AddDisjunction(idxs, params.drop_penalty[v.grade], 1)

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
                        for copy in m_nodes(p):
                            vec[copy] = 1
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
        end_loc=end_loc,
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
            done = arrive + v.service_s
            if done > veh.end_s:
                break  # does not fit in the shift; leave it to the search
            late = arrive > problem.seconds(v.deadline)
            late_n = m.late_node[p]
            if late and late_n is None:
                break  # deadlines are hard: leave it to the search (it may be unassigned)
            node, other = (late_n, m.on_node[p]) if late else (m.on_node[p], late_n)
            assert node is not None
            if other is not None:
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
        idxs = [manager.NodeToIndex(n) for n in m.nodes_of(p)]
        active = sum(routing.ActiveVar(i) for i in idxs)
        expr = sum(tdim.CumulVar(i) * routing.ActiveVar(i) for i in idxs)
        return expr, active

    for items in groups.values():
        items.sort()
        for (_, a), (_, b) in itertools.pairwise(items):
            arr_a, _ = arrival(a)
            arr_b, act_b = arrival(b)
            solver.Add(arr_a <= arr_b + big * (1 - act_b))
