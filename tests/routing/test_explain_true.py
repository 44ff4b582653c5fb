"""Reasons a dispatcher can trust: alternatives and shift facts are true of every skilled technician, not only of
the one a visit is pinned to."""

from dataclasses import replace

from routing import solve
from tests.routing.builders import FAST, at, loc, problem, tech, visit


def test_pinned_visit_names_the_free_alternative():
    """A visit pinned to one technician still names the qualified, free colleague as its best alternative."""
    pinned = replace(visit("v", loc(5), skills={"elevator"}), pin_technician="far")
    p = problem(
        [
            tech("far", {"elevator"}, depot=loc(30)),
            tech("near", {"elevator"}),
            tech("other", {"elevator"}, depot=loc(2)),
        ],
        [pinned],
    )
    plan = solve(p, FAST)
    assert plan.assignments() == {"v": "far"}
    reasons = plan.reasons["v"]
    assert not any("no alternative" in r for r in reasons), reasons
    assert any(r.startswith("best alternative: ") for r in reasons), reasons


def test_late_pinned_visit_does_not_claim_nobody_is_on_shift():
    """A pinned visit late because its technician starts later does not say no one with the skill is on shift."""
    pinned = replace(visit("v", loc(3), skills={"elevator"}, due_h=6, grade="major"), pin_technician="late")
    p = problem([tech("late", {"elevator"}, shifts=[(10, 18)]), tech("early", {"elevator"}, shifts=[(0, 8)])], [pinned])
    plan = solve(p, FAST)
    stop = plan.stop("v")
    assert stop is not None and stop.late
    assert not any("is on shift before" in r for r in plan.reasons["v"]), plan.reasons["v"]


def test_truly_nobody_on_shift_is_still_said():
    """When no skilled technician works before the deadline, the reason still says so."""
    p = problem([tech("a", {"elevator"}, shifts=[(10, 18)])], [visit("v", loc(3), skills={"elevator"}, due_h=6)])
    plan = solve(p, FAST)
    assert "no technician with the elevator skill is on shift before 14:00" in plan.reasons["v"]
    assert at(10) <= plan.stop("v").start


def test_late_pinned_visit_says_the_pin_makes_it_late():
    """The reason for a late pinned visit names who could be there sooner."""
    pinned = replace(visit("v", loc(3), skills={"elevator"}, due_h=6, grade="major"), pin_technician="late")
    p = problem([tech("late", {"elevator"}, shifts=[(10, 18)]), tech("early", {"elevator"}, shifts=[(0, 8)])], [pinned])
    plan = solve(p, FAST)
    assert any(r.startswith("kept with late (pinned or accepted); early could be there by") for r in plan.reasons["v"])
