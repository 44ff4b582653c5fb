"""Notices raised by technician work (department head, dispatcher), through `dispatch.notifications`.

They are recorded in-app and queued on the configured broadcast channels (webhook) with retries, like every
other staff notice. Notices to the customer go through `dispatch.notifications.customer` instead, which picks
the customer's channels and language.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from dispatch.core.settings import Settings
from dispatch.notifications.models import Notification
from dispatch.notifications.service import notify as record_notice


def notify(
    session: Session,
    *,
    settings: Settings,
    now: datetime,
    audience: str,
    kind: str,
    subject: str,
    body: str,
    ticket_id: int | None = None,
    recipient: str | None = None,
) -> Notification:
    """Record a notice in the caller's transaction (the caller's single commit sends it); the in-app row."""
    return record_notice(
        session,
        settings,
        kind=kind,
        subject=subject,
        body=body,
        now=now,
        ticket_id=ticket_id,
        audience=audience,
        recipient=recipient,
    )[0]
