"""Change notifications for live views: `publish` inside the caller's transaction, delivered on commit.

Row changes publish themselves: session hooks (`install`, registered on the product's sessionmaker by
`dispatch.core.db.make_sessionmaker`) turn every committed insert or update of tickets, visits, plans,
technician positions, escalations and alarms into one coalesced event per kind
(`{"kind": "ticket.updated", "ids": [...], "count": n}`), queued in the committing transaction. Services
call `publish(session, kind, payload)` themselves for news that is not an ORM row change — including rows
written with Core statements (bulk `insert(...)`, `text(...)`), which the hooks cannot see.

Notifications ride PostgreSQL's `pg_notify`, which is transactional: a rolled-back transaction sends
nothing, a committed one sends exactly once, in commit order, to every API process listening (see
`dispatch.board.hub`).

Payloads stay small (the kind and the ids a client needs to refetch); PostgreSQL refuses notifications
over 8000 bytes, and the board reloads what it shows through the paginated APIs anyway.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import event, func, inspect, select
from sqlalchemy.orm import Session, sessionmaker

CHANNEL = "onsite24_events"
MAX_PAYLOAD_BYTES = 4000

# The kinds the board understands; others are delivered too (clients ignore what they do not know).
KINDS = frozenset(
    {
        "ticket.created",
        "ticket.updated",
        "ticket.regraded",
        "ticket.status",
        "visit.updated",
        "plan.applied",
        "plan.updated",
        "technician.position",
        "escalation.fired",
        "escalation.acknowledged",
        "alarm.received",
    }
)


def encode(kind: str, payload: dict[str, Any]) -> str:
    """The wire form: compact JSON `{"kind": ..., **payload}`; refuses payloads PostgreSQL would reject."""
    if not kind or len(kind) > 60:
        raise ValueError("event kind must be 1-60 characters")
    body = json.dumps({"kind": kind, **payload}, separators=(",", ":"), default=str, ensure_ascii=False)
    if len(body.encode()) > MAX_PAYLOAD_BYTES:
        raise ValueError(f"event payload of {len(body.encode())} bytes is too big; send ids, not objects")
    return body


def publish(session: Session, kind: str, payload: dict[str, Any] | None = None) -> None:
    """Queue a change notification in the session's transaction; it is delivered when that transaction commits.

    Call it from command services before their commit, e.g.
    `publish(session, "ticket.created", {"ticket_id": t.id, "grade": t.grade})`. It never commits.
    """
    session.execute(select(func.pg_notify(CHANNEL, encode(kind, payload or {}))))


# ---- automatic change events ------------------------------------------------------------------------------------
# Every commit that inserts or updates tickets, visits, plans, technician positions, escalations or alarms
# publishes one coalesced event per kind, inside the committing transaction, without the service having to
# remember it. Services still call `publish` for events that are not row changes.

_INFO_KEY = "onsite24_change_events"
MAX_IDS = 50  # beyond this an event carries "ids": null, meaning "many: reload"


def _collect(session: Session, kind: str, ident: int | None, **extra: Any) -> None:
    if ident is None:
        return
    bucket: dict[str, dict[str, Any]] = session.info.setdefault(_INFO_KEY, {})
    entry = bucket.setdefault(kind, {"ids": [], **extra})
    if ident not in entry["ids"]:
        entry["ids"].append(ident)
    for key, value in extra.items():
        if isinstance(value, bool):
            entry[key] = entry.get(key, False) or value


def _changed(obj: Any, *names: str) -> bool:
    state = inspect(obj)
    return any(state.attrs[n].history.has_changes() for n in names if n in state.attrs)


def _record_changes(session: Session, _ctx: object) -> None:
    # Imported here: the models import this module's callers, not the other way round.
    from dispatch.devices.models import Alarm
    from dispatch.escalation.models import EscalationEvent, TicketEscalation
    from dispatch.plans.models import Plan
    from dispatch.tickets.models import Ticket, Visit
    from dispatch.workforce.models import Technician

    for obj in session.new:
        if isinstance(obj, Ticket):
            _collect(session, "ticket.created", obj.id, major=str(obj.grade) == "major")
        elif isinstance(obj, Visit):
            _collect(session, "visit.updated", obj.ticket_id)
        elif isinstance(obj, Plan):
            _collect(session, "plan.updated", obj.id)
        elif isinstance(obj, EscalationEvent):
            _collect(session, "escalation.fired", obj.ticket_id)
        elif isinstance(obj, Alarm):
            _collect(session, "alarm.received", obj.ticket_id)
    for obj in session.dirty:
        if isinstance(obj, Ticket) and session.is_modified(obj, include_collections=False):
            _collect(session, "ticket.updated", obj.id, major=str(obj.grade) == "major")
        elif isinstance(obj, Visit) and session.is_modified(obj, include_collections=False):
            _collect(session, "visit.updated", obj.ticket_id)
        elif isinstance(obj, Plan) and _changed(obj, "status", "document", "diff"):
            _collect(session, "plan.updated", obj.id)
        elif isinstance(obj, Technician) and _changed(obj, "last_position", "last_position_at"):
            _collect(session, "technician.position", obj.id)
        elif isinstance(obj, TicketEscalation) and _changed(obj, "acknowledged_at"):
            _collect(session, "escalation.acknowledged", obj.ticket_id)
        elif isinstance(obj, Alarm) and session.is_modified(obj, include_collections=False):
            _collect(session, "alarm.received", obj.ticket_id)


def _publish_changes(session: Session) -> None:
    session.flush()  # so the last changes are collected before the notifications are queued
    bucket: dict[str, dict[str, Any]] = session.info.pop(_INFO_KEY, {})
    for kind, entry in bucket.items():
        ids = entry.pop("ids")
        publish(session, kind, {"ids": ids if len(ids) <= MAX_IDS else None, "count": len(ids), **entry})


def _forget_changes(session: Session, *_args: object) -> None:
    session.info.pop(_INFO_KEY, None)


def install(factory: sessionmaker[Session]) -> None:
    """Publish row changes from the sessions of `factory` (only those: not every Session in the process)."""
    event.listen(factory, "after_flush", _record_changes)
    event.listen(factory, "before_commit", _publish_changes)
    event.listen(factory, "after_rollback", _forget_changes)
    event.listen(factory, "after_soft_rollback", _forget_changes)
