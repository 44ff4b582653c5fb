import json
from dataclasses import replace
from pathlib import Path

import pytest

from routing.solomon import check_solution, main, read_instance, route_distance, solve_instance


def _benchmark_data() -> Path:
    """The benchmark files live beside the repository, not in it: `../shared/bench/solomon` from the checkout
    (or from a folder above it, for a worktree kept further down)."""
    repo = Path(__file__).resolve().parents[2]
    candidates = [folder / "shared" / "bench" / "solomon" for folder in repo.parents]
    return next((c for c in candidates if c.is_dir()), candidates[0])


DATA = _benchmark_data()
pytestmark = pytest.mark.skipif(not DATA.exists(), reason="benchmark data not present")


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


def test_solver_serves_everyone_feasibly():
    """A short solve of a 25-customer Solomon instance serves every customer on feasible routes."""
    for name in ("R101", "RC101"):
        inst = _first(read_instance(DATA / "solomon100" / f"{name}.txt"), 25)
        res = solve_instance(inst, 1.0, workers=1)
        assert sum(len(r) for r in res["routes"]) == 25
        assert check_solution(inst, res["routes"]) == []
        assert res["distance"] == pytest.approx(route_distance(inst, res["routes"]))


def test_cli_prints_the_documented_json(tmp_path, capsys):
    """The Solomon CLI prints instance, vehicles, distance, routes and time as JSON."""
    lines = (DATA / "solomon100" / "C101.txt").read_text().splitlines()
    head = next(i for i, line in enumerate(lines) if line.split()[:1] == ["0"])
    small = tmp_path / "C101_10.txt"
    small.write_text("\n".join(lines[: head + 11]) + "\n")
    assert main([str(small), "--time-limit", "0.5", "--workers", "1", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"instance", "vehicles", "distance", "routes", "time_s"}
    assert sorted(c for r in out["routes"] for c in r) == list(range(1, 11))


def test_pyvrp_search_serves_everyone_on_routes_feasible_against_real_coordinates():
    """PyVRP alone, short limit: every customer served, feasible under exact and DIMACS times."""
    for name in ("R101", "RC105", "C201"):
        inst = _first(read_instance(DATA / "solomon100" / f"{name}.txt"), 50)
        res = solve_instance(inst, 1.0, ("pyvrp:1",), workers=1)
        assert res["strategy"] == "pyvrp:1"
        assert sorted(c for r in res["routes"] for c in r) == list(range(1, 51))
        assert check_solution(inst, res["routes"], strict=True) == []
        assert check_solution(inst, res["routes"]) == []
        assert res["time_s"] < 1.5


def test_pyvrp_on_an_exact_convention_file():
    """A 400-customer LKH-3 file (exact convention, fleet n/4) is fully and feasibly served in a few seconds."""
    inst = read_instance(next((DATA / "homberger").glob("R1_4_1.*.vrptw")))
    res = solve_instance(inst, 3.0, ("pyvrp:1",), workers=1)
    assert sum(len(r) for r in res["routes"]) == 400
    assert check_solution(inst, res["routes"], strict=True) == []
    assert res["vehicles"] <= inst.vehicles


def test_integer_model_never_shortens_travel_or_widens_windows():
    """Rounding for the integer engines is conservative: travel up, ready up, due down."""
    from routing.solomon import _integer_model

    for inst in (
        read_instance(DATA / "solomon100" / "RC105.txt"),
        read_instance(next((DATA / "homberger").glob("RC1_2_1.*.vrptw"))),
    ):
        m = _integer_model(inst)
        n = inst.customers + 1
        for i in range(0, n, 7):
            for j in range(n):
                assert m.travel[i][j] >= inst.dist(i, j) * m.scale - 1e-6
                assert m.service[i] >= inst.service[i] * m.scale - 1e-6
            assert m.ready[i] >= inst.ready[i] * m.scale - 1e-6
            assert m.due[i] <= inst.due[i] * m.scale + 1e-6


def test_portfolio_keeps_the_best_feasible_plan(monkeypatch):
    """Infeasible or incomplete plans lose to a feasible complete one, however short they are."""
    import routing.solomon as solomon

    inst = read_instance(DATA / "solomon100" / "R101.txt")
    bks = _bks_routes("R101")
    reversed_first = [list(reversed(bks[0])), *bks[1:]]  # shorter or not, it breaks windows
    plans = {
        "late": reversed_first,
        "incomplete": bks[1:],
        "best": bks,
        "worse": [bks[0][:3], bks[0][3:], *bks[1:]],  # one route split in two: feasible, longer
    }
    monkeypatch.setattr(solomon, "_run", lambda inst, spec, *a: {"strategy": spec, "routes": plans[spec], "cpu_s": 0.0})
    assert check_solution(inst, plans["worse"], strict=True) == []
    res = solve_instance(inst, 1.0, ("late", "incomplete", "worse", "best"), workers=1)
    assert res["strategy"] == "best"
    assert res["distance"] == pytest.approx(1637.7)
    res = solve_instance(inst, 1.0, ("late", "incomplete"), workers=1)
    assert res["strategy"] == "incomplete"  # feasible beats infeasible, even with fewer served


def test_two_processes_run_both_searches():
    """With two workers, PyVRP runs here and OR-Tools in a helper process; both report, the best is kept."""
    inst = _first(read_instance(DATA / "solomon100" / "RC101.txt"), 25)
    res = solve_instance(inst, 2.0, ("pyvrp:1", "ortools:sav+gls"), workers=2)
    assert set(res["searches"]) == {"pyvrp:1", "ortools:sav+gls"}
    assert len(res["cpu_s"]) == 2
    assert res["distance"] == min(res["searches"].values())
    assert check_solution(inst, res["routes"], strict=True) == []
    assert res["time_s"] < 5.0
