"""Issue 16's model: a day ends at home, vans carry loads, majors come first, one building at a time."""

from __future__ import annotations

from dataclasses import replace

from routing import HaversineProvider, SolveParams, solve
from routing.replan import plan_diff, replan
from tests.routing.builders import DEPOT, FAST, InProgress, at, loc, problem, tech, visit

# HaversineProvider's defaults: great-circle × 1.3 at 50 km/h, so 90 minutes of driving is 57.7 km as the crow flies.
KM_90_MIN = 90 / 60 * 50 / 1.3


def test_a_route_that_would_end_90_minutes_from_home_at_shift_end_is_refused():
    """The drive home is inside the shift: work that ends at 17:00, 90 min from home, in a 17:00 shift is refused."""
    far = loc(KM_90_MIN)
    late = visit("late", far, due_h=24, service_min=60, earliest_start=at(7.5))  # 15:30-16:30, home 18:00
    p = problem([tech("a", shifts=[(0, 9)])], [late])

    plan = solve(p, FAST)
    assert plan.unassigned_ids == ["late"]
    assert "drive home" in plan.reasons["late"][0]
    assert plan.reason_codes["late"][0][0] == "no-time-to-drive-home"

    # The same work crews that end anywhere may take: it is done before the shift ends.
    anywhere = solve(p, replace(FAST, end_at="anywhere"))
    assert anywhere.unassigned_ids == []
    assert anywhere.routes[0].end_kind is None and anywhere.routes[0].home_travel_s == 0

    # Earlier the same day it fits, and the route shows the drive home, inside the shift.
    early = solve(problem([tech("a", shifts=[(0, 9)])], [replace(late, earliest_start=at(5))]), FAST)
    route = early.routes[0]
    assert early.unassigned_ids == []
    assert route.end_kind == "service centre"
    assert 89 * 60 <= route.home_travel_s <= 91 * 60
    assert route.home_at is not None and route.home_at <= at(9)
    assert route.home_at == route.stops[-1].end + (route.home_at - route.stops[-1].end)
    assert (route.home_at - route.stops[-1].end).total_seconds() == route.home_travel_s
    assert route.travel_s == sum(s.travel_s for s in route.stops) + route.home_travel_s


def test_the_drive_home_is_costed_like_any_travel():
    """Between two equal jobs the one on the way home wins: the way back is priced, not free."""
    home = loc(0)
    a = tech("a", depot=home, shifts=[(0, 9)])
    toward = visit("toward", loc(-10), service_min=30)  # 10 km west, and the home address is 20 km west
    away = visit("away", loc(10), service_min=30)
    t = replace(a, home=loc(-20))
    plan = solve(problem([t], [toward, away]), FAST)
    route = plan.routes[0]
    assert route.end_kind == "home"
    assert [s.visit_id for s in route.stops] == ["away", "toward"]  # out east first, then west toward home
    km = HaversineProvider().metres(loc(-10), loc(-20)) / 1000
    assert abs(route.home_travel_m / 1000 - km) < 0.01
    assert plan.objective.travel_km == round(route.travel_m / 1000, 2)


def test_a_van_that_cannot_carry_two_gearboxes_sends_two_technicians():
    """Two gearbox jobs, vans that carry one: each technician takes one, never two."""
    gearbox = {"load": 1}
    visits = [visit("g1", loc(3), **gearbox), visit("g2", loc(3.2), **gearbox)]
    techs = [tech("a", capacity=1), tech("b", capacity=1)]
    plan = solve(problem(techs, visits), FAST)
    assert plan.unassigned_ids == []
    assert sorted(plan.assignments().values()) == ["a", "b"]

    # With one roomy van, one technician does both (they are next door to each other).
    roomy = solve(
        problem([tech("a", capacity=2), tech("b", capacity=1)], visits), replace(FAST, vehicle_fixed_cost=10**6)
    )
    assert set(roomy.assignments().values()) == {"a"}


def test_a_van_that_cannot_carry_two_gearboxes_makes_two_trips():
    """One technician, a van for one gearbox, two shifts: one gearbox per trip out of the depot."""
    visits = [visit("g1", loc(3), due_h=48, load=1), visit("g2", loc(3.2), due_h=48, load=1)]
    plan = solve(problem([tech("a", capacity=1, shifts=[(0, 9), (24, 33)])], visits), FAST)
    assert plan.unassigned_ids == []
    assert sorted(len(r.stops) for r in plan.routes) == [1, 1]
    assert {r.shift_index for r in plan.routes} == {0, 1}
    # Both ends of each trip are the depot.
    assert all(r.end_kind == "service centre" and r.home_travel_s > 0 for r in plan.routes)


def test_a_load_no_van_carries_is_explained():
    heavy = visit("battery-bank", loc(2), load=5)
    plan = solve(problem([tech("a", capacity=2), tech("b", capacity=4)], [heavy]), FAST)
    assert plan.unassigned_ids == ["battery-bank"]
    assert plan.reason_codes["battery-bank"][0][0] == "too-heavy"
    assert "5 units of load" in plan.reasons["battery-bank"][0]


def test_a_fixed_cost_per_technician_prefers_fewer_people_on_the_road():
    visits = [visit(f"v{i}", loc(2 + 0.1 * i), service_min=20, grade="major") for i in range(3)]
    techs = [tech("a"), tech("b"), tech("c")]
    spread = solve(problem(techs, visits), FAST)
    assert len(set(spread.assignments().values())) > 1  # without it, earliness sends several
    one = solve(problem(techs, visits), replace(FAST, vehicle_fixed_cost=10**7))
    assert len(set(one.assignments().values())) == 1
    assert one.objective.fixed == 10**7


# ---- Emergencies first: the two cases as found on the demo (issue 16)


def _demo_afternoon():
    """A busy elevator technician 10 km from the building, on site at one job with another accepted after it,
    and an idle qualified technician 40 km away at the partner point."""
    busy = tech(
        "busy",
        {"elevator"},
        shifts=[(0, 10)],
        in_progress=InProgress("door-1", loc(0), remaining_minutes=60),
    )
    idle = tech("idle", {"elevator"}, depot=loc(50), depot_kind="partner_point", shifts=[(0, 10)])
    jobs = [
        visit("door-2", loc(1), due_h=20, skills={"elevator"}, service_min=60, pin_technician="busy", committed=True)
    ]
    return busy, idle, jobs


def test_people_trapped_goes_to_the_idle_technician_not_a_busy_ones_third_job():
    """A 'people trapped' major is planned at the earliest ETA anyone can make, here the idle technician's,
    rather than as the busy technician's third job; no other visit moves for it."""
    busy, idle, jobs = _demo_afternoon()
    before = solve(problem([busy, idle], jobs), FAST)
    assert set(before.assignments().values()) == {"busy"}
    trapped = visit("trapped", loc(10), due_h=4, grade="major", skills={"elevator"}, service_min=45)
    after = replan(problem([busy, idle], [*jobs, trapped]), before, FAST)

    stop = after.stop("trapped")
    assert stop is not None and after.assignments()["trapped"] == "idle"
    direct = HaversineProvider().seconds(loc(50), loc(10))
    assert stop.arrival == at(0) + __import__("datetime").timedelta(seconds=direct)
    assert plan_diff(before, after).moved_ids == []
    # Its own explanation agrees: no alternative is earlier than the plan.
    assert not any(code == "alternative" and values["eta_at"] < stop.arrival.isoformat()
                   for code, values in after.reason_codes["trapped"])  # fmt: skip


def test_stability_never_outweighs_a_majors_earliness():
    """A major planned before keeps being pulled earlier: the jobs planned ahead of it give way."""
    a = tech("a", {"elevator"}, shifts=[(0, 10)])
    jobs = [visit(f"job-{i}", loc(1 + 0.2 * i), due_h=20, skills={"elevator"}, service_min=60) for i in range(3)]
    trapped = visit("trapped", loc(10), due_h=8, grade="major", skills={"elevator"}, service_min=45)
    p = problem([a], [*jobs, trapped])
    # The previous plan had the major as the fourth job (on time, inside its promise).
    previous = solve(
        replace(p, visits=tuple(replace(v, pin_order=i, pin_technician="a") for i, v in enumerate(p.visits))), FAST
    )
    assert [s.visit_id for s in previous.routes[0].stops][-1] == "trapped"
    after = replan(p, previous, FAST)
    assert after.routes[0].stops[0].visit_id == "trapped"


def test_stability_cost_may_not_outweigh_a_major():
    import pytest

    with pytest.raises(ValueError, match="stability never outweighs a major"):
        SolveParams(shift_cost_per_s=200)


def _building_day(y_due_h: float, x1_due_h: float = 24):
    """Two visits in one building (X1, X2) and a short one (Y) nearby that opens an hour after the start."""
    building = loc(5)
    x1 = visit("x1", building, due_h=x1_due_h, service_min=60, site_id="tower-7")
    x2 = visit("x2", loc(5, 0.02), due_h=24, service_min=60, site_id="tower-7")  # 20 m away: the next entrance
    y = visit("y", loc(6), due_h=y_due_h, service_min=15, earliest_start=at(1), grade="serious")
    return problem([tech("a", shifts=[(0, 9)])], [x1, x2, y])


def test_visits_in_one_building_are_back_to_back():
    """Two visits in the same building are not split by a third one in between."""
    plan = solve(_building_day(y_due_h=12), FAST)
    order = [s.visit_id for s in plan.routes[0].stops]
    assert order.index("y") in (0, 2), order
    assert plan.objective.grouping == FAST.regroup_cost


def test_a_deadline_may_split_a_building():
    """…unless a deadline forbids it: X1 is due first, and Y is due before the second building visit could end."""
    plan = solve(_building_day(y_due_h=1.3, x1_due_h=0.5), FAST)
    order = [s.visit_id for s in plan.routes[0].stops]
    assert order[1] == "y", order
    assert not plan.late
    assert DEPOT is not None
