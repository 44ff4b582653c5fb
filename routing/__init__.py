"""Onsite24's optimiser: pure data in, plan out (OR-Tools + stdlib only; imports nothing of ours).

See docs/routing.md. Public API::

    from routing import Problem, Technician, Visit, Location, Shift, InProgress, SolveParams
    from routing import solve, replan, plan_diff, HaversineProvider, OsrmTableProvider
"""

from routing.plan import Objective, Plan, Route, SolverStats, Stop
from routing.problem import GRADES, InProgress, Location, Problem, Shift, SolveParams, Technician, Visit
from routing.replan import Move, PlanDiff, plan_diff, replan
from routing.solve import solve
from routing.travel import HaversineProvider, OsrmTableProvider, TravelMatrix, TravelMatrixProvider

__all__ = [
    "GRADES",
    "HaversineProvider",
    "InProgress",
    "Location",
    "Move",
    "Objective",
    "OsrmTableProvider",
    "Plan",
    "PlanDiff",
    "Problem",
    "Route",
    "Shift",
    "SolveParams",
    "SolverStats",
    "Stop",
    "Technician",
    "TravelMatrix",
    "TravelMatrixProvider",
    "Visit",
    "plan_diff",
    "replan",
    "solve",
]
