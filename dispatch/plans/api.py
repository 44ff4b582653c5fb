from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from sqlalchemy import select

from dispatch.core import texts
from dispatch.core.auth import Principal, require_roles
from dispatch.core.db import DbSession
from dispatch.core.deps import AppPolicy, DbId, Now, RequestLocale
from dispatch.core.errors import NotFound
from dispatch.core.geo import latlon
from dispatch.core.types import Role
from dispatch.customers.models import Site
from dispatch.plans import service
from dispatch.plans.models import Plan
from dispatch.plans.schemas import DraftIn, MoveIn, MoveOut, PinIn, PlanOut, RouteOut, StopOut, UnassignedOut
from dispatch.tickets.models import Ticket
from dispatch.workforce.models import Technician

router = APIRouter(tags=["plans"])
Dispatcher = Annotated[Principal, require_roles(Role.dispatcher, Role.manager)]


def plan_view(session: DbSession, row: Plan, locale: str | None = None, tz: str | None = None) -> PlanOut:
    """The plan with its reasons in the reader's language (times in the policy's zone)."""
    doc: dict[str, Any] = row.document or {}
    routes = doc.get("routes", [])
    ticket_ids = {int(s["ticket_id"]) for r in routes for s in r["stops"]}
    ticket_ids |= {int(u[0]) for u in doc.get("unassigned", [])}
    tickets = {t.id: t for t in session.scalars(select(Ticket).where(Ticket.id.in_(ticket_ids)))} if ticket_ids else {}
    site_ids = {t.site_id for t in tickets.values() if t.site_id}
    sites = {s.id: s for s in session.scalars(select(Site).where(Site.id.in_(site_ids)))} if site_ids else {}
    names = dict(session.execute(select(Technician.id, Technician.name)).all())
    out_routes = []
    late = []
    for r in routes:
        stops = []
        for s in r["stops"]:
            tid = int(s["ticket_id"])
            ticket = tickets.get(tid)
            site = sites.get(ticket.site_id) if ticket and ticket.site_id else None
            point = latlon(site.location) if site else None
            if s["late_minutes"] > 0:
                late.append(tid)
            stops.append(
                StopOut(
                    ticket_id=tid,
                    grade=s["grade"],
                    arrival=s["arrival"],
                    start=s["start"],
                    end=s["end"],
                    deadline=s["deadline"],
                    travel_minutes=round(s["travel_s"] / 60, 1),
                    travel_km=round(s["travel_m"] / 1000, 2),
                    late_minutes=s["late_minutes"],
                    committed=s["committed"],
                    reasons=texts.plan_reasons(doc, s["visit_id"], locale, tz),
                    symptom=ticket.symptom if ticket else None,
                    site_name=site.name if site else None,
                    lat=point["lat"] if point else None,
                    lon=point["lon"] if point else None,
                )
            )
        tech = int(r["technician_id"])
        out_routes.append(
            RouteOut(
                technician_id=tech,
                technician_name=names.get(tech, ""),
                shift_index=r["shift_index"],
                start_at=r["start_at"],
                start_kind=r["start_kind"],
                stops=stops,
                end_kind=r.get("end_kind"),
                home_at=r.get("home_at"),
                home_travel_minutes=round(r.get("home_travel_s", 0) / 60, 1),
                home_travel_km=round(r.get("home_travel_m", 0) / 1000, 2),
            )
        )
    unassigned = [
        UnassignedOut(ticket_id=int(v), reason=(texts.plan_reasons(doc, v, locale, tz) or [why])[0])
        for v, why in doc.get("unassigned", [])
    ]
    unassigned += [
        UnassignedOut(ticket_id=int(v), reason=texts.known_text(why, "plan.not-plannable.", locale))
        for v, why in doc.get("not_plannable", {}).items()
    ]
    return PlanOut(
        id=row.id,
        kind=row.kind,
        status=row.status,
        created_at=row.created_at,
        computed_at=row.computed_at,
        based_on_plan_id=row.based_on_plan_id,
        reason=row.reason,
        fingerprint=row.fingerprint,
        routes=out_routes,
        unassigned=unassigned,
        late=late,
        objective=doc.get("objective", {}),
        stats=doc.get("stats", {}),
        diff=row.diff,
        error=row.error,
    )


@router.get("/plans/live", response_model=PlanOut, summary="The plan the field works to")
def get_live(session: DbSession, _who: Dispatcher, policy: AppPolicy, locale: RequestLocale) -> PlanOut:
    row = service.live_plan(session)
    if row is None:
        raise NotFound(
            "There is no live plan yet: it is made as soon as a ticket needs a technician.", key="error.plan.no-live"
        )
    return plan_view(session, row, locale, policy.calendar.timezone)


@router.post("/plans", response_model=PlanOut, status_code=202, summary="Ask for a full re-optimisation (a draft)")
def request_draft(
    body: DraftIn, session: DbSession, policy: AppPolicy, who: Dispatcher, locale: RequestLocale
) -> PlanOut:
    row = service.request_draft(
        session, user_id=who.user_id, reason=body.reason, time_limit=body.time_limit_seconds, policy=policy
    )
    return plan_view(session, row, locale, policy.calendar.timezone)


@router.get("/plans/{plan_id}", response_model=PlanOut, summary="A plan or draft, with its diff")
def get_plan(plan_id: DbId, session: DbSession, _who: Dispatcher, policy: AppPolicy, locale: RequestLocale) -> PlanOut:
    row = session.get(Plan, plan_id)
    if row is None:
        raise NotFound(f"Plan {plan_id} does not exist.", key="error.plan.not-found", params={"plan_id": plan_id})
    return plan_view(session, row, locale, policy.calendar.timezone)


@router.post("/plans/{plan_id}/apply", response_model=PlanOut, summary="Apply a draft (409 when stale)")
def apply_draft(
    plan_id: DbId, session: DbSession, policy: AppPolicy, now: Now, who: Dispatcher, locale: RequestLocale
) -> PlanOut:
    row = service.apply_draft(session, plan_id=plan_id, user_id=who.user_id, actor=who.actor, policy=policy, now=now)
    return plan_view(session, row, locale, policy.calendar.timezone)


@router.post("/plans/{plan_id}/discard", response_model=PlanOut, summary="Discard a draft")
def discard_draft(
    plan_id: DbId, session: DbSession, _who: Dispatcher, policy: AppPolicy, locale: RequestLocale
) -> PlanOut:
    row = service.discard_draft(session, plan_id=plan_id)
    return plan_view(session, row, locale, policy.calendar.timezone)


@router.post("/plans/validate-move", response_model=MoveOut, summary="Check a move: skills, shift, deadline effect")
def validate_move(
    body: MoveIn, session: DbSession, policy: AppPolicy, now: Now, _who: Dispatcher, locale: RequestLocale
) -> MoveOut:
    return MoveOut(
        **service.validate_move(
            session,
            policy=policy,
            ticket_id=body.ticket_id,
            technician_id=body.technician_id,
            now=now,
            start_at=body.start_at,
            locale=locale,
        )
    )


@router.post("/plans/pin", response_model=MoveOut, summary="Pin a ticket to a technician (validated), or unpin")
def pin(
    body: PinIn, session: DbSession, policy: AppPolicy, now: Now, who: Dispatcher, locale: RequestLocale
) -> MoveOut:
    return MoveOut(
        **service.pin(
            session,
            policy=policy,
            ticket_id=body.ticket_id,
            technician_id=body.technician_id,
            actor=who.actor,
            user_id=who.user_id,
            now=now,
            start_at=body.start_at,
            locale=locale,
        )
    )
