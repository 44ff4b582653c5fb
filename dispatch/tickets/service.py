"""Complaint intake and ticket commands. Each command commits once, audit rows in the same transaction.

Intake (issue 4): resolve who and what, grade by the policy's rules with readable reasons, set the
absolute deadlines, link to an already open ticket for the same fault instead of opening a duplicate job,
start the durable escalation ladder. The device gateway calls `open_complaint(..., commit=False)` in-process.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, func, or_, select, text
from sqlalchemy.orm import Session

from dispatch.audit.service import apply_transition, record_event, record_opening
from dispatch.core import i18n
from dispatch.core.errors import Conflict, FieldError, NotFound, Unprocessable
from dispatch.core.texts import word
from dispatch.core.types import (
    OPEN_TICKET_STATUSES,
    Category,
    Channel,
    EquipmentType,
    Grade,
    Nature,
    TicketStatus,
)
from dispatch.customers.models import Customer, Equipment, Site
from dispatch.domain import grading
from dispatch.domain import sla as sla_rules
from dispatch.domain.policy import Policy, Severity
from dispatch.escalation import service as escalation
from dispatch.notifications import customer as customer_notices
from dispatch.plans.requests import request_replan
from dispatch.portal.tracking import issue_tracking_link, tracking_url
from dispatch.tickets.models import Ticket, TicketReport
from dispatch.tickets.schemas import Impact

FUTURE_TOLERANCE = timedelta(minutes=5)


@dataclass(frozen=True)
class IntakeResult:
    """What intake did, and what to tell the caller: `message_key` is a catalogue text (intake.*) filled from
    `message_params`, rendered in the reader's language by `message`."""

    ticket: Ticket
    report: TicketReport
    linked: bool
    message_key: str
    message_params: dict[str, Any]

    def message(self, locale: str | None = None) -> str:
        params = dict(self.message_params)
        if "grade" in params:
            params["grade"] = word("grade", params["grade"], locale)
        if "source" in params:
            params["source"] = i18n.gettext(f"intake.source.{params['source']}", locale)
        return i18n.gettext(self.message_key, locale, **params)


def _resolve_customer(
    session: Session, customer_id: int | None, name: str | None, phone: str | None
) -> Customer | None:
    if customer_id is not None:
        customer = session.get(Customer, customer_id)
        if customer is None:
            raise Unprocessable(
                f"Customer {customer_id} does not exist.",
                errors=[FieldError("/customer_id", "no such customer", key="field.no-such-customer")],
                key="error.customer.not-found",
                params={"customer_id": customer_id},
            )
        return customer
    if phone:
        found = session.scalar(select(Customer).where(Customer.phone == phone).order_by(Customer.id).limit(1))
        if found is not None:
            return found
    if name:
        customer = Customer(name=name, phone=phone)
        session.add(customer)
        session.flush()
        return customer
    return None


def _resolve_equipment(session: Session, equipment_id: int | None, serial: str | None) -> Equipment | None:
    if equipment_id is not None:
        unit = session.get(Equipment, equipment_id)
        if unit is None:
            raise Unprocessable(
                f"Equipment {equipment_id} does not exist.",
                errors=[FieldError("/equipment_id", "no such equipment", key="field.no-such-equipment")],
                key="error.equipment.not-found",
                params={"equipment_id": equipment_id},
            )
        return unit
    if serial:
        return session.scalar(select(Equipment).where(func.upper(Equipment.serial_number) == serial.upper()))
    return None


def intake_lock_keys(unit: Equipment | None, site_id: int | None) -> list[str]:
    """The lock names that serialise opening a ticket for this equipment (or site), one per possible match.

    Without them two reports of the same machine arriving at once (two gateways, or an alarm and a phone
    call) both find no open ticket and both open one. Base stations share one job per site, so they lock
    the site.
    """
    if unit is not None:
        if unit.equipment_type is EquipmentType.base_station:
            return [f"intake:site:{unit.site_id}"]
        return [f"intake:equipment:{unit.id}"]
    if site_id is not None:
        return [f"intake:site:{site_id}"]
    return []


def lock_names(session: Session, names: Iterable[str]) -> None:
    """Transaction-scoped advisory locks, taken in one sorted call so two transactions never deadlock.

    A caller that needs several (the gateway's batch) takes all of them at once up front; taking one again
    later in the same transaction is a no-op (PostgreSQL advisory locks are re-entrant).
    """
    ordered = sorted(set(names))
    if ordered:
        session.execute(
            text("SELECT count(pg_advisory_xact_lock(hashtextextended(k, 24))) FROM unnest(CAST(:k AS text[])) AS k"),
            {"k": ordered},
        )


def open_ticket_for(session: Session, unit: Equipment | None, site_id: int | None) -> Ticket | None:
    """The open ticket this fault belongs to: same equipment, or same site for base stations."""
    if unit is None and site_id is None:
        return None
    conditions = []
    if unit is not None:
        conditions.append(Ticket.equipment_id == unit.id)
        if unit.equipment_type is EquipmentType.base_station:
            conditions.append(
                and_(
                    Ticket.site_id == unit.site_id,
                    Ticket.equipment_id.in_(
                        select(Equipment.id).where(Equipment.equipment_type == EquipmentType.base_station)
                    ),
                )
            )
    elif site_id is not None:
        conditions.append(and_(Ticket.site_id == site_id, Ticket.equipment_id.is_(None)))
    return session.scalar(
        select(Ticket)
        .where(or_(*conditions), Ticket.status.in_(OPEN_TICKET_STATUSES))
        .order_by(Ticket.reported_at)
        .limit(1)
        .with_for_update()
    )


def _prior_general(
    session: Session, unit: Equipment | None, reported_at: datetime, policy: Policy
) -> tuple[int, float | None]:
    if unit is None:
        return 0, None
    since = reported_at - timedelta(days=policy.repeat.window_days)
    times = session.scalars(
        select(Ticket.reported_at).where(
            Ticket.equipment_id == unit.id,
            Ticket.grade == Grade.GENERAL,
            Ticket.nature != Nature.invalid,
            Ticket.reported_at >= since,
            Ticket.reported_at < reported_at,
        )
    ).all()
    return grading.repeat_facts(list(times), reported_at, policy.repeat.window_days)


def _local(dt: datetime, tz: str) -> str:
    return dt.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")


def _linked_message(ticket: Ticket, site: Site | None) -> tuple[str, dict[str, Any]]:
    """What the caller is told when the complaint joins an open ticket: what is already being done."""
    tz = site.timezone if site is not None else "UTC"
    params: dict[str, Any] = {
        "ticket_id": ticket.id,
        "source": "device" if ticket.channel is Channel.device else "reported",
        "reported_at": _local(ticket.reported_at, tz),
    }
    if ticket.status is TicketStatus.on_site:
        return "intake.linked.on-site", params
    if ticket.eta_at is not None:
        return "intake.linked.eta", {**params, "eta": _local(ticket.eta_at, tz)}
    return "intake.linked.due", {**params, "due": _local(ticket.due_on_site_at, tz)}


def open_complaint(
    session: Session,
    *,
    policy: Policy,
    now: datetime,
    actor: str,
    actor_user_id: int | None,
    channel: Channel,
    category: Category,
    symptom: str,
    impact: Impact,
    customer_id: int | None = None,
    customer_name: str | None = None,
    customer_phone: str | None = None,
    equipment_id: int | None = None,
    serial_number: str | None = None,
    model: str | None = None,
    manufacture_date: date | None = None,
    equipment_type: EquipmentType | None = None,
    site_id: int | None = None,
    reporter_name: str | None = None,
    reporter_phone: str | None = None,
    location_detail: str | None = None,
    working_condition: str | None = None,
    special_request: str | None = None,
    reported_at: datetime | None = None,
    alarm_severity: str | None = None,
    alarm_code: str | None = None,
    flapping: bool = False,
    public_base_url: str | None = None,
    commit: bool = True,
) -> IntakeResult:
    """Record a complaint: a new graded ticket with deadlines, or a report linked to the open one.

    The customer is told in the same transaction ("complaint received", with the on-site deadline and a
    tracking link under `public_base_url`).
    """
    reported_at = reported_at or now
    if reported_at > now + FUTURE_TOLERANCE:
        raise Unprocessable(
            "The report time is in the future.",
            errors=[FieldError("/reported_at", "must not be in the future", key="field.in-future")],
            key="error.ticket.reported-in-future",
        )
    unit = _resolve_equipment(session, equipment_id, serial_number)
    site: Site | None = None
    if unit is not None:
        site = session.get(Site, unit.site_id)
    elif site_id is not None:
        site = session.get(Site, site_id)
        if site is None:
            raise Unprocessable(
                f"Site {site_id} does not exist.",
                errors=[FieldError("/site_id", "no such site", key="field.no-such-site")],
                key="error.site.not-found",
                params={"site_id": site_id},
            )
    if customer_id is None and customer_name is None and site is not None:
        customer_id = site.customer_id  # the owner follows from where the machine stands (docs/dispatching.md)
    if unit is not None and manufacture_date is not None and unit.manufacture_date is None:
        unit.manufacture_date = manufacture_date  # the registry learns it from the caller
    customer = _resolve_customer(session, customer_id, customer_name, customer_phone)
    prior_count, prior_days = _prior_general(session, unit, reported_at, policy)
    facts = grading.ComplaintFacts(
        category=category,
        equipment_type=unit.equipment_type.value
        if unit is not None
        else (equipment_type.value if equipment_type is not None else None),
        impact=impact,
        alarm_severity=Severity(alarm_severity) if alarm_severity else None,
        alarm_code=alarm_code,
        prior_general_complaints=prior_count,
        days_since_last_general_complaint=prior_days,
        flapping=flapping,
    )
    decision = grading.grade_with_policy(facts, policy)
    grade = decision.grade
    # `params` let the reason be written in each reader's language later (dispatch.core.texts).
    reasons = [
        {"rule": r.rule, "grade": r.grade.value, "text": r.text, "params": dict(r.params)} for r in decision.reasons
    ]

    lock_names(session, intake_lock_keys(unit, site.id if site is not None else None))
    existing = open_ticket_for(session, unit, site.id if site is not None else None)
    report = TicketReport(
        channel=channel,
        reporter_name=reporter_name or customer_name,
        reporter_phone=reporter_phone or customer_phone,
        reported_at=reported_at,
        category=category,
        symptom=symptom,
        location_detail=location_detail,
        working_condition=working_condition,
        impact=impact.model_dump(),
        special_request=special_request,
        computed_grade=grade,
        taken_by_id=actor_user_id,
    )
    if existing is not None:
        report.ticket_id = existing.id
        report.linked = True
        session.add(report)
        record_event(
            session,
            existing,
            action="complaint_linked",
            actor=actor,
            actor_user_id=actor_user_id,
            at=now,
            reason=f"{channel.value} complaint linked: {symptom[:200]}",
            data={"channel": channel.value, "computed_grade": grade.value},
        )
        if grade.rank > Grade(existing.grade).rank and not existing.grade_overridden:
            _set_grade(
                session,
                existing,
                grade,
                reasons + existing.grade_reasons,
                policy,
                now,
                actor,
                actor_user_id,
                reason="A linked complaint reports a more severe impact",
            )
        message_key, message_params = _linked_message(existing, site)
        if channel is not Channel.device:  # a repeated alarm is not news to the customer; a call or form is
            _tell_received(session, existing, now, public_base_url)
        if commit:
            session.commit()
        return IntakeResult(existing, report, True, message_key, message_params)

    deadlines = sla_rules.compute_deadlines(reported_at, grade, category, policy)
    ticket = Ticket(
        channel=channel,
        customer_id=customer.id if customer is not None else None,
        site_id=site.id if site is not None else None,
        equipment_id=unit.id if unit is not None else None,
        reporter_name=report.reporter_name,
        reporter_phone=report.reporter_phone,
        reported_serial=serial_number if unit is None else None,
        reported_model=model if unit is None else None,
        reported_manufacture_date=manufacture_date if unit is None else None,
        reported_equipment_type=equipment_type if unit is None else None,
        category=category,
        nature=Nature.effective,
        symptom=symptom,
        location_detail=location_detail,
        working_condition=working_condition,
        impact=impact.model_dump(),
        special_request=special_request,
        grade=grade,
        grade_reasons=reasons,
        status=TicketStatus.new,
        reported_at=reported_at,
        received_at=now,
        due_on_site_at=deadlines.on_site_due_at,
        deadlines={"department_notify_due_at": deadlines.department_notify_due_at.isoformat()},
        first_responder_id=actor_user_id,
    )
    session.add(ticket)
    record_opening(
        session,
        ticket,
        actor=actor,
        actor_user_id=actor_user_id,
        at=now,
        reason=f"{channel.value} complaint graded {grade.value}",
        data={"grade": grade.value, "rules": [r["rule"] for r in reasons]},
    )
    report.ticket_id = ticket.id
    session.add(report)
    escalation.start_ladder(session, ticket, policy, now)
    request_replan(session, reason=f"new {grade.value} ticket", ticket_id=ticket.id)
    _tell_received(session, ticket, now, public_base_url)
    if unit is None and serial_number:
        # Without a site the ticket cannot be planned: the agent is told to record it now, not left to find out.
        message_key = "intake.opened.unknown-serial" if site is not None else "intake.opened.unknown-serial-no-site"
        message_params: dict[str, Any] = {"ticket_id": ticket.id, "serial": serial_number}
    else:
        due = _local(ticket.due_on_site_at, site.timezone if site else "UTC")
        message_key, message_params = "intake.opened", {"ticket_id": ticket.id, "grade": grade.value, "due": due}
    if commit:
        session.commit()
    return IntakeResult(ticket, report, False, message_key, message_params)


def _tell_received(session: Session, ticket: Ticket, now: datetime, public_base_url: str | None) -> None:
    session.flush()  # the ticket id is in the link's row
    link = tracking_url(public_base_url, issue_tracking_link(session, ticket))
    customer_notices.complaint_received(session, ticket, now=now, track_url=link)


def _set_grade(
    session: Session,
    ticket: Ticket,
    grade: Grade,
    reasons: list[dict[str, Any]],
    policy: Policy,
    now: datetime,
    actor: str,
    actor_user_id: int | None,
    *,
    reason: str,
    overridden: bool = False,
) -> None:
    old = ticket.grade
    ticket.grade = grade
    ticket.grade_reasons = reasons
    ticket.grade_overridden = ticket.grade_overridden or overridden
    deadlines = sla_rules.compute_deadlines(ticket.reported_at, grade, Category(ticket.category), policy)
    ticket.due_on_site_at = deadlines.on_site_due_at
    ticket.deadlines = {**ticket.deadlines, "department_notify_due_at": deadlines.department_notify_due_at.isoformat()}
    record_event(
        session,
        ticket,
        action="regrade",
        actor=actor,
        actor_user_id=actor_user_id,
        at=now,
        reason=reason,
        data={"from": old.value, "to": grade.value, "due_on_site_at": ticket.due_on_site_at.isoformat()},
    )
    escalation.update_eta(session, ticket, ticket.eta_at, policy, now)
    request_replan(session, reason=f"regraded to {grade.value}", ticket_id=ticket.id)


def _locked_ticket(session: Session, ticket_id: int) -> Ticket:
    ticket = session.scalar(select(Ticket).where(Ticket.id == ticket_id).with_for_update())
    if ticket is None:
        raise NotFound(
            f"Ticket {ticket_id} does not exist.", key="error.ticket.not-found", params={"ticket_id": ticket_id}
        )
    return ticket


def regrade(
    session: Session,
    *,
    policy: Policy,
    ticket_id: int,
    grade: Grade,
    reason: str,
    actor: str,
    actor_user_id: int,
    now: datetime,
) -> Ticket:
    """A dispatcher overrides the grade with a reason; deadlines are recomputed from the report time."""
    ticket = _locked_ticket(session, ticket_id)
    if ticket.status not in OPEN_TICKET_STATUSES:
        raise Unprocessable(
            f"Ticket {ticket_id} is {ticket.status.value}; only open tickets can be regraded.",
            key="error.ticket.not-regradable",
            params={"ticket_id": ticket_id, "state": ticket.status.value},
        )
    override = {
        "rule": grading.OVERRIDE_RULE,
        "grade": grade.value,
        "text": f"Grade set to {grade.value} by a dispatcher: {reason}",
        "params": {"grade": grade.value, "reason": reason},
    }
    reasons = [r for r in ticket.grade_reasons if r.get("rule") != grading.OVERRIDE_RULE] + [override]
    _set_grade(session, ticket, grade, reasons, policy, now, actor, actor_user_id, reason=reason, overridden=True)
    session.commit()
    return ticket


def set_nature(
    session: Session,
    *,
    policy: Policy,
    ticket_id: int,
    nature: Nature,
    explanation: str | None,
    actor: str,
    actor_user_id: int,
    now: datetime,
) -> Ticket:
    """Classify by nature; an invalid complaint is closed with its explanation, never deleted."""
    ticket = _locked_ticket(session, ticket_id)
    if nature is Nature.invalid:
        apply_transition(
            session, ticket, "mark_invalid", actor=actor, actor_user_id=actor_user_id, reason=explanation, at=now
        )
        ticket.closed_at = now
        ticket.closure_note = explanation
    else:
        record_event(
            session,
            ticket,
            action="nature",
            actor=actor,
            actor_user_id=actor_user_id,
            at=now,
            reason=explanation,
            data={"from": ticket.nature.value, "to": nature.value},
        )
    ticket.nature = nature
    ticket.nature_note = explanation
    escalation.reschedule(session, ticket, policy, now)
    if nature is Nature.invalid:
        request_replan(session, reason="marked invalid", ticket_id=ticket.id)
    session.commit()
    return ticket


def cancel(
    session: Session, *, policy: Policy, ticket_id: int, reason: str, actor: str, actor_user_id: int, now: datetime
) -> Ticket:
    ticket = _locked_ticket(session, ticket_id)
    apply_transition(session, ticket, "cancel", actor=actor, actor_user_id=actor_user_id, reason=reason, at=now)
    ticket.closed_at = now
    ticket.closure_note = reason
    escalation.reschedule(session, ticket, policy, now)
    request_replan(session, reason="cancelled", ticket_id=ticket.id)
    session.commit()
    return ticket


def list_tickets_query(
    *,
    statuses: list[TicketStatus] | None,
    grades: list[Grade] | None,
    due_before: datetime | None,
    region: str | None,
    equipment_type: EquipmentType | None,
    channel: Channel | None,
    at_risk: bool | None,
    q: str | None,
) -> Select[tuple[Ticket]]:
    """Tickets matching the board's filters; open ones by default."""
    query = select(Ticket)
    query = query.where(Ticket.status.in_(statuses or list(OPEN_TICKET_STATUSES)))
    if grades:
        query = query.where(Ticket.grade.in_(grades))
    if due_before is not None:
        query = query.where(Ticket.due_on_site_at <= due_before)
    if at_risk is not None:
        query = query.where(Ticket.at_risk.is_(at_risk))
    if channel is not None:
        query = query.where(Ticket.channel == channel)
    if region or equipment_type or q:
        query = query.outerjoin(Site, Site.id == Ticket.site_id).outerjoin(
            Equipment, Equipment.id == Ticket.equipment_id
        )
        if region:
            query = query.where(Site.region == region)
        if equipment_type:
            query = query.where(Equipment.equipment_type == equipment_type)
        if q:
            like = f"%{q.replace('%', '').replace('_', '')}%"
            query = query.outerjoin(Customer, Customer.id == Ticket.customer_id).where(
                or_(
                    Customer.name.ilike(like),
                    Site.name.ilike(like),
                    Site.address.ilike(like),
                    Equipment.serial_number.ilike(like),
                    Ticket.reported_serial.ilike(like),
                    Ticket.symptom.ilike(like),
                )
            )
    return query


def complete_clock(
    session: Session,
    *,
    policy: Policy,
    ticket_id: int,
    clock: str,
    note: str | None,
    actor: str,
    actor_user_id: int,
    now: datetime,
) -> Ticket:
    """Complete a handling clock that a person does (report back, tell the first responder, follow-up verification):
    who and when go into the ticket's clocks and the audit log, with the note; its escalation stops."""
    if clock not in sla_rules.COMPLETABLE_CLOCKS:
        raise Unprocessable(
            f"'{clock}' is not a clock a person completes.",
            errors=[FieldError("/clock", "not a completable clock", key="field.not-completable-clock")],
            key="error.clock.not-completable",
            params={"clock": clock},
        )
    ticket = _locked_ticket(session, ticket_id)
    deadlines = dict(ticket.deadlines or {})
    due = deadlines.get(clock + sla_rules.DUE_SUFFIX)
    if not due:
        raise Conflict(
            f"Ticket {ticket_id} has no {clock} clock running (it starts when the job is completed).",
            key="error.clock.not-running",
            params={"ticket_id": ticket_id, "clock": clock},
        )
    if deadlines.get(clock + sla_rules.DONE_SUFFIX):
        raise Conflict(
            f"The {clock} clock of ticket {ticket_id} is already done.",
            key="error.clock.already-done",
            params={"ticket_id": ticket_id, "clock": clock},
        )
    due_at = datetime.fromisoformat(due)
    deadlines[clock + sla_rules.DONE_SUFFIX] = now.isoformat()
    ticket.deadlines = deadlines
    record_event(
        session,
        ticket,
        action="clock_completed",
        actor=actor,
        actor_user_id=actor_user_id,
        at=now,
        reason=note,
        data={"clock": clock, "due_at": due_at.isoformat(), "on_time": now <= due_at},
    )
    escalation.reschedule(session, ticket, policy, now)
    session.commit()
    return ticket
