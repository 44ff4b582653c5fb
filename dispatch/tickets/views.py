"""Ticket read models: rows turned into `TicketOut` with their related records loaded in bulk."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatch.core import texts
from dispatch.core.geo import latlon
from dispatch.customers.models import Customer, Equipment, Site
from dispatch.devices.models import Alarm
from dispatch.domain import sla as sla_rules
from dispatch.domain.policy import Policy
from dispatch.tickets.models import Ticket, TicketReport
from dispatch.tickets.schemas import (
    EquipmentOut,
    GradeReasonOut,
    NextClockOut,
    PartyOut,
    SiteOut,
    TicketOut,
)
from dispatch.users.models import User
from dispatch.workforce.models import Technician


def _by_id(session: Session, model, ids: set[int]) -> dict[int, object]:  # type: ignore[no-untyped-def]
    ids.discard(None)  # type: ignore[arg-type]
    if not ids:
        return {}
    return {row.id: row for row in session.scalars(select(model).where(model.id.in_(ids)))}


def _counts(session: Session, column, ids: list[int]) -> dict[int, int]:  # type: ignore[no-untyped-def]
    if not ids:
        return {}
    rows = session.execute(select(column, func.count()).where(column.in_(ids)).group_by(column))
    return {k: v for k, v in rows}


def clocks_of(ticket: Ticket) -> dict[str, datetime | None]:
    """The ticket's pending clocks for `next_clock`: met clocks are None."""
    clocks: dict[str, datetime | None] = {}
    clocks["on_site"] = ticket.due_on_site_at if ticket.on_site_at is None and ticket.closed_at is None else None
    for name, value in (ticket.deadlines or {}).items():
        if value and not name.endswith("_done_at"):
            done = (ticket.deadlines or {}).get(name.replace("_due_at", "_done_at"))
            clocks[name.removesuffix("_due_at")] = None if done else datetime.fromisoformat(value)
    if ticket.closed_at is not None:
        return {}
    return clocks


def ticket_views(
    session: Session,
    tickets: Sequence[Ticket],
    now: datetime,
    *,
    locale: str | None = None,
    policy: Policy | None = None,
) -> list[TicketOut]:
    customers = _by_id(session, Customer, {t.customer_id for t in tickets})
    sites = _by_id(session, Site, {t.site_id for t in tickets})
    units = _by_id(session, Equipment, {t.equipment_id for t in tickets})
    techs = _by_id(session, Technician, {t.assigned_technician_id for t in tickets})
    users = _by_id(session, User, {t.first_responder_id for t in tickets})
    ids = [t.id for t in tickets]
    alarms = _counts(session, Alarm.ticket_id, ids)
    reports = _counts(session, TicketReport.ticket_id, ids)
    related: dict[int, list[int]] = {}
    if ids:
        for child, parent in session.execute(
            select(Ticket.id, Ticket.related_ticket_id).where(Ticket.related_ticket_id.in_(ids))
        ):
            related.setdefault(parent, []).append(child)
    out = []
    for t in tickets:
        site = sites.get(t.site_id)
        unit = units.get(t.equipment_id)
        customer = customers.get(t.customer_id)
        tech = techs.get(t.assigned_technician_id)
        responder = users.get(t.first_responder_id)
        clock = sla_rules.next_clock(clocks_of(t), now)
        point = latlon(site.location) if site is not None else None
        out.append(
            TicketOut(
                id=t.id,
                status=t.status,
                grade=t.grade,
                grade_reasons=[GradeReasonOut(**r) for r in texts.grade_reasons(t.grade_reasons, locale, policy)],
                grade_overridden=t.grade_overridden,
                category=t.category,
                nature=t.nature,
                channel=t.channel,
                symptom=t.symptom,
                location_detail=t.location_detail,
                working_condition=t.working_condition,
                impact=t.impact,
                special_request=t.special_request,
                reported_serial=t.reported_serial,
                customer=PartyOut(id=customer.id, name=customer.name) if customer else None,
                site=SiteOut(id=site.id, name=site.name, region=site.region, address=site.address, **point)
                if site is not None and point
                else None,
                equipment=EquipmentOut(
                    id=unit.id, equipment_type=unit.equipment_type, model=unit.model, serial_number=unit.serial_number
                )
                if unit is not None
                else None,
                reported_at=t.reported_at,
                due_on_site_at=t.due_on_site_at,
                deadlines={"on_site_due_at": t.due_on_site_at, **{k: v for k, v in (t.deadlines or {}).items()}},
                next_clock=NextClockOut(
                    name=clock.name, due_at=clock.due_at, seconds_left=clock.seconds_left, breached=clock.breached
                )
                if clock
                else None,
                at_risk=t.at_risk,
                eta=t.eta_at,
                technician=PartyOut(id=tech.id, name=tech.name) if tech else None,
                first_responder=PartyOut(id=responder.id, name=responder.full_name) if responder else None,
                alarm_count=alarms.get(t.id, 0),
                report_count=reports.get(t.id, 0),
                related_ticket_id=t.related_ticket_id,
                related_tickets=sorted(related.get(t.id, [])),
                on_site_at=t.on_site_at,
                resolved_at=t.resolved_at,
                closed_at=t.closed_at,
                closure_note=t.closure_note,
            )
        )
    return out
