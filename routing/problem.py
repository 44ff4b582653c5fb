"""Typed input of the optimiser: technicians, visits, policy weights (issue 5, "The routing package").

Everything is a frozen dataclass validated eagerly in ``__post_init__`` so a bad row from the
database fails where it is built, with a message naming the object, not deep inside OR-Tools.
Datetimes must be timezone-aware. Inside the model, times are integer seconds from ``Problem.now``
(the plan epoch); see ``Problem.seconds``.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

__all__ = [
    "GRADES",
    "Grade",
    "InProgress",
    "Location",
    "Problem",
    "Shift",
    "SolveParams",
    "Technician",
    "Visit",
]

Grade = Literal["major", "serious", "general"]
GRADES: tuple[Grade, ...] = ("major", "serious", "general")
StartKind = Literal["current", "service_centre", "partner_point"]


def _aware(value: datetime, what: str) -> None:
    if not isinstance(value, datetime):
        raise ValueError(f"{what} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got naive {value.isoformat()}")


@dataclass(frozen=True)
class Location:
    """A point in WGS84 degrees (PostGIS ``Geography(POINT, 4326)``)."""

    lat: float
    lon: float

    def __post_init__(self) -> None:
        if not (isinstance(self.lat, int | float) and math.isfinite(self.lat) and -90 <= self.lat <= 90):
            raise ValueError(f"latitude must be in [-90, 90], got {self.lat!r}")
        if not (isinstance(self.lon, int | float) and math.isfinite(self.lon) and -180 <= self.lon <= 180):
            raise ValueError(f"longitude must be in [-180, 180], got {self.lon!r}")


@dataclass(frozen=True)
class Shift:
    """A working window; a technician works (travels and serves) only inside it."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        _aware(self.start, "shift start")
        _aware(self.end, "shift end")
        if self.end <= self.start:
            raise ValueError(f"shift ends ({self.end.isoformat()}) before it starts ({self.start.isoformat()})")


@dataclass(frozen=True)
class InProgress:
    """The visit a technician is working on now: the route starts at its site when it ends."""

    visit_id: str
    location: Location
    remaining_minutes: float

    def __post_init__(self) -> None:
        if not self.visit_id:
            raise ValueError("in-progress visit needs an id")
        if self.remaining_minutes < 0:
            raise ValueError(f"in-progress visit {self.visit_id}: remaining minutes must be >= 0")


@dataclass(frozen=True)
class Technician:
    """A technician of a service centre or a partner service point.

    ``depot`` is the home base (service centre or partner point, see ``depot_kind``); ``position``
    is where they are now, if known (else the depot). The first shift starts from ``position`` (or
    the in-progress site once that job ends); later shifts start from the depot. The day ends at
    ``home`` (a home address) if given, else at the depot: the drive there is inside the shift and
    costed like any travel — unless the policy lets crews end anywhere (``SolveParams.end_at``).
    ``capacity`` is what the van carries in the policy's load units (None: no limit); every visit's
    ``load`` on one shift's route together never exceeds it (the van is stocked at the start).
    """

    id: str
    depot: Location
    shifts: tuple[Shift, ...]
    skills: frozenset[str] = frozenset()
    depot_kind: Literal["service_centre", "partner_point"] = "service_centre"
    position: Location | None = None
    available_from: datetime | None = None
    in_progress: InProgress | None = None
    name: str = ""
    home: Location | None = None
    capacity: int | None = None

    def __post_init__(self) -> None:
        if not self.id:
            raise ValueError("technician needs an id")
        if self.home is not None and not isinstance(self.home, Location):
            raise ValueError(f"technician {self.id}: home must be a Location")
        if self.capacity is not None and (not isinstance(self.capacity, int) or self.capacity < 0):
            raise ValueError(f"technician {self.id}: capacity must be an integer >= 0 (or None: no limit)")
        if not isinstance(self.depot, Location):
            raise ValueError(f"technician {self.id}: depot must be a Location")
        if not isinstance(self.skills, frozenset):
            object.__setattr__(self, "skills", frozenset(self.skills))
        shifts = tuple(sorted(self.shifts, key=lambda s: s.start))
        object.__setattr__(self, "shifts", shifts)
        for a, b in itertools.pairwise(shifts):
            if b.start < a.end:
                raise ValueError(
                    f"technician {self.id}: shifts overlap ({a.start.isoformat()} and {b.start.isoformat()})"
                )
        if self.available_from is not None:
            _aware(self.available_from, f"technician {self.id} available_from")
        if self.depot_kind not in ("service_centre", "partner_point"):
            raise ValueError(f"technician {self.id}: depot_kind must be service_centre or partner_point")


@dataclass(frozen=True)
class Visit:
    """An on-site visit for a ticket.

    ``earliest_start`` comes from the site's access hours; ``deadline`` is the on-site promise
    (domain.md "Classification": major 4 h, serious 12 h, general 24 h by default) and applies to the
    arrival, i.e. the start of service. ``pin_technician``/``pin_order`` let a dispatcher fix who
    goes and in which position; ``committed`` marks an accepted or en-route visit, which stays first
    on its (pinned) technician's route. ``previous_technician``/``previous_arrival`` are filled by
    ``replan`` from the live plan. ``load`` is what the visit takes from the van (the spare part, in
    the policy's load units); ``site_id`` names the site or building: visits sharing one (or, without
    it, the same location) are planned back to back unless a deadline forbids it.
    """

    id: str
    location: Location
    deadline: datetime
    grade: Grade = "general"
    service_minutes: float = 60
    required_skills: frozenset[str] = frozenset()
    earliest_start: datetime | None = None
    ticket_id: str = ""
    pin_technician: str | None = None
    pin_order: int | None = None
    committed: bool = False
    previous_technician: str | None = None
    previous_arrival: datetime | None = None
    label: str = ""
    load: int = 0
    site_id: str = ""

    def __post_init__(self) -> None:
        if not self.id:
            raise ValueError("visit needs an id")
        if not isinstance(self.location, Location):
            raise ValueError(f"visit {self.id}: location must be a Location")
        _aware(self.deadline, f"visit {self.id} deadline")
        if self.earliest_start is not None:
            _aware(self.earliest_start, f"visit {self.id} earliest_start")
            if self.earliest_start > self.deadline:
                # Not an error: the promise is already broken by the access hours; the plan flags it late.
                pass
        if self.previous_arrival is not None:
            _aware(self.previous_arrival, f"visit {self.id} previous_arrival")
        if self.grade not in GRADES:
            raise ValueError(f"visit {self.id}: grade must be one of {GRADES}, got {self.grade!r}")
        if not (self.service_minutes >= 0):
            raise ValueError(f"visit {self.id}: service minutes must be >= 0")
        if not isinstance(self.required_skills, frozenset):
            object.__setattr__(self, "required_skills", frozenset(self.required_skills))
        if self.pin_order is not None and self.pin_technician is None:
            raise ValueError(f"visit {self.id}: pin_order needs pin_technician")
        if self.pin_order is not None and self.pin_order < 0:
            raise ValueError(f"visit {self.id}: pin_order must be >= 0")
        if self.committed and self.pin_technician is None:
            raise ValueError(f"visit {self.id}: a committed (accepted/en-route) visit needs pin_technician")
        if not isinstance(self.load, int) or isinstance(self.load, bool) or self.load < 0:
            raise ValueError(f"visit {self.id}: load must be an integer >= 0")
        if not self.ticket_id:
            object.__setattr__(self, "ticket_id", self.id)

    @property
    def service_s(self) -> int:
        """Time on site in whole seconds (rounded up; float minutes never add a spurious second)."""
        return math.ceil(self.service_minutes * 60 - 1e-6)


def _by_grade(values: dict[str, int], what: str) -> dict[str, int]:
    missing = [g for g in GRADES if g not in values]
    if missing:
        raise ValueError(f"{what} needs a value for {missing}")
    if any(values[g] < 0 for g in GRADES):
        raise ValueError(f"{what} must be >= 0")
    return dict(values)


EndAt = Literal["home", "anywhere"]


@dataclass(frozen=True)
class SolveParams:
    """Policy weights and search settings. Costs are in *cost units*; one second of travel costs
    ``travel_cost_per_s`` units (default 10), so every other weight reads against travel time;
    ``travel_cost_per_m`` prices distance as well (0 by default; the Solomon benchmark prices
    distance only).

    Ordering the defaults encode (issue 5): dropping a visit ≫ being late; major ≫ serious ≫ general;
    among late visits, the count matters first (fixed fee), the minutes second (slope). Every second
    a visit waits costs ``earliness_cost_per_s`` by grade (issue 16: a trapped person waits every
    minute), and for a major that never yields to the stability of the previous plan: its earliness is
    priced even when it was planned before, and it must weigh at least ``shift_cost_per_s``.
    ``allow_late=False`` makes deadlines hard (a visit is on time or unassigned): no late copies.
    ``regroup_cost`` is paid each time a route comes back to a site (``Visit.site_id``) it already
    visited; ``vehicle_fixed_cost`` for each technician-shift that is called out.
    """

    time_limit_s: float = 1.0
    # Also stop each search once it has had this much CPU time (None: wall time only). For benchmarks on a shared
    # machine: "the search had its 10 s" whatever else runs; time_limit_s still bounds the wall time.
    cpu_limit_s: float | None = None
    travel_cost_per_s: int = 10
    travel_cost_per_m: int = 0
    late_fee: dict[str, int] = field(
        default_factory=lambda: {"major": 100_000_000, "serious": 10_000_000, "general": 1_000_000}
    )
    late_cost_per_s: dict[str, int] = field(default_factory=lambda: {"major": 100, "serious": 3, "general": 1})
    drop_penalty: dict[str, int] = field(
        default_factory=lambda: {
            "major": 100_000_000_000,
            "serious": 10_000_000_000,
            "general": 1_000_000_000,
        }
    )
    # per second of service start after now, by grade: majors as early as possible; keeps work from being
    # parked in tomorrow's shift
    earliness_cost_per_s: dict[str, int] = field(default_factory=lambda: {"major": 100, "serious": 3, "general": 1})
    move_cost: int = 36_000  # replan: moving a visit to another technician (≈ one hour of travel)
    shift_tolerance_min: float = 30  # replan: arriving later than before by more than this costs…
    shift_cost_per_s: int = 10  # …this much per second beyond the tolerance
    end_at: EndAt = "home"  # where a technician's day ends: home base (or home address), or anywhere
    vehicle_fixed_cost: int = 0  # per technician-shift with at least one visit
    regroup_cost: int = 18_000  # coming back to a site already visited on the route (≈ 30 min of travel)
    allow_late: bool = True
    workers: int = 2  # parallel search processes; 1 inside a worker pool
    strategies: tuple[str, ...] = ("LOCAL_CHEAPEST_INSERTION", "PARALLEL_CHEAPEST_INSERTION")
    horizon_h: float = 72  # plan no further ahead than this
    gls_lambda: float = 0.1  # guided local search penalty factor (OR-Tools' default)
    # Expert search settings, by dotted field of OR-Tools' RoutingSearchParameters, e.g.
    # {"local_search_operators.use_cross_exchange": 1}; applied to every search.
    search_overrides: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not (self.time_limit_s > 0):
            raise ValueError("time_limit_s must be > 0")
        if self.cpu_limit_s is not None and not (self.cpu_limit_s > 0):
            raise ValueError("cpu_limit_s must be > 0 (or None)")
        if self.travel_cost_per_s < 0 or self.travel_cost_per_m < 0:
            raise ValueError("travel_cost_per_s and travel_cost_per_m must be >= 0")
        if self.travel_cost_per_s + self.travel_cost_per_m < 1:
            raise ValueError("travel needs a cost: travel_cost_per_s or travel_cost_per_m must be >= 1")
        object.__setattr__(self, "late_fee", _by_grade(self.late_fee, "late_fee"))
        object.__setattr__(self, "late_cost_per_s", _by_grade(self.late_cost_per_s, "late_cost_per_s"))
        object.__setattr__(self, "drop_penalty", _by_grade(self.drop_penalty, "drop_penalty"))
        object.__setattr__(self, "earliness_cost_per_s", _by_grade(self.earliness_cost_per_s, "earliness_cost_per_s"))
        for name in ("move_cost", "shift_cost_per_s", "vehicle_fixed_cost", "regroup_cost"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0")
        if self.shift_tolerance_min < 0:
            raise ValueError("shift_tolerance_min must be >= 0")
        if self.earliness_cost_per_s["major"] < self.shift_cost_per_s:
            raise ValueError(
                "earliness_cost_per_s.major must be >= shift_cost_per_s: stability never outweighs a major"
            )
        for g in GRADES:
            if self.late_cost_per_s[g] < self.earliness_cost_per_s[g]:
                raise ValueError(f"late_cost_per_s.{g} must be >= earliness_cost_per_s.{g} (late is never less urgent)")
        if self.end_at not in ("home", "anywhere"):
            raise ValueError("end_at must be 'home' or 'anywhere'")
        if self.workers < 1:
            raise ValueError("workers must be >= 1")
        if not self.strategies:
            raise ValueError("strategies needs at least one first-solution strategy")
        if self.horizon_h <= 0:
            raise ValueError("horizon_h must be > 0")
        if not (self.gls_lambda > 0):
            raise ValueError("gls_lambda must be > 0")


@dataclass(frozen=True)
class Problem:
    """What to plan at ``now``: technicians and the pending visits."""

    now: datetime
    technicians: tuple[Technician, ...]
    visits: tuple[Visit, ...]

    def __post_init__(self) -> None:
        _aware(self.now, "problem now")
        object.__setattr__(self, "technicians", tuple(self.technicians))
        object.__setattr__(self, "visits", tuple(self.visits))
        tech_ids = [t.id for t in self.technicians]
        dup = {i for i, n in Counter(tech_ids).items() if n > 1}
        if dup:
            raise ValueError(f"duplicate technician ids: {sorted(dup)}")
        visit_ids = [v.id for v in self.visits]
        dup = {i for i, n in Counter(visit_ids).items() if n > 1}
        if dup:
            raise ValueError(f"duplicate visit ids: {sorted(dup)}")
        known = set(tech_ids)
        busy = {t.in_progress.visit_id for t in self.technicians if t.in_progress}
        for v in self.visits:
            if v.pin_technician is not None and v.pin_technician not in known:
                raise ValueError(f"visit {v.id}: pinned to unknown technician {v.pin_technician}")
            if v.id in busy:
                raise ValueError(f"visit {v.id} is in progress; pass it as Technician.in_progress, not as a visit")
        orders: dict[tuple[str, int], str] = {}
        for v in self.visits:
            if v.pin_order is not None:
                key = (v.pin_technician or "", v.pin_order)
                if key in orders:
                    raise ValueError(f"visits {orders[key]} and {v.id} share pin order {v.pin_order} on {key[0]}")
                orders[key] = v.id

    def seconds(self, when: datetime) -> int:
        """Integer seconds from the plan epoch ``now`` (negative in the past)."""
        return math.floor((when - self.now).total_seconds())

    def at(self, seconds: float) -> datetime:
        """The datetime ``seconds`` after the plan epoch."""
        return self.now + timedelta(seconds=seconds)

    def technician(self, tech_id: str) -> Technician:
        for t in self.technicians:
            if t.id == tech_id:
                return t
        raise KeyError(tech_id)

    def visit(self, visit_id: str) -> Visit:
        for v in self.visits:
            if v.id == visit_id:
                return v
        raise KeyError(visit_id)
