"""Read side of the technician app: the job list and one job, in a constant number of queries.

A page is three queries whatever its size: visits joined to ticket, site and equipment; the last few
tickets of each piece of equipment (a window function); the equipment's raised alarms. Queries never
commit.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from geoalchemy2.shape import to_shape
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from dispatch.core.errors import NotFound
from dispatch.core.types import VisitStatus
from dispatch.customers.models import Equipment, Site
from dispatch.devices.models import Alarm
from dispatch.tickets.models import Ticket, Visit
from technician_api.confirmation.models import Confirmation, ConfirmationLink
from technician_api.jobs.schemas import AlarmOut, ContactOut, EquipmentOut, JobOut, PastTicketOut, SiteOut
from technician_api.jobs.service import SIGNATURE_REFUSED, technician_actions

#: Jobs the technician still has to do or is doing.
ACTIVE = (VisitStatus.assigned, VisitStatus.accepted, VisitStatus.en_route, VisitStatus.on_site, VisitStatus.paused)
IN_PROGRESS = (VisitStatus.en_route, VisitStatus.on_site, VisitStatus.paused)
HISTORY_PER_EQUIPMENT = 5
SYMPTOM_CHARS = 280


def _base_query():  # type: ignore[no-untyped-def]
    return (
        select(Visit, Ticket, Site, Equipment)
        .join(Ticket, Ticket.id == Visit.ticket_id)
        .outerjoin(Site, Site.id == Ticket.site_id)
        .outerjoin(Equipment, Equipment.id == Ticket.equipment_id)
    )


def list_jobs(
    session: Session, *, technician_id: int, today_start: datetime, limit: int, offset: int
) -> tuple[list[JobOut], int]:
    """Today's and upcoming active jobs in route order (planned day, then route sequence), and the total."""
    where = (
        Visit.technician_id == technician_id,
        Visit.status.in_(ACTIVE),
        or_(
            Visit.planned_start_at.is_(None),
            Visit.planned_start_at >= today_start,
            Visit.status.in_(IN_PROGRESS),
        ),
    )
    day = func.date_trunc("day", Visit.planned_start_at)
    rows = session.execute(
        _base_query()
        .where(*where)
        .order_by(
            day.asc().nulls_last(),
            Visit.sequence.asc().nulls_last(),
            Visit.planned_start_at.asc().nulls_last(),
            Visit.id,
        )
        .limit(limit)
        .offset(offset)
    ).all()
    total = session.scalar(select(func.count()).select_from(Visit).where(*where)) or 0
    return _build(session, rows), total


def get_job(session: Session, *, technician_id: int, visit_id: int) -> JobOut:
    """One of the caller's jobs (any status); another technician's job is 404, never 403."""
    row = session.execute(_base_query().where(Visit.id == visit_id, Visit.technician_id == technician_id)).one_or_none()
    if row is None:
        raise NotFound(f"Job {visit_id} not found.")
    return _build(session, [row])[0]


def _build(session: Session, rows: list[Any]) -> list[JobOut]:
    equipment_ids = {eq.id for _v, _t, _s, eq in rows if eq is not None}
    ticket_ids = {t.id for _v, t, _s, _e in rows}
    history = _history(session, equipment_ids)
    alarms = _alarms(session, equipment_ids)
    refusable = _refusable(session, [v.id for v, *_ in rows if v.status is VisitStatus.completed])
    jobs = []
    for visit, ticket, site, unit in rows:
        site_out = None
        if site is not None:
            shape = to_shape(site.location)
            site_out = SiteOut(
                id=site.id,
                name=site.name,
                address=site.address,
                lat=shape.y,
                lon=shape.x,
                timezone=site.timezone,
                access_hours=site.access_hours or {},
            )
        equipment_out = None
        if unit is not None:
            equipment_out = EquipmentOut(
                id=unit.id,
                equipment_type=unit.equipment_type.value,
                model=unit.model,
                serial_number=unit.serial_number,
                manufacture_date=unit.manufacture_date,
                history=[h for h in history.get(unit.id, []) if h.id not in ticket_ids][:HISTORY_PER_EQUIPMENT],
                open_alarms=alarms.get(unit.id, []),
            )
        actions = technician_actions(visit.status.value)
        if visit.id in refusable:
            actions.append(SIGNATURE_REFUSED)
        jobs.append(
            JobOut(
                id=visit.id,
                ticket_id=ticket.id,
                status=visit.status.value,
                ticket_status=ticket.status.value,
                grade=ticket.grade.value,
                sequence=visit.sequence,
                eta=visit.planned_arrival_at,
                planned_start_at=visit.planned_start_at,
                planned_end_at=visit.planned_end_at,
                due_on_site_at=ticket.due_on_site_at,
                symptom=ticket.symptom[:SYMPTOM_CHARS],
                working_condition=ticket.working_condition,
                special_request=ticket.special_request,
                site=site_out,
                contact=ContactOut(
                    name=(site.contact_name if site else None) or ticket.reporter_name,
                    phone=(site.contact_phone if site else None) or ticket.reporter_phone,
                ),
                equipment=equipment_out,
                arrival_outside_geofence=visit.arrival_outside_geofence,
                arrival_distance_m=visit.arrival_distance_m,
                allowed_actions=actions,
            )
        )
    return jobs


def _history(session: Session, equipment_ids: set[int]) -> dict[int, list[PastTicketOut]]:
    if not equipment_ids:
        return {}
    # One extra row per equipment, because the job's own ticket may be among the latest.
    rank = func.row_number().over(partition_by=Ticket.equipment_id, order_by=Ticket.reported_at.desc()).label("rank")
    inner = (
        select(
            Ticket.id,
            Ticket.equipment_id,
            Ticket.reported_at,
            Ticket.grade,
            Ticket.status,
            func.left(Ticket.symptom, SYMPTOM_CHARS).label("symptom"),
            Ticket.resolved_at,
            rank,
        )
        .where(Ticket.equipment_id.in_(equipment_ids))
        .subquery()
    )
    out: dict[int, list[PastTicketOut]] = {}
    for r in session.execute(select(inner).where(inner.c.rank <= HISTORY_PER_EQUIPMENT + 1).order_by(inner.c.rank)):
        out.setdefault(r.equipment_id, []).append(
            PastTicketOut(
                id=r.id,
                reported_at=r.reported_at,
                grade=str(r.grade),
                status=str(r.status),
                symptom=r.symptom,
                resolved_at=r.resolved_at,
            )
        )
    return out


def _alarms(session: Session, equipment_ids: set[int]) -> dict[int, list[AlarmOut]]:
    if not equipment_ids:
        return {}
    out: dict[int, list[AlarmOut]] = {}
    query = (
        select(Alarm)
        .where(Alarm.equipment_id.in_(equipment_ids), Alarm.state == "raised")
        .order_by(Alarm.received_at.desc())
        .limit(20 * len(equipment_ids))
    )
    for a in session.scalars(query):
        assert a.equipment_id is not None
        out.setdefault(a.equipment_id, []).append(
            AlarmOut(
                id=a.id,
                code=a.code,
                severity=a.severity,
                message=a.message,
                device_at=a.device_at,
                received_at=a.received_at,
            )
        )
    return out


def _refusable(session: Session, visit_ids: list[int]) -> set[int]:
    if not visit_ids:
        return set()
    signed = select(Confirmation.visit_id).where(Confirmation.visit_id.in_(visit_ids))
    return set(
        session.scalars(
            select(ConfirmationLink.visit_id).where(
                ConfirmationLink.visit_id.in_(visit_ids),
                ConfirmationLink.used_at.is_(None),
                ConfirmationLink.revoked_at.is_(None),
                ConfirmationLink.visit_id.not_in(signed),
            )
        )
    )


def today_start(now: datetime, tz: Any) -> datetime:
    """Midnight of `now`'s local date in the region's time zone (policy calendar), as aware UTC."""
    local = now.astimezone(tz)
    return local - timedelta(
        hours=local.hour, minutes=local.minute, seconds=local.second, microseconds=local.microsecond
    )
