from routing import HaversineProvider
from routing.model import build_model, locations_of, vehicles_of
from tests.routing.builders import FAST, loc, problem, tech, visit


def _build(p):
    vehicles = vehicles_of(p, FAST)
    return build_model(p, FAST, HaversineProvider().matrix(locations_of(p, vehicles)))


def test_each_shift_is_a_vehicle():
    """A technician with two shifts gives two vehicles; finished shifts give none."""
    p = problem([tech("a", shifts=[(-10, -2), (0, 8), (24, 32)]), tech("b")], [])
    m = _build(p)
    assert [(v.tech_id, v.shift_index) for v in m.vehicles] == [("a", 1), ("a", 2), ("b", 0)]
    assert m.vehicles[1].start_s == 24 * 3600 and m.vehicles[1].start_kind == "service centre"


def test_skills_restrict_vehicles_without_solving():
    """Only technicians holding every required skill may take a visit."""
    p = problem(
        [tech("a", {"elevator"}), tech("b", {"crane"}), tech("c", {"crane", "elevator"})],
        [visit("v", loc(3), skills={"elevator"})],
    )
    m = _build(p)
    assert [m.vehicles[k].tech_id for k in m.allowed["v"]] == ["a", "c"]
    idx = m.index(m.on_node[0])
    domain = set(m.routing.VehicleVar(idx).DomainIterator())
    assert domain == {-1, 0, 2}
    assert "time" in m.routing.GetAllDimensionNames()  # GetDimensionOrDie would abort the process, not fail


def test_on_time_node_has_the_deadline_as_hard_bound():
    """The on-time copy of a visit cannot start after its deadline; the late copy can."""
    p = problem([tech("a")], [visit("v", loc(3), due_h=4)])
    m = _build(p)
    assert m.time.CumulVar(m.index(m.on_node[0])).Max() == 4 * 3600
    assert m.time.CumulVar(m.index(m.late_node[0])).Max() > 4 * 3600


def test_vans_leaving_one_depot_are_one_vehicle_class():
    """Technicians alike who leave from the same depot share a start node: OR-Tools sees one vehicle class (its
    insertion heuristics and local search work per class), and the plan is still per technician."""
    from routing import solve

    p = problem([tech("a"), tech("b"), tech("c")], [visit(f"v{i}", loc(i + 1)) for i in range(4)])
    m = _build(p)
    m.routing.CloseModel()
    assert m.routing.GetVehicleClassesCount() == 1
    plan = solve(p, FAST)
    assert plan.unassigned_ids == [] and {r.technician_id for r in plan.routes} <= {"a", "b", "c"}
