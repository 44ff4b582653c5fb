"""Technician events on a job: lifecycle, geofenced arrival, completion with work report, and the rest.

`apply_event` is the one command: it locks the visit and its ticket, checks the transition tables of
`dispatch.domain.lifecycle`, moves the ticket through `change_status` (audited), writes the event log
row and commits once. Offline sync calls it once per event, so each event is its own transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from dispatch.audit.models import AuditEntry
from dispatch.audit.service import change_status, record_event
from dispatch.confirmations.models import Confirmation, ConfirmationLink
from dispatch.confirmations.service import issue_link
from dispatch.core.errors import Conflict, FieldError, IllegalTransition, NotFound, Unprocessable
from dispatch.core.settings import Settings
from dispatch.core.types import Grade, TicketStatus, VisitStatus
from dispatch.domain.geo import GeoPoint
from dispatch.domain.lifecycle import (
    TICKET_ACTION_FOR_VISIT_EVENT,
    VisitAction,
    transition,
    visit_allowed_actions,
    visit_transition,
)
from dispatch.domain.policy import Policy
from dispatch.domain.sla import cannot_meet_notice_due_at, on_completion_deadlines
from dispatch.domain.sync import history_contradiction, sla_arrival_time
from dispatch.notifications import customer as customer_notices
from dispatch.plans.requests import request_replan
from dispatch.return_visits.models import ReturnVisitTask
from dispatch.tickets.models import Ticket, Visit
from dispatch.visits.models import JobEvent, JobPhoto, Part, WorkReport
from dispatch.workforce.models import Technician
from technician_api.deps import Rules
from technician_api.jobs.schemas import JobEventIn, Position, WorkReportIn
from technician_api.notify import notify

SIGNATURE_REFUSED = "signature_refused"
#: Visit actions that are the dispatcher's (assign, cancel, reassign), never offered to the technician.
_DISPATCHER_ACTIONS = frozenset({VisitAction.ASSIGN.value, VisitAction.CANCEL.value, VisitAction.REASSIGN.value})


def technician_actions(state: str) -> list[str]:
    """The lifecycle's allowed visit events that the technician app may send in `state`."""
    return [a for a in visit_allowed_actions(state) if a not in _DISPATCHER_ACTIONS]


@dataclass(frozen=True)
class Actor:
    """The technician acting, as the audit log names them."""

    user_id: int
    technician_id: int

    @property
    def name(self) -> str:
        return f"user:{self.user_id}"


def job_actions(session: Session, visit: Visit) -> list[str]:
    """The events the app may send next (the lifecycle table, plus recording a refusal to sign)."""
    actions = technician_actions(visit.status.value)
    if visit.status is VisitStatus.completed and _open_link(session, visit.id) is not None:
        actions.append(SIGNATURE_REFUSED)
    return actions


def lock_own_visit(session: Session, *, visit_id: int, technician_id: int) -> Visit:
    """The caller's visit, locked; another technician's (or no) visit is 404 so ids cannot be probed."""
    visit = session.scalar(select(Visit).where(Visit.id == visit_id).with_for_update())
    if visit is None or visit.technician_id != technician_id:
        raise NotFound(f"Job {visit_id} not found.", key="error.job.not-found", params={"job_id": visit_id})
    return visit


REPLAN_EVENTS = frozenset({"decline", "cannot_meet_time", "completed", "paused"})


def apply_event(
    session: Session,
    *,
    actor: Actor,
    visit_id: int,
    event: JobEventIn,
    received_at: datetime,
    rules: Rules,
    settings: Settings,
    idempotency_key: str | None = None,
) -> dict[str, Any]:
    """Apply one technician event and commit; returns the result (also stored in the event log)."""
    visit = lock_own_visit(session, visit_id=visit_id, technician_id=actor.technician_id)
    ticket = session.scalar(select(Ticket).where(Ticket.id == visit.ticket_id).with_for_update())
    assert ticket is not None
    # The phone's clock decides when it happened, but never later than we heard of it, and never before what the
    # ticket's own history says came first (an accept before the job was assigned is a wrong clock, not a fact).
    at = min(event.device_at, received_at) if event.device_at else received_at
    if event.device_at is not None:
        _refuse_contradicting_time(session, visit=visit, ticket=ticket, at=at, kind=event.kind, policy=rules.policy)
    result: dict[str, Any] = {}

    if event.kind == SIGNATURE_REFUSED:
        _signature_refused(
            session, actor=actor, visit=visit, ticket=ticket, reason=event.reason or "", at=at, settings=settings
        )
    else:
        action = VisitAction(event.kind)
        try:
            if event.kind in _DISPATCHER_ACTIONS:
                raise IllegalTransition(visit.status.value, event.kind, [])
            new_state = visit_transition(visit.status.value, action)
        except IllegalTransition as exc:
            exc.detail = f"Cannot '{event.kind}' a job that is '{visit.status.value}'. Allowed: " + (
                ", ".join(job_actions(session, visit)) or "none"
            )
            exc.extra["allowed"] = exc.allowed = job_actions(session, visit)
            exc.key = "error.illegal-transition.job"
            raise
        ticket_action = TICKET_ACTION_FOR_VISIT_EVENT.get(action)
        next_ticket_status = transition(ticket.status.value, ticket_action) if ticket_action else None
        handler = _HANDLERS.get(event.kind)
        extra_audit: dict[str, Any] = {}
        if handler is not None:
            extra_audit = handler(
                session,
                actor=actor,
                visit=visit,
                ticket=ticket,
                event=event,
                at=at,
                received_at=received_at,
                rules=rules,
                settings=settings,
                result=result,
            )
        visit.status = VisitStatus(new_state.value)
        if next_ticket_status is not None and ticket_action is not None:
            change_status(
                session,
                ticket,
                to_status=TicketStatus(next_ticket_status.value),
                action=ticket_action.value,
                actor=actor.name,
                actor_user_id=actor.user_id,
                reason=event.reason,
                data={"visit_id": visit.id, "event": event.kind, **extra_audit},
                at=at,
            )
        elif event.kind in {"paused", "resumed", "cannot_meet_time"}:
            record_event(
                session,
                ticket,
                action=f"visit_{event.kind}",
                actor=actor.name,
                actor_user_id=actor.user_id,
                reason=event.reason,
                data={"visit_id": visit.id, **extra_audit},
                at=at,
            )
    if event.position is not None:
        _update_position(session, actor.technician_id, event.position, at)
    if event.kind in REPLAN_EVENTS:
        # The plan changes: a declined job needs someone else, a late one may move, a finished one frees a technician.
        request_replan(session, reason=f"technician {event.kind}", ticket_id=ticket.id)

    result.update(
        job_id=visit.id,
        kind=event.kind,
        job_status=visit.status.value,
        ticket_status=ticket.status.value,
        applied_at=at.isoformat(),
    )
    session.flush()
    result["allowed_actions"] = job_actions(session, visit)
    session.add(
        JobEvent(
            technician_id=actor.technician_id,
            visit_id=visit.id,
            idempotency_key=idempotency_key,
            kind=event.kind,
            device_at=event.device_at,
            received_at=received_at,
            payload=event.model_dump(mode="json", exclude_none=True),
            outcome="applied",
            result=result,
        )
    )
    session.commit()
    return result


class DeviceTimeContradicts(Conflict):
    """The event's device time is before something the ticket's history says happened first."""

    code = "device-time-contradicts-history"
    title = "The device time contradicts the ticket's history"


def _refuse_contradicting_time(
    session: Session, *, visit: Visit, ticket: Ticket, at: datetime, kind: str, policy: Policy
) -> None:
    """Refuse a device time earlier than the job's assignment to this technician (or the ticket's opening)."""
    assigned_at = session.scalar(
        select(func.max(AuditEntry.at)).where(
            AuditEntry.ticket_id == ticket.id,
            AuditEntry.action.in_(("assign", "visit_reassigned", "reassign")),
        )
    )
    history = [("opened", ticket.received_at), ("reported", ticket.reported_at), ("assigned", visit.created_at)]
    if assigned_at is not None:
        history.append(("assigned", assigned_at))
    found = history_contradiction(at, history, timedelta(seconds=policy.sync.before_history_tolerance_seconds))
    if found is None:
        return
    what, when = found
    raise DeviceTimeContradicts(
        f"The device time {at.isoformat()} of '{kind}' is before the job was {what} ({when.isoformat()}): "
        "check the phone's clock.",
        key="error.job.device-time-before-history",
        params={"kind": kind, "device_at": at.isoformat(), "what": what, "at": when.isoformat()},
        extra={"device_at": at.isoformat(), "contradicts": what, "history_at": when.isoformat()},
    )


# --- per-kind handlers: set the visit's and ticket's facts; return extra data for the audit row -------


def _en_route(session: Session, *, visit: Visit, ticket: Ticket, at: datetime, **_: Any) -> dict[str, Any]:
    visit.departed_at = at
    customer_notices.on_the_way(session, ticket, technician_id=visit.technician_id, now=at)
    return {}


def _arrived(
    session: Session,
    *,
    actor: Actor,
    visit: Visit,
    ticket: Ticket,
    event: JobEventIn,
    at: datetime,
    received_at: datetime,
    rules: Rules,
    settings: Settings,
    result: dict[str, Any],
    **_: Any,
) -> dict[str, Any]:
    assert event.position is not None
    pos = event.position
    radius = rules.policy.geofence.radius_m
    wkt = f"SRID=4326;POINT({pos.lon} {pos.lat})"
    inside, distance = True, None
    if ticket.site_id is not None:
        # Geography: ST_DWithin/ST_Distance in metres on the spheroid, the fence's real shape.
        row = session.execute(
            text(
                "SELECT ST_DWithin(location, ST_GeogFromText(:p), :r) AS inside, "
                "ST_Distance(location, ST_GeogFromText(:p)) AS distance FROM sites WHERE id = :sid"
            ),
            {"p": wkt, "r": radius, "sid": ticket.site_id},
        ).one()
        inside, distance = bool(row.inside), float(row.distance)
    departed = _en_route_position(session, visit.id)
    arrival = sla_arrival_time(
        event.device_at or received_at,
        received_at,
        visit.departed_at,
        rules.policy,
        en_route_position=departed,
        arrived_position=GeoPoint(pos.lat, pos.lon),
    )
    visit.arrived_at = arrival.at
    visit.arrival_location = wkt
    visit.arrival_distance_m = round(distance, 1) if distance is not None else None
    visit.arrival_outside_geofence = not inside
    if ticket.on_site_at is None:  # the first arrival is the one the promise is measured by
        ticket.on_site_at = arrival.at
    arrival_data = {
        "at": arrival.at.isoformat(),
        "source": arrival.source,
        "reason": arrival.reason,
        "distance_m": visit.arrival_distance_m,
        "outside_geofence": not inside,
        "radius_m": radius,
    }
    result["arrival"] = arrival_data
    if not inside:
        record_event(
            session,
            ticket,
            action="arrival_outside_geofence",
            actor=actor.name,
            actor_user_id=actor.user_id,
            reason=f"check-in {visit.arrival_distance_m:.0f} m from the site (fence {radius:.0f} m)",
            data={"visit_id": visit.id, "distance_m": visit.arrival_distance_m, "radius_m": radius},
            at=arrival.at,
        )
        notify(
            session,
            settings=settings,
            now=at,
            audience="dispatcher",
            kind="arrival_outside_geofence",
            subject=f"Ticket {ticket.id}: check-in outside the site fence",
            body=f"Visit {visit.id} checked in {visit.arrival_distance_m:.0f} m from the site (fence {radius:.0f} m).",
            ticket_id=ticket.id,
        )
    return {"arrival": arrival_data}


def _en_route_position(session: Session, visit_id: int) -> GeoPoint | None:
    payload = session.scalar(
        select(JobEvent.payload)
        .where(JobEvent.visit_id == visit_id, JobEvent.kind == "en_route", JobEvent.outcome == "applied")
        .order_by(JobEvent.id.desc())
        .limit(1)
    )
    if not payload or "position" not in payload:
        return None
    return GeoPoint(payload["position"]["lat"], payload["position"]["lon"])


def _completed(
    session: Session,
    *,
    actor: Actor,
    visit: Visit,
    ticket: Ticket,
    event: JobEventIn,
    at: datetime,
    rules: Rules,
    settings: Settings,
    result: dict[str, Any],
    **_: Any,
) -> dict[str, Any]:
    assert event.report is not None
    report = _work_report(session, visit=visit, report=event.report)
    if visit.arrived_at is not None and at < visit.arrived_at:
        at = visit.arrived_at  # a phone clock that says "done before arrival" never shortens the clocks
    visit.completed_at = at
    ticket.resolved_at = at
    clocks = on_completion_deadlines(at, Grade(ticket.grade), rules.policy, rules.calendar)
    deadlines = dict(ticket.deadlines or {})
    deadlines.update(
        completed_at=clocks.completed_at.isoformat(),
        report_back_due_at=clocks.report_back_due_at.isoformat(),
        first_responder_due_at=clocks.first_responder_due_at.isoformat(),
        return_visit_due_at=clocks.return_visit_due_at.isoformat(),
    )
    if clocks.follow_up_verification_due_at is not None:
        deadlines["follow_up_verification_due_at"] = clocks.follow_up_verification_due_at.isoformat()
    ticket.deadlines = deadlines
    session.add(
        ReturnVisitTask(ticket_id=ticket.id, visit_id=visit.id, reason="completion", due_at=clocks.return_visit_due_at)
    )
    issued = issue_link(session, ticket=ticket, visit=visit, settings=settings, now=at)
    result["confirmation"] = {"url": issued.url, "expires_at": issued.expires_at.isoformat(), "qr_svg": issued.qr_svg}
    customer_notices.completed(session, ticket, confirm_url=issued.url, now=at)
    customer_notices.return_visit_scheduled(session, ticket, due_at=clocks.return_visit_due_at, now=at)
    if report.follow_up_needed:
        notify(
            session,
            settings=settings,
            now=at,
            audience="dispatcher",
            kind="follow_up_needed",
            subject=f"Ticket {ticket.id}: follow-up needed",
            body=report.follow_up_note or "The technician reports that a follow-up is needed.",
            ticket_id=ticket.id,
        )
    return {"work_report_id": report.id, "deadlines": deadlines}


def _work_report(session: Session, *, visit: Visit, report: WorkReportIn) -> WorkReport:
    errors: list[FieldError] = []
    ids = [p.part_id for p in report.parts_used]
    parts = {p.id: p for p in session.scalars(select(Part).where(Part.id.in_(ids), Part.is_active))} if ids else {}
    for i, used in enumerate(report.parts_used):
        if used.part_id not in parts:
            errors.append(FieldError(f"/report/parts_used/{i}/part_id", "not in the parts list"))
    if report.photo_ids:
        known = set(
            session.scalars(select(JobPhoto.id).where(JobPhoto.id.in_(report.photo_ids), JobPhoto.visit_id == visit.id))
        )
        for i, pid in enumerate(report.photo_ids):
            if pid not in known:
                errors.append(FieldError(f"/report/photo_ids/{i}", "no such photo on this job"))
    if errors:
        raise Unprocessable("The work report has invalid fields.", errors=errors, key="error.report.invalid")
    row = WorkReport(
        visit_id=visit.id,
        ticket_id=visit.ticket_id,
        cause_found=report.cause_found,
        work_done=report.work_done,
        parts_used=[
            {
                "part_id": u.part_id,
                "code": parts[u.part_id].code,
                "name": parts[u.part_id].name,
                "unit": parts[u.part_id].unit,
                "quantity": u.quantity,
            }
            for u in report.parts_used
        ],
        minutes_spent=report.minutes_spent,
        follow_up_needed=report.follow_up_needed,
        follow_up_note=report.follow_up_note,
        photo_ids=list(report.photo_ids),
    )
    session.add(row)
    session.flush()
    return row


def _cannot_meet_time(
    session: Session,
    *,
    visit: Visit,
    ticket: Ticket,
    event: JobEventIn,
    at: datetime,
    rules: Rules,
    settings: Settings,
    result: dict[str, Any],
    **_: Any,
) -> dict[str, Any]:
    assert event.new_eta is not None
    notice_due = cannot_meet_notice_due_at(at, rules.policy)
    visit.planned_arrival_at = event.new_eta
    # The technician's word is a fact the re-plan keeps: never planned earlier than this (plans.builder), until the
    # technician reports again or a dispatcher pins the visit.
    visit.earliest_arrival_at = event.new_eta
    ticket.eta_at = event.new_eta  # every surface shows the technician's word at once, not the plan's old ETA
    deadlines = dict(ticket.deadlines or {})
    # The customer is told in this transaction (below), so the 2-hour notice clock is met at once.
    deadlines.update(
        cannot_meet_reported_at=at.isoformat(),
        cannot_meet_notice_due_at=notice_due.isoformat(),
        cannot_meet_notice_done_at=at.isoformat(),
    )
    ticket.deadlines = deadlines
    breaches = event.new_eta > ticket.due_on_site_at
    if breaches:
        ticket.at_risk = True
    # The customer hears of it now, with the technician's reason (the re-plan that follows does not repeat it).
    customer_notices.eta_changed(session, ticket, now=at, reason=event.reason, eta=event.new_eta)
    result["notice_due_at"] = notice_due.isoformat()
    notify(
        session,
        settings=settings,
        now=at,
        audience="dispatcher",
        kind="cannot_meet_time",
        subject=f"Ticket {ticket.id}: technician cannot meet the planned time",
        body=(
            f"New ETA {event.new_eta.isoformat()} (promise {ticket.due_on_site_at.isoformat()}"
            f"{', BREACHES the promise' if breaches else ''}). Reason: {event.reason or '-'}. "
            f"The customer must be told by {notice_due.isoformat()}."
        ),
        ticket_id=ticket.id,
    )
    return {"new_eta": event.new_eta.isoformat(), "notice_due_at": notice_due.isoformat(), "breaches_promise": breaches}


def _decline(
    session: Session, *, visit: Visit, ticket: Ticket, event: JobEventIn, at: datetime, settings: Settings, **_: Any
) -> dict[str, Any]:
    notify(
        session,
        settings=settings,
        now=at,
        audience="dispatcher",
        kind="job_declined",
        subject=f"Ticket {ticket.id}: technician declined the job",
        body=f"Visit {visit.id} declined: {event.reason}",
        ticket_id=ticket.id,
    )
    return {}


def _signature_refused(
    session: Session, *, actor: Actor, visit: Visit, ticket: Ticket, reason: str, at: datetime, settings: Settings
) -> None:
    link = _open_link(session, visit.id, lock=True)
    if visit.status is not VisitStatus.completed or link is None:
        exc = IllegalTransition(visit.status.value, SIGNATURE_REFUSED, job_actions(session, visit))
        exc.detail = (
            "A refusal to sign can be recorded only after completion, while the confirmation link is open "
            f"(the job is '{visit.status.value}')."
        )
        raise exc
    link.refused_at = at
    link.refusal_reason = reason
    link.revoked_at = at
    record_event(
        session,
        ticket,
        action=SIGNATURE_REFUSED,
        actor=actor.name,
        actor_user_id=actor.user_id,
        reason=reason,
        data={"visit_id": visit.id},
        at=at,
    )
    # Escalated: the department head follows up with the customer (domain.md "Closing").
    notify(
        session,
        settings=settings,
        now=at,
        audience="department_head",
        kind=SIGNATURE_REFUSED,
        subject=f"Ticket {ticket.id}: the customer refused to sign the confirmation",
        body=f"Visit {visit.id}: {reason}",
        ticket_id=ticket.id,
    )


def _open_link(session: Session, visit_id: int, *, lock: bool = False) -> ConfirmationLink | None:
    """The visit's confirmation link that is still open (not used, revoked or already confirmed)."""
    query = (
        select(ConfirmationLink)
        .where(
            ConfirmationLink.visit_id == visit_id,
            ConfirmationLink.used_at.is_(None),
            ConfirmationLink.revoked_at.is_(None),
            ~select(Confirmation.id).where(Confirmation.visit_id == visit_id).exists(),
        )
        .order_by(ConfirmationLink.issued_at.desc())
        .limit(1)
    )
    if lock:
        query = query.with_for_update()
    return session.scalar(query)


def _update_position(session: Session, technician_id: int, position: Position, at: datetime) -> None:
    """Keep the newest known position (an old queued event never moves the technician back in time)."""
    tech = session.get(Technician, technician_id, with_for_update=True)
    assert tech is not None
    if tech.last_position_at is None or at >= tech.last_position_at:
        tech.last_position = f"SRID=4326;POINT({position.lon} {position.lat})"
        tech.last_position_at = at


_HANDLERS = {
    "en_route": _en_route,
    "arrived": _arrived,
    "completed": _completed,
    "cannot_meet_time": _cannot_meet_time,
    "decline": _decline,
}
