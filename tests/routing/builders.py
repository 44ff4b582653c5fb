"""Deterministic builders for tiny hand-made routing cases (a city around 31.2 N, 121.5 E)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from routing import InProgress, Location, Problem, Shift, SolveParams, Technician, Visit

TZ = timezone(timedelta(hours=8))
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=TZ)
DEPOT = Location(31.20, 121.45)
FAST = SolveParams(time_limit_s=0.2, workers=1)


def at(hours: float) -> datetime:
    return NOW + timedelta(hours=hours)


def loc(dx_km: float, dy_km: float = 0.0, base: Location = DEPOT) -> Location:
    """A point dx km east and dy km north of ``base`` (good enough near 31 N)."""
    return Location(base.lat + dy_km / 111.0, base.lon + dx_km / (111.0 * 0.855))


def tech(
    tid: str,
    skills: set[str] | frozenset[str] = frozenset(),
    depot: Location = DEPOT,
    shifts: list[tuple[float, float]] | None = None,
    **kw,
) -> Technician:
    shifts = shifts or [(0, 9)]
    return Technician(
        id=tid,
        depot=depot,
        shifts=tuple(Shift(at(a), at(b)) for a, b in shifts),
        skills=frozenset(skills),
        **kw,
    )


def visit(
    vid: str,
    where: Location,
    due_h: float = 24,
    grade: str = "general",
    skills: set[str] | frozenset[str] = frozenset(),
    service_min: float = 60,
    **kw,
) -> Visit:
    return Visit(
        id=vid,
        location=where,
        deadline=at(due_h),
        grade=grade,  # type: ignore[arg-type]
        service_minutes=service_min,
        required_skills=frozenset(skills),
        **kw,
    )


def problem(techs: list[Technician], visits: list[Visit]) -> Problem:
    return Problem(now=NOW, technicians=tuple(techs), visits=tuple(visits))


__all__ = ["DEPOT", "FAST", "NOW", "TZ", "InProgress", "at", "loc", "problem", "tech", "visit"]
