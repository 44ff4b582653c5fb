from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlalchemy import select

from dispatch.core.auth import CurrentPrincipal
from dispatch.core.db import DbSession
from dispatch.core.deps import DbId, Now
from dispatch.core.errors import NotFound
from dispatch.notifications.models import Notification
from dispatch.notifications.service import inbox_filter

router = APIRouter(tags=["notifications"])


class NotificationOut(BaseModel):
    id: int
    created_at: datetime
    ticket_id: int | None
    audience: str | None
    kind: str
    subject: str
    body: str
    payload: dict[str, Any]
    read_at: datetime | None


@router.get("/notifications", response_model=list[NotificationOut], summary="My in-app notices, newest first")
def inbox(
    session: DbSession,
    who: CurrentPrincipal,
    unread: bool = False,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[Notification]:
    query = select(Notification).where(inbox_filter(who.role, who.user_id))
    if unread:
        query = query.where(Notification.read_at.is_(None))
    return list(session.scalars(query.order_by(Notification.id.desc()).limit(limit).offset(offset)))


@router.post("/notifications/{notification_id}/read", response_model=NotificationOut, summary="Mark as read")
def mark_read(notification_id: DbId, session: DbSession, who: CurrentPrincipal, now: Now) -> Notification:
    row = session.scalar(
        select(Notification).where(Notification.id == notification_id, inbox_filter(who.role, who.user_id))
    )
    if row is None:
        raise NotFound(f"Notification {notification_id} does not exist.")
    row.read_at = row.read_at or now
    session.commit()
    return row
