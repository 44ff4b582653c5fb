"""Read models behind the board: the queue, the per-technician schedule and the map. Queries only; never commit.

Every function is bounded (limit/offset with caps, or a hard cap reported as `truncated`).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select, true
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.sql.selectable import LateralFromClause

from dispatch.core import texts
from dispatch.core.i18n import gettext as _
from dispatch.core.types import OPEN_TICKET_STATUSES, Grade, TicketStatus, VisitStatus
from dispatch.customers.models import Customer, Equipment, Site
from dispatch.devices.models import Alarm
from dispatch.tickets.models import Ticket, Visit
from dispatch.tickets.views import department_notice_at, next_clock_out
from dispatch.workforce.models import Depot, Technician, TechnicianShift

ACTIVE_VISIT = (
    VisitStatus.planned,
    VisitStatus.assigned,
    VisitStatus.accepted,
    VisitStatus.en_route,
    VisitStatus.on_site,
    VisitStatus.paused,
)
IN_PROGRESS_VISIT = (VisitStatus.en_route, VisitStatus.on_site)
GRADE_ORDER = case({Grade.MAJOR.value: 0, Grade.SERIOUS.value: 1, Grade.GENERAL.value: 2}, value=Ticket.grade)
MAP_SITE_CAP = 3000
SIDE_LIST_CAP = 100


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _current_visit() -> LateralFromClause:
    """Lateral subquery: the ticket's newest active visit (technician and plan ETA)."""
    return (
        select(Visit.id, Visit.technician_id, Visit.planned_arrival_at)
        .where(Visit.ticket_id == Ticket.id, Visit.status.in_(ACTIVE_VISIT))
        .order_by(Visit.id.desc())
        .limit(1)
        .lateral("cv")
    )


def _filtered(
    *,
    grade: Grade | None = None,
    statuses: list[TicketStatus] | None = None,
    region: str | None = None,
    equipment_type: str | None = None,
    channel: str | None = None,
    q: str | None = None,
    at_risk: bool | None = None,
    due_before: datetime | None = None,
) -> Select[Any]:
    query = (
        select(Ticket.id)
        .select_from(Ticket)
        .outerjoin(Site, Site.id == Ticket.site_id)
        .outerjoin(Customer, Customer.id == Ticket.customer_id)
        .outerjoin(Equipment, Equipment.id == Ticket.equipment_id)
    )
    wanted = [s for s in (statuses or []) if s in OPEN_TICKET_STATUSES] or list(OPEN_TICKET_STATUSES)
    query = query.where(Ticket.status.in_(wanted))
    if grade is not None:
        query = query.where(Ticket.grade == grade)
    if region:
        query = query.where(Site.region == region)
    if equipment_type:
        query = query.where(Equipment.equipment_type == equipment_type)
    if channel:
        query = query.where(Ticket.channel == channel)
    if due_before is not None:
        query = query.where(Ticket.due_on_site_at < due_before)
    if at_risk is not None:
        query = query.where(Ticket.at_risk.is_(at_risk))
    if q:
        pattern = f"%{_escape_like(q.strip())}%"
        query = query.where(
            or_(
                Customer.name.ilike(pattern, escape="\\"),
                Site.name.ilike(pattern, escape="\\"),
                Site.address.ilike(pattern, escape="\\"),
                Equipment.serial_number.ilike(pattern, escape="\\"),
                Ticket.reported_serial.ilike(pattern, escape="\\"),
                Ticket.reporter_name.ilike(pattern, escape="\\"),
            )
        )
    return query


_QUEUE_COLUMNS = (
    Ticket.id,
    Ticket.status,
    Ticket.grade,
    Ticket.grade_reasons,
    Ticket.category,
    Ticket.nature,
    Ticket.channel,
    Ticket.symptom,
    Ticket.reported_at,
    Ticket.due_on_site_at,
    Ticket.deadlines,
    Ticket.at_risk,
    Ticket.on_site_at,
    Ticket.closed_at,
    Ticket.related_ticket_id,
)


def _queue_rows(session: Session, ids: Any, *, now: datetime, limit: int, offset: int, per_grade: bool) -> list[Any]:
    """Queue items for the ticket ids in `ids`: one page overall, or the first `limit` of each grade."""
    cv = _current_visit()
    alarms = select(func.count(Alarm.id)).where(Alarm.ticket_id == Ticket.id).correlate(Ticket).scalar_subquery()
    columns = [
        *_QUEUE_COLUMNS,
        Customer.id.label("customer_id"),
        Customer.name.label("customer_name"),
        Site.id.label("site_id"),
        Site.name.label("site_name"),
        Site.region.label("site_region"),
        Site.address.label("site_address"),
        _lat(Site.location).label("site_lat"),
        _lon(Site.location).label("site_lon"),
        Equipment.id.label("equipment_id"),
        Equipment.equipment_type,
        Equipment.model,
        Equipment.serial_number,
        func.coalesce(Ticket.eta_at, cv.c.planned_arrival_at).label("eta"),
        Technician.id.label("technician_id"),
        Technician.name.label("technician_name"),
        alarms.label("alarm_count"),
        department_notice_at().label("department_notified_at"),
    ]
    order = (GRADE_ORDER, Ticket.due_on_site_at, Ticket.id)
    # Choose the page's ids first (cheap: index columns only), then fetch details for just those rows.
    if per_grade:
        rank = func.row_number().over(partition_by=Ticket.grade, order_by=(Ticket.due_on_site_at, Ticket.id))
        ranked = select(Ticket.id, rank.label("rank")).join(ids, ids.c.id == Ticket.id).subquery()
        page = select(ranked.c.id).where(ranked.c.rank <= limit).subquery()
    else:
        page = (
            select(Ticket.id).join(ids, ids.c.id == Ticket.id).order_by(*order).limit(limit).offset(offset).subquery()
        )
    query = (
        select(*columns)
        .join(page, page.c.id == Ticket.id)
        .outerjoin(Site, Site.id == Ticket.site_id)
        .outerjoin(Customer, Customer.id == Ticket.customer_id)
        .outerjoin(Equipment, Equipment.id == Ticket.equipment_id)
        .outerjoin(cv, true())
        .outerjoin(Technician, Technician.id == func.coalesce(Ticket.assigned_technician_id, cv.c.technician_id))
        .order_by(*order)
    )
    return list(session.execute(query))


def _item(r: Any, now: datetime) -> dict[str, Any]:
    return {
        "id": r.id,
        "status": r.status,
        "grade": r.grade,
        "grade_reasons": r.grade_reasons or [],
        "category": r.category,
        "nature": r.nature,
        "channel": r.channel,
        "symptom": r.symptom,
        "customer": {"id": r.customer_id, "name": r.customer_name} if r.customer_id is not None else None,
        "site": (
            {
                "id": r.site_id,
                "name": r.site_name,
                "region": r.site_region,
                "address": r.site_address,
                "lat": r.site_lat,
                "lon": r.site_lon,
            }
            if r.site_id is not None
            else None
        ),
        "equipment": (
            {
                "id": r.equipment_id,
                "equipment_type": str(r.equipment_type),
                "model": r.model,
                "serial_number": r.serial_number,
            }
            if r.equipment_id is not None
            else None
        ),
        "reported_at": r.reported_at,
        "due_on_site_at": r.due_on_site_at,
        "deadlines": r.deadlines or {},
        "next_clock": next_clock_out(
            status=r.status,
            due_on_site_at=r.due_on_site_at,
            on_site_at=r.on_site_at,
            closed_at=r.closed_at,
            deadlines=r.deadlines,
            now=now,
            department_notified_at=r.department_notified_at,
        ),
        "at_risk": bool(r.at_risk or (r.eta is not None and r.eta > r.due_on_site_at)),
        "eta": r.eta,
        "technician": {"id": r.technician_id, "name": r.technician_name} if r.technician_id is not None else None,
        "alarm_count": r.alarm_count or 0,
        "related_ticket_id": r.related_ticket_id,
    }


def _grade_counts(session: Session, filters: dict[str, Any]) -> dict[str, int]:
    base = _filtered(grade=None, **filters).subquery()
    counts = {g.value: 0 for g in Grade}
    for g, n in session.execute(
        select(Ticket.grade, func.count()).join(base, base.c.id == Ticket.id).group_by(Ticket.grade)
    ):
        counts[str(g)] = n
    return counts


def queue_page(
    session: Session,
    *,
    now: datetime,
    limit: int,
    offset: int,
    grade: Grade | None = None,
    statuses: list[TicketStatus] | None = None,
    region: str | None = None,
    equipment_type: str | None = None,
    channel: str | None = None,
    q: str | None = None,
    at_risk: bool | None = None,
    due_before: datetime | None = None,
) -> dict[str, Any]:
    """Open tickets by time left to the on-site deadline (least first), one page, with counts per grade."""
    filters = dict(
        statuses=statuses,
        region=region,
        equipment_type=equipment_type,
        channel=channel,
        q=q,
        at_risk=at_risk,
        due_before=due_before,
    )
    counts = _grade_counts(session, filters)
    total = counts[grade.value] if grade is not None else sum(counts.values())
    ids = _filtered(grade=grade, **filters).subquery()
    rows = _queue_rows(session, ids, now=now, limit=limit, offset=offset, per_grade=False)
    items = [_item(r, now) for r in rows]
    return {"items": items, "total": total, "limit": limit, "offset": offset, "counts": counts, "now": now}


def queue_groups(session: Session, *, now: datetime, limit: int, **filters: Any) -> dict[str, Any]:
    """The first page of every grade in one answer (the board's first paint and every filter change)."""
    counts = _grade_counts(session, filters)
    ids = _filtered(grade=None, **filters).subquery()
    groups: dict[str, list[dict[str, Any]]] = {g.value: [] for g in Grade}
    for r in _queue_rows(session, ids, now=now, limit=limit, offset=0, per_grade=True):
        groups[str(r.grade)].append(_item(r, now))
    return {
        "groups": {g: {"items": items, "total": counts[g], "limit": limit, "offset": 0} for g, items in groups.items()},
        "counts": counts,
        "now": now,
    }


def _live_plan_document(session: Session) -> dict[str, Any] | None:
    from dispatch.plans.models import Plan

    return session.scalar(select(Plan.document).where(Plan.status == "live").order_by(Plan.id.desc()).limit(1))


def schedule(
    session: Session,
    *,
    start: datetime,
    hours: int,
    limit: int,
    offset: int,
    now: datetime,
    locale: str | None = None,
    tz: str | None = None,
) -> dict[str, Any]:
    """Per technician: shifts and planned visits (travel + work blocks) in [start, start + hours).

    Visits carry the live plan's times (the planner writes them on the visits); the live plan's document adds
    the travel before each stop, the router's reasons, and why unassigned tickets could not be planned.
    """
    end = start + timedelta(hours=hours)
    doc = _live_plan_document(session) or {}
    stops = {str(st["ticket_id"]): st for r in doc.get("routes", []) for st in r.get("stops", [])}
    # The drive home after each route's last stop (plans from before issue 16 have none).
    home: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for r in doc.get("routes", []):
        if r.get("home_at") and r.get("stops"):
            back = datetime.fromisoformat(r["home_at"])
            left = back - timedelta(seconds=float(r.get("home_travel_s", 0)))
            if back > start and left < end:
                home[int(r["technician_id"])].append({"start": left, "end": back, "kind": r.get("end_kind") or ""})

    # The router's reasons in the reader's language (times in the policy's zone), English for old plans.
    def plan_reasons(key: str) -> list[str]:
        return texts.plan_reasons(doc, key, locale, tz)

    why_unassigned: dict[str, str] = {
        str(t): (plan_reasons(str(t)) or [why])[0] for t, why in doc.get("unassigned", [])
    }
    why_unassigned.update(
        {
            str(t): texts.known_text(why, "plan.not-plannable.", locale)
            for t, why in (doc.get("not_plannable", {}) or {}).items()
        }
    )
    total = session.scalar(select(func.count()).select_from(Technician).where(Technician.is_active)) or 0
    techs = list(
        session.scalars(
            select(Technician).where(Technician.is_active).order_by(Technician.id).limit(limit).offset(offset)
        )
    )
    tech_ids = [t.id for t in techs]
    shifts: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for s in session.scalars(
        select(TechnicianShift)
        .where(
            TechnicianShift.technician_id.in_(tech_ids),
            TechnicianShift.ends_at > start,
            TechnicianShift.starts_at < end,
        )
        .order_by(TechnicianShift.starts_at)
    ):
        shifts[s.technician_id].append({"start": s.starts_at, "end": s.ends_at, "on_call": s.on_call})

    visits: dict[int, list[dict[str, Any]]] = defaultdict(list)
    late: list[dict[str, Any]] = []
    when = func.coalesce(Visit.planned_start_at, Visit.arrived_at, Visit.planned_arrival_at)
    rows = session.execute(
        select(Visit, Ticket.grade, Ticket.due_on_site_at, Site.name)
        .join(Ticket, Ticket.id == Visit.ticket_id)
        .outerjoin(Site, Site.id == Ticket.site_id)
        .where(
            Visit.technician_id.in_(tech_ids),
            Visit.status.in_(ACTIVE_VISIT),
            or_(Visit.status.in_(IN_PROGRESS_VISIT), and_(when >= start - timedelta(hours=12), when < end)),
        )
        .order_by(Visit.technician_id, when, Visit.id)
    ).all()
    for v, grade, due, site_name in rows:
        in_progress = v.status in IN_PROGRESS_VISIT
        eta = v.arrived_at or v.planned_arrival_at
        start_at = v.arrived_at or v.planned_start_at or v.planned_arrival_at
        end_at = v.planned_end_at or (start_at + timedelta(minutes=v.service_minutes) if start_at else None)
        is_late = eta is not None and eta > due
        stop = stops.get(str(v.ticket_id))
        travel_from = v.departed_at or v.planned_departure_at
        if travel_from is None and stop is not None and eta is not None and stop.get("travel_s"):
            travel_from = eta - timedelta(seconds=float(stop["travel_s"]))
        block = {
            "visit_id": v.id,
            "ticket_id": v.ticket_id,
            "grade": grade,
            "status": v.status,
            "site_name": site_name,
            "pinned": v.pinned,
            "travel_from": travel_from,
            "reasons": plan_reasons(str(v.ticket_id))[:5],
            "start": start_at,
            "end": end_at,
            "eta": eta,
            "due_at": due,
            "late": is_late,
            "in_progress": in_progress,
        }
        visits[v.technician_id].append(block)
        if is_late and len(late) < SIDE_LIST_CAP:
            minutes = int((eta - due).total_seconds() // 60)
            late.append(
                {
                    "ticket_id": v.ticket_id,
                    "visit_id": v.id,
                    "grade": grade,
                    "site_name": site_name,
                    "due_at": due,
                    "reason": _("board.side.late", locale, late=texts.duration(minutes * 60, locale)),
                }
            )

    has_visit = select(Visit.id).where(
        Visit.ticket_id == Ticket.id, Visit.status.in_(ACTIVE_VISIT), Visit.technician_id.is_not(None)
    )
    unassigned = [
        {
            "ticket_id": t_id,
            "visit_id": None,
            "grade": grade,
            "site_name": site_name,
            "due_at": due,
            "reason": why_unassigned.get(str(t_id))
            or (_("board.side.breached", locale) if due < now else _("board.side.waiting", locale)),
        }
        for t_id, grade, due, site_name in session.execute(
            select(Ticket.id, Ticket.grade, Ticket.due_on_site_at, Site.name)
            .outerjoin(Site, Site.id == Ticket.site_id)
            .where(Ticket.status.in_(list(OPEN_TICKET_STATUSES)), ~has_visit.exists())
            .order_by(GRADE_ORDER, Ticket.due_on_site_at)
            .limit(SIDE_LIST_CAP)
        )
    ]
    return {
        "start": start,
        "end": end,
        "rows": [
            {
                "technician": {"id": t.id, "name": t.name},
                "skills": list(t.skills),
                "depot_id": t.home_depot_id,
                "shifts": shifts.get(t.id, []),
                "visits": visits.get(t.id, []),
                "home": home.get(t.id, []),
            }
            for t in techs
        ],
        "total_technicians": total,
        "limit": limit,
        "offset": offset,
        "unassigned": unassigned,
        "late": late,
        "source": "live plan" if doc else "visits",
    }


def _lat(col: ColumnElement[Any] | InstrumentedAttribute[Any]) -> ColumnElement[float]:
    return func.ST_Y(func.ST_GeomFromWKB(func.ST_AsBinary(col)))


def _lon(col: ColumnElement[Any] | InstrumentedAttribute[Any]) -> ColumnElement[float]:
    return func.ST_X(func.ST_GeomFromWKB(func.ST_AsBinary(col)))


def map_data(session: Session, *, start: datetime, end: datetime) -> dict[str, Any]:
    """Sites with open tickets (worst grade), technicians' last positions and today's routes, depots."""
    worst = func.min(GRADE_ORDER)
    site_rows = session.execute(
        select(
            Site.id,
            Site.name,
            _lat(Site.location),
            _lon(Site.location),
            worst,
            func.count(Ticket.id),
            func.array_agg(Ticket.id),
        )
        .join(Ticket, Ticket.site_id == Site.id)
        .where(Ticket.status.in_(list(OPEN_TICKET_STATUSES)))
        .group_by(Site.id)
        .order_by(worst, Site.id)
        .limit(MAP_SITE_CAP + 1)
    ).all()
    grades = [Grade.MAJOR, Grade.SERIOUS, Grade.GENERAL]
    sites = [
        {
            "site_id": r[0],
            "name": r[1],
            "lat": r[2],
            "lon": r[3],
            "grade": grades[r[4]],
            "tickets": r[5],
            "ticket_ids": sorted(r[6])[:20],
        }
        for r in site_rows[:MAP_SITE_CAP]
    ]
    depot_pos = {
        d_id: (lat, lon)
        for d_id, lat, lon in session.execute(select(Depot.id, _lat(Depot.location), _lon(Depot.location)))
    }
    routes: dict[int, list[list[float]]] = defaultdict(list)
    when = func.coalesce(Visit.planned_start_at, Visit.arrived_at, Visit.planned_arrival_at)
    for tech_id, lat, lon in session.execute(
        select(Visit.technician_id, _lat(Site.location), _lon(Site.location))
        .join(Ticket, Ticket.id == Visit.ticket_id)
        .join(Site, Site.id == Ticket.site_id)
        .where(
            Visit.technician_id.is_not(None),
            Visit.status.in_(ACTIVE_VISIT),
            or_(Visit.status.in_(IN_PROGRESS_VISIT), and_(when >= start, when < end)),
        )
        .order_by(Visit.technician_id, when, Visit.id)
        .limit(5000)
    ):
        routes[tech_id].append([round(lat, 6), round(lon, 6)])
    techs = []
    for t_id, name, lat, lon, at, depot_id in session.execute(
        select(
            Technician.id,
            Technician.name,
            _lat(Technician.last_position),
            _lon(Technician.last_position),
            Technician.last_position_at,
            Technician.home_depot_id,
        )
        .where(Technician.is_active)
        .order_by(Technician.id)
        .limit(1000)
    ):
        here = [lat, lon] if lat is not None else list(depot_pos.get(depot_id, (None, None)))
        if here[0] is None:
            continue
        route = [here, *routes.get(t_id, [])] if routes.get(t_id) else []
        techs.append({"id": t_id, "name": name, "lat": here[0], "lon": here[1], "at": at, "route": route})
    depots = [
        {"id": d.id, "name": d.name, "kind": d.kind, "lat": depot_pos[d.id][0], "lon": depot_pos[d.id][1]}
        for d in session.scalars(select(Depot).order_by(Depot.id).limit(500))
    ]
    return {"sites": sites, "technicians": techs, "depots": depots, "truncated": len(site_rows) > MAP_SITE_CAP}
