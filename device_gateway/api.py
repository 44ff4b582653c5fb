"""Dead letters for dispatchers: see what the gateway could not accept and replay it after fixing the registry."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field
from sqlalchemy import func, select

from device_gateway.service import replay_dead_letter
from dispatch.core.auth import Principal, require_roles
from dispatch.core.db import DbSession
from dispatch.core.types import Role
from dispatch.devices.models import DeadLetter

router = APIRouter(tags=["device gateway"])
Dispatcher = Annotated[Principal, require_roles(Role.dispatcher, Role.admin)]


class DeadLetterOut(BaseModel):
    id: int
    received_at: datetime
    topic: str
    device_id: str | None
    reason: str
    size: int = Field(description="Payload size in bytes")
    payload_text: str = Field(description="The payload as UTF-8 (invalid bytes replaced), at most 4 KiB")
    payload_base64: str = Field(description="The exact raw bytes, base64-encoded")
    replayed_at: datetime | None
    replay_result: str | None

    @classmethod
    def of(cls, d: DeadLetter) -> DeadLetterOut:
        raw = bytes(d.payload)
        return cls(
            id=d.id,
            received_at=d.received_at,
            topic=d.topic,
            device_id=d.device_id,
            reason=d.reason,
            size=len(raw),
            payload_text=raw[:4096].decode("utf-8", "replace"),
            payload_base64=base64.b64encode(raw).decode(),
            replayed_at=d.replayed_at,
            replay_result=d.replay_result,
        )


class DeadLetterPage(BaseModel):
    items: list[DeadLetterOut]
    total: int
    limit: int
    offset: int


@router.get("/dead-letters", response_model=DeadLetterPage, summary="Messages the gateway could not accept")
def list_dead_letters(
    session: DbSession,
    _who: Dispatcher,
    device_id: Annotated[str | None, Query(max_length=100, description="Only this device's messages")] = None,
    pending: Annotated[bool, Query(description="Only those not yet replayed successfully")] = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> DeadLetterPage:
    where = []
    if device_id:
        where.append(DeadLetter.device_id == device_id)
    if pending:
        where.append(DeadLetter.replay_result.is_(None) | ~DeadLetter.replay_result.startswith("stored"))
    total = session.scalar(select(func.count()).select_from(DeadLetter).where(*where)) or 0
    rows = session.scalars(select(DeadLetter).where(*where).order_by(DeadLetter.id.desc()).limit(limit).offset(offset))
    return DeadLetterPage(items=[DeadLetterOut.of(d) for d in rows], total=total, limit=limit, offset=offset)


@router.post(
    "/dead-letters/{dead_letter_id}/replay",
    response_model=DeadLetterOut,
    summary="Run a dead letter through the gateway again (after fixing the device registry)",
    responses={404: {"description": "No such dead letter"}, 409: {"description": "Already replayed and stored"}},
)
def replay(session: DbSession, _who: Dispatcher, dead_letter_id: Annotated[int, Path(ge=1)]) -> DeadLetterOut:
    return DeadLetterOut.of(replay_dead_letter(session, dead_letter_id=dead_letter_id))
