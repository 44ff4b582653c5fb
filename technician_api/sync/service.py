"""Offline sync: apply a batch of queued events exactly once each, in device-time order.

Every event is its own transaction: it is applied and its key stored in `job_events` in one commit, so
a process killed mid-batch has either applied an event (and remembers its key) or not touched it;
resending the whole batch then answers the done ones from the log and applies the rest. A concurrent
replay of the same key loses the race on the unique constraint and answers the stored result.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dispatch.core.errors import DomainError, IllegalTransition, NotFound
from dispatch.core.problem import _pointer
from dispatch.core.settings import Settings
from dispatch.domain.sync import SyncEvent, order_events
from dispatch.visits.models import JobEvent
from technician_api.deps import Rules
from technician_api.jobs.schemas import JobEventIn
from technician_api.jobs.service import Actor, apply_event
from technician_api.sync.schemas import SyncBatchIn, SyncBatchOut, SyncEventIn, SyncEventResult


def sync_batch(
    session: Session, *, actor: Actor, batch: SyncBatchIn, received_at: datetime, rules: Rules, settings: Settings
) -> SyncBatchOut:
    """Apply the batch (see module doc); each event commits on its own; answers one result per event."""
    by_key: dict[str, SyncEventIn] = {}
    queued = []
    for index, ev in enumerate(batch.events):
        queued.append(SyncEvent(ev.idempotency_key, ev.kind, ev.device_at, batch_index=index))
        by_key.setdefault(ev.idempotency_key, ev)
    results = [
        _one(
            session, actor=actor, ev=by_key[q.idempotency_key], received_at=received_at, rules=rules, settings=settings
        )
        for q in order_events(queued)
    ]
    count = {s: sum(1 for r in results if r.status == s) for s in ("applied", "duplicate", "conflict", "rejected")}
    return SyncBatchOut(
        results=results,
        applied=count["applied"],
        duplicates=count["duplicate"],
        conflicts=count["conflict"],
        rejected=count["rejected"],
    )


def _stored(session: Session, technician_id: int, key: str) -> JobEvent | None:
    return session.scalar(
        select(JobEvent).where(JobEvent.technician_id == technician_id, JobEvent.idempotency_key == key)
    )


def _duplicate(ev: SyncEventIn, stored: JobEvent) -> SyncEventResult:
    original = stored.result or {}
    return SyncEventResult(
        idempotency_key=ev.idempotency_key,
        job_id=ev.job_id,
        kind=ev.kind,
        status="duplicate",
        reason=f"already processed: {stored.outcome}",
        detail=original.get("detail"),
        result={k: v for k, v in original.items() if k not in {"text_key", "text_params"}},
        text_key=original.get("text_key"),
        text_params=original.get("text_params") or {},
    )


def _one(
    session: Session, *, actor: Actor, ev: SyncEventIn, received_at: datetime, rules: Rules, settings: Settings
) -> SyncEventResult:
    stored = _stored(session, actor.technician_id, ev.idempotency_key)
    if stored is not None:
        return _duplicate(ev, stored)
    fields = {k: v for k, v in ev.model_dump(mode="json").items() if k not in {"idempotency_key", "job_id"}}
    try:
        event = JobEventIn.model_validate(fields)
    except ValidationError as exc:
        detail = "; ".join(f"{_pointer(e['loc'])}: {e['msg']}" for e in exc.errors())
        return _record_failure(session, actor, ev, received_at, "rejected", "invalid", detail, fields)
    try:
        result = apply_event(
            session,
            actor=actor,
            visit_id=ev.job_id,
            event=event,
            received_at=received_at,
            rules=rules,
            settings=settings,
            idempotency_key=ev.idempotency_key,
        )
    except IntegrityError:
        session.rollback()
        stored = _stored(session, actor.technician_id, ev.idempotency_key)
        if stored is None:
            raise
        return _duplicate(ev, stored)
    except DomainError as exc:
        session.rollback()
        reason = _conflict_reason(session, actor, ev.job_id, exc)
        status = "rejected" if exc.status == 422 else "conflict"
        return _record_failure(
            session,
            actor,
            ev,
            received_at,
            status,
            reason,
            exc.detail,
            fields,
            exc.extra,
            text=(exc.key, _text_params(exc)),
        )
    return SyncEventResult(
        idempotency_key=ev.idempotency_key, job_id=ev.job_id, kind=ev.kind, status="applied", result=result
    )


def _text_params(exc: DomainError) -> dict[str, Any]:
    """The values the refusal's words are made from (a transition's as the technician API narrowed them)."""
    if isinstance(exc, IllegalTransition):
        return {"state": exc.state, "action": exc.action, "allowed": list(exc.allowed)}
    return exc.params


def _conflict_reason(session: Session, actor: Actor, job_id: int, exc: DomainError) -> str:
    if isinstance(exc, NotFound):
        # This technician worked on it before, so it is not a probe: say what happened.
        had_it = session.scalar(
            select(JobEvent.id)
            .where(JobEvent.technician_id == actor.technician_id, JobEvent.visit_id == job_id)
            .limit(1)
        )
        return "job_reassigned" if had_it else "job_not_found"
    if isinstance(exc, IllegalTransition):
        return "illegal_transition"
    return exc.code


def _record_failure(
    session: Session,
    actor: Actor,
    ev: SyncEventIn,
    received_at: datetime,
    status: str,
    reason: str,
    detail: str,
    payload: dict[str, Any],
    extra: dict[str, Any] | None = None,
    text: tuple[str | None, dict[str, Any]] = (None, {}),
) -> SyncEventResult:
    """Remember a refused event under its key too, so a replay answers the same, never applies it later."""
    text_key, text_params = text[0], json.loads(json.dumps(text[1], default=str))
    answer = {"detail": detail, "reason": reason, **(extra or {}), "text_key": text_key, "text_params": text_params}
    known_visit = reason not in {"job_not_found", "job_reassigned", "invalid"}
    session.add(
        JobEvent(
            technician_id=actor.technician_id,
            visit_id=ev.job_id if known_visit else None,
            idempotency_key=ev.idempotency_key,
            kind=ev.kind[:32],
            device_at=ev.device_at,
            received_at=received_at,
            payload=payload,
            outcome=status,
            result=answer,
        )
    )
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        stored = _stored(session, actor.technician_id, ev.idempotency_key)
        if stored is not None:
            return _duplicate(ev, stored)
        raise
    return SyncEventResult(
        idempotency_key=ev.idempotency_key,
        job_id=ev.job_id,
        kind=ev.kind,
        status=status,
        reason=reason,
        detail=detail,
        text_key=text_key,
        text_params=text_params,
    )
