"""Change notifications for live views: `publish` inside the caller's transaction, delivered on commit.

Every service that changes tickets, plans, technician positions or escalations calls
`publish(session, kind, payload)` before its single commit. The notification rides PostgreSQL's
`pg_notify`, which is transactional: a rolled-back transaction sends nothing, a committed one sends
exactly once, in commit order, to every API process listening (see `dispatch.board.hub`).

Payloads stay small (the kind and the ids a client needs to refetch); PostgreSQL refuses notifications
over 8000 bytes, and the board reloads what it shows through the paginated APIs anyway.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

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
