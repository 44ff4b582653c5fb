from datetime import datetime

import pytest

from routing import Location, Problem, Shift, SolveParams, Visit
from tests.routing.builders import DEPOT, NOW, at, problem, tech, visit


def test_naive_datetimes_are_refused():
    """A naive timestamp from a bad row fails where the input is built, with a clear message."""
    with pytest.raises(ValueError, match="timezone-aware"):
        Shift(datetime(2026, 1, 1, 8), datetime(2026, 1, 1, 17))
    with pytest.raises(ValueError, match="timezone-aware"):
        Visit("v", DEPOT, deadline=datetime(2026, 1, 1, 12))


def test_bad_values_are_refused():
    """Impossible coordinates, grades, shifts and weights are rejected eagerly."""
    with pytest.raises(ValueError, match="latitude"):
        Location(95, 0)
    with pytest.raises(ValueError, match="grade"):
        visit("v", DEPOT, grade="urgent")
    with pytest.raises(ValueError, match="before it starts"):
        Shift(at(5), at(1))
    with pytest.raises(ValueError, match="overlap"):
        tech("t", shifts=[(0, 5), (4, 8)])
    with pytest.raises(ValueError, match="time_limit_s"):
        SolveParams(time_limit_s=0)
    with pytest.raises(ValueError, match="late_fee"):
        SolveParams(late_fee={"major": 1})


def test_pins_must_be_consistent():
    """Pins name a known technician; committed visits and pin orders need a pinned technician."""
    with pytest.raises(ValueError, match="committed"):
        visit("v", DEPOT, committed=True)
    with pytest.raises(ValueError, match="pin_order needs"):
        visit("v", DEPOT, pin_order=1)
    with pytest.raises(ValueError, match="unknown technician"):
        problem([tech("a")], [visit("v", DEPOT, pin_technician="zz")])
    with pytest.raises(ValueError, match="share pin order"):
        problem(
            [tech("a")],
            [
                visit("v", DEPOT, pin_technician="a", pin_order=1),
                visit("w", DEPOT, pin_technician="a", pin_order=1),
            ],
        )


def test_duplicate_ids_are_refused():
    """Two visits or technicians with one id would make the plan ambiguous."""
    with pytest.raises(ValueError, match="duplicate visit"):
        problem([tech("a")], [visit("v", DEPOT), visit("v", DEPOT)])
    with pytest.raises(ValueError, match="duplicate technician"):
        problem([tech("a"), tech("a")], [])


def test_times_are_seconds_from_now():
    """The model's clock is integer seconds from the plan epoch."""
    p = Problem(now=NOW, technicians=(), visits=())
    assert p.seconds(at(1.5)) == 5400
    assert p.at(5400) == at(1.5)
