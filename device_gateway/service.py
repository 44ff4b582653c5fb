"""Storing what devices publish: alarms, status and heartbeats, in batches, idempotently, in the database.

`process_batch` turns a list of raw MQTT messages into rows in ONE transaction (the caller commits, then
acknowledges every message of the batch). Nothing is deduplicated in memory:

- an alarm is stored once per (device_id, alarm_id) (`INSERT … ON CONFLICT DO NOTHING`);
- raises of the same device and code attach to the one open `AlarmFault` (partial unique index), whose
  ticket is the one ticket for that fault; concurrent gateways serialise per (device, code) with
  transaction-scoped advisory locks taken in sorted order (so two batches cannot deadlock);
- anything that does not parse, validate, or comes from an unknown device becomes a `DeadLetter` with the raw
  bytes, topic and reason; a redelivered copy is kept once (unique digest).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, sessionmaker

import dispatch.models  # noqa: F401  (every mapper, so tickets' foreign keys resolve in a bare gateway process)
from device_gateway.payloads import Alarm as AlarmMessage
from device_gateway.payloads import Heartbeat, Rejection, Status, parse
from device_gateway.policy import DEFAULT_POLICY, GatewayPolicy
from dispatch.audit.service import change_status, record_event
from dispatch.core.clock import utcnow
from dispatch.core.types import OPEN_TICKET_STATUSES, Category, Channel, Grade, TicketStatus, VisitStatus
from dispatch.customers.models import Equipment, Site
from dispatch.devices.models import AlarmFault, DeadLetter, Device, DeviceWatch
from dispatch.domain import grading, sla
from dispatch.domain.alarms import map_alarm
from dispatch.tickets.models import Ticket, Visit
from dispatch.tickets.schemas import Impact
from dispatch.tickets.service import intake_lock_keys, lock_names, open_complaint

log = logging.getLogger("onsite24.gateway")

# Statuses in which no technician has left for the site yet: a clear may still resolve the ticket itself.
NOT_YET_DEPARTED = frozenset({TicketStatus.new, TicketStatus.assigned, TicketStatus.accepted, TicketStatus.reopened})
SEVERITY_RANK = {"warning": 0, "minor": 1, "major": 2, "critical": 3}


@dataclass(frozen=True)
class Message:
    """One MQTT message as received: its topic and raw payload bytes."""

    topic: str
    payload: bytes


@dataclass
class BatchResult:
    """What a batch did, for logs, tests and the replay API."""

    stored: int = 0  # new alarm rows
    duplicates: int = 0  # alarms already stored (redelivery, publisher retry)
    dead_letters: int = 0
    device_updates: int = 0
    tickets_opened: list[int] = field(default_factory=list)
    alarm_ids: list[int] = field(default_factory=list)  # row ids of the alarms stored by this batch
    outcomes: list[str] = field(default_factory=list)  # one line per message, in order


@dataclass(frozen=True)
class _Known:
    equipment: Equipment
    customer_id: int


def _digest(topic: str, payload: bytes) -> bytes:
    return hashlib.sha256(topic.encode() + b"\0" + payload).digest()


def ingest(
    factory: sessionmaker[Session],
    messages: Sequence[Message],
    *,
    policy: GatewayPolicy = DEFAULT_POLICY,
    now: datetime | None = None,
) -> BatchResult:
    """Store a batch of messages and commit once; the caller acknowledges them only after this returns."""
    with factory() as session:
        result = process_batch(session, messages, policy=policy, now=now or utcnow())
        session.commit()
        return result


def store_alarm(factory: sessionmaker[Session], topic: str, payload: bytes) -> None:
    """Store one message and commit (kept for callers that handle messages one at a time)."""
    ingest(factory, [Message(topic, payload)])


def store_failure(factory: sessionmaker[Session], message: Message, reason: str) -> None:
    """Keep a message the gateway failed on as a dead letter (with the error), so it is never dropped."""
    with factory() as session:
        result = BatchResult(outcomes=[""])
        device = message.topic.split("/")[1] if message.topic.count("/") == 2 else None
        _dead_letters(session, [message], [(0, reason, device)], utcnow(), result)
        session.commit()


def process_batch(
    session: Session, messages: Sequence[Message], *, policy: GatewayPolicy = DEFAULT_POLICY, now: datetime
) -> BatchResult:
    """Apply every message to the database in the caller's transaction (no commit)."""
    result = BatchResult(outcomes=[""] * len(messages))
    parsed = [parse(m.topic, m.payload) for m in messages]
    device_ids = sorted({p.device_id for p in parsed if not isinstance(p, Rejection)})
    known = _registry(session, device_ids)

    letters: list[tuple[int, str, str | None]] = []
    alarms: list[tuple[int, AlarmMessage]] = []
    signals: list[tuple[int, Status | Heartbeat]] = []
    for i, p in enumerate(parsed):
        if isinstance(p, Rejection):
            letters.append((i, p.reason, p.device_id))
        elif p.device_id not in known:
            letters.append((i, f"unknown device '{p.device_id}' (not in the registry, or revoked)", p.device_id))
        elif isinstance(p, AlarmMessage):
            alarms.append((i, p))
        else:
            signals.append((i, p))

    if letters:
        _dead_letters(session, messages, letters, now, result)
    if alarms:
        _store_alarms(session, alarms, known, policy, now, result)
    if alarms or signals:
        _update_devices(session, alarms, signals, known, policy, now, result)
    return result


def _registry(session: Session, device_ids: list[str]) -> dict[str, _Known]:
    """Known devices: equipment carrying the device id, unless the device's registration was revoked."""
    if not device_ids:
        return {}
    rows = session.execute(
        select(Equipment, Site.customer_id)
        .join(Site, Site.id == Equipment.site_id)
        .outerjoin(Device, Device.device_id == Equipment.device_id)
        .where(text("equipment.device_id = ANY(CAST(:ids AS text[]))"), Device.revoked_at.is_(None)),
        {"ids": device_ids},
    ).all()
    return {eq.device_id: _Known(eq, customer_id) for eq, customer_id in rows if eq.device_id}


def _dead_letters(
    session: Session,
    messages: Sequence[Message],
    letters: list[tuple[int, str, str | None]],
    now: datetime,
    result: BatchResult,
) -> None:
    rows = [
        {
            "received_at": now,
            "topic": messages[i].topic[:1000],
            "payload": messages[i].payload,
            "digest": _digest(messages[i].topic, messages[i].payload),
            "reason": reason[:2000],
            "device_id": device_id,
        }
        for i, reason, device_id in letters
    ]
    table = DeadLetter.__table__
    stmt = insert(table).on_conflict_do_nothing(index_elements=["digest"]).returning(table.c.id)
    result.dead_letters += len(session.execute(stmt, rows).all())
    for i, reason, _ in letters:
        result.outcomes[i] = f"dead letter: {reason}"


def _lock_faults(session: Session, alarms: Iterable[AlarmMessage], known: dict[str, _Known]) -> None:
    """Serialise work on each (device, code) and each machine's intake across gateways and phone calls.

    All in one sorted call, so two batches never deadlock; the intake service's own lock on the same machine
    is then already held by this transaction.
    """
    names: set[str] = set()
    for a in alarms:
        names.add(f"{a.device_id}\x1f{a.code}")
        unit = known[a.device_id].equipment
        names.update(intake_lock_keys(unit, unit.site_id))
    lock_names(session, names)


def _store_alarms(
    session: Session,
    alarms: list[tuple[int, AlarmMessage]],
    known: dict[str, _Known],
    policy: GatewayPolicy,
    now: datetime,
    result: BatchResult,
) -> None:
    _lock_faults(session, (a for _, a in alarms), known)
    # After the locks: anything a concurrent gateway stored for these faults is committed and visible now.
    # Large batches are passed as arrays (unnest / ANY): one small cached statement, not thousands of parameters.
    keys = sorted({(a.device_id, a.alarm_id) for _, a in alarms})
    stored = {
        (d, k)
        for d, k in session.execute(
            text(
                "SELECT a.device_id, a.alarm_id FROM alarms a JOIN unnest(CAST(:d AS text[]), CAST(:k AS text[])) "
                "AS x(d, k) ON a.device_id = x.d AND a.alarm_id = x.k"
            ),
            {"d": [d for d, _ in keys], "k": [k for _, k in keys]},
        )
    }
    fresh: list[tuple[int, AlarmMessage]] = []
    seen: set[tuple[str, str]] = set()
    for i, a in alarms:
        key = (a.device_id, a.alarm_id)
        if key in stored or key in seen:
            result.duplicates += 1
            result.outcomes[i] = f"duplicate of alarm {a.alarm_id} from {a.device_id}"
            continue
        seen.add(key)
        fresh.append((i, a))
    if not fresh:
        return

    keys = {(a.device_id, a.code) for _, a in fresh}
    faults = _open_faults(session, keys)
    # The batch's ticket statuses and recently auto-recovered faults in two queries, not one per alarm.
    tickets = _Tickets(session, [f.ticket_id for f in faults.values() if f.ticket_id is not None])
    missing = keys - faults.keys()
    recovered = _recently_recovered(session, missing, policy, now) if missing else {}
    placed: list[tuple[int, AlarmMessage, AlarmFault]] = []
    new_faults: list[AlarmFault] = []
    # In device time per fault, so a raise and its clear in one batch apply in the order they happened.
    for i, a in sorted(fresh, key=lambda x: (x[1].device_id, x[1].code, x[1].at, x[0])):
        unit = known[a.device_id]
        fault = _apply_alarm(session, faults, recovered, tickets, new_faults, a, unit, policy, now, result)
        placed.append((i, a, fault))
    _write_faults(session, list(faults.values()))
    session.add_all(new_faults)
    session.flush()

    ordered = sorted(placed)
    inserted = session.execute(
        text(
            "INSERT INTO alarms (device_id, alarm_id, equipment_id, ticket_id, fault_id, code, severity, state, "
            "message, data, extra, device_at, received_at) "
            "SELECT d, k, e, t, f, c, s, st, m, CAST(da AS jsonb), CAST(ex AS jsonb), at, CAST(:now AS timestamptz) "
            "FROM unnest(CAST(:d AS text[]), CAST(:k AS text[]), CAST(:e AS int[]), CAST(:t AS int[]), "
            "CAST(:f AS bigint[]), CAST(:c AS text[]), CAST(:s AS text[]), CAST(:st AS text[]), CAST(:m AS text[]), "
            "CAST(:da AS text[]), CAST(:ex AS text[]), CAST(:at AS timestamptz[])) "
            "AS x(d, k, e, t, f, c, s, st, m, da, ex, at) "
            "ON CONFLICT (device_id, alarm_id) DO NOTHING RETURNING id"
        ),
        {
            "now": now,
            "d": [a.device_id for _, a, _f in ordered],
            "k": [a.alarm_id for _, a, _f in ordered],
            "e": [known[a.device_id].equipment.id for _, a, _f in ordered],
            "t": [f.ticket_id for _, _a, f in ordered],
            "f": [f.id for _, _a, f in ordered],
            "c": [a.code for _, a, _f in ordered],
            "s": [a.severity for _, a, _f in ordered],
            "st": [a.state for _, a, _f in ordered],
            "m": [a.message for _, a, _f in ordered],
            "da": [json.dumps(a.data) for _, a, _f in ordered],
            "ex": [json.dumps(a.extra) for _, a, _f in ordered],
            "at": [a.at for _, a, _f in ordered],
        },
    ).all()
    result.stored += len(inserted)
    result.alarm_ids += [r[0] for r in inserted]
    for i, a, fault in placed:
        result.outcomes[i] = f"alarm {a.alarm_id} {a.state} → fault {fault.id}, ticket {fault.ticket_id}"


_FAULT_COLUMNS = {
    "severity": "text",
    "count": "int",
    "clear_count": "int",
    "first_seen_at": "timestamptz",
    "last_seen_at": "timestamptz",
    "last_cleared_at": "timestamptz",
    "cleared_at": "timestamptz",
    "recent_clears": "jsonb",
    "flapping": "bool",
    "flapping_since": "timestamptz",
    "auto_recovered_at": "timestamptz",
    "closed_at": "timestamptz",
    "ticket_id": "int",
}
_WRITE_FAULTS = text(
    "UPDATE alarm_faults SET "  # noqa: S608 (column names are the constants above; values are bound)
    + ", ".join(f"{c} = x.{c}" for c in _FAULT_COLUMNS)
    + " FROM (SELECT "
    + ", ".join(f"CAST(c_{c} AS {t}) AS {c}" for c, t in _FAULT_COLUMNS.items())
    + ", id FROM unnest("
    + ", ".join(f"CAST(:{c} AS {'text' if t == 'jsonb' else t}[])" for c, t in _FAULT_COLUMNS.items())
    + ", CAST(:id AS bigint[])) AS u("
    + ", ".join(f"c_{c}" for c in _FAULT_COLUMNS)
    + ", id)) AS x WHERE alarm_faults.id = x.id"
)


def _write_faults(session: Session, faults: list[AlarmFault]) -> None:
    """Write the batch's changed, already stored faults in ONE statement (not one UPDATE per fault).

    They leave the session afterwards, so the ORM does not write them again; new faults are left to the flush.
    """
    changed = [f for f in faults if f.id is not None and session.is_modified(f, include_collections=False)]
    if not changed:
        return
    params: dict[str, list[object]] = {c: [] for c in _FAULT_COLUMNS}
    params["id"] = []
    for f in changed:
        for c in _FAULT_COLUMNS:
            value = getattr(f, c)
            params[c].append(json.dumps(value) if c == "recent_clears" else value)
        params["id"].append(f.id)
    session.execute(_WRITE_FAULTS, params)
    for f in changed:
        session.expunge(f)


def _open_faults(session: Session, keys: set[tuple[str, str]]) -> dict[tuple[str, str], AlarmFault]:
    # Exactly the batch's (device, code) pairs: loading ORM rows is the costly part, so load no others.
    ordered = sorted(keys)
    rows = session.scalars(
        select(AlarmFault).where(
            AlarmFault.closed_at.is_(None),
            text(
                "(alarm_faults.device_id, alarm_faults.code) IN "
                "(SELECT * FROM unnest(CAST(:devs AS text[]), CAST(:codes AS text[])))"
            ),
        ),
        {"devs": [d for d, _ in ordered], "codes": [c for _, c in ordered]},
    )
    return {(f.device_id, f.code): f for f in rows}


class _Tickets:
    """The batch's ticket statuses from one light query; a full ticket row is loaded only where one changes."""

    def __init__(self, session: Session, ids: list[int]) -> None:
        self.session = session
        self.status: dict[int, str] = {}
        if ids:
            sql = text("SELECT id, status FROM tickets WHERE id = ANY(CAST(:ids AS int[]))")
            self.status = {tid: st for tid, st in session.execute(sql, {"ids": ids})}

    def is_open(self, ticket_id: int | None) -> bool:
        if ticket_id is None:
            return False
        if ticket_id not in self.status:
            self.status[ticket_id] = str(self.session.scalar(select(Ticket.status).where(Ticket.id == ticket_id)))
        return self.status[ticket_id] in OPEN_TICKET_STATUSES

    def get(self, ticket_id: int) -> Ticket:
        ticket = self.session.get(Ticket, ticket_id)
        assert ticket is not None
        return ticket

    def note(self, ticket: Ticket) -> None:
        self.status[ticket.id] = str(ticket.status)


def _apply_alarm(
    session: Session,
    faults: dict[tuple[str, str], AlarmFault],
    recovered: dict[tuple[str, str], AlarmFault],
    tickets: _Tickets,
    new_faults: list[AlarmFault],
    a: AlarmMessage,
    unit: _Known,
    policy: GatewayPolicy,
    now: datetime,
    result: BatchResult,
) -> AlarmFault:
    """Attach one new alarm to its device fault and move the fault's ticket accordingly."""
    key = (a.device_id, a.code)
    actor = f"device:{a.device_id}"
    fault = faults.get(key)
    if fault is not None and a.state == "raised" and fault.ticket_id and not tickets.is_open(fault.ticket_id):
        # The fault's ticket was resolved or closed by people: this raise is a new fault with a new ticket.
        fault.closed_at = now
        session.flush()
        fault = None
    if fault is None and a.state == "raised" and key in recovered:
        fault = _reopen_recent_auto_recovery(session, recovered.pop(key), tickets, a, policy, now)
    if fault is None:
        fault = AlarmFault(
            device_id=a.device_id,
            code=a.code,
            equipment_id=unit.equipment.id,
            severity=a.severity,
            count=0,
            clear_count=0,
            recent_clears=[],
            flapping=False,
            opened_at=now,
        )
        # Added to the session after the loop: all new faults of the batch are inserted in one statement.
        new_faults.append(fault)
    faults[key] = fault

    if a.state == "raised":
        fault.count += 1
        if SEVERITY_RANK.get(a.severity, 0) > SEVERITY_RANK.get(fault.severity, 0):
            fault.severity = a.severity
        fault.first_seen_at = min(fault.first_seen_at or a.at, a.at)
        fault.last_seen_at = max(fault.last_seen_at or a.at, a.at)
        if fault.last_cleared_at is not None and fault.last_cleared_at > a.at:
            return fault  # a late raise that its clear already overtook: recorded, nothing to open
        fault.cleared_at = None
        if not tickets.is_open(fault.ticket_id):
            ticket = _open_or_attach_ticket(
                session,
                fault=fault,
                alarm=a,
                equipment=unit.equipment,
                customer_id=unit.customer_id,
                policy=policy,
                now=now,
            )
            tickets.note(ticket)
            fault.ticket_id = ticket.id
            result.tickets_opened.append(ticket.id)
        elif fault.flapping:
            _graded_as_flapping(session, tickets.get(fault.ticket_id), policy=policy, now=now, actor=actor)
        return fault

    # state == "cleared"
    fault.clear_count += 1
    fault.last_cleared_at = max(fault.last_cleared_at or a.at, a.at)
    if fault.last_seen_at is not None and fault.last_seen_at > a.at:
        return fault  # a late clear of an earlier raise: the fault is still active
    fault.cleared_at = a.at
    window_start = a.at - policy.flap_window
    clears = [c for c in fault.recent_clears if datetime.fromisoformat(c) >= window_start] + [a.at.isoformat()]
    fault.recent_clears = clears
    is_open = tickets.is_open(fault.ticket_id)
    if len(clears) > policy.flap_cycles and not fault.flapping:
        fault.flapping = True
        fault.flapping_since = now
        if is_open:
            _graded_as_flapping(session, tickets.get(fault.ticket_id), policy=policy, now=now, actor=actor)
    if not is_open or fault.ticket_id is None:
        return fault
    ticket = tickets.get(fault.ticket_id)
    if policy.auto_resolve_on_clear and not fault.flapping and _no_technician_left(session, ticket):
        _resolve_auto_recovered(session, ticket, fault, a, now)
        tickets.note(ticket)
    else:
        why = "flapping" if fault.flapping else "a technician has already left" if policy.auto_resolve_on_clear else ""
        record_event(
            session,
            ticket,
            action="alarm_cleared",
            actor=actor,
            reason=f"The device reports {a.code} cleared at {a.at.isoformat()}; the ticket stays open"
            + (f" ({why})." if why else "."),
            data={"device_id": a.device_id, "code": a.code, "alarm_id": a.alarm_id, "fault_id": fault.id},
            at=now,
        )
    return fault


def _recently_recovered(
    session: Session, keys: set[tuple[str, str]], policy: GatewayPolicy, now: datetime
) -> dict[tuple[str, str], AlarmFault]:
    """The latest fault per (device, code) that auto-recovered within the flapping window."""
    rows = session.scalars(
        select(AlarmFault)
        .where(
            text("alarm_faults.device_id = ANY(CAST(:devs AS text[]))"),
            AlarmFault.auto_recovered_at >= now - policy.flap_window,
        )
        .order_by(AlarmFault.id),
        {"devs": sorted({d for d, _ in keys})},
    )
    return {(f.device_id, f.code): f for f in rows if (f.device_id, f.code) in keys}


def _reopen_recent_auto_recovery(
    session: Session, fault: AlarmFault, tickets: _Tickets, a: AlarmMessage, policy: GatewayPolicy, now: datetime
) -> AlarmFault | None:
    """A fault that auto-recovered within the flapping window and comes back reopens its ticket (one per fault)."""
    if fault.ticket_id is None:
        return None
    ticket = tickets.get(fault.ticket_id)
    if ticket.status is not TicketStatus.resolved:
        return None
    fault.closed_at = None
    fault.auto_recovered_at = None
    session.flush()
    change_status(
        session,
        ticket,
        to_status=TicketStatus.reopened,
        action="reopen",
        actor=f"device:{a.device_id}",
        reason=f"{a.code} raised again within {policy.flap_window} of its auto-recovery",
        data={"alarm_id": a.alarm_id, "fault_id": fault.id},
        at=now,
    )
    ticket.resolved_at = None
    tickets.note(ticket)
    return fault


def _no_technician_left(session: Session, ticket: Ticket) -> bool:
    if ticket.status not in NOT_YET_DEPARTED:
        return False
    departed = session.scalar(
        select(func.count())
        .select_from(Visit)
        .where(
            Visit.ticket_id == ticket.id,
            (Visit.departed_at.is_not(None))
            | Visit.status.in_([VisitStatus.en_route, VisitStatus.on_site, VisitStatus.paused, VisitStatus.completed]),
        )
    )
    return not departed


def _resolve_auto_recovered(
    session: Session, ticket: Ticket, fault: AlarmFault, a: AlarmMessage, now: datetime
) -> None:
    change_status(
        session,
        ticket,
        to_status=TicketStatus.resolved,
        action="auto_recover",
        actor=f"device:{a.device_id}",
        reason=f"The device reports {a.code} cleared before any technician left; resolved as auto-recovered.",
        data={"alarm_id": a.alarm_id, "fault_id": fault.id, "cleared_at": a.at.isoformat()},
        at=now,
    )
    ticket.resolved_at = now
    ticket.closure_note = "auto-recovered: the device cleared the alarm"
    # An accepted job goes too: the technician has not left (else this would not run), and a job left `accepted` on
    # a resolved ticket offered "en route" forever and failed every time (found by bench/soak.py); a reopened
    # ticket then gets a new job from the planner.
    for visit in session.scalars(
        select(Visit).where(
            Visit.ticket_id == ticket.id,
            Visit.status.in_([VisitStatus.planned, VisitStatus.assigned, VisitStatus.accepted]),
        )
    ):
        visit.status = VisitStatus.cancelled
    fault.auto_recovered_at = now
    fault.closed_at = now


def _graded_as_flapping(session: Session, ticket: Ticket, *, policy: GatewayPolicy, now: datetime, actor: str) -> None:
    """Raise the ticket to the grade the policy gives a flapping alarm (never lower it), with an audit row.

    The grade and its reason come from the policy's grade rules (the `flapping` fact), the on-site and
    department deadlines from the policy's promise (`dispatch.domain.sla`), counted from the report time as on
    every regrade; a deadline already earlier stays.
    """
    rules = policy.rules
    category = Category(ticket.category)
    unit = session.get(Equipment, ticket.equipment_id) if ticket.equipment_id is not None else None
    equipment_type = unit.equipment_type.value if unit is not None else None
    decision = grading.grade_with_policy(
        grading.ComplaintFacts(category=category, equipment_type=equipment_type, flapping=True), rules
    )
    grade = decision.grade
    before = Grade(ticket.grade)
    if before.rank >= grade.rank:
        return
    ticket.grade = grade
    reason = next(r for r in decision.reasons if r.rule == decision.rule)
    ticket.grade_reasons = [
        *ticket.grade_reasons,
        {"rule": reason.rule, "grade": grade.value, "text": reason.text, "params": dict(reason.params)},
    ]
    deadlines = sla.compute_deadlines(ticket.reported_at, grade, category, rules)
    ticket.due_on_site_at = min(ticket.due_on_site_at, deadlines.on_site_due_at)
    notify_due = deadlines.department_notify_due_at
    if ticket.deadlines.get("department_notify_due_at"):
        notify_due = min(notify_due, datetime.fromisoformat(ticket.deadlines["department_notify_due_at"]))
    ticket.deadlines = {**ticket.deadlines, "department_notify_due_at": notify_due.isoformat()}
    record_event(
        session,
        ticket,
        action="regrade",
        actor=actor,
        reason=f"{before} → {grade}: the alarm is flapping",
        data={"from": str(before), "to": grade.value, "rule": reason.rule},
        at=now,
    )


def _open_or_attach_ticket(
    session: Session,
    *,
    fault: AlarmFault,
    alarm: AlarmMessage,
    equipment: Equipment,
    customer_id: int | None,
    policy: GatewayPolicy,
    now: datetime,
) -> Ticket:
    """The ticket for a new device fault, through the same intake as a phone complaint (no commit here).

    The alarm mapping turns type + code + severity + readings into a category and impact facts, which the
    grade rules read like any complaint; an open ticket for the same equipment (e.g. a phone call that came
    first) is linked instead of opening a second job.
    """
    return _device_complaint(
        session,
        equipment=equipment,
        customer_id=customer_id,
        code=alarm.code,
        severity=alarm.severity,
        data=alarm.data,
        symptom=f"Device alarm {alarm.code} ({alarm.severity})" + (f": {alarm.message}" if alarm.message else ""),
        reported_at=min(alarm.at, now),
        actor=f"device:{alarm.device_id}",
        flapping=fault.flapping,
        policy=policy,
        now=now,
    )


def _device_complaint(
    session: Session,
    *,
    equipment: Equipment,
    customer_id: int | None,
    code: str,
    severity: str,
    data: dict[str, Any],
    symptom: str,
    reported_at: datetime,
    actor: str,
    flapping: bool,
    policy: GatewayPolicy,
    now: datetime,
) -> Ticket:
    rules = policy.rules
    mapping = map_alarm(str(equipment.equipment_type), code, severity, data, rules)
    impact = Impact.from_facts(mapping.impact)
    result = open_complaint(
        session,
        policy=rules,
        now=now,
        actor=actor,
        actor_user_id=None,
        channel=Channel.device,
        category=Category(str(getattr(mapping.category, "value", mapping.category))),
        symptom=symptom[:2000],
        impact=impact,
        equipment_id=equipment.id,
        customer_id=customer_id,
        reported_at=reported_at,
        alarm_severity=severity,
        alarm_code=code,
        flapping=flapping,
        public_base_url=policy.public_base_url,
        commit=False,
    )
    return result.ticket


# --- status, heartbeats and liveness -------------------------------------------------------------------------


def _update_devices(
    session: Session,
    alarms: list[tuple[int, AlarmMessage]],
    signals: list[tuple[int, Status | Heartbeat]],
    known: dict[str, _Known],
    policy: GatewayPolicy,
    now: datetime,
    result: BatchResult,
) -> None:
    """One upsert of the devices touched by the batch (sorted, so concurrent gateways cannot deadlock)."""
    rows: dict[str, dict[str, object]] = {}

    def row(device_id: str) -> dict[str, object]:
        return rows.setdefault(
            device_id,
            {
                "device_id": device_id,
                "equipment_id": known[device_id].equipment.id,
                "last_seen_at": now,
                "status": None,
                "status_at": None,
                "last_heartbeat_at": None,
                "heartbeat_interval_s": None,
            },
        )

    for _, a in alarms:
        row(a.device_id)
    went_offline: set[str] = set()
    came_online: set[str] = set()
    for i, s in signals:
        r = row(s.device_id)
        if isinstance(s, Heartbeat):
            r["last_heartbeat_at"] = now
            r["heartbeat_interval_s"] = s.interval_s or r["heartbeat_interval_s"]
            online = True
        else:
            online = s.online
        r["status"] = "online" if online else "offline"
        r["status_at"] = now
        (came_online if online else went_offline).add(s.device_id)
        (went_offline if online else came_online).discard(s.device_id)
        result.outcomes[i] = f"{s.device_id} {'heartbeat' if isinstance(s, Heartbeat) else r['status']}"

    for r in rows.values():
        # A new row needs a status; an existing one keeps its status unless this batch brought one (status_at).
        r["status"] = r["status"] or "online"
    ordered = [rows[k] for k in sorted(rows)]  # sorted: concurrent gateways lock device rows in one order
    session.execute(_UPSERT_DEVICES, {c: [r[c] for r in ordered] for c in _DEVICE_COLUMNS})
    result.device_updates += len(rows)
    for device_id in sorted(went_offline):
        open_watch(session, device_id=device_id, equipment_id=known[device_id].equipment.id, reason="offline", now=now)
    if came_online:
        close_watches(session, sorted(came_online), now=now)


_DEVICE_COLUMNS = {
    "device_id": "text",
    "equipment_id": "int",
    "status": "text",
    "status_at": "timestamptz",
    "last_seen_at": "timestamptz",
    "last_heartbeat_at": "timestamptz",
    "heartbeat_interval_s": "int",
}
# last_seen_at is kept to within 5 s: a busy device does not rewrite its row on every batch.
_UPSERT_DEVICES = text(
    "INSERT INTO devices (" + ", ".join(_DEVICE_COLUMNS) + ") "  # noqa: S608 (constant column names)
    "SELECT * FROM unnest(" + ", ".join(f"CAST(:{c} AS {t}[])" for c, t in _DEVICE_COLUMNS.items()) + ") "
    "ON CONFLICT (device_id) DO UPDATE SET "
    "last_seen_at = greatest(devices.last_seen_at, excluded.last_seen_at), "
    "status = CASE WHEN excluded.status_at IS NULL THEN devices.status ELSE excluded.status END, "
    "status_at = coalesce(excluded.status_at, devices.status_at), "
    "last_heartbeat_at = coalesce(excluded.last_heartbeat_at, devices.last_heartbeat_at), "
    "heartbeat_interval_s = coalesce(excluded.heartbeat_interval_s, devices.heartbeat_interval_s) "
    "WHERE excluded.status_at IS NOT NULL OR devices.last_seen_at IS NULL "
    "OR devices.last_seen_at < excluded.last_seen_at - interval '5 seconds'"
)


def open_watch(session: Session, *, device_id: str, equipment_id: int | None, reason: str, now: datetime) -> None:
    """Start watching an unreachable device (at most one open watch per device)."""
    session.execute(
        insert(DeviceWatch)
        .values(device_id=device_id, equipment_id=equipment_id, reason=reason, opened_at=now)
        .on_conflict_do_nothing(index_elements=["device_id"], index_where=DeviceWatch.closed_at.is_(None))
    )


def close_watches(session: Session, device_ids: list[str], *, now: datetime) -> int:
    """Devices are back: close their watches and tell (or resolve) their unreachable tickets."""
    closed = session.execute(
        update(DeviceWatch)
        .where(DeviceWatch.device_id.in_(device_ids), DeviceWatch.closed_at.is_(None))
        .values(closed_at=now)
        .returning(DeviceWatch.device_id, DeviceWatch.ticket_id)
    ).all()
    for device_id, ticket_id in closed:
        ticket = session.get(Ticket, ticket_id) if ticket_id else None
        if ticket is None or ticket.status not in OPEN_TICKET_STATUSES:
            continue
        actor = f"device:{device_id}"
        if _no_technician_left(session, ticket):
            change_status(
                session,
                ticket,
                to_status=TicketStatus.resolved,
                action="auto_recover",
                actor=actor,
                reason="The device is reachable again before any technician left; resolved as auto-recovered.",
                at=now,
            )
            ticket.resolved_at = now
            ticket.closure_note = "auto-recovered: the device came back online"
        else:
            record_event(session, ticket, action="device_online", actor=actor, reason="The device is online again.")
    return len(closed)


def open_unreachable_tickets(
    session: Session, *, policy: GatewayPolicy = DEFAULT_POLICY, now: datetime, limit: int = 200
) -> list[int]:
    """Open an "equipment unreachable" ticket for each open watch past the grace whose equipment type asks for it.

    Watches are taken with FOR UPDATE SKIP LOCKED so several workers never open two tickets for one watch.
    """
    types = list(policy.unreachable_types)
    if not types:
        return []
    rows = session.execute(
        select(DeviceWatch, Equipment)
        .join(Equipment, Equipment.id == DeviceWatch.equipment_id)
        .where(
            DeviceWatch.closed_at.is_(None),
            DeviceWatch.ticket_id.is_(None),
            DeviceWatch.opened_at <= now - policy.unreachable_grace,
            Equipment.equipment_type.in_(types),
        )
        .order_by(DeviceWatch.id)
        .limit(limit)
        .with_for_update(of=DeviceWatch, skip_locked=True)
    ).all()
    opened = []
    for watch, equipment in rows:
        ticket = _open_unreachable_ticket(session, watch=watch, equipment=equipment, policy=policy, now=now)
        watch.ticket_id = ticket.id
        opened.append(ticket.id)
    return opened


def _open_unreachable_ticket(
    session: Session, *, watch: DeviceWatch, equipment: Equipment, policy: GatewayPolicy, now: datetime
) -> Ticket:
    """An "equipment unreachable" ticket through the intake, mapped like an alarm with the offline code."""
    customer_id = session.scalar(select(Site.customer_id).where(Site.id == equipment.site_id))
    why = {"heartbeat_missed": "missed heartbeats", "offline": "reported offline (last will)"}.get(
        watch.reason, watch.reason
    )
    return _device_complaint(
        session,
        equipment=equipment,
        customer_id=customer_id,
        code=policy.offline_code,
        severity=policy.offline_severity,
        data={"reason": watch.reason},
        symptom=f"Equipment unreachable: device {watch.device_id} {why} since {watch.opened_at.isoformat()}",
        reported_at=min(watch.opened_at, now),
        actor=f"device:{watch.device_id}",
        flapping=False,
        policy=policy,
        now=now,
    )


def mark_silent_devices(session: Session, *, policy: GatewayPolicy = DEFAULT_POLICY, now: datetime) -> list[str]:
    """Devices that announced heartbeats but missed them beyond the policy timeout go offline and are watched."""
    silent = session.execute(
        update(Device)
        .where(
            Device.status == "online",
            Device.revoked_at.is_(None),
            Device.last_heartbeat_at.is_not(None),
            Device.last_heartbeat_at < bindparam("cutoff"),
        )
        .values(status="offline", status_at=now)
        .returning(Device.device_id, Device.equipment_id),
        {"cutoff": now - policy.heartbeat_timeout},
    ).all()
    for device_id, equipment_id in silent:
        open_watch(session, device_id=device_id, equipment_id=equipment_id, reason="heartbeat_missed", now=now)
    return [d for d, _ in silent]


# --- dead letters ---------------------------------------------------------------------------------------------


def replay_dead_letter(
    session: Session, *, dead_letter_id: int, policy: GatewayPolicy = DEFAULT_POLICY, now: datetime | None = None
) -> DeadLetter:
    """Run a dead letter through the gateway again (after the registry was fixed) and record what came of it.

    Commits once. A message that is still not acceptable stays a dead letter with the new reason in
    `replay_result`; one that was already stored by an earlier replay is refused with a conflict.
    """
    from dispatch.core.errors import Conflict, NotFound

    now = now or utcnow()
    letter = session.scalars(select(DeadLetter).where(DeadLetter.id == dead_letter_id).with_for_update()).first()
    if letter is None:
        raise NotFound(
            f"There is no dead letter {dead_letter_id}.",
            key="error.device.no-dead-letter",
            params={"id": dead_letter_id},
        )
    if letter.replay_result is not None and letter.replay_result.startswith("stored"):
        raise Conflict(
            f"Dead letter {dead_letter_id} was already replayed: {letter.replay_result}",
            key="error.device.replayed",
            params={"id": dead_letter_id, "result": letter.replay_result},
        )
    result = process_batch(session, [Message(letter.topic, bytes(letter.payload))], policy=policy, now=now)
    outcome = result.outcomes[0]
    if outcome.startswith("dead letter: "):
        letter.replay_result = "rejected again: " + outcome.removeprefix("dead letter: ")
    elif outcome.startswith("duplicate"):
        letter.replay_result = "stored earlier: " + outcome
    else:
        letter.replay_result = "stored: " + outcome
    letter.replayed_at = now
    session.commit()
    return letter
