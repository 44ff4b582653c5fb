"""Solomon / Gehring & Homberger VRPTW benchmark: reader, solver, feasibility checker.

This is the optimiser's quality bar (issue 5, "Quality bar — the Solomon benchmark"), not part of
dispatch. Model: Euclidean distance is travel time, service times, hard windows on the start of
service, vehicle capacity, a fleet of n/4 vehicles, objective total distance, every customer served.

Distances *and travel times* follow the convention of the best-known solution they are compared
with (``bks.csv`` in the benchmark data): ``dimacs`` truncates every arc to one decimal (the DIMACS
VRPTW challenge rule, under which the published best-known routes are feasible — several are not
under exact times), ``exact`` uses double precision (travel times rounded *up* inside the integer
model, so plans stay feasible against the real coordinates). ``check_solution(..., strict=True)``
checks against exact times whatever the convention.

Usage: ``python -m routing.solomon FILE --time-limit S --json``.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import itertools
import json
import math
import multiprocessing
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


# --------------------------------------------------------------------------- solver

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


def _cost_scale(inst: SolomonInstance) -> int:
    return 10 if inst.convention == "dimacs" else 1000


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


def _solve_one(
    inst: SolomonInstance,
    time_limit_s: float,
    strategy: str,
    meta: str,
    lam: float,
    overrides: dict[str, Any] | None = None,
) -> dict:
    """One single-threaded OR-Tools search; returns routes and the model's objective."""
    t0 = time.monotonic()
    c0 = time.process_time()
    n_nodes = inst.customers + 1
    scale = _cost_scale(inst)
    if inst.convention == "dimacs":
        cost = [[math.floor(inst.dist(i, j) * 10 + 1e-9) for j in range(n_nodes)] for i in range(n_nodes)]
    else:
        cost = [[round(inst.dist(i, j) * scale) for j in range(n_nodes)] for i in range(n_nodes)]
    ts = 10 if inst.convention == "dimacs" else TIME_SCALE  # dimacs: integer tenths are exact
    tt = [
        [
            (round(inst.service[i] * ts) + (cost[i][j] if ts == 10 else math.ceil(inst.dist(i, j) * ts - 1e-9)))
            if i != j
            else 0
            for j in range(n_nodes)
        ]
        for i in range(n_nodes)
    ]
    manager = pywrapcp.RoutingIndexManager(n_nodes, inst.vehicles, 0)
    routing = pywrapcp.RoutingModel(manager)
    cost_cb = routing.RegisterTransitMatrix(cost)
    routing.SetArcCostEvaluatorOfAllVehicles(cost_cb)
    demand_cb = routing.RegisterUnaryTransitVector(list(inst.demand))
    routing.AddDimensionWithVehicleCapacity(demand_cb, 0, [inst.capacity] * inst.vehicles, True, "load")
    time_cb = routing.RegisterTransitMatrix(tt)
    horizon = math.floor(inst.due[0] * ts + 1e-9)
    routing.AddDimension(time_cb, horizon, horizon, False, "time")
    tdim = routing.GetDimensionOrDie("time")
    for node in range(1, n_nodes):
        idx = manager.NodeToIndex(node)
        lo = math.ceil(inst.ready[node] * ts - 1e-9)
        hi = math.floor(inst.due[node] * ts + 1e-9)
        tdim.CumulVar(idx).SetRange(lo, min(hi, horizon))
    for v in range(inst.vehicles):
        tdim.CumulVar(routing.Start(v)).SetRange(0, horizon)
        tdim.CumulVar(routing.End(v)).SetRange(0, horizon)
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
    return {"strategy": f"{strategy}+{meta}", "routes": routes, "cpu_s": round(time.process_time() - c0, 2)}


def _score(inst: SolomonInstance, routes: list[list[int]]) -> tuple[int, float]:
    served = sum(len(r) for r in routes)
    return (-served, route_distance(inst, routes))


DEFAULT_PORTFOLIO: tuple[tuple[str, str, float], ...] = (("sav", "gls", 0.1), ("pci", "gls", 0.1))


def solve_instance(
    inst: SolomonInstance,
    time_limit_s: float,
    portfolio: tuple[tuple[str, str, float], ...] = DEFAULT_PORTFOLIO,
    workers: int = 2,
) -> dict:
    """Run the portfolio of searches (in parallel processes when ``workers`` > 1), keep the best."""
    t0 = time.monotonic()
    results: list[dict] = []
    if workers > 1 and len(portfolio) > 1:
        ctx = multiprocessing.get_context("forkserver")
        with cf.ProcessPoolExecutor(max_workers=min(workers, len(portfolio)), mp_context=ctx) as pool:
            # process start-up and model build share the limit; with more searches than workers,
            # each search gets its share of the workers' time
            rounds = math.ceil(len(portfolio) / min(workers, len(portfolio)))
            budget = max(0.1, (time_limit_s - 0.4) / rounds - 0.05 * (rounds - 1))
            futs = [pool.submit(_solve_one, inst, budget, s, m, lam) for s, m, lam in portfolio]
            results = [f.result() for f in futs]
    else:
        per = time_limit_s / len(portfolio)
        results = [_solve_one(inst, per, s, m, lam) for s, m, lam in portfolio]
    best = min(results, key=lambda r: _score(inst, r["routes"]))
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
    }


def solve_solomon_file(path: str | Path, time_limit_s: float, workers: int = 2) -> dict:
    """Solve one benchmark file; returns ``{"instance","vehicles","distance","routes","time_s"}``.

    ``routes`` lists customer numbers as in the file, the depot (0) excluded. ``distance`` is in the
    instance's best-known-solution convention.
    """
    inst = read_instance(path)
    return solve_instance(inst, time_limit_s, workers=workers)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m routing.solomon", description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--time-limit", type=float, default=10.0, help="seconds of wall time")
    parser.add_argument("--workers", type=int, default=2, help="parallel search processes")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    inst = read_instance(args.file)
    result = solve_instance(inst, args.time_limit, workers=args.workers)
    violations = check_solution(inst, result["routes"])
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
