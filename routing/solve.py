"""Search: solve a dispatch problem under a time limit (issue 5, "Search").

``solve()`` prices travel once, then runs one search per first-solution strategy — on both cores
when ``SolveParams.workers`` > 1 (one search in this process, the others in a small persistent
process pool) — and keeps the plan with the lowest objective. OR-Tools' routing search is
single-threaded, so two different strategies in two processes is the cheap way to use the second
core (routing-notes). Callers that already run inside a worker pool pass ``workers=1``.
"""

from __future__ import annotations

import atexit
import concurrent.futures as cf
import multiprocessing
import os
import threading
import time
from dataclasses import dataclass
from typing import Any

from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from routing.explain import explain_plan
from routing.model import BuiltModel, build_model, locations_of, vehicles_of
from routing.plan import Plan, SolverStats, schedule
from routing.problem import Problem, SolveParams
from routing.travel import HaversineProvider, TravelMatrix, TravelMatrixProvider

__all__ = ["SearchResult", "shutdown_pool", "solve"]

_STATUS = {
    number: name.removeprefix("ROUTING_")
    for name, number in routing_enums_pb2.RoutingSearchStatus.DESCRIPTOR.enum_types_by_name[
        "Value"
    ].values_by_name.items()
    for number in [number.number]
}
_FIRST = routing_enums_pb2.FirstSolutionStrategy
MAX_WARM_INSERTIONS = 25


@dataclass(frozen=True)
class SearchResult:
    strategy: str
    status: str
    objective: int | None
    sequences: list[list[int]] | None  # visit positions per vehicle
    warm_start: str | None = None
    cpu_s: float = 0.0  # CPU time this search actually received (the machine may be shared)


def _first_solution(name: str) -> int:
    try:
        return int(getattr(_FIRST, name))
    except AttributeError:
        raise ValueError(f"unknown first-solution strategy {name!r}") from None


def _apply_overrides(sp: Any, overrides: dict[str, Any]) -> None:
    """Set search-parameter fields by dotted path; ``a.b[0].c`` indexes a repeated field, ``a.b[+].c`` adds one."""
    for path, value in overrides.items():
        *parents, leaf = path.split(".")
        msg = sp
        for name in parents:
            if name.endswith("]"):
                name, idx = name[:-1].split("[")
                seq = getattr(msg, name)
                msg = seq.add() if idx == "+" else seq[int(idx)]
            else:
                msg = getattr(msg, name)
        enum = msg.DESCRIPTOR.fields_by_name[leaf].enum_type
        if isinstance(value, str) and enum is not None:  # an enum by name, e.g. "BOOL_FALSE", "GREEDY_DESCENT"
            value = enum.values_by_name[value].number
        setattr(msg, leaf, value)


def _extract(m: BuiltModel, solution: Any) -> list[list[int]]:
    routing, manager = m.routing, m.manager
    seqs: list[list[int]] = []
    for k in range(m.n_vehicles):
        seq = []
        idx = solution.Value(routing.NextVar(routing.Start(k)))
        while not routing.IsEnd(idx):
            pos = m.node_visit[manager.IndexToNode(idx)]
            if pos is not None:
                seq.append(pos)
            idx = solution.Value(routing.NextVar(idx))
        seqs.append(seq)
    return seqs


def _route_cost(m: BuiltModel, k: int, seq: list[int]) -> int | None:
    """Cost of visit positions ``seq`` on vehicle k timed at the earliest; None if past the shift."""
    problem, params = m.problem, m.params
    veh = m.vehicles[k]
    t, loc, cost = veh.start_s, k, 0
    for p in seq:
        v = problem.visits[p]
        vl = m.visit_loc(p)
        leg = m.travel.seconds[loc][vl]
        earliest = max(0, problem.seconds(v.earliest_start)) if v.earliest_start else 0
        start = max(t + leg, earliest)
        late = start - problem.seconds(v.deadline)
        cost += params.travel_cost_per_s * leg + params.travel_cost_per_m * m.travel.metres[loc][vl]
        if late > 0:
            if m.late_node[p] is None:
                return None  # deadlines are hard
            cost += params.late_fee[v.grade] + params.late_cost_per_s[v.grade] * late
        t, loc = start + v.service_s, vl
    home = m.end_loc[k] if m.end_loc else None
    if home is not None:
        cost += params.travel_cost_per_s * m.travel.seconds[loc][home]
        cost += params.travel_cost_per_m * m.travel.metres[loc][home]
        t += m.travel.seconds[loc][home]
    return cost if t <= veh.end_s else None


def _insert_missing(m: BuiltModel, initial: list[list[str]]) -> list[list[str]]:
    """Cheapest insertion of the visits missing from ``initial`` (new tickets), most urgent first.

    A warm start that leaves a new major ticket out forces the search to find a compound move
    (insert it *and* let a displaced visit slip to its late copy) within a fraction of a second;
    inserting it here first gives the search a complete plan to improve.
    """
    problem = m.problem
    pos_of = {v.id: p for p, v in enumerate(problem.visits)}
    routes = [[pos_of[i] for i in ids if i in pos_of] for ids in initial]
    placed = {p for r in routes for p in r}
    grade_rank = {"major": 0, "serious": 1, "general": 2}
    missing = sorted(
        (p for p in range(len(problem.visits)) if p not in placed),
        key=lambda p: (grade_rank[problem.visits[p].grade], problem.visits[p].deadline),
    )
    fixed = {k: len(chain) for k, chain in m.committed_chain.items()}
    for p in missing[:MAX_WARM_INSERTIONS]:  # the rest is left to the search (keeps this step fast)
        best: tuple[int, int, int] | None = None
        for k in m.allowed[problem.visits[p].id]:
            seq = routes[k]
            base = _route_cost(m, k, seq)
            if base is None:
                continue
            for i in range(fixed.get(k, 0), len(seq) + 1):
                c = _route_cost(m, k, [*seq[:i], p, *seq[i:]])
                if c is not None and (best is None or c - base < best[0]):
                    best = (c - base, k, i)
        if best is not None:
            _, k, i = best
            routes[k].insert(i, p)
    return [[problem.visits[p].id for p in seq] for seq in routes]


def _initial_indices(m: BuiltModel, initial: list[list[str]]) -> list[list[int]]:
    """Previous routes (visit ids per vehicle) as model indices, on-time or late node as they fall."""
    problem = m.problem
    pos_of = {v.id: p for p, v in enumerate(problem.visits)}
    out: list[list[int]] = []
    for k in range(m.n_vehicles):
        ids = initial[k] if k < len(initial) else []
        veh = m.vehicles[k]
        t, loc = veh.start_s, k
        route: list[int] = []
        for vid in ids:
            p = pos_of.get(vid)
            if p is None or k not in m.allowed[vid]:
                continue
            v = problem.visits[p]
            vl = m.visit_loc(p)
            earliest = max(0, problem.seconds(v.earliest_start)) if v.earliest_start else 0
            start = max(t + m.travel.seconds[loc][vl], earliest)
            late_n = m.late_node[p]
            late = start > problem.seconds(v.deadline) and late_n is not None
            route.append(m.index(late_n if late and late_n is not None else m.on_node[p]))
            t, loc = start + v.service_s, vl
        out.append(route)
    return out


def _search(
    problem: Problem,
    params: SolveParams,
    travel: TravelMatrix,
    strategy: str,
    time_limit_s: float,
    initial: list[list[str]] | None = None,
    deadline: float | None = None,
) -> SearchResult:
    """One single-threaded OR-Tools search (runs in this process or a pool worker).

    ``deadline`` (``time.time()`` clock, shared by all processes) trims the search when a helper
    process starts late, so the caller's wall-time budget holds.
    """
    t0 = time.monotonic()
    c0 = time.process_time()
    if deadline is not None:
        time_limit_s = min(time_limit_s, deadline - time.time())
    m = build_model(problem, params, travel)
    if m.n_vehicles == 0 or not problem.visits:
        return SearchResult(strategy, "NO_WORK", 0, [[] for _ in range(m.n_vehicles)])
    sp = pywrapcp.DefaultRoutingSearchParameters()
    sp.first_solution_strategy = _first_solution(strategy)
    sp.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    sp.guided_local_search_lambda_coefficient = params.gls_lambda
    _apply_overrides(sp, params.search_overrides)
    remaining = max(0.02, time_limit_s - (time.monotonic() - t0))
    sp.time_limit.FromMicroseconds(int(remaining * 1e6))
    if params.cpu_limit_s is not None:
        budget = params.cpu_limit_s

        def out_of_cpu() -> bool:
            return time.process_time() - c0 >= budget

        m.routing.AddSearchMonitor(m.routing.solver().CustomLimit(out_of_cpu))
    warm = None
    solution = None
    if initial is not None:
        # Reading the routes runs a small search of its own under the closing parameters' limits:
        # close with a generous limit so a loaded machine cannot make it fail, then search with ours.
        closing = pywrapcp.DefaultRoutingSearchParameters()
        closing.CopyFrom(sp)
        closing.time_limit.FromSeconds(30)
        m.routing.CloseModelWithParameters(closing)
        initial = _insert_missing(m, [initial[k] if k < len(initial) else [] for k in range(m.n_vehicles)])
        start = m.routing.ReadAssignmentFromRoutes(_initial_indices(m, initial), True)
        remaining = max(0.02, time_limit_s - (time.monotonic() - t0))
        sp.time_limit.FromMicroseconds(int(remaining * 1e6))
        if start is None:
            # ReadAssignmentFromRoutes fails silently when the routes break the new model
            # (a skill filter, a window, a pin): fall back to a cold search.
            warm = "rejected"
        else:
            warm = "used"
            solution = m.routing.SolveFromAssignmentWithParameters(start, sp)
            solution = solution or start  # out of time before the first move: the warm start is a plan
    if solution is None:
        solution = m.routing.SolveWithParameters(sp)
    label = f"{strategy}+GLS" + ("+warm" if warm == "used" else "")
    status = _STATUS.get(m.routing.status(), str(m.routing.status()))
    sequences = _extract(m, solution) if solution is not None else None
    if not any(sequences or []) and any(m.allowed.values()):
        # The time limit ran out before the first-solution heuristic finished (a loaded machine,
        # a big model): never hand back an empty plan for lack of time — take the first solution.
        m = build_model(problem, params, travel)
        sp = pywrapcp.DefaultRoutingSearchParameters()
        sp.first_solution_strategy = _first_solution(strategy)
        sp.solution_limit = 1
        sp.time_limit.FromSeconds(max(10, round(10 * params.time_limit_s)))
        rescue = m.routing.SolveWithParameters(sp)
        if rescue is not None:
            solution, sequences = rescue, _extract(m, rescue)
            label += "+first-solution-rescue"
            status = _STATUS.get(m.routing.status(), str(m.routing.status()))
    cpu = round(time.process_time() - c0, 3)
    if solution is None or sequences is None:
        return SearchResult(label, status, None, None, warm, cpu)
    return SearchResult(label, status, solution.ObjectiveValue(), sequences, warm, cpu)


_POOL: cf.ProcessPoolExecutor | None = None
_POOL_SIZE = 0


def _exit_with_parent(parent_pid: int) -> None:
    """In a helper: leave as soon as the process that started us is gone (even killed with SIGKILL)."""

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def _pool(size: int) -> cf.ProcessPoolExecutor:
    """A persistent pool so the second core costs no process start-up per solve."""
    global _POOL, _POOL_SIZE
    if _POOL is None or size > _POOL_SIZE:
        if _POOL is not None:
            _POOL.shutdown(wait=True)
        # "spawn", not "forkserver": a forkserver outlives a parent killed with SIGKILL (a crashed worker
        # would leave idle helpers behind); spawned helpers see their pipe close and exit with the parent.
        ctx = multiprocessing.get_context("spawn")
        _POOL = cf.ProcessPoolExecutor(
            max_workers=size, mp_context=ctx, initializer=_exit_with_parent, initargs=(os.getpid(),)
        )
        _POOL_SIZE = size
    return _POOL


def shutdown_pool() -> None:
    """Stop the helper processes (also done at interpreter exit)."""
    global _POOL, _POOL_SIZE
    if _POOL is not None:
        _POOL.shutdown(wait=True, cancel_futures=True)
    _POOL, _POOL_SIZE = None, 0


atexit.register(shutdown_pool)


def solve(
    problem: Problem,
    params: SolveParams | None = None,
    travel: TravelMatrixProvider | None = None,
    initial_routes: dict[tuple[str, int], list[str]] | None = None,
) -> Plan:
    """Plan ``problem`` under ``params.time_limit_s`` of wall time; never raises on infeasibility.

    ``travel`` defaults to great-circle × 1.3 at 50 km/h. ``initial_routes`` ({(technician id,
    shift index): [visit ids]}) warm-starts one search from a previous plan while another searches
    cold (``replan`` uses this).
    """
    t0 = time.monotonic()
    params = params or SolveParams()
    provider = travel or HaversineProvider()
    vehicles = vehicles_of(problem, params)
    matrix = provider.matrix(locations_of(problem, vehicles))
    budget = params.time_limit_s - (time.monotonic() - t0)

    jobs: list[tuple[str, list[list[str]] | None]] = []
    if initial_routes is not None:
        init = [initial_routes.get((veh.tech_id, veh.shift_index), []) for veh in vehicles]
        jobs.append((params.strategies[0], init))
    for s in params.strategies:
        if len(jobs) >= max(1, params.workers):
            break
        jobs.append((s, None))

    results: list[SearchResult] = []
    futs: list[cf.Future[SearchResult]] = []
    if len(jobs) > 1 and problem.visits:
        try:
            pool = _pool(len(jobs) - 1)
            futs = [
                pool.submit(_search, problem, params, matrix, s, budget - 0.05, init, time.time() + budget - 0.05)
                for s, init in jobs[1:]
            ]
        except Exception:  # no helper process (broken pool, unguarded __main__): plan on one core
            shutdown_pool()
            futs = []
    first, first_init = jobs[0]
    results.append(_search(problem, params, matrix, first, budget - (0.05 if futs else 0), first_init))
    for f in futs:
        try:
            results.append(f.result(timeout=max(5.0, 3 * params.time_limit_s)))
        except Exception:  # a lost helper must not lose the plan we have
            shutdown_pool()

    found = [r for r in results if r.sequences is not None]
    cpu = round(sum(r.cpu_s for r in results), 3)
    warm_note = next((r.warm_start for r in results if r.warm_start), None)
    if found:
        best = min(found, key=lambda r: r.objective if r.objective is not None else 0)
        stats = SolverStats(best.status, 0.0, best.strategy, best.objective, len(results), warm_note, cpu)
        sequences = best.sequences or []
    else:
        status = results[0].status if results else "NOT_SOLVED"
        stats = SolverStats(status, 0.0, "none", None, len(results), warm_note, cpu)
        sequences = [[] for _ in vehicles]
    plan = schedule(problem, params, matrix, vehicles, sequences, stats)
    plan = explain_plan(problem, params, matrix, vehicles, plan)
    wall = round(time.monotonic() - t0, 4)
    object.__setattr__(plan, "stats", SolverStats(**{**plan.stats.__dict__, "wall_time_s": wall}))
    return plan
