"""Reads for the phone app (never commit): its configuration, the day's drive home, whose jobs changed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.core.geo import latlon
from dispatch.core.texts import word
from dispatch.core.types import EquipmentType, Grade, TicketStatus, VisitStatus
from dispatch.domain.lifecycle import VISIT_TRANSITIONS
from dispatch.domain.policy import IMPACT_FACTS
from dispatch.plans.service import live_plan
from dispatch.tickets.models import Visit
from dispatch.workforce.models import Depot, Technician
from technician_api.jobs.queries import ACTIVE
from technician_api.jobs.service import SIGNATURE_REFUSED, technician_actions
from technician_api.mobile.schemas import AppTexts, DayOut, PlaceOut


def lifecycle() -> tuple[dict[str, dict[str, str]], dict[str, list[str]]]:
    """The technician's part of the visit lifecycle (one table, the domain's), for the app to move a job
    on while offline: per status the events it may send and the status each leads to."""
    actions = {s.value: technician_actions(s.value) for s in VisitStatus if s.value != "reassigned"}
    transitions: dict[str, dict[str, str]] = {}
    for (state, action), target in VISIT_TRANSITIONS.items():
        if action.value in actions.get(state.value, []):
            transitions.setdefault(state.value, {})[action.value] = target.value
    # Recording the customer's refusal to sign keeps the job completed.
    actions["completed"] = [*actions.get("completed", []), SIGNATURE_REFUSED]
    transitions.setdefault("completed", {})[SIGNATURE_REFUSED] = "completed"
    return transitions, actions


def texts(locale: str) -> AppTexts:
    all_actions = sorted({a for s in VisitStatus for a in technician_actions(s.value)} | {SIGNATURE_REFUSED})
    return AppTexts(
        status={s: word("status", s, locale) for s in {*VisitStatus, *TicketStatus}},
        action={a: word("action", a, locale) for a in all_actions},
        grade={g: word("grade", g, locale) for g in Grade},
        impact={f: word("grade.reason", f, locale) for f in IMPACT_FACTS},
        equipment_type={e: word("equipment", e, locale) for e in EquipmentType},
    )


def home_of(session: Session, technician_id: int) -> PlaceOut | None:
    depot = session.scalar(
        select(Depot).join(Technician, Technician.home_depot_id == Depot.id).where(Technician.id == technician_id)
    )
    point = latlon(depot.location) if depot is not None else None
    if depot is None or point is None:
        return None
    return PlaceOut(name=depot.name, lat=point["lat"], lon=point["lon"])


def _when(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def day_of(session: Session, technician_id: int, now: datetime) -> DayOut:
    """The drive home of the technician's current route in the live plan, when the plan carries one
    (`home_at`: the planner ends the day at the home base); otherwise only where home is."""
    home = home_of(session, technician_id)
    plan = live_plan(session)
    if plan is None:
        return DayOut(home=home)
    mine = [r for r in (plan.document or {}).get("routes", []) if str(r.get("technician_id")) == str(technician_id)]
    ahead = [r for r in mine if (_when(r.get("home_at")) or now) >= now and r.get("stops")]
    if not ahead:
        return DayOut(home=home, plan_id=plan.id)
    route = min(ahead, key=lambda r: _when(r.get("start_at")) or now)
    travel = route.get("home_travel_s")
    return DayOut(
        home=home,
        return_at=_when(route.get("home_at")),
        travel_home_s=int(travel) if isinstance(travel, int | float) and travel > 0 else None,
        plan_id=plan.id,
    )


def active_ticket_ids(session: Session, technician_id: int) -> set[int]:
    """Tickets of the technician's jobs still to do or in progress (what a change must touch to matter)."""
    return set(
        session.scalars(select(Visit.ticket_id).where(Visit.technician_id == technician_id, Visit.status.in_(ACTIVE)))
    )
