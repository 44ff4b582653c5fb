"""A routing.Plan as JSON (stored with the plan row) and back, for re-planning from the live plan."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from routing.plan import Objective, Plan, Route, SolverStats, Stop


def _iso(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _iso(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_iso(v) for v in value]
    return value


def plan_to_json(plan: Plan) -> dict[str, Any]:
    return {
        "now": plan.now.isoformat(),
        "fingerprint": plan.fingerprint(),
        "routes": [_iso(asdict(r)) for r in plan.routes],
        "unassigned": [[vid, reason] for vid, reason in plan.unassigned],
        "objective": asdict(plan.objective),
        "stats": asdict(plan.stats),
        "reasons": {k: list(v) for k, v in plan.reasons.items()},
        # Line for line with `reasons`: [code, values], written in each reader's language when shown.
        "reason_codes": {k: [[code, values] for code, values in v] for k, v in plan.reason_codes.items()},
    }


def _stop(d: dict[str, Any]) -> Stop:
    times = {k: datetime.fromisoformat(d[k]) for k in ("arrival", "start", "end", "deadline")}
    return Stop(**{**d, **times})


def plan_from_json(doc: dict[str, Any]) -> Plan:
    routes = tuple(
        Route(
            technician_id=r["technician_id"],
            shift_index=r["shift_index"],
            start_at=datetime.fromisoformat(r["start_at"]),
            start_kind=r["start_kind"],
            stops=tuple(_stop(s) for s in r["stops"]),
            end_kind=r.get("end_kind"),
            home_at=datetime.fromisoformat(r["home_at"]) if r.get("home_at") else None,
            home_travel_s=r.get("home_travel_s", 0),
            home_travel_m=r.get("home_travel_m", 0),
        )
        for r in doc.get("routes", [])
    )
    return Plan(
        now=datetime.fromisoformat(doc["now"]),
        routes=routes,
        unassigned=tuple((u[0], u[1]) for u in doc.get("unassigned", [])),
        objective=Objective(**doc.get("objective", {})),
        stats=SolverStats(**doc["stats"]) if "stats" in doc else SolverStats("restored", 0.0, "none"),
        reasons={k: tuple(v) for k, v in doc.get("reasons", {}).items()},
        reason_codes={k: tuple((c[0], c[1]) for c in v) for k, v in doc.get("reason_codes", {}).items()},
    )
