from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from dispatch.core import texts
from dispatch.core.auth import Principal, require_roles
from dispatch.core.db import DbSession
from dispatch.core.deps import AppPolicy, DbId, Now, RequestLocale
from dispatch.core.types import FINISHED_TICKET_STATUSES, Grade, Role, TicketStatus
from dispatch.escalation import service
from dispatch.escalation.models import EscalationEvent, TicketEscalation
from dispatch.tickets.models import Ticket

router = APIRouter(tags=["escalation"])
Dispatcher = Annotated[Principal, require_roles(Role.dispatcher, Role.manager)]


class FiredStep(BaseModel):
    step_key: str
    audience: str
    kind: str
    message: str
    due_at: datetime
    fired_at: datetime


class EscalationOut(BaseModel):
    id: int
    ticket_id: int
    grade: Grade
    status: TicketStatus
    symptom: str
    due_on_site_at: datetime
    at_risk: bool
    started_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    next_check_at: datetime | None
    fired: list[FiredStep]


class AcknowledgeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str | None = Field(default=None, max_length=1000)


def _views(  # type: ignore[no-untyped-def]
    session, rows: list[tuple[TicketEscalation, Ticket]], locale: str | None = None
) -> list[EscalationOut]:
    """Fired steps' messages in the reader's language when they are the shipped policy's (stored as fired)."""
    ids = [t.id for _, t in rows]
    fired: dict[int, list[FiredStep]] = {}
    if ids:
        for e in session.scalars(
            select(EscalationEvent).where(EscalationEvent.ticket_id.in_(ids)).order_by(EscalationEvent.fired_at)
        ):
            step = FiredStep.model_validate(e, from_attributes=True)
            step.message = texts.known_text(step.message, "escalation.", locale)
            fired.setdefault(e.ticket_id, []).append(step)
    return [
        EscalationOut(
            id=state.id,
            ticket_id=t.id,
            grade=t.grade,
            status=t.status,
            symptom=t.symptom,
            due_on_site_at=t.due_on_site_at,
            at_risk=t.at_risk,
            started_at=state.started_at,
            acknowledged_at=state.acknowledged_at,
            resolved_at=state.resolved_at,
            next_check_at=None if t.status in FINISHED_TICKET_STATUSES else state.next_check_at,
            fired=fired.get(t.id, []),
        )
        for state, t in rows
    ]


@router.get("/escalations", response_model=list[EscalationOut], summary="Escalated tickets")
def list_escalations(
    session: DbSession,
    _who: Dispatcher,
    policy: AppPolicy,
    open_only: Annotated[
        bool,
        Query(
            alias="open",
            description="Only what needs a person: an unacknowledged escalation beyond the routine department "
            "notice on an open ticket, or an overdue handling clock still undone; never a finished ticket",
        ),
    ] = True,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
    *,
    locale: RequestLocale,
) -> list[EscalationOut]:
    query = (
        select(TicketEscalation, Ticket)
        .join(Ticket, Ticket.id == TicketEscalation.ticket_id)
        .where(TicketEscalation.fired_keys != [])
    )
    if open_only:
        query = query.where(service.needs_person_clause(policy))
    rows = session.execute(query.order_by(Ticket.due_on_site_at, Ticket.id).limit(limit).offset(offset)).all()
    return _views(session, list(rows), locale)


@router.post(
    "/escalations/{ticket_id}/acknowledge",
    response_model=EscalationOut,
    summary="Take the matter up: stops the notify steps",
)
def acknowledge(
    ticket_id: DbId,
    body: AcknowledgeIn,
    session: DbSession,
    policy: AppPolicy,
    now: Now,
    who: Dispatcher,
    locale: RequestLocale,
) -> EscalationOut:
    state = service.acknowledge(
        session, policy=policy, ticket_id=ticket_id, user_id=who.user_id, actor=who.actor, note=body.note, now=now
    )
    ticket = session.get(Ticket, ticket_id)
    return _views(session, [(state, ticket)], locale)[0]
