"""Solomon / Gehring & Homberger VRPTW benchmark: reader, problem builder, feasibility checker.

This is the optimiser's quality bar (issues 5 and 16), measured on the product's own solve path:
``to_problem`` states a file as a ``routing.Problem`` — one technician per vehicle with the depot
as home base and the depot's window as shift, each customer a visit whose earliest start is its
ready time and whose deadline is its due time, demand as load and vehicle capacity as van capacity,
Euclidean travel — and ``solve_file`` calls the same ``routing.solve`` the worker's live re-plan and
the dispatcher's drafts call. There is no second model and no benchmark-only solver here.

Distances follow the convention of the best-known solution they are compared with (``bks.csv`` in
the benchmark data): ``dimacs`` truncates every arc to one decimal (the DIMACS VRPTW challenge rule),
``exact`` uses double precision. Travel *times* are the exact Euclidean distance rounded *up* inside
the integer model, so every plan is feasible against the real coordinates — and so also under the
DIMACS rule, whose truncated times are never longer (several published DIMACS best-known routes are
feasible only with truncated times). ``check_solution(..., strict=True)`` checks against exact times.

The benchmark's policy (``benchmark_params``): distance is the only cost (the convention of the
best-known solutions), every deadline hard (no late copies), every customer mandatory in effect (a drop
costs more than any plan), no earliness, no grouping, no fixed cost per vehicle.

Usage: ``onsite24 route solomon FILE --time-limit S --json`` (or ``python -m routing.solomon``).
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import re
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from routing.plan import Plan
from routing.problem import Location, Problem, Shift, SolveParams, Technician, Visit
from routing.solve import solve
from routing.travel import TravelMatrix

__all__ = [
    "PlaneTravel",
    "SolomonInstance",
    "benchmark_params",
    "check_solution",
    "data_dir",
    "main",
    "plan_routes",
    "read_instance",
    "route_distance",
    "solve_file",
    "solve_instance",
    "to_problem",
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


def data_dir(start: Path | None = None) -> Path | None:
    """Where the benchmark files are: ``$ONSITE24_BENCH_DATA``, else ``shared/bench/solomon`` beside the
    repository (``../shared/bench/solomon`` from it, or from a folder above a worktree); None if absent."""
    import os

    env = os.environ.get("ONSITE24_BENCH_DATA")
    if env:
        return Path(env) if Path(env).is_dir() else None
    here = (start or Path(__file__)).resolve()
    for folder in here.parents:
        candidate = folder / "shared" / "bench" / "solomon"
        if (candidate / "bks.csv").exists():
            return candidate
    return None


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


# --------------------------------------------------------------------------- the problem builder

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class PlaneTravel:
    """Euclidean travel between the instance's points (a ``TravelMatrixProvider``).

    Both matrices are in 1/``scale`` of a Solomon unit. Times are the exact distance rounded *up*, so a
    plan feasible in integers is feasible against the real coordinates (and under the DIMACS rule, whose
    truncated times are never longer). "Metres" carry the distance in the best-known's convention:
    ``dimacs`` truncates each arc to one decimal (exact in tenths), ``exact`` rounds to the unit.
    """

    points: Mapping[Location, tuple[float, float]]
    scale: int
    convention: str

    def matrix(self, locations: Sequence[Location]) -> TravelMatrix:
        import numpy as np  # an OR-Tools dependency; keeps a 1,250² matrix to a few hundred milliseconds

        xy = np.asarray([self.points[loc] for loc in locations], dtype=float).reshape(-1, 2)
        d = np.hypot(xy[:, 0][:, None] - xy[:, 0][None, :], xy[:, 1][:, None] - xy[:, 1][None, :])
        seconds = np.ceil(d * self.scale - 1e-9).astype(np.int64)
        if self.convention == "dimacs":
            metres = np.floor(d * 10 + 1e-9).astype(np.int64) * (self.scale // 10)
        else:
            metres = np.rint(d * self.scale).astype(np.int64)
        np.fill_diagonal(seconds, 0)
        np.fill_diagonal(metres, 0)
        return TravelMatrix(tuple(map(tuple, seconds.tolist())), tuple(map(tuple, metres.tolist())))


def _location(x: float, y: float) -> Location:
    return Location(y * 1e-4, x * 1e-4)  # only a key: PlaneTravel prices the plane coordinates


#: Local-search operators the benchmark's search leaves out. OR-Tools' defaults include large-neighbourhood
#: insertion operators (re-inserting whole paths by global/local cheapest insertion) and chain operators for
#: optional visits; on these VRPTW files, where every visit is served and CPU is short, they take most of the
#: search's time: with them off, a 10 s search on eight hard Solomon files (R104, R108, R112, R202, RC101,
#: RC105, RC201, RC208; ~1.5 s of CPU each on the shared machine) went from a mean gap of 13.9 % to 9.3 %.
LEAN_OPERATORS: tuple[str, ...] = (
    "use_global_cheapest_insertion_path_lns",
    "use_local_cheapest_insertion_path_lns",
    "use_relocate_path_global_cheapest_insertion_insert_unperformed",
    "use_global_cheapest_insertion_visit_types_lns",
    "use_local_cheapest_insertion_visit_types_lns",
    "use_make_chain_inactive",
    "use_swap_active_chain",
    "use_shortest_path_swap_active",
    "use_shortest_path_two_opt",
    "use_relocate_expensive_chain",
)


def benchmark_strategies(inst: SolomonInstance) -> tuple[str, ...]:
    """One first solution per core: parallel cheapest insertion (best on the tight R1/RC1/C files) and savings
    (best on the long routes of R2/RC2); from 400 customers the cheap path-cheapest-arc instead of savings, which
    may not finish a first solution of 1,000 customers within the limit on a shared machine."""
    if inst.customers >= 400:
        return ("PARALLEL_CHEAPEST_INSERTION", "PATH_CHEAPEST_ARC")
    return ("PARALLEL_CHEAPEST_INSERTION", "SAVINGS")


def benchmark_params(inst: SolomonInstance, time_limit_s: float, **overrides: Any) -> SolveParams:
    """The policy that states the benchmark (see the module's doc) and its search: one first solution per core
    (``benchmark_strategies``), guided local search without ``LEAN_OPERATORS``; ``overrides`` replace any."""
    horizon_s = math.floor(inst.due[0] * TIME_SCALE + 1e-9)
    longest = max(inst.dist(i, j) for i in range(inst.customers + 1) for j in (0, inst.customers // 2, inst.customers))
    # A drop costs more than any plan could (every arc at most twice the longest arc through the middle).
    drop = math.ceil(4 * longest * TIME_SCALE) * (inst.customers + inst.vehicles) + 1
    values: dict[str, Any] = {
        "time_limit_s": time_limit_s,
        "travel_cost_per_s": 0,
        "travel_cost_per_m": 1,
        "late_fee": dict.fromkeys(("major", "serious", "general"), 0),
        "late_cost_per_s": dict.fromkeys(("major", "serious", "general"), 0),
        "drop_penalty": dict.fromkeys(("major", "serious", "general"), drop),
        "earliness_cost_per_s": dict.fromkeys(("major", "serious", "general"), 0),
        "shift_cost_per_s": 0,
        "move_cost": 0,
        "regroup_cost": 0,
        "vehicle_fixed_cost": 0,
        "end_at": "home",
        "allow_late": False,
        "horizon_h": horizon_s / 3600 + 1,
        "strategies": benchmark_strategies(inst),
        "search_overrides": {f"local_search_operators.{name}": "BOOL_FALSE" for name in LEAN_OPERATORS},
    }
    values.update(overrides)
    return SolveParams(**values)


def to_problem(inst: SolomonInstance) -> tuple[Problem, PlaneTravel]:
    """The instance as a ``routing.Problem`` (times in 1/``TIME_SCALE`` of a Solomon unit, as seconds)."""
    scale = TIME_SCALE
    points: dict[Location, tuple[float, float]] = {}

    def loc(i: int) -> Location:
        place = _location(inst.x[i], inst.y[i])
        points.setdefault(place, (inst.x[i], inst.y[i]))
        return place

    depot = loc(0)
    horizon = math.floor(inst.due[0] * scale + 1e-9)
    shift = Shift(EPOCH, EPOCH + timedelta(seconds=horizon))
    technicians = tuple(
        Technician(id=f"vehicle-{k + 1}", depot=depot, shifts=(shift,), capacity=inst.capacity)
        for k in range(inst.vehicles)
    )
    visits = []
    for c in range(1, inst.customers + 1):
        due = min(horizon, math.floor(inst.due[c] * scale + 1e-9)) if math.isfinite(inst.due[c]) else horizon
        ready = math.ceil(inst.ready[c] * scale - 1e-9)
        visits.append(
            Visit(
                id=str(c),
                location=loc(c),
                deadline=EPOCH + timedelta(seconds=due),
                earliest_start=EPOCH + timedelta(seconds=ready) if ready > 0 else None,
                service_minutes=math.ceil(inst.service[c] * scale - 1e-9) / 60,
                load=inst.demand[c],
            )
        )
    problem = Problem(now=EPOCH, technicians=technicians, visits=tuple(visits))
    return problem, PlaneTravel(points, scale, inst.convention)


def plan_routes(plan: Plan) -> list[list[int]]:
    """The plan's routes as the file's customer numbers (depot excluded), empty routes left out."""
    return [[int(s.visit_id) for s in r.stops] for r in plan.routes if r.stops]


def solve_instance(inst: SolomonInstance, time_limit_s: float, **overrides: Any) -> dict[str, Any]:
    """Solve through ``routing.solve``; the routes, their distance recomputed from the coordinates, stats."""
    t0 = time.monotonic()
    problem, travel = to_problem(inst)
    plan = solve(problem, benchmark_params(inst, time_limit_s, **overrides), travel)
    routes = plan_routes(plan)
    return {
        "instance": inst.name,
        "vehicles": len(routes),
        "distance": route_distance(inst, routes),
        "routes": routes,
        "time_s": round(time.monotonic() - t0, 3),
        "stats": asdict(plan.stats),
        "unassigned": len(plan.unassigned),
    }


def solve_file(path: str | Path, time_limit_s: float, **overrides: Any) -> dict[str, Any]:
    """Solve one benchmark file: ``instance``, ``vehicles``, ``distance`` (the BKS convention), ``routes``
    (the file's customer numbers), ``time_s`` and the solver statistics ``stats``."""
    res = solve_instance(read_instance(path), time_limit_s, **overrides)
    return {k: res[k] for k in ("instance", "vehicles", "distance", "routes", "time_s", "stats")}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m routing.solomon", description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--time-limit", type=float, default=10.0, help="seconds of wall time")
    parser.add_argument("--workers", type=int, default=2, help="parallel search processes")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    inst = read_instance(args.file)
    result = solve_instance(inst, args.time_limit, workers=args.workers)
    violations = check_solution(inst, result["routes"], strict=True)
    if args.json:
        print(json.dumps({k: result[k] for k in ("instance", "vehicles", "distance", "routes", "time_s", "stats")}))
    else:
        print(
            f"{result['instance']}: {result['vehicles']} vehicles, distance {result['distance']}, {result['time_s']} s"
        )
        for v in violations:
            print("VIOLATION:", v)
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main())
