from dataclasses import replace

from routing import InProgress, Location, SolveParams, solve
from tests.routing.builders import DEPOT, FAST, NOW, at, loc, problem, tech, visit


def test_skills_are_respected():
    """A visit that needs the elevator skill goes to an elevator technician, even if farther away."""
    p = problem(
        [tech("crane-guy", {"crane"}, depot=loc(10)), tech("lift-guy", {"elevator"}, depot=loc(-20))],
        [visit("v1", loc(11), skills={"elevator"}), visit("v2", loc(9), skills={"crane"})],
    )
    plan = solve(p, FAST)
    assert plan.assignments() == {"v1": "lift-guy", "v2": "crane-guy"}
    assert plan.unassigned == ()


def test_unassignable_visit_gets_a_reason():
    """A visit nobody can do is left unassigned with a plain reason; the rest is still planned."""
    p = problem([tech("a", {"crane"})], [visit("v1", loc(3), skills={"elevator"}), visit("v2", loc(2))])
    plan = solve(p, FAST)
    assert plan.assignments() == {"v2": "a"}
    assert plan.unassigned == (("v1", "no technician with the elevator skill exists in this region"),)


def test_shifts_bound_the_work():
    """Work happens only inside shifts: a visit whose access starts after every shift stays unassigned."""
    p = problem(
        [tech("a", {"elevator"}, shifts=[(0, 4)])],
        [
            visit("late-access", loc(3), skills={"elevator"}, earliest_start=at(6), due_h=8),
            visit("ok", loc(2)),
        ],
    )
    plan = solve(p, FAST)
    assert plan.assignments() == {"ok": "a"}
    ((vid, reason),) = plan.unassigned
    assert vid == "late-access"
    assert reason == "the 1 h of work does not fit in the remaining shift of any technician with the elevator skill"
    assert [code for code, _ in plan.reason_codes["late-access"]] == ["work-does-not-fit"]
    for r in plan.routes:
        for s in r.stops:
            assert at(0) <= s.start and s.end <= at(4)


def test_visit_waits_for_the_next_shift():
    """A visit due tomorrow may go into tomorrow's shift, starting from the depot at shift start."""
    p = problem([tech("a", shifts=[(0, 2), (24, 32)])], [visit("v", loc(5), service_min=180, due_h=30)])
    plan = solve(p, FAST)
    (route,) = plan.routes
    assert route.shift_index == 1
    assert route.stops[0].start >= at(24)


def test_in_progress_work_is_fixed():
    """A technician on a job starts the route at that site when the job ends."""
    site = loc(20)
    t = tech("a", in_progress=InProgress("busy", site, remaining_minutes=90))
    p = problem([t], [visit("v", loc(21))])
    plan = solve(p, FAST)
    (route,) = plan.routes
    assert route.start_kind == "in-progress site"
    assert route.start_at == at(1.5)
    stop = route.stops[0]
    assert stop.arrival >= at(1.5)
    assert stop.travel_m < 2500  # from the job site 1 km away, not from the depot 21 km away


def test_partner_point_is_the_start_depot():
    """A partner service point technician starts from the partner point."""
    remote = loc(150, 80)
    p = problem(
        [tech("centre", depot=DEPOT), tech("partner", depot=remote, depot_kind="partner_point")],
        [visit("far", loc(2, 0, base=remote), due_h=4, grade="major")],
    )
    plan = solve(p, FAST)
    (route,) = plan.routes
    assert route.technician_id == "partner" and route.start_kind == "partner point"
    assert route.stops[0].arrival < at(0.25)
    assert not route.stops[0].late


def test_current_position_is_the_start():
    """A technician's known current position is where the first shift's route starts."""
    p = problem([tech("a", position=loc(30))], [visit("v", loc(31))])
    plan = solve(p, FAST)
    assert plan.routes[0].start_kind == "current position"
    assert plan.routes[0].stops[0].travel_m < 2500


def test_pinned_technician_is_honoured():
    """A dispatcher's pin wins over proximity."""
    p = problem([tech("near"), tech("far", depot=loc(30))], [visit("v", loc(1), pin_technician="far")])
    plan = solve(p, FAST)
    assert plan.assignments() == {"v": "far"}
    assert any("pinned to far" in r for r in plan.reasons["v"])


def test_pin_order_is_honoured():
    """Pinned positions keep the dispatcher's order even when another order is shorter."""
    p = problem(
        [tech("a")],
        [
            visit("second", loc(1), pin_technician="a", pin_order=2, service_min=20),
            visit("first", loc(10), pin_technician="a", pin_order=1, service_min=20),
        ],
    )
    plan = solve(p, FAST)
    assert [s.visit_id for s in plan.route_of("a")] == ["first", "second"]


def test_committed_visit_stays_first():
    """An accepted/en-route visit stays first on its technician's route even if a major arrives."""
    p = problem(
        [tech("a"), tech("b", depot=loc(40))],
        [
            visit("accepted", loc(15), due_h=20, pin_technician="a", committed=True),
            visit("urgent", loc(1), due_h=4, grade="major"),
        ],
    )
    plan = solve(p, FAST)
    assert plan.route_of("a")[0].visit_id == "accepted"
    assert plan.route_of("a")[0].committed
    assert plan.stop("urgent") is not None and not plan.stop("urgent").late


def test_major_is_served_first_when_capacity_is_short():
    """With one technician and two 4-hour jobs due in 4 h, the major one is on time, the general one late."""
    p = problem(
        [tech("a", shifts=[(0, 12)])],
        [
            visit("gen", loc(2), due_h=4, grade="general", service_min=250),
            visit("maj", loc(-2), due_h=4, grade="major", service_min=250),
        ],
    )
    plan = solve(p, FAST)
    assert not plan.stop("maj").late
    gen = plan.stop("gen")
    assert gen.late and gen.late_minutes > 0
    assert plan.objective.late_visits == 1


def test_serious_beats_general():
    """Serious before general when only one of them can be on time."""
    p = problem(
        [tech("a", shifts=[(0, 12)])],
        [
            visit("gen", loc(2), due_h=3, grade="general", service_min=200),
            visit("ser", loc(-2), due_h=3, grade="serious", service_min=200),
        ],
    )
    plan = solve(p, FAST)
    assert not plan.stop("ser").late and plan.stop("gen").late


def test_late_visit_is_flagged_with_minutes_and_reason():
    """An unavoidably late visit is still planned, flagged with its minutes late and the reason."""
    far = loc(200)  # ~200 km × 1.3 at 50 km/h ≈ 5.2 h
    p = problem([tech("a", shifts=[(0, 12)])], [visit("v", far, due_h=2, grade="major")])
    plan = solve(p, FAST)
    stop = plan.stop("v")
    assert stop is not None and stop.late
    expected = (stop.arrival - at(2)).total_seconds() / 60
    assert abs(stop.late_minutes - expected) < 1
    assert any("earliest possible arrival" in r and "late" in r for r in plan.reasons["v"])


def test_visit_before_any_shift_reason():
    """'No technician with the elevator skill is on shift before 14:00' names the blocking shift."""
    p = problem(
        [tech("a", {"elevator"}, shifts=[(10, 18)])],
        [visit("v", loc(3), skills={"elevator"}, due_h=6, grade="major")],
    )
    plan = solve(p, FAST)
    stop = plan.stop("v")
    assert stop is not None and stop.late
    assert "no technician with the elevator skill is on shift before 14:00" in plan.reasons["v"]


def test_planned_visit_explains_choice_and_alternative():
    """Every planned visit says why this technician, the ETA, the slack and the best alternative."""
    p = problem([tech("near"), tech("far", depot=loc(25))], [visit("v", loc(1), due_h=4)])
    plan = solve(p, FAST)
    text = " | ".join(plan.reasons["v"])
    assert "ETA 08:" in text and "to spare" in text
    assert "best alternative: far" in text


def test_two_processes_give_a_plan():
    """The two-core portfolio returns a valid plan and says which search won."""
    p = problem([tech("a"), tech("b", depot=loc(10))], [visit(f"v{i}", loc(i, i % 3)) for i in range(6)])
    plan = solve(p, SolveParams(time_limit_s=0.5, workers=2))
    assert plan.stats.searches == 2
    assert len(plan.assignments()) == 6
    assert plan.stats.strategy.endswith("GLS")


def test_nobody_on_shift():
    """With no technician on shift, every visit is unassigned with a reason, no crash."""
    p = problem([tech("a", shifts=[(-5, -1)])], [visit("v", Location(31.2, 121.5))])
    plan = solve(p, FAST)
    assert plan.routes == ()
    assert plan.unassigned[0][0] == "v" and "on shift" in plan.unassigned[0][1]
    assert plan.now == NOW


def test_travel_is_priced_once_per_solve():
    """The travel provider is asked once per solve for one matrix (no per-arc callbacks)."""
    from routing import HaversineProvider

    calls = []

    class Counting:
        def matrix(self, locations):
            calls.append(len(locations))
            return HaversineProvider().matrix(locations)

    p = problem([tech("a"), tech("b")], [visit(f"v{i}", loc(i)) for i in range(4)])
    solve(p, FAST, travel=Counting())
    assert calls == [7]  # 2 starts, 4 sites, 1 home base (the shared depot)


def test_pinned_to_someone_off_shift_is_explained():
    """A visit pinned to a technician with no shift left is unassigned and says so."""
    p = problem([tech("a"), tech("gone", shifts=[(-8, -1)])], [visit("v", loc(2), pin_technician="gone")])
    plan = solve(p, FAST)
    assert plan.unassigned == (("v", "pinned to gone, who has no shift left in the next 72 h"),)


def test_search_overrides_set_operators_by_name():
    """Expert search settings reach OR-Tools: an operator switched off by name, an enum by its label."""
    from ortools.constraint_solver import pywrapcp

    from routing.solve import _apply_overrides

    sp = pywrapcp.DefaultRoutingSearchParameters()
    _apply_overrides(
        sp,
        {
            "local_search_operators.use_relocate_expensive_chain": "BOOL_FALSE",
            "local_search_metaheuristic": "GREEDY_DESCENT",
            "guided_local_search_lambda_coefficient": 0.3,
        },
    )
    assert sp.local_search_operators.use_relocate_expensive_chain == 2  # BOOL_FALSE
    assert sp.local_search_metaheuristic == 1  # GREEDY_DESCENT
    assert sp.guided_local_search_lambda_coefficient == 0.3
    plan = solve(problem([tech("a")], [visit("v", loc(2))]), replace(FAST, search_overrides={"solution_limit": 5}))
    assert plan.unassigned_ids == []


def test_a_cpu_budget_stops_the_search():
    """cpu_limit_s ends each search after that much CPU time, well before a long wall-time limit."""
    import time

    visits = [visit(f"v{i}", loc(1 + 0.7 * (i % 4), 0.6 * (i // 4)), service_min=20) for i in range(12)]
    p = problem([tech("a"), tech("b"), tech("c")], visits)
    t0 = time.monotonic()
    plan = solve(p, replace(FAST, time_limit_s=30, cpu_limit_s=0.3))
    assert time.monotonic() - t0 < 20
    assert plan.unassigned_ids == [] and 0.25 <= plan.stats.cpu_s < 5
