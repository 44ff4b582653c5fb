"""Gather everything the service report shows, from the database, into plain values (no rendering here)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.audit.models import AuditEntry
from dispatch.confirmations.models import Confirmation, ConfirmationLink
from dispatch.core.errors import NotFound
from dispatch.customers.models import Equipment, Site
from dispatch.photos.storage import Storage, StoredObjectMissing
from dispatch.return_visits.models import ReturnVisitTask
from dispatch.tickets.models import Ticket, Visit
from dispatch.visits.models import JobPhoto, WorkReport

MAX_PHOTOS = 12


@dataclass(frozen=True)
class DeadlineLine:
    name: str  # a catalogue key (report.clock.*), written in the reader's language by the renderer
    due_at: datetime | None
    done_at: datetime | None
    verdict: str  # met | missed | open | n/a


@dataclass
class ReportData:
    ticket: dict[str, Any]
    site: dict[str, Any] | None
    equipment: dict[str, Any] | None
    deadlines: list[DeadlineLine]
    timeline: list[dict[str, Any]]
    visits: list[dict[str, Any]]
    work_reports: list[dict[str, Any]]
    photos: list[tuple[str, bytes]] = field(default_factory=list)
    confirmation: dict[str, Any] | None = None
    signature_png: bytes | None = None
    refusal: dict[str, Any] | None = None


def _verdict(due: datetime | None, done: datetime | None, now: datetime) -> str:
    if due is None:
        return "n/a"
    if done is not None:
        return "met" if done <= due else "missed"
    return "missed" if now > due else "open"


def _parse(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None


def gather_report(session: Session, storage: Storage, *, ticket_id: int, now: datetime) -> ReportData:
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        raise NotFound(f"Ticket {ticket_id} not found.", key="error.ticket.not-found", params={"ticket_id": ticket_id})
    site = session.get(Site, ticket.site_id) if ticket.site_id else None
    unit = session.get(Equipment, ticket.equipment_id) if ticket.equipment_id else None
    tasks = list(session.scalars(select(ReturnVisitTask).where(ReturnVisitTask.ticket_id == ticket_id)))
    done_call = min((t.done_at for t in tasks if t.done_at), default=None)
    dl = ticket.deadlines or {}
    deadlines = [
        DeadlineLine(
            "report.clock.on-site",
            ticket.due_on_site_at,
            ticket.on_site_at,
            _verdict(ticket.due_on_site_at, ticket.on_site_at, now),
        ),
        DeadlineLine(
            "report.clock.return-visit",
            _parse(dl.get("return_visit_due_at")),
            done_call,
            _verdict(_parse(dl.get("return_visit_due_at")), done_call, now),
        ),
    ]
    if dl.get("cannot_meet_notice_due_at"):
        deadlines.append(
            DeadlineLine("report.clock.cannot-meet", _parse(dl.get("cannot_meet_notice_due_at")), None, "open")
        )
    timeline = [
        {
            "at": e.at,
            "actor": e.actor,
            "action": e.action,
            "from": e.from_status,
            "to": e.to_status,
            "reason": e.reason,
        }
        for e in session.scalars(
            select(AuditEntry).where(AuditEntry.ticket_id == ticket_id).order_by(AuditEntry.at, AuditEntry.id)
        )
    ]
    visits = [
        {
            "id": v.id,
            "status": v.status.value,
            "departed_at": v.departed_at,
            "arrived_at": v.arrived_at,
            "completed_at": v.completed_at,
            "arrival_distance_m": v.arrival_distance_m,
            "outside_geofence": v.arrival_outside_geofence,
        }
        for v in session.scalars(select(Visit).where(Visit.ticket_id == ticket_id).order_by(Visit.id))
    ]
    reports = [
        {
            "visit_id": r.visit_id,
            "cause_found": r.cause_found,
            "work_done": r.work_done,
            "parts_used": r.parts_used,
            "minutes_spent": r.minutes_spent,
            "follow_up_needed": r.follow_up_needed,
            "follow_up_note": r.follow_up_note,
        }
        for r in session.scalars(select(WorkReport).where(WorkReport.ticket_id == ticket_id).order_by(WorkReport.id))
    ]
    photos: list[tuple[str, bytes]] = []
    for p in session.scalars(
        select(JobPhoto).where(JobPhoto.ticket_id == ticket_id).order_by(JobPhoto.created_at).limit(MAX_PHOTOS)
    ):
        try:
            photos.append((p.content_type, storage.get(p.storage_key)))
        except StoredObjectMissing:
            continue
    conf = session.scalar(
        select(Confirmation).where(Confirmation.ticket_id == ticket_id).order_by(Confirmation.id.desc()).limit(1)
    )
    refusal = session.scalar(
        select(ConfirmationLink)
        .where(ConfirmationLink.ticket_id == ticket_id, ConfirmationLink.refused_at.is_not(None))
        .order_by(ConfirmationLink.refused_at.desc())
        .limit(1)
    )
    return ReportData(
        ticket={
            "id": ticket.id,
            "status": ticket.status.value,
            "grade": ticket.grade.value,
            # Kept as stored ({rule, grade, text, params}); the renderer writes them in the reader's language.
            "grade_reasons": list(ticket.grade_reasons or []),
            "category": ticket.category.value,
            "symptom": ticket.symptom,
            "impact": ticket.impact,
            "special_request": ticket.special_request,
            "reporter_name": ticket.reporter_name,
            "reported_at": ticket.reported_at,
            "on_site_at": ticket.on_site_at,
            "resolved_at": ticket.resolved_at,
            "closed_at": ticket.closed_at,
        },
        site={"name": site.name, "address": site.address, "contact": site.contact_name, "timezone": site.timezone}
        if site
        else None,
        equipment={
            "type": unit.equipment_type.value,
            "model": unit.model,
            "serial": unit.serial_number,
            "manufactured": unit.manufacture_date,
        }
        if unit
        else None,
        deadlines=deadlines,
        timeline=timeline,
        visits=visits,
        work_reports=reports,
        photos=photos,
        confirmation=(
            {
                "satisfied": conf.satisfied,
                "ratings": conf.ratings,
                "comment": conf.comment,
                "signer_name": conf.signer_name,
                "signer_role": conf.signer_role,
                "signed_at": conf.signed_at,
                "outcome": conf.outcome,
                "sha256": conf.document_sha256,
            }
            if conf
            else None
        ),
        signature_png=conf.signature_png if conf else None,
        refusal={"at": refusal.refused_at, "reason": refusal.refusal_reason} if refusal else None,
    )
