"""Plans: the live plan the field works to, re-planned by the worker; drafts a dispatcher previews and applies.

The optimizer itself (routing/) is pure; this module builds its input from the database, stores its
output, and applies it to visits and tickets (assignments, ETAs, at-risk marks) with audit rows.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.orm import Session, sessionmaker

from dispatch.audit.service import apply_transition, record_event
from dispatch.core import texts
from dispatch.core.errors import FieldError, NotFound, StaleUpdate, Unprocessable
from dispatch.core.i18n import FALLBACK, normalize
from dispatch.core.i18n import gettext as _
from dispatch.core.policy import policy_for
from dispatch.core.settings import Settings
from dispatch.core.types import TicketStatus, VisitStatus
from dispatch.domain.policy import Policy
from dispatch.escalation.service import update_eta
from dispatch.notifications import customer as customer_notices
from dispatch.plans.builder import (
    COMMITTED,
    LIVE_VISITS,
    PLANNABLE,
    Snapshot,
    build_snapshot,
    queue_beyond_capacity,
    solve_params,
    travel_provider,
)
from dispatch.plans.codec import plan_from_json, plan_to_json
from dispatch.plans.models import Plan, ReplanRequest
from dispatch.tickets.models import Ticket, Visit
from dispatch.workforce.models import Technician
from routing.plan import Plan as RoutingPlan
from routing.replan import plan_diff, replan
from routing.solve import solve

log = logging.getLogger("onsite24.plans")
LIVE_REPLAN_LOCK = 240_524  # advisory lock: one live re-plan at a time across workers


def live_plan(session: Session) -> Plan | None:
    return session.scalar(select(Plan).where(Plan.status == "live").order_by(Plan.id.desc()).limit(1))


def _solve(
    snapshot: Snapshot, policy: Policy, previous: RoutingPlan | None, *, time_limit: float | None, workers: int
) -> RoutingPlan:
    params = solve_params(policy, time_limit=time_limit, workers=workers)
    travel = snapshot.travel or travel_provider(policy)
    if previous is not None:
        return replan(snapshot.problem, previous, params, travel)
    return solve(snapshot.problem, params, travel)


def plan_live(
    snapshot: Snapshot,
    policy: Policy,
    previous: RoutingPlan | None,
    *,
    time_limit: float | None = None,
    workers: int = 2,
) -> tuple[RoutingPlan, int]:
    """The worker's live re-plan of a snapshot, between reading the database and writing the plan back: the cut
    to what the shifts can hold (the rest queued), then a re-plan of ``previous`` (a cold solve without one).
    Returns the plan and how many visits were queued. bench/replan.py times exactly this."""
    queued = queue_beyond_capacity(snapshot, policy)
    return _solve(snapshot, policy, previous, time_limit=time_limit, workers=workers), queued


def _document(plan: RoutingPlan, snapshot: Snapshot) -> dict[str, Any]:
    doc = plan_to_json(plan)
    doc["not_plannable"] = {str(k): v for k, v in snapshot.not_plannable.items()}
    return doc


def lock_for_apply(session: Session, snapshot: Snapshot) -> None:
    """Lock and re-read the snapshot's visits and tickets before a plan is written back to them.

    A solve takes a second or more while technicians, agents and the gateway keep changing tickets. Without the
    lock the commit met newer ticket versions (StaleDataError) and the whole re-plan was thrown away; under a
    steady load (bench/soak.py) every live re-plan failed that way and nothing was ever assigned. Tickets and
    visits that left the plannable states meanwhile (cancelled, on site, completed) are dropped, so the plan does
    not touch them.

    Lock order matters: visits before tickets, as a technician's event takes them, each in id order; and
    FOR NO KEY UPDATE (what a plain UPDATE takes), so rows that merely reference a ticket (audit rows, an
    acknowledgement) are not blocked. With tickets first the soak saw deadlocks against technicians' events.
    """
    visit_ids = sorted(v.id for v in snapshot.visits.values() if v.id is not None)
    if visit_ids:
        session.scalars(
            select(Visit)
            .where(Visit.id.in_(visit_ids))
            .order_by(Visit.id)
            .with_for_update(key_share=True)
            .execution_options(populate_existing=True)
        ).all()
    if snapshot.tickets:
        session.scalars(
            select(Ticket)
            .where(Ticket.id.in_(sorted(snapshot.tickets)))
            .order_by(Ticket.id)
            .with_for_update(key_share=True)
            .execution_options(populate_existing=True)
        ).all()
    for ticket_id, ticket in list(snapshot.tickets.items()):
        if ticket.status not in PLANNABLE:
            del snapshot.tickets[ticket_id]
    for ticket_id, visit in list(snapshot.visits.items()):
        if visit.status not in LIVE_VISITS:
            del snapshot.visits[ticket_id]


def apply_plan(
    session: Session, snapshot: Snapshot, plan: RoutingPlan, policy: Policy, now: datetime, actor: str
) -> None:
    """Make `plan` the field's truth: visits get technician, order and times; tickets their ETA."""
    planned: set[int] = set()
    for route in plan.routes:
        tech_id = int(route.technician_id)
        for order, stop in enumerate(route.stops):
            ticket_id = int(stop.ticket_id)
            ticket = snapshot.tickets.get(ticket_id)
            if ticket is None:
                continue
            planned.add(ticket_id)
            visit = snapshot.visits.get(ticket_id)
            if visit is None:
                visit = Visit(
                    ticket_id=ticket_id,
                    status=VisitStatus.assigned,
                    service_minutes=int((stop.end - stop.start).total_seconds() // 60),
                )
                session.add(visit)
                snapshot.visits[ticket_id] = visit
            newly_assigned = ticket.status in (TicketStatus.new, TicketStatus.reopened)
            if visit.technician_id != tech_id and visit.status not in COMMITTED:
                newly_assigned = True
                if visit.technician_id is not None:
                    record_event(
                        session,
                        ticket,
                        action="visit_reassigned",
                        actor=actor,
                        at=now,
                        reason=" ".join(plan.reasons.get(stop.visit_id, ()))[:1000] or None,
                        data={"visit_id": visit.id, "from_technician": visit.technician_id, "to_technician": tech_id},
                    )
                    visit.earliest_arrival_at = None  # the first technician's reported arrival no longer holds
                visit.technician_id = tech_id
                if visit.status is VisitStatus.planned:
                    visit.status = VisitStatus.assigned
            visit.sequence = order
            # The solver's arrival is the drive's; a technician who reported a later arrival arrives then (the
            # model already starts the work no earlier, see plans.builder).
            arrival = max(stop.arrival, visit.earliest_arrival_at or stop.arrival)
            visit.planned_arrival_at = arrival
            visit.planned_start_at = stop.start
            visit.planned_end_at = stop.end
            if ticket.status in (TicketStatus.new, TicketStatus.reopened):
                apply_transition(
                    session,
                    ticket,
                    "assign",
                    actor=actor,
                    at=now,
                    reason=" ".join(plan.reasons.get(stop.visit_id, ()))[:1000] or None,
                    data={"technician_id": tech_id, "eta": stop.arrival.isoformat()},
                )
            ticket.assigned_technician_id = tech_id
            if newly_assigned:
                customer_notices.technician_assigned(session, ticket, technician_id=tech_id, eta=arrival, now=now)
            update_eta(session, ticket, arrival, policy, now)
    for ticket_id, ticket in snapshot.tickets.items():
        if ticket_id in planned:
            continue
        visit = snapshot.visits.get(ticket_id)
        if visit is not None and (
            visit.status in COMMITTED or visit.status in (VisitStatus.on_site, VisitStatus.paused)
        ):
            continue  # the field has it; the plan only lost sight of it (e.g. the shift ended)
        if visit is not None:
            visit.technician_id = None
            visit.status = VisitStatus.planned
            visit.sequence = visit.planned_arrival_at = visit.planned_start_at = visit.planned_end_at = None
        if ticket.status is TicketStatus.assigned:
            reason = dict(plan.unassigned).get(str(ticket_id)) or snapshot.not_plannable.get(ticket_id)
            apply_transition(session, ticket, "unassign", actor=actor, at=now, reason=reason)
        ticket.assigned_technician_id = None
        update_eta(session, ticket, None, policy, now)
        ticket.at_risk = True  # no technician can be planned: it will breach unless someone steps in


def run_live_replan(factory: sessionmaker[Session], settings: Settings, now: datetime) -> int:
    """Worker job: when re-plan requests are pending, re-plan the live plan once for all of them."""
    policy = policy_for(settings)
    with factory() as session:
        pending = session.scalars(
            select(ReplanRequest.id)
            .where(ReplanRequest.processed_at.is_(None), ReplanRequest.draft_plan_id.is_(None))
            .order_by(ReplanRequest.id)
            .limit(500)
        ).all()
        if not pending:
            return 0
        if not session.scalar(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": LIVE_REPLAN_LOCK}):
            return 0  # another worker is re-planning; it will see these requests too
        current = live_plan(session)
        previous = plan_from_json(current.document) if current is not None and current.document else None
        snapshot = build_snapshot(session, policy, now)
        plan, queued = plan_live(snapshot, policy, previous)
        lock_for_apply(session, snapshot)
        apply_plan(session, snapshot, plan, policy, now, actor="planner")
        if current is not None:
            current.status = "superseded"
        session.add(
            Plan(
                kind="live",
                status="live",
                computed_at=now,
                fingerprint=plan.fingerprint(),
                document=_document(plan, snapshot),
                reason=f"{len(pending)} change(s)",
                based_on_plan_id=current.id if current else None,
            )
        )
        session.execute(update(ReplanRequest).where(ReplanRequest.id.in_(pending)).values(processed_at=now))
        session.commit()
        log.info(
            "re-planned %d visits (%d queued beyond the shifts) for %d request(s) in %.2fs (%d late, %d unassigned)",
            len(snapshot.problem.visits),
            queued,
            len(pending),
            plan.stats.wall_time_s,
            plan.objective.late_visits,
            plan.objective.unassigned_visits,
        )
        return len(pending)


def request_draft(
    session: Session, *, user_id: int, reason: str | None, time_limit: float | None, policy: Policy
) -> Plan:
    """A dispatcher asks for a full re-optimisation; the worker computes it as a draft to preview."""
    current = live_plan(session)
    draft = Plan(
        kind="draft",
        status="pending",
        requested_by_id=user_id,
        reason=reason,
        based_on_plan_id=current.id if current else None,
        time_limit_seconds=time_limit or policy.routing.draft_time_limit_seconds,
    )
    session.add(draft)
    session.flush()
    session.add(ReplanRequest(reason="draft", draft_plan_id=draft.id))
    session.commit()
    return draft


def _unplanned(plan: RoutingPlan, not_plannable: dict[str, Any] | None) -> set[str]:
    """Tickets a plan leaves without a technician: the solver's unassigned and those it could not even take
    (no site, access hours never open, queued beyond the shifts)."""
    return {str(v) for v, _why in plan.unassigned} | {str(t) for t in (not_plannable or {})}


def _stop_json(plan: RoutingPlan, visit_id: str) -> dict[str, Any] | None:
    stop = plan.stop(visit_id)
    if stop is None:
        return None
    return {"eta": stop.arrival.isoformat(), "late_minutes": round(stop.late_minutes, 1)}


def diff_json(
    old: RoutingPlan | None,
    new: RoutingPlan,
    *,
    names: dict[str, str] | None = None,
    old_not_plannable: dict[str, Any] | None = None,
    new_not_plannable: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """What applying `new` over `old` changes, as the board shows it: who moves (with names), when each moved or
    re-timed visit arrives before and after against its deadline, which deadlines are now kept or lost, and how
    many tickets are left without a technician (the solver's unassigned plus the not plannable)."""
    if old is None:
        old = RoutingPlan(now=new.now, routes=(), unassigned=(), objective=type(new.objective)(), stats=new.stats)
    d = plan_diff(old, new)
    named = names or {}

    def change(m: Any) -> dict[str, Any]:
        before, after = _stop_json(old, m.visit_id), _stop_json(new, m.visit_id)
        stop = new.stop(m.visit_id) or old.stop(m.visit_id)
        return {
            **asdict(m),
            "ticket_id": stop.ticket_id if stop else m.visit_id,
            "from_name": named.get(m.from_technician or "", m.from_technician),
            "to_name": named.get(m.to_technician or "", m.to_technician),
            "deadline": stop.deadline.isoformat() if stop else None,
            "before": before,
            "after": after,
        }

    def deadline(visit_id: str) -> dict[str, Any]:
        stop = new.stop(visit_id) or old.stop(visit_id)
        return {
            "visit_id": visit_id,
            "ticket_id": stop.ticket_id if stop else visit_id,
            "deadline": stop.deadline.isoformat() if stop else None,
            "before": _stop_json(old, visit_id),
            "after": _stop_json(new, visit_id),
        }

    unplanned_before = _unplanned(old, old_not_plannable)
    unplanned_after = _unplanned(new, new_not_plannable)
    return {
        "moves": [change(m) for m in d.moves],
        "added": [change(m) for m in d.added],
        "removed": [change(m) for m in d.removed],
        "deadlines_gained": list(d.deadlines_gained),
        "deadlines_lost": list(d.deadlines_lost),
        "deadlines_kept_now": [deadline(v) for v in d.deadlines_gained],
        "deadlines_missed_now": [deadline(v) for v in d.deadlines_lost],
        "eta_changes_min": d.eta_changes_min,
        "km_delta": d.km_delta,
        "gains": d.gains,
        "gains_by_name": {named.get(k, k): n for k, n in d.gains.items()},
        "late_before": old.objective.late_visits,
        "late_after": new.objective.late_visits,
        "unassigned_before": len(unplanned_before),
        "unassigned_after": len(unplanned_after),
        "unassigned_tickets_after": sorted(unplanned_after, key=lambda t: (len(t), t)),
    }


def run_drafts(factory: sessionmaker[Session], settings: Settings, now: datetime) -> int:
    """Worker job: compute requested drafts (cold full re-optimisation) with their diff to the live plan."""
    policy = policy_for(settings)
    done = 0
    while True:
        with factory() as session:
            request = session.scalar(
                select(ReplanRequest)
                .where(ReplanRequest.processed_at.is_(None), ReplanRequest.draft_plan_id.is_not(None))
                .order_by(ReplanRequest.id)
                .limit(1)
                .with_for_update(skip_locked=True)
            )
            if request is None:
                return done
            draft = session.get(Plan, request.draft_plan_id)
            request.processed_at = now
            if draft is None or draft.status != "pending":
                session.commit()
                continue
            try:
                snapshot = build_snapshot(session, policy, now)
                plan = _solve(snapshot, policy, None, time_limit=draft.time_limit_seconds, workers=2)
            except ValueError as exc:
                draft.status, draft.error = "failed", str(exc)
            else:
                current = session.get(Plan, draft.based_on_plan_id) if draft.based_on_plan_id else None
                live = plan_from_json(current.document) if current is not None and current.document else None
                draft.document = _document(plan, snapshot)
                draft.fingerprint = plan.fingerprint()
                names = {t.id: t.name or t.id for t in snapshot.problem.technicians}
                names.update({str(i): n for i, n in session.execute(select(Technician.id, Technician.name))})
                draft.diff = diff_json(
                    live,
                    plan,
                    names=names,
                    old_not_plannable=(current.document or {}).get("not_plannable") if current is not None else None,
                    new_not_plannable=draft.document.get("not_plannable"),
                )
                draft.status = "ready"
                draft.computed_at = now
            session.commit()
            done += 1


def apply_draft(session: Session, *, plan_id: int, user_id: int, actor: str, policy: Policy, now: datetime) -> Plan:
    """Apply a ready draft, unless the live plan has moved on since it was computed (409)."""
    session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LIVE_REPLAN_LOCK})
    draft = session.scalar(select(Plan).where(Plan.id == plan_id).with_for_update())
    if draft is None or draft.kind != "draft":
        raise NotFound(f"Draft plan {plan_id} does not exist.", key="error.plan.not-found", params={"plan_id": plan_id})
    if draft.status != "ready":
        raise Unprocessable(
            f"Draft plan {plan_id} is {draft.status}; only a ready draft can be applied.",
            key="error.plan.not-ready",
            params={"plan_id": plan_id},
        )
    current = live_plan(session)
    if (current.id if current else None) != draft.based_on_plan_id:
        draft.status = "stale"
        session.commit()
        raise StaleUpdate(
            f"The live plan changed since draft {plan_id} was computed; ask for a new draft.",
            key="error.plan.stale",
            params={"plan_id": plan_id},
            extra={"live_plan_id": current.id if current else None, "draft_based_on": draft.based_on_plan_id},
        )
    snapshot = build_snapshot(session, policy, now)
    plan = plan_from_json(draft.document)
    known = {v.id for v in snapshot.problem.visits}
    stale = [s.visit_id for r in plan.routes for s in r.stops if s.visit_id not in known]
    if stale:
        draft.status = "stale"
        session.commit()
        raise StaleUpdate(
            f"Tickets {', '.join(stale[:10])} changed since the draft was computed; ask for a new one.",
            key="error.plan.tickets-changed",
            params={"tickets": ", ".join(stale[:10])},
        )
    lock_for_apply(session, snapshot)
    apply_plan(session, snapshot, plan, policy, now, actor=f"user:{user_id}")
    if current is not None:
        current.status = "superseded"
    draft.status = "applied"
    session.add(
        Plan(
            kind="live",
            status="live",
            computed_at=now,
            fingerprint=draft.fingerprint,
            document=draft.document,
            reason=f"draft {draft.id} applied",
            requested_by_id=user_id,
            based_on_plan_id=current.id if current else None,
        )
    )
    session.commit()
    return draft


def discard_draft(session: Session, *, plan_id: int) -> Plan:
    draft = session.scalar(select(Plan).where(Plan.id == plan_id, Plan.kind == "draft").with_for_update())
    if draft is None:
        raise NotFound(f"Draft plan {plan_id} does not exist.", key="error.plan.not-found", params={"plan_id": plan_id})
    if draft.status in ("applied",):
        raise Unprocessable(
            f"Draft plan {plan_id} was already applied.", key="error.plan.already-applied", params={"plan_id": plan_id}
        )
    draft.status = "discarded"
    session.commit()
    return draft


def _check_start(start_at: datetime | None, policy: Policy, now: datetime) -> None:
    if start_at is None:
        return
    if start_at < now - timedelta(minutes=5):
        raise Unprocessable(
            "The chosen start time is in the past.",
            errors=[FieldError("/start_at", "in the past", key="field.in-the-past")],
            key="error.plan.start-in-past",
        )
    if start_at > now + timedelta(hours=policy.routing.horizon_hours):
        raise Unprocessable(
            f"The chosen start time is beyond the planning horizon of {policy.routing.horizon_hours:g} h.",
            errors=[FieldError("/start_at", "beyond the planning horizon", key="field.beyond-horizon")],
            key="error.plan.start-beyond-horizon",
            params={"hours": f"{policy.routing.horizon_hours:g}"},
        )


def validate_move(
    session: Session,
    *,
    policy: Policy,
    ticket_id: int,
    technician_id: int,
    now: datetime,
    start_at: datetime | None = None,
    locale: str | None = None,
) -> dict[str, Any]:
    """What happens if this ticket goes to this technician (at or after `start_at`): feasible, ETA, lateness,
    and why not.

    The reasons are written in `locale` (English when not given), times in the policy's zone."""
    _check_start(start_at, policy, now)
    tz = policy.calendar.timezone
    tech = session.get(Technician, technician_id)
    if tech is None:
        raise Unprocessable(
            f"Technician {technician_id} does not exist.",
            errors=[FieldError("/technician_id", "no such technician", key="field.no-such-technician")],
            key="error.technician.not-found",
            params={"technician_id": technician_id},
        )
    snapshot = build_snapshot(
        session,
        policy,
        now,
        extra_pins={ticket_id: technician_id},
        extra_starts={ticket_id: start_at} if start_at is not None else None,
    )
    queue_beyond_capacity(snapshot, policy)  # the preview answers as fast as the live re-plan
    if ticket_id not in snapshot.tickets:
        raise Unprocessable(
            f"Ticket {ticket_id} is not waiting for a visit.",
            key="error.plan.not-plannable",
            params={"ticket_id": ticket_id},
            errors=[FieldError("/ticket_id", "not plannable in its current state")],
        )
    if ticket_id in snapshot.not_plannable:
        why = texts.known_text(snapshot.not_plannable[ticket_id], "plan.not-plannable.", locale)
        return {"feasible": False, "reasons": [why], "eta": None, "late_minutes": None}
    visit = snapshot.problem.visit(str(ticket_id))
    reasons = []
    missing = sorted(visit.required_skills - set(tech.skills))
    if missing:
        # English keeps the skill codes, like the optimizer's own (English) explanations; others get words.
        if (normalize(locale) or FALLBACK) == FALLBACK:
            skills = ", ".join(missing)
        else:
            skills = _("list.separator", locale).join(texts.word("equipment", m, locale) for m in missing)
        reasons.append(_("plan.move.lacks-skill", locale, name=tech.name, skills=skills))
    if str(technician_id) not in {t.id for t in snapshot.problem.technicians}:
        hours = f"{policy.routing.horizon_hours:g}"
        reasons.append(_("plan.move.no-shift", locale, name=tech.name, hours=hours))
    if reasons:
        return {"feasible": False, "reasons": reasons, "eta": None, "late_minutes": None}
    current = live_plan(session)
    previous = plan_from_json(current.document) if current is not None and current.document else None
    plan = _solve(snapshot, policy, previous, time_limit=min(policy.routing.time_limit_seconds, 1.0), workers=1)
    stop = plan.stop(str(ticket_id))
    doc = plan_to_json(plan)
    if stop is None:
        why = texts.plan_reasons(doc, str(ticket_id), locale, tz) or [_("plan.move.cannot-fit", locale)]
        return {"feasible": False, "reasons": why[:1], "eta": None, "late_minutes": None}
    reasons = texts.plan_reasons(doc, str(ticket_id), locale, tz)
    if start_at is not None and stop.start > start_at + timedelta(minutes=1):
        # Not before the chosen time, but the route (travel, earlier visits, access hours) makes it later.
        later = round((stop.start - start_at).total_seconds() / 60)
        reasons.append(_("plan.move.starts-later", locale, minutes=later))
    return {
        "feasible": True,
        "reasons": reasons,
        "eta": stop.arrival,
        "deadline": stop.deadline,
        "late_minutes": stop.late_minutes,
        "late_visits_after": plan.objective.late_visits,
    }


def pin(
    session: Session,
    *,
    policy: Policy,
    ticket_id: int,
    technician_id: int | None,
    actor: str,
    user_id: int,
    now: datetime,
    start_at: datetime | None = None,
    locale: str | None = None,
) -> dict[str, Any]:
    """Pin a ticket's visit to a technician, optionally not before `start_at`, after validating it (or unpin
    with None); re-plans around it."""
    if start_at is not None and technician_id is None:
        raise Unprocessable(
            "A start time needs a technician.",
            errors=[FieldError("/start_at", "only with a technician_id", key="field.only-with-technician")],
            key="error.plan.start-needs-technician",
        )
    ticket = session.scalar(select(Ticket).where(Ticket.id == ticket_id).with_for_update())
    if ticket is None:
        raise NotFound(
            f"Ticket {ticket_id} does not exist.", key="error.ticket.not-found", params={"ticket_id": ticket_id}
        )
    result: dict[str, Any] = {"feasible": True, "reasons": []}
    if technician_id is not None:
        result = validate_move(
            session,
            policy=policy,
            ticket_id=ticket_id,
            technician_id=technician_id,
            now=now,
            start_at=start_at,
            locale=locale,
        )
        if not result["feasible"]:
            raise Unprocessable(
                "The move is not possible: " + "; ".join(result["reasons"]),
                errors=[FieldError("/technician_id", r) for r in result["reasons"]],
                extra={"reasons": result["reasons"]},
                key="error.plan.move-impossible",
                params={"reasons": "; ".join(result["reasons"])},
            )
    visit = session.scalar(
        select(Visit)
        .where(Visit.ticket_id == ticket_id, Visit.status.in_((VisitStatus.planned, VisitStatus.assigned)))
        .order_by(Visit.id.desc())
        .limit(1)
    )
    if visit is None:
        if technician_id is None:
            raise Unprocessable(
                f"Ticket {ticket_id} has no visit to unpin.",
                key="error.plan.nothing-to-unpin",
                params={"ticket_id": ticket_id},
            )
        visit = Visit(ticket_id=ticket_id, status=VisitStatus.planned)
        session.add(visit)
    visit.pinned = technician_id is not None
    visit.pinned_start_at = start_at
    if start_at is not None:
        visit.earliest_arrival_at = None  # the dispatcher chose the time: it replaces the technician's reported one
    if technician_id is not None and visit.technician_id not in (None, technician_id):
        # A change of who goes, in the same transaction as the pin (the re-plan then finds it already done).
        record_event(
            session,
            ticket,
            action="visit_reassigned",
            actor=actor,
            actor_user_id=user_id,
            at=now,
            reason="pinned on the board",
            data={"visit_id": visit.id, "from_technician": visit.technician_id, "to_technician": technician_id},
        )
        visit.earliest_arrival_at = None  # another technician: the first one's reported arrival no longer holds
    if technician_id is not None:
        visit.technician_id = technician_id
    record_event(
        session,
        ticket,
        action="pinned" if technician_id else "unpinned",
        actor=actor,
        actor_user_id=user_id,
        at=now,
        data={"technician_id": technician_id, "start_at": start_at.isoformat() if start_at else None},
    )
    session.add(ReplanRequest(reason="dispatcher pin", ticket_id=ticket_id))
    session.commit()
    return result
