"""Ticket read models: rows turned into `TicketOut` with their related records loaded in bulk."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ScalarSelect, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from dispatch.audit.models import AuditEntry
from dispatch.core import texts
from dispatch.core.geo import latlon
from dispatch.core.types import FINISHED_TICKET_STATUSES, TicketStatus
from dispatch.customers.models import Customer, Equipment, Site
from dispatch.devices.models import Alarm
from dispatch.domain import sla as sla_rules
from dispatch.domain.escalation import DEPARTMENT_AUDIENCE
from dispatch.domain.policy import Policy
from dispatch.escalation.models import EscalationEvent
from dispatch.tickets.models import Ticket, TicketReport
from dispatch.tickets.schemas import (
    ClockOut,
    EquipmentOut,
    GradeReasonOut,
    NextClockOut,
    PartyOut,
    SiteOut,
    TicketOut,
)
from dispatch.users.models import User
from dispatch.workforce.models import Technician


def _by_id(session: Session, model: Any, ids: set[int | None]) -> dict[int, Any]:
    ids.discard(None)
    if not ids:
        return {}
    return {row.id: row for row in session.scalars(select(model).where(model.id.in_(ids)))}


def _counts(session: Session, column: InstrumentedAttribute[Any], ids: list[int]) -> dict[int, int]:
    if not ids:
        return {}
    rows = session.execute(select(column, func.count()).where(column.in_(ids)).group_by(column))
    return {k: v for k, v in rows}


def clocks_of(
    *,
    status: TicketStatus,
    due_on_site_at: datetime,
    on_site_at: datetime | None,
    closed_at: datetime | None,
    deadlines: dict[str, Any] | None,
    department_notified_at: datetime | None = None,
) -> dict[str, datetime | None]:
    """The ticket's clocks (met ones None) from its columns and when its department was notified (the escalation
    ladder's notice, `department_notice_at`): the tickets API, the board's queue and the worker all call this."""
    return sla_rules.pending_clocks(
        due_on_site_at=due_on_site_at,
        on_site_at=on_site_at,
        closed=closed_at is not None or status in FINISHED_TICKET_STATUSES,
        deadlines=deadlines,
        met={DEPARTMENT_CLOCK: department_notified_at},
    )


DEPARTMENT_CLOCK = "department_notify"


def department_notice_at() -> ScalarSelect[datetime]:
    """SQL (correlated to Ticket): when the ticket's department was first notified by its escalation ladder."""
    return (
        select(func.min(EscalationEvent.fired_at))
        .where(EscalationEvent.ticket_id == Ticket.id, EscalationEvent.audience == DEPARTMENT_AUDIENCE)
        .correlate(Ticket)
        .scalar_subquery()
    )


def _department_notices(session: Session, ids: list[int]) -> dict[int, datetime]:
    if not ids:
        return {}
    rows = session.execute(
        select(EscalationEvent.ticket_id, func.min(EscalationEvent.fired_at))
        .where(EscalationEvent.ticket_id.in_(ids), EscalationEvent.audience == DEPARTMENT_AUDIENCE)
        .group_by(EscalationEvent.ticket_id)
    )
    return {t: at for t, at in rows}


def next_clock_out(
    *,
    status: TicketStatus,
    due_on_site_at: datetime,
    on_site_at: datetime | None,
    closed_at: datetime | None,
    deadlines: dict[str, Any] | None,
    now: datetime,
    department_notified_at: datetime | None = None,
) -> NextClockOut | None:
    """The one "next clock" every surface shows: the earliest clock still to meet, breached when past due."""
    clocks = clocks_of(
        status=status,
        due_on_site_at=due_on_site_at,
        on_site_at=on_site_at,
        closed_at=closed_at,
        deadlines=deadlines,
        department_notified_at=department_notified_at,
    )
    clock = sla_rules.next_clock(clocks, now)
    if clock is None:
        return None
    return NextClockOut(name=clock.name, due_at=clock.due_at, seconds_left=clock.seconds_left, breached=clock.breached)


def _completions(session: Session, ids: list[int]) -> dict[tuple[int, str], tuple[str | None, str | None]]:
    """(ticket, clock) -> (who, note) of the people who completed clocks (from the audit log)."""
    if not ids:
        return {}
    rows = session.execute(
        select(AuditEntry.ticket_id, AuditEntry.data, AuditEntry.reason, User.full_name, AuditEntry.actor)
        .outerjoin(User, User.id == AuditEntry.actor_user_id)
        .where(AuditEntry.ticket_id.in_(ids), AuditEntry.action == "clock_completed")
        .order_by(AuditEntry.id)
    )
    return {(t, (data or {}).get("clock", "")): (name or actor, reason) for t, data, reason, name, actor in rows}


def clock_list(
    t: Ticket,
    now: datetime,
    done: dict[tuple[int, str], tuple[str | None, str | None]],
    department_notified_at: datetime | None = None,
) -> list[ClockOut]:
    """Every clock the ticket has had, in due order: due, met when and by whom, breached or not."""
    stored = dict(t.deadlines or {})
    if department_notified_at is not None and not stored.get(DEPARTMENT_CLOCK + sla_rules.DONE_SUFFIX):
        stored[DEPARTMENT_CLOCK + sla_rules.DONE_SUFFIX] = department_notified_at.isoformat()
    items: list[ClockOut] = []
    arrival = t.on_site_at
    items.append(
        ClockOut(
            name="on_site",
            due_at=t.due_on_site_at,
            done_at=arrival,
            done_by=None,
            note=None,
            breached=(arrival or now) > t.due_on_site_at
            and (arrival is not None or (t.closed_at is None and t.status not in FINISHED_TICKET_STATUSES)),
            completable=False,
        )
    )
    for key, value in stored.items():
        if not key.endswith(sla_rules.DUE_SUFFIX) or not value:
            continue
        name = key.removesuffix(sla_rules.DUE_SUFFIX)
        due = datetime.fromisoformat(value)
        done_raw = stored.get(name + sla_rules.DONE_SUFFIX)
        done_at = datetime.fromisoformat(done_raw) if done_raw else None
        finished = t.closed_at is not None or t.status in FINISHED_TICKET_STATUSES
        who, note = done.get((t.id, name), (None, None))
        items.append(
            ClockOut(
                name=name,
                due_at=due,
                done_at=done_at,
                done_by=who,
                note=note,
                breached=(done_at > due) if done_at else (not finished and now > due),
                completable=name in sla_rules.COMPLETABLE_CLOCKS and done_at is None and not finished,
            )
        )
    items.sort(key=lambda c: c.due_at)
    return items


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
    done = _completions(session, ids)
    notified = _department_notices(session, ids)
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
        clock = next_clock_out(
            status=t.status,
            due_on_site_at=t.due_on_site_at,
            on_site_at=t.on_site_at,
            closed_at=t.closed_at,
            deadlines=t.deadlines,
            now=now,
            department_notified_at=notified.get(t.id),
        )
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
                reported_model=t.reported_model,
                reported_manufacture_date=t.reported_manufacture_date,
                reported_equipment_type=t.reported_equipment_type,
                customer=PartyOut(id=customer.id, name=customer.name) if customer else None,
                site=SiteOut(id=site.id, name=site.name, region=site.region, address=site.address, **point)
                if site is not None and point
                else None,
                equipment=EquipmentOut(
                    id=unit.id,
                    equipment_type=unit.equipment_type,
                    model=unit.model,
                    serial_number=unit.serial_number,
                    manufacture_date=unit.manufacture_date,
                )
                if unit is not None
                else None,
                reported_at=t.reported_at,
                due_on_site_at=t.due_on_site_at,
                deadlines={"on_site_due_at": t.due_on_site_at, **{k: v for k, v in (t.deadlines or {}).items()}},
                next_clock=clock,
                clocks=clock_list(t, now, done, notified.get(t.id)),
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
