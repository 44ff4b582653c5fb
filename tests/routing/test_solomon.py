"""The Solomon path: files read into a routing.Problem and planned by routing.solve, re-checked from coordinates."""

import json
from dataclasses import replace

import pytest

from routing.solomon import (
    benchmark_params,
    check_solution,
    data_dir,
    main,
    read_instance,
    route_distance,
    solve_instance,
    to_problem,
)

DATA = data_dir()  # ../shared/bench/solomon relative to the repository (or $ONSITE24_BENCH_DATA)
pytestmark = pytest.mark.skipif(DATA is None, reason="benchmark data not present")


def _bks_routes(name: str) -> list[list[int]]:
    text = (DATA / "solomon100" / f"{name}.sol").read_text()
    return [[int(x) for x in line.split(":")[1].split()] for line in text.splitlines() if line.startswith("Route")]


def _first(inst, n: int):
    """The classic 25/50-customer Solomon variants are the first n customers of the 100 file."""
    k = n + 1
    return replace(
        inst,
        x=inst.x[:k], y=inst.y[:k], demand=inst.demand[:k], ready=inst.ready[:k],
        due=inst.due[:k], service=inst.service[:k],
    )  # fmt: skip


def test_reader_understands_all_formats():
    """Solomon text, VRPLIB and LKH-3 files read with fleet n/4 and the BKS distance convention."""
    c101 = read_instance(DATA / "solomon100" / "C101.txt")
    assert (c101.name, c101.customers, c101.vehicles, c101.capacity, c101.convention) == (
        "C101",
        100,
        25,
        200,
        "dimacs",
    )
    assert c101.service[1] == 90 and c101.due[0] == 1236
    r14 = read_instance(next((DATA / "homberger").glob("R1_4_1.*.vrptw")))
    assert (r14.customers, r14.vehicles, r14.convention) == (400, 100, "exact")
    assert r14.service[0] == 0 and r14.service[5] == 10
    c10 = read_instance(DATA / "homberger" / "C1_10_1.vrp")
    assert (c10.customers, c10.vehicles) == (1000, 250)


def test_best_known_solutions_check_out():
    """The checker accepts the published best-known routes and reproduces their DIMACS cost."""
    for name, cost in (("R101", 1637.7), ("C201", 589.1), ("RC105", 1513.7)):
        inst = read_instance(DATA / "solomon100" / f"{name}.txt")
        routes = _bks_routes(name)
        assert check_solution(inst, routes) == []
        assert route_distance(inst, routes) == pytest.approx(cost, abs=0.05)


def test_strict_check_uses_exact_times():
    """Under exact Euclidean times some DIMACS best-known routes open a window a fraction too late."""
    inst = read_instance(DATA / "solomon100" / "RC105.txt")
    assert check_solution(inst, _bks_routes("RC105")) == []
    assert any("after due" in v for v in check_solution(inst, _bks_routes("RC105"), strict=True))


def test_checker_catches_infeasible_routes():
    """A late arrival, an overloaded vehicle, a duplicate and a missing customer are all reported."""
    inst = read_instance(DATA / "solomon100" / "R101.txt")
    routes = _bks_routes("R101")
    late = [list(r) for r in routes]
    late[0] = list(reversed(late[0]))
    assert any("after due" in v for v in check_solution(inst, late))
    merged = [routes[0] + routes[1] + routes[2] + routes[3], *routes[4:]]
    assert any("over capacity" in v for v in check_solution(inst, merged))
    dup = [list(r) for r in routes]
    dup[1] = [*dup[1], dup[0][0]]
    assert any("served twice" in v for v in check_solution(inst, dup))
    missing = [list(r) for r in routes]
    gone = missing[2].pop()
    assert any(f"not served: [{gone}]" in v for v in check_solution(inst, missing))


def test_the_problem_states_the_instance():
    """One technician per vehicle with the depot as home base, the depot window as shift, the van's capacity;
    each customer a visit with its ready time, due time, service time and demand."""
    inst = read_instance(DATA / "solomon100" / "R101.txt")
    problem, travel = to_problem(inst)
    assert len(problem.technicians) == inst.vehicles == 25
    t = problem.technicians[0]
    assert t.capacity == inst.capacity and t.home is None and len(t.shifts) == 1
    assert problem.seconds(t.shifts[0].end) == inst.due[0] * 1000
    v = problem.visit("5")
    assert v.load == inst.demand[5] and v.service_s == inst.service[5] * 1000
    assert problem.seconds(v.deadline) == inst.due[5] * 1000
    assert problem.seconds(v.earliest_start) == inst.ready[5] * 1000
    m = travel.matrix([t.depot, v.location])
    assert m.seconds[0][1] >= inst.dist(0, 5) * 1000 > m.seconds[0][1] - 1  # rounded up
    assert m.metres[0][1] == int(inst.arc_length(0, 5) * 10 + 1e-9) * 100  # DIMACS tenths
    params = benchmark_params(inst, 1.0)
    assert (params.end_at, params.allow_late, params.travel_cost_per_s, params.travel_cost_per_m) == (
        "home",
        False,
        0,
        1,
    )


@pytest.mark.parametrize("name", ["R101", "RC105", "C201"])
def test_routing_solve_serves_everyone_on_routes_feasible_against_real_coordinates(name):
    """routing.solve with a short limit on 25 customers: every customer served once, every route re-checked from
    the coordinates under exact Euclidean times and the DIMACS rule; the reported distance is the routes'."""
    inst = _first(read_instance(DATA / "solomon100" / f"{name}.txt"), 25)
    res = solve_instance(inst, 1.0, workers=1)
    assert sorted(c for r in res["routes"] for c in r) == list(range(1, 26))
    assert check_solution(inst, res["routes"], strict=True) == []
    assert check_solution(inst, res["routes"]) == []
    assert res["distance"] == pytest.approx(route_distance(inst, res["routes"]))
    assert res["stats"]["status"] and res["stats"]["objective_value"] is not None
    # The objective is the distance in the BKS convention (tenths truncated, ×100 in the model).
    assert res["stats"]["objective_value"] == round(res["distance"] * 1000)


def test_an_exact_convention_file_is_served_feasibly():
    """A 200-customer LKH-3 file (exact convention, fleet n/4) is fully and feasibly served in a few seconds."""
    inst = read_instance(next((DATA / "homberger").glob("R1_2_1.*.vrptw")))
    res = solve_instance(inst, 4.0, workers=1)
    assert sum(len(r) for r in res["routes"]) == 200
    assert check_solution(inst, res["routes"], strict=True) == []
    assert res["vehicles"] <= inst.vehicles


def test_cli_prints_the_documented_json(tmp_path, capsys):
    """The Solomon CLI prints instance, vehicles, distance, routes and time as JSON, plus the solver statistics."""
    lines = (DATA / "solomon100" / "C101.txt").read_text().splitlines()
    head = next(i for i, line in enumerate(lines) if line.split()[:1] == ["0"])
    small = tmp_path / "C101_10.txt"
    small.write_text("\n".join(lines[: head + 11]) + "\n")
    assert main([str(small), "--time-limit", "0.5", "--workers", "1", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"instance", "vehicles", "distance", "routes", "time_s", "stats"}
    assert sorted(c for r in out["routes"] for c in r) == list(range(1, 11))
    assert {"status", "strategy", "objective_value", "wall_time_s"} <= set(out["stats"])
