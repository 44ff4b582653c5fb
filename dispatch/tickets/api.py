from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request
from sqlalchemy import func, select

from dispatch.audit.models import AuditEntry
from dispatch.core import texts
from dispatch.core.auth import Principal, require_roles
from dispatch.core.db import DbSession
from dispatch.core.deps import AppPolicy, DbId, Now, RequestLocale
from dispatch.core.errors import NotFound
from dispatch.core.i18n import gettext as _
from dispatch.core.types import Channel, EquipmentType, Grade, Role, TicketStatus
from dispatch.devices.models import Alarm
from dispatch.escalation.models import EscalationEvent
from dispatch.notifications.models import Notification
from dispatch.tickets import service
from dispatch.tickets.models import Ticket, TicketReport
from dispatch.tickets.schemas import (
    ClockCompleteIn,
    ComplaintIn,
    ComplaintOut,
    IntakeOut,
    NatureIn,
    ReasonIn,
    RegradeIn,
    TicketOut,
    TicketPage,
    TimelineEntry,
)
from dispatch.tickets.views import ticket_views
from dispatch.visits.models import JobPhoto
from dispatch.workforce.models import Technician

router = APIRouter(tags=["tickets"])
Intake = Annotated[Principal, require_roles(Role.agent, Role.dispatcher)]
Dispatcher = Annotated[Principal, require_roles(Role.dispatcher, Role.manager)]
OfficeStaff = Annotated[Principal, require_roles(Role.agent, Role.dispatcher, Role.manager)]


@router.post("/complaints", response_model=ComplaintOut, status_code=201, summary="Record a complaint")
def create_complaint(
    request: Request,
    body: ComplaintIn,
    session: DbSession,
    policy: AppPolicy,
    now: Now,
    who: Intake,
    locale: RequestLocale,
) -> ComplaintOut:
    """Grade the complaint, set its deadlines and start its escalation ladder — or link it to the open ticket
    for the same equipment (same site for base stations) and say what is already being done."""
    result = service.open_complaint(
        session,
        policy=policy,
        now=now,
        actor=who.actor,
        actor_user_id=who.user_id,
        channel=body.channel,
        category=body.category,
        symptom=body.symptom,
        impact=body.impact,
        customer_id=body.customer_id,
        customer_name=body.customer.name if body.customer else None,
        customer_phone=body.customer.phone if body.customer else None,
        equipment_id=body.equipment_id,
        serial_number=body.equipment.serial_number if body.equipment else None,
        model=body.equipment.model if body.equipment else None,
        manufacture_date=body.equipment.manufacture_date if body.equipment else None,
        equipment_type=body.equipment.equipment_type if body.equipment else None,
        site_id=body.site_id,
        reporter_name=body.reporter_name,
        reporter_phone=body.reporter_phone,
        location_detail=body.location_detail,
        working_condition=body.working_condition,
        special_request=body.special_request,
        reported_at=body.reported_at,
        public_base_url=request.app.state.settings.public_base_url,
    )
    view = ticket_views(session, [result.ticket], now, locale=locale, policy=policy)[0]
    return ComplaintOut(
        **view.model_dump(),
        intake=IntakeOut(linked=result.linked, message=result.message(locale), report_id=result.report.id),
    )


@router.get("/tickets", response_model=TicketPage, summary="Tickets, open ones by default, by time left")
def list_tickets(
    session: DbSession,
    now: Now,
    _who: OfficeStaff,
    status: Annotated[list[TicketStatus] | None, Query(description="Repeat for several; default: open")] = None,
    grade: Annotated[list[Grade] | None, Query()] = None,
    due_before: Annotated[datetime | None, Query()] = None,
    region: Annotated[str | None, Query(max_length=80)] = None,
    equipment_type: Annotated[EquipmentType | None, Query()] = None,
    channel: Annotated[Channel | None, Query()] = None,
    at_risk: Annotated[bool | None, Query()] = None,
    q: Annotated[str | None, Query(max_length=100, description="Customer, site, serial or symptom")] = None,
    sort: Annotated[Literal["time_left", "reported_at", "-reported_at"], Query()] = "time_left",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
    *,
    policy: AppPolicy,
    locale: RequestLocale,
) -> TicketPage:
    query = service.list_tickets_query(
        statuses=status,
        grades=grade,
        due_before=due_before,
        region=region,
        equipment_type=equipment_type,
        channel=channel,
        at_risk=at_risk,
        q=q,
    )
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    order = {
        "time_left": (Ticket.due_on_site_at, Ticket.id),
        "reported_at": (Ticket.reported_at, Ticket.id),
        "-reported_at": (Ticket.reported_at.desc(), Ticket.id.desc()),
    }[sort]
    rows = session.scalars(query.order_by(*order).limit(limit).offset(offset)).all()
    views = ticket_views(session, rows, now, locale=locale, policy=policy)
    return TicketPage(items=views, total=total, limit=limit, offset=offset)


def _get(session: DbSession, ticket_id: int) -> Ticket:
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        raise NotFound(
            f"Ticket {ticket_id} does not exist.", key="error.ticket.not-found", params={"ticket_id": ticket_id}
        )
    return ticket


@router.get("/tickets/{ticket_id}", response_model=TicketOut, summary="One ticket")
def get_ticket(
    ticket_id: DbId, session: DbSession, now: Now, _who: OfficeStaff, policy: AppPolicy, locale: RequestLocale
) -> TicketOut:
    return ticket_views(session, [_get(session, ticket_id)], now, locale=locale, policy=policy)[0]


@router.post("/tickets/{ticket_id}/regrade", response_model=TicketOut, summary="Override the grade with a reason")
def regrade(
    ticket_id: DbId,
    body: RegradeIn,
    session: DbSession,
    policy: AppPolicy,
    now: Now,
    who: Dispatcher,
    locale: RequestLocale,
) -> TicketOut:
    ticket = service.regrade(
        session,
        policy=policy,
        ticket_id=ticket_id,
        grade=body.grade,
        reason=body.reason,
        actor=who.actor,
        actor_user_id=who.user_id,
        now=now,
    )
    return ticket_views(session, [ticket], now, locale=locale, policy=policy)[0]


@router.put(
    "/tickets/{ticket_id}/nature", response_model=TicketOut, summary="Classify: effective, communication, invalid"
)
def set_nature(
    ticket_id: DbId,
    body: NatureIn,
    session: DbSession,
    policy: AppPolicy,
    now: Now,
    who: Intake,
    locale: RequestLocale,
) -> TicketOut:
    ticket = service.set_nature(
        session,
        policy=policy,
        ticket_id=ticket_id,
        nature=body.nature,
        explanation=body.explanation,
        actor=who.actor,
        actor_user_id=who.user_id,
        now=now,
    )
    return ticket_views(session, [ticket], now, locale=locale, policy=policy)[0]


@router.post("/tickets/{ticket_id}/cancel", response_model=TicketOut, summary="Cancel with a reason")
def cancel(
    ticket_id: DbId,
    body: ReasonIn,
    session: DbSession,
    policy: AppPolicy,
    now: Now,
    who: Dispatcher,
    locale: RequestLocale,
) -> TicketOut:
    ticket = service.cancel(
        session,
        policy=policy,
        ticket_id=ticket_id,
        reason=body.reason,
        actor=who.actor,
        actor_user_id=who.user_id,
        now=now,
    )
    return ticket_views(session, [ticket], now, locale=locale, policy=policy)[0]


@router.post(
    "/tickets/{ticket_id}/clocks/{clock}/complete",
    response_model=TicketOut,
    summary="Complete a handling clock: report back, first responder told, follow-up verification",
)
def complete_clock(
    ticket_id: DbId,
    clock: Annotated[str, Path(max_length=40, description="report_back, first_responder or follow_up_verification")],
    body: ClockCompleteIn,
    session: DbSession,
    policy: AppPolicy,
    now: Now,
    who: OfficeStaff,
    locale: RequestLocale,
) -> TicketOut:
    """Records who met the clock and when, with a note, on the ticket and its timeline; the clock's escalation
    stops. 409 when the clock is not running yet (the job is not completed) or is already done."""
    ticket = service.complete_clock(
        session,
        policy=policy,
        ticket_id=ticket_id,
        clock=clock,
        note=body.note,
        actor=who.actor,
        actor_user_id=who.user_id,
        now=now,
    )
    return ticket_views(session, [ticket], now, locale=locale, policy=policy)[0]


def _technician_names(session: DbSession, audits: list[AuditEntry]) -> dict[int, str]:
    ids: set[int] = set()
    for a in audits:
        for key in ("from_technician", "to_technician", "technician_id"):
            value = (a.data or {}).get(key)
            if isinstance(value, int):
                ids.add(value)
    if not ids:
        return {}
    return {i: n for i, n in session.execute(select(Technician.id, Technician.name).where(Technician.id.in_(ids)))}


@router.get("/tickets/{ticket_id}/timeline", response_model=list[TimelineEntry], summary="Everything that happened")
def timeline(
    ticket_id: DbId,
    session: DbSession,
    _who: OfficeStaff,
    limit: Annotated[int, Query(ge=1, le=1000)] = 300,
    *,
    locale: RequestLocale,
) -> list[TimelineEntry]:
    """Titles are written in the reader's language; details are stored texts (people's words, alarm messages)."""
    _get(session, ticket_id)
    word = partial(texts.word, locale=locale)
    entries: list[TimelineEntry] = []
    audits = list(
        session.scalars(
            select(AuditEntry).where(AuditEntry.ticket_id == ticket_id).order_by(AuditEntry.id).limit(limit)
        )
    )
    names = _technician_names(session, audits)
    for a in audits:
        action = texts.audit_action(a.action, locale)
        moved = f"{word('status', a.from_status) or '—'} → {word('status', a.to_status)}"
        title = action if a.from_status == a.to_status else f"{action}: {moved}"
        data = a.data or {}
        if a.action == "visit_reassigned":
            # Every change of who goes reads as one, with the people's names (a board pin or the planner's move).
            title = _(
                "timeline.reassigned",
                locale,
                before=names.get(data.get("from_technician"), "—"),
                after=names.get(data.get("to_technician"), "—"),
            )
        elif a.action in ("assign", "pinned") and data.get("technician_id") in names:
            title = f"{title} · {names[data['technician_id']]}"
        entries.append(TimelineEntry(at=a.at, kind="audit", title=title, detail=a.reason, actor=a.actor, data=data))
    for n in session.scalars(
        select(Notification).where(Notification.ticket_id == ticket_id).order_by(Notification.id).limit(limit)
    ):
        entries.append(
            TimelineEntry(
                at=n.created_at,
                kind="notification",
                title=_(
                    "timeline.notification",
                    locale,
                    audience=word("audience", n.audience) if n.audience else (n.recipient or "—"),
                    channel=word("notice-channel", n.channel),
                ),
                detail=n.subject,
                data={"kind": n.kind, "channel": n.channel, "status": n.status},
            )
        )
    for p in session.scalars(select(JobPhoto).where(JobPhoto.ticket_id == ticket_id).order_by(JobPhoto.created_at)):
        entries.append(
            TimelineEntry(
                at=p.created_at,
                kind="photo",
                title=_("timeline.photo", locale),
                actor=f"user:{p.uploaded_by_user_id}" if p.uploaded_by_user_id else None,
                data={"photo_id": p.id, "visit_id": p.visit_id, "url": f"/api/v1/photos/{p.id}"},
            )
        )
    for r in session.scalars(select(TicketReport).where(TicketReport.ticket_id == ticket_id).limit(limit)):
        entries.append(
            TimelineEntry(
                at=r.reported_at,
                kind="report",
                title=_("timeline.complaint", locale, channel=word("channel", r.channel.value)),
                detail=r.symptom,
                data={"linked": r.linked, "grade": r.computed_grade.value},
            )
        )
    for al in session.scalars(select(Alarm).where(Alarm.ticket_id == ticket_id).order_by(Alarm.id).limit(limit)):
        entries.append(
            TimelineEntry(
                at=al.device_at or al.received_at,
                kind="alarm",
                title=_(
                    "timeline.alarm",
                    locale,
                    severity=word("severity", str(al.severity)),
                    code=al.code,
                    state=word("alarm-state", str(al.state)),
                ),
                detail=al.message,
                actor=f"device:{al.device_id}",
                data=al.data,
            )
        )
    for e in session.scalars(select(EscalationEvent).where(EscalationEvent.ticket_id == ticket_id).limit(limit)):
        entries.append(
            TimelineEntry(
                at=e.fired_at,
                kind="escalation",
                title=_("timeline.escalated", locale, audience=word("audience", e.audience)),
                detail=texts.known_text(e.message, "escalation.", locale),
                actor=e.fired_by,
                data={"step": e.step_key},
            )
        )
    entries.sort(key=lambda e: e.at)
    return entries[:limit]
