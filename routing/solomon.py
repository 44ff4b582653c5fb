"""Solomon / Gehring & Homberger VRPTW benchmark: reader, solver, feasibility checker.

This is the optimiser's quality bar (issue 5, "Quality bar — the Solomon benchmark"), not part of
dispatch. Model: Euclidean distance is travel time, service times, hard windows on the start of
service, vehicle capacity, a fleet of n/4 vehicles, objective total distance, every customer served.

Distances follow the convention of the best-known solution they are compared with (``bks.csv`` in
the benchmark data): ``dimacs`` truncates every arc to one decimal (the DIMACS VRPTW challenge rule),
``exact`` uses double precision. Travel *times* are the exact Euclidean distance rounded *up* inside
the integer model, so every plan is feasible against the real coordinates — and so also under the
DIMACS rule, whose truncated times are never longer (several published DIMACS best-known routes are
feasible only with truncated times). ``check_solution(..., strict=True)`` checks against exact times.

Search: a portfolio of single-threaded searches on both cores, best feasible plan kept — by default
two seeds of PyVRP's iterated local search (a maintained successor of the hybrid genetic search for
VRPTW); OR-Tools' guided local search remains available as ``ortools:FIRST+META``.

Usage: ``python -m routing.solomon FILE --time-limit S --json``.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import itertools
import json
import math
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ortools.constraint_solver import pywrapcp, routing_enums_pb2

__all__ = [
    "SolomonInstance",
    "check_solution",
    "main",
    "read_instance",
    "route_distance",
    "solve_instance",
    "solve_solomon_file",
]

TIME_SCALE = 1000  # integer model time units per Solomon time unit (exact convention)
EPS = 1e-6


@dataclass(frozen=True)
class SolomonInstance:
    """A VRPTW instance; node 0 is the depot, customers are 1..n as numbered in the file."""

    name: str
    capacity: int
    vehicles: int
    x: tuple[float, ...]
    y: tuple[float, ...]
    demand: tuple[int, ...]
    ready: tuple[float, ...]
    due: tuple[float, ...]
    service: tuple[float, ...]
    convention: str = "dimacs"  # "dimacs" (arcs truncated to 0.1) or "exact"

    @property
    def customers(self) -> int:
        return len(self.x) - 1

    def dist(self, i: int, j: int) -> float:
        """Exact Euclidean distance (= travel time) between nodes i and j."""
        return math.hypot(self.x[i] - self.x[j], self.y[i] - self.y[j])

    def arc_length(self, i: int, j: int) -> float:
        """Arc length in the instance's distance convention."""
        d = self.dist(i, j)
        if self.convention == "dimacs":
            return math.floor(d * 10 + 1e-9) / 10
        return d


def _fleet_n_over_4(n: int) -> int:
    return max(1, n // 4)


def _read_solomon_txt(path: Path, lines: list[str]) -> dict[str, Any]:
    name = lines[0].strip()
    vehicles = capacity = None
    rows: list[list[float]] = []
    for i, line in enumerate(lines):
        if line.strip().upper().startswith("NUMBER") and "CAPACITY" in line.upper():
            vehicles, capacity = (int(t) for t in lines[i + 1].split()[:2])
        parts = line.split()
        if len(parts) == 7 and all(re.fullmatch(r"-?\d+(\.\d+)?", p) for p in parts):
            rows.append([float(p) for p in parts])
    if vehicles is None or capacity is None or not rows:
        raise ValueError(f"{path}: not a Solomon-format file")
    rows.sort(key=lambda r: r[0])
    if [int(r[0]) for r in rows] != list(range(len(rows))):
        raise ValueError(f"{path}: customer numbers must be 0..n")
    return {
        "name": name,
        "vehicles": vehicles,
        "capacity": capacity,
        "x": [r[1] for r in rows],
        "y": [r[2] for r in rows],
        "demand": [int(r[3]) for r in rows],
        "ready": [r[4] for r in rows],
        "due": [r[5] for r in rows],
        "service": [r[6] for r in rows],
    }


def _read_vrplib(path: Path, lines: list[str]) -> dict[str, Any]:
    head: dict[str, str] = {}
    sections: dict[str, list[list[str]]] = {}
    current = None
    for raw in lines:
        line = raw.strip()
        if not line or line == "EOF":
            continue
        if line.endswith("_SECTION"):
            current = line
            sections[current] = []
        elif current is None and ":" in line:
            key, value = line.split(":", 1)
            head[key.strip().upper()] = value.strip()
        elif current is not None:
            sections[current].append(line.split())
    coords = sections.get("NODE_COORD_SECTION")
    if not coords:
        raise ValueError(f"{path}: no NODE_COORD_SECTION")
    n_nodes = len(coords)
    depot_ids = [int(r[0]) for r in sections.get("DEPOT_SECTION", [["1"]]) if int(r[0]) > 0]
    depot = depot_ids[0] if depot_ids else 1
    if depot != 1:
        raise ValueError(f"{path}: depot must be node 1")

    def col(section: str, k: int, default: float) -> list[float]:
        rows = sections.get(section)
        out = [default] * n_nodes
        if rows:
            for r in rows:
                out[int(r[0]) - 1] = float(r[k])
        return out

    service_default = float(head.get("SERVICE_TIME", "0"))
    service = col("SERVICE_TIME_SECTION", 1, service_default)
    service[0] = 0.0
    customers = n_nodes - 1
    # LKH-3's VEHICLES is the best-known fleet; the original G&H fleet is n/4 (see the data README).
    vehicles = _fleet_n_over_4(customers)
    return {
        "name": head.get("NAME", path.stem),
        "vehicles": vehicles,
        "capacity": int(float(head["CAPACITY"])),
        "x": [float(r[1]) for r in coords],
        "y": [float(r[2]) for r in coords],
        "demand": [int(v) for v in col("DEMAND_SECTION", 1, 0)],
        "ready": col("TIME_WINDOW_SECTION", 1, 0.0),
        "due": col("TIME_WINDOW_SECTION", 2, math.inf),
        "service": service,
    }


def _bks_conventions(path: Path) -> dict[str, str]:
    bks = path.parent / "bks.csv"
    if not bks.exists():
        bks = path.parent.parent / "bks.csv"
    out: dict[str, str] = {}
    if bks.exists():
        import csv

        with bks.open(newline="") as fh:
            for row in csv.DictReader(fh):
                out[row["instance"]] = row["distance_convention"]
    return out


def read_instance(path: str | Path, convention: str | None = None) -> SolomonInstance:
    """Read a Solomon text file or a VRPLIB/LKH-3 VRPTW file.

    ``convention`` defaults to the one recorded for the instance in a nearby ``bks.csv``, else
    ``dimacs``.
    """
    p = Path(path)
    lines = p.read_text().splitlines()
    if any(line.strip().startswith("NODE_COORD_SECTION") for line in lines):
        data = _read_vrplib(p, lines)
    else:
        data = _read_solomon_txt(p, lines)
    if convention is None:
        convention = _bks_conventions(p).get(data["name"], "dimacs")
    if convention not in ("dimacs", "exact"):
        raise ValueError(f"unknown distance convention {convention!r}")
    return SolomonInstance(
        name=data["name"],
        capacity=data["capacity"],
        vehicles=data["vehicles"],
        x=tuple(data["x"]),
        y=tuple(data["y"]),
        demand=tuple(data["demand"]),
        ready=tuple(data["ready"]),
        due=tuple(data["due"]),
        service=tuple(data["service"]),
        convention=convention,
    )


def route_distance(inst: SolomonInstance, routes: list[list[int]]) -> float:
    """Total distance of the routes (depot excluded from the lists) in the instance's convention."""
    total = 0.0
    for route in routes:
        path = [0, *route, 0]
        total += sum(inst.arc_length(a, b) for a, b in itertools.pairwise(path))
    return round(total, 1) if inst.convention == "dimacs" else total


def check_solution(inst: SolomonInstance, routes: list[list[int]], strict: bool = False) -> list[str]:
    """Every rule broken by ``routes``, recomputed from the coordinates (empty list = feasible).

    Checks: each customer served exactly once, known customer numbers, fleet size, capacity,
    service starts inside its window (waiting allowed), return to the depot before it closes.
    Travel times follow the instance's convention (DIMACS: truncated to 0.1 like the distances);
    ``strict=True`` uses the exact Euclidean distance instead.
    """
    violations: list[str] = []
    n = inst.customers
    seen: dict[int, int] = {}
    travel = inst.dist if strict else inst.arc_length
    used = [r for r in routes if r]
    if len(used) > inst.vehicles:
        violations.append(f"{len(used)} routes but the fleet has {inst.vehicles} vehicles")
    for k, route in enumerate(routes):
        load = 0
        t = 0.0
        prev = 0
        for c in route:
            if not isinstance(c, int) or c < 1 or c > n:
                violations.append(f"route {k + 1}: unknown customer {c!r}")
                continue
            if c in seen:
                violations.append(f"customer {c} served twice (routes {seen[c] + 1} and {k + 1})")
            seen[c] = k
            load += inst.demand[c]
            t = max(t + inst.service[prev] + travel(prev, c), inst.ready[c])
            if t > inst.due[c] + EPS:
                violations.append(f"route {k + 1}: customer {c} starts at {t:.2f} after due {inst.due[c]:g}")
            prev = c
        if route:
            back = t + inst.service[prev] + travel(prev, 0)
            if back > inst.due[0] + EPS:
                violations.append(f"route {k + 1}: back at depot at {back:.2f} after {inst.due[0]:g}")
        if load > inst.capacity:
            violations.append(f"route {k + 1}: load {load} over capacity {inst.capacity}")
    missing = sorted(set(range(1, n + 1)) - set(seen))
    if missing:
        violations.append(f"{len(missing)} customers not served: {missing[:20]}")
    return violations


# --------------------------------------------------------------------------- integer model


@dataclass(frozen=True)
class _IntegerModel:
    """The instance in integers, shared by both engines.

    ``dist`` is the objective in units of 1/``scale``: tenths truncated (``dimacs``, exact in that
    convention) or thousandths rounded (``exact``). Times are in the same unit; with ``exact_times``
    (the default) travel times are the Euclidean distance rounded *up*, windows rounded inwards and
    service rounded up, so a plan that is feasible in integers is feasible against the real
    coordinates — and therefore also under the DIMACS rule, whose truncated times are never longer.
    """

    dist: Any  # numpy int64 (n+1) × (n+1)
    travel: Any  # numpy int64 (n+1) × (n+1), travel time only
    service: list[int]
    ready: list[int]
    due: list[int]
    horizon: int
    scale: int


def _integer_model(inst: SolomonInstance, exact_times: bool = True) -> _IntegerModel:
    import numpy as np

    xs, ys = np.asarray(inst.x, dtype=float), np.asarray(inst.y, dtype=float)
    d = np.hypot(xs[:, None] - xs[None, :], ys[:, None] - ys[None, :])
    if inst.convention == "dimacs" and not exact_times:
        scale = 10  # DIMACS rule: times truncated like the distances, exact in tenths
        dist = np.floor(d * 10 + 1e-9).astype(np.int64)
        travel = dist.copy()
    else:
        scale = TIME_SCALE
        if inst.convention == "dimacs":  # tenths truncated, in thousandths
            dist = np.floor(d * 10 + 1e-9).astype(np.int64) * (TIME_SCALE // 10)
        else:
            dist = np.rint(d * TIME_SCALE).astype(np.int64)
        # Distance and time in the same unit: PyVRP's penalty per unit of time warp is bounded below
        # (0.1 per unit), and a time unit 100× finer than the distance unit made that floor so stiff
        # that the search could not cross infeasible space on R1_10_1 (stuck at +27 % for 30 s).
        travel = np.ceil(d * scale - 1e-9).astype(np.int64)
    np.fill_diagonal(dist, 0)
    np.fill_diagonal(travel, 0)
    horizon = math.floor(inst.due[0] * scale + 1e-9)
    return _IntegerModel(
        dist=dist,
        travel=travel,
        service=[math.ceil(s * scale - 1e-9) for s in inst.service],
        ready=[math.ceil(r * scale - 1e-9) for r in inst.ready],
        due=[min(horizon, math.floor(u * scale + 1e-9)) if math.isfinite(u) else horizon for u in inst.due],
        horizon=horizon,
        scale=scale,
    )


# --------------------------------------------------------------------------- PyVRP


def _solve_pyvrp(inst: SolomonInstance, time_limit_s: float, seed: int, exact_times: bool = True) -> dict[str, Any]:
    """PyVRP's iterated local search (a hybrid-genetic-search descendant) on the exact Solomon model."""
    import numpy as np
    import pyvrp

    t0 = time.monotonic()
    end = t0 + time_limit_s
    c0 = time.process_time()
    m = _integer_model(inst, exact_times)
    n_nodes = inst.customers + 1
    data = pyvrp.ProblemData(
        locations=[pyvrp.Location(x, y) for x, y in zip(inst.x, inst.y, strict=True)],
        clients=[
            pyvrp.Client(
                location=i,
                delivery=[inst.demand[i]],
                service_duration=m.service[i],
                tw_early=m.ready[i],
                tw_late=m.due[i],
            )
            for i in range(1, n_nodes)
        ],
        depots=[pyvrp.Depot(location=0, tw_early=0, tw_late=m.horizon)],
        vehicle_types=[
            pyvrp.VehicleType(num_available=inst.vehicles, capacity=[inst.capacity], tw_early=0, tw_late=m.horizon)
        ],
        # PyVRP annotates these as ndarray[int, ...], where numpy's first parameter is the shape: its own typo.
        distance_matrices=[np.ascontiguousarray(m.dist)],  # type: ignore[list-item]
        duration_matrices=[np.ascontiguousarray(m.travel)],  # type: ignore[list-item]
    )
    # PyVRP's MaxRuntime starts counting at the first iteration, after neighbourhoods and the initial
    # solution are built (most of a second on 1,000 customers under load): stop at our own deadline.
    result = pyvrp.solve(
        data, stop=lambda _best_cost: time.monotonic() >= end, seed=seed, collect_stats=False, display=False
    )
    best = result.best
    # clients are numbered from 0 in PyVRP's client list; customer k of the file is client k - 1
    routes = [[a.idx + 1 for a in r if a.is_client()] for r in best.routes()]
    return {
        "strategy": f"pyvrp:{seed}",
        "routes": [r for r in routes if r],
        "cpu_s": round(time.process_time() - c0, 2),
        "iterations": result.num_iterations,
    }


# --------------------------------------------------------------------------- OR-Tools

_STRATEGIES = {
    "pci": routing_enums_pb2.FirstSolutionStrategy.PARALLEL_CHEAPEST_INSERTION,
    "lci": routing_enums_pb2.FirstSolutionStrategy.LOCAL_CHEAPEST_INSERTION,
    "gci": routing_enums_pb2.FirstSolutionStrategy.GLOBAL_CHEAPEST_ARC,
    "pca": routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC,
    "sav": routing_enums_pb2.FirstSolutionStrategy.SAVINGS,
    "chr": routing_enums_pb2.FirstSolutionStrategy.CHRISTOFIDES,
    "auto": routing_enums_pb2.FirstSolutionStrategy.AUTOMATIC,
}
_METAHEURISTICS = {
    "gls": routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH,
    "ils": routing_enums_pb2.LocalSearchMetaheuristic.GREEDY_DESCENT,  # + use_iterated_local_search
    "ilsgls": routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH,  # + use_iterated_local_search
    "sa": routing_enums_pb2.LocalSearchMetaheuristic.SIMULATED_ANNEALING,
    "tabu": routing_enums_pb2.LocalSearchMetaheuristic.TABU_SEARCH,
}


def _apply_overrides(params: Any, overrides: dict[str, Any]) -> None:
    """Set search-parameter fields by dotted path, e.g. ``local_search_operators.use_cross_exchange``."""
    for path, value in overrides.items():
        *parents, leaf = path.split(".")
        msg = params
        for name in parents:
            if name.endswith("]"):
                name, idx = name[:-1].split("[")
                msg = getattr(msg, name)[int(idx)]
            else:
                msg = getattr(msg, name)
        setattr(msg, leaf, value)


def _solve_ortools(
    inst: SolomonInstance,
    time_limit_s: float,
    strategy: str,
    meta: str = "gls",
    lam: float = 0.1,
    exact_times: bool = True,
    overrides: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One single-threaded OR-Tools search; returns routes and the CPU time it received."""
    t0 = time.monotonic()
    c0 = time.process_time()
    n_nodes = inst.customers + 1
    m = _integer_model(inst, exact_times)
    cost = m.dist.tolist()
    travel = m.travel.tolist()
    tt = [[(m.service[i] + travel[i][j]) if i != j else 0 for j in range(n_nodes)] for i in range(n_nodes)]
    manager = pywrapcp.RoutingIndexManager(n_nodes, inst.vehicles, 0)
    routing = pywrapcp.RoutingModel(manager)
    cost_cb = routing.RegisterTransitMatrix(cost)
    routing.SetArcCostEvaluatorOfAllVehicles(cost_cb)
    demand_cb = routing.RegisterUnaryTransitVector(list(inst.demand))
    routing.AddDimensionWithVehicleCapacity(demand_cb, 0, [inst.capacity] * inst.vehicles, True, "load")
    time_cb = routing.RegisterTransitMatrix(tt)
    routing.AddDimension(time_cb, m.horizon, m.horizon, False, "time")
    tdim = routing.GetDimensionOrDie("time")
    for node in range(1, n_nodes):
        tdim.CumulVar(manager.NodeToIndex(node)).SetRange(m.ready[node], m.due[node])
    for v in range(inst.vehicles):
        tdim.CumulVar(routing.Start(v)).SetRange(0, m.horizon)
        tdim.CumulVar(routing.End(v)).SetRange(0, m.horizon)
    # Every customer must be served; the disjunction only keeps the search from failing outright
    # (routing-notes: R101/RC101 find nothing otherwise). A drop costs more than any route.
    penalty = 2 * sum(max(row) for row in cost) + 1
    for node in range(1, n_nodes):
        routing.AddDisjunction([manager.NodeToIndex(node)], penalty)

    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = _STRATEGIES[strategy]
    params.local_search_metaheuristic = _METAHEURISTICS[meta]
    params.guided_local_search_lambda_coefficient = lam
    if meta.startswith("ils"):
        # Ruin-and-recreate with SISR ruins (Christiaens & Vanden Berghe), the operator behind the
        # strongest VRPTW heuristics; OR-Tools 9.15 exposes it through iterated local search.
        params.use_iterated_local_search = True
        rr = params.iterated_local_search_parameters.ruin_recreate_parameters
        sisr = rr.ruin_strategies.add().sisr
        sisr.max_removed_sequence_size = 10
        sisr.avg_num_removed_visits = 10
        sisr.bypass_factor = 0.01
    _apply_overrides(params, overrides or {})
    remaining = max(0.05, time_limit_s - (time.monotonic() - t0))
    params.time_limit.FromMilliseconds(int(remaining * 1000))
    solution = routing.SolveWithParameters(params)
    routes: list[list[int]] = []
    if solution is not None:
        for v in range(inst.vehicles):
            idx = solution.Value(routing.NextVar(routing.Start(v)))
            route = []
            while not routing.IsEnd(idx):
                route.append(manager.IndexToNode(idx))
                idx = solution.Value(routing.NextVar(idx))
            if route:
                routes.append(route)
    return {"strategy": f"ortools:{strategy}+{meta}", "routes": routes, "cpu_s": round(time.process_time() - c0, 2)}


# --------------------------------------------------------------------------- portfolio

# Each entry is one single-threaded search: "pyvrp:SEED" or "ortools:FIRST+META" (e.g. "ortools:sav+gls").
# Two PyVRP seeds, one per core: see docs/benchmarks.md for the measurement behind this choice.
DEFAULT_PORTFOLIO: tuple[str, ...] = ("pyvrp:1", "pyvrp:2")
_MARGIN_S = 0.15  # wall time kept back for process hand-over, the check and the answer


def _run(
    inst: SolomonInstance, spec: str, time_limit_s: float, deadline: float | None, exact_times: bool
) -> dict[str, Any]:
    """Run one portfolio entry; ``deadline`` (``time.time()``, shared by all processes) trims a late start."""
    if deadline is not None:
        time_limit_s = min(time_limit_s, deadline - time.time())
    time_limit_s = max(0.05, time_limit_s)
    engine, _, arg = spec.partition(":")
    if engine == "pyvrp":
        return _solve_pyvrp(inst, time_limit_s, int(arg or 0), exact_times)
    if engine == "ortools":
        first, _, meta = (arg or "sav+gls").partition("+")
        return _solve_ortools(inst, time_limit_s, first, meta or "gls", 0.1, exact_times)
    raise ValueError(f"unknown portfolio entry {spec!r} (expected 'pyvrp:SEED' or 'ortools:FIRST+META')")


def _score(inst: SolomonInstance, routes: list[list[int]], exact_times: bool) -> tuple[int, int, float]:
    """Feasible routes first (re-checked from the coordinates), then most customers served, then distance."""
    broken = [v for v in check_solution(inst, routes, strict=exact_times) if "not served" not in v]
    served = len({c for r in routes for c in r})
    return (1 if broken else 0, -served, route_distance(inst, routes))


def solve_instance(
    inst: SolomonInstance,
    time_limit_s: float,
    portfolio: tuple[str, ...] = DEFAULT_PORTFOLIO,
    workers: int = 2,
    exact_times: bool = True,
) -> dict[str, Any]:
    """Run the portfolio of searches and keep the best feasible plan.

    With ``workers`` > 1 the first entry runs in this process and the next ``workers`` - 1 in helper
    processes (``routing.solve``'s persistent "spawn" pool, whose helpers exit with their parent), all
    under one wall-clock deadline; with one worker the entries share the time one after another.
    ``exact_times`` (default) plans with travel times rounded up from the exact Euclidean distance, so
    every route is feasible against the real coordinates as well as under the DIMACS rule.
    """
    from routing.solve import _pool, shutdown_pool

    t0 = time.monotonic()
    if not portfolio:
        raise ValueError("empty portfolio")
    budget = max(0.05, time_limit_s - _MARGIN_S - 0.0002 * inst.customers)
    results: list[dict[str, Any]] = []
    parallel = list(portfolio[: max(1, workers)]) if workers > 1 else [portfolio[0]]
    if len(parallel) > 1:
        deadline = time.time() + budget
        futs: list[cf.Future[dict[str, Any]]] = []
        try:
            pool = _pool(len(parallel) - 1)
            futs = [pool.submit(_run, inst, spec, budget, deadline, exact_times) for spec in parallel[1:]]
        except Exception:  # no helper process (e.g. an unguarded __main__): search on one core
            shutdown_pool()
        results.append(_run(inst, parallel[0], budget, deadline, exact_times))
        for f in futs:
            try:
                results.append(f.result(timeout=max(5.0, time_limit_s)))
            except Exception:  # a lost helper must not lose the plan we have
                shutdown_pool()
    else:
        per = budget / len(portfolio)
        results = [_run(inst, spec, per, None, exact_times) for spec in portfolio]
    scored = [(_score(inst, r["routes"], exact_times), r) for r in results]
    best = min(scored, key=lambda sr: sr[0])[1]
    routes = best["routes"]
    return {
        "instance": inst.name,
        "vehicles": len(routes),
        "distance": route_distance(inst, routes),
        "routes": routes,
        "time_s": round(time.monotonic() - t0, 3),
        "strategy": best["strategy"],
        "convention": inst.convention,
        "cpu_s": [r["cpu_s"] for r in results],  # CPU seconds each search actually got
        "searches": {r["strategy"]: route_distance(inst, r["routes"]) for r in results},
    }


def solve_solomon_file(path: str | Path, time_limit_s: float, workers: int = 2) -> dict[str, Any]:
    """Solve one benchmark file; returns ``{"instance","vehicles","distance","routes","time_s"}``.

    ``routes`` lists customer numbers as in the file, the depot (0) excluded. ``distance`` is in the
    instance's best-known-solution convention.
    """
    inst = read_instance(path)
    res = solve_instance(inst, time_limit_s, workers=workers)
    return {k: res[k] for k in ("instance", "vehicles", "distance", "routes", "time_s")}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m routing.solomon", description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--time-limit", type=float, default=10.0, help="seconds of wall time")
    parser.add_argument("--workers", type=int, default=2, help="parallel search processes")
    parser.add_argument(
        "--portfolio",
        default=",".join(DEFAULT_PORTFOLIO),
        help="comma list of searches: pyvrp:SEED, ortools:FIRST+META (default %(default)s)",
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    inst = read_instance(args.file)
    result = solve_instance(inst, args.time_limit, tuple(args.portfolio.split(",")), workers=args.workers)
    violations = check_solution(inst, result["routes"], strict=True)
    if args.json:
        out = {k: result[k] for k in ("instance", "vehicles", "distance", "routes", "time_s")}
        print(json.dumps(out))
    else:
        print(
            f"{result['instance']}: {result['vehicles']} vehicles, distance {result['distance']}, "
            f"{result['time_s']} s, strategy {result['strategy']}"
        )
        for v in violations:
            print("VIOLATION:", v)
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main())
