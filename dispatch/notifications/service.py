"""The pluggable notification channel: every notice is recorded in-app and, per configured channel, queued
for delivery by the worker with retries and backoff. Failures are recorded, never lost.

Audiences are the escalation ladder's words (department, department_head, …); `AUDIENCE_ROLES` says which
roles read them in the app. Channels plug in by name through `register_channel`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Protocol

import httpx
from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session, sessionmaker

from dispatch.core.settings import Settings
from dispatch.core.types import Role
from dispatch.notifications.models import Notification

log = logging.getLogger("onsite24.notifications")

# Who reads which audience in the app (escalation ladders name audiences, not people).
AUDIENCE_ROLES: dict[str, frozenset[Role]] = {
    "department": frozenset({Role.dispatcher}),
    "dispatcher": frozenset({Role.dispatcher}),
    "department_head": frozenset({Role.manager}),
    "supervising_manager": frozenset({Role.manager}),
    "director": frozenset({Role.admin}),
    "agent": frozenset({Role.agent}),
}
MAX_ATTEMPTS = 8
REDACTED = "[removed after delivery]"


class DeliveryError(Exception):
    """A channel could not deliver; the notice is retried later."""


class OutboundChannel(Protocol):
    name: str
    # Addressed channels (e-mail, SMS) deliver to one recipient's address; staff broadcasts skip them.
    addressed: bool

    def deliver(self, notification: Notification) -> None: ...


class WebhookChannel:
    """POSTs the notice as JSON; signed with HMAC-SHA256 in `X-Onsite24-Signature` when a secret is set."""

    name = "webhook"
    addressed = False

    def __init__(self, url: str, secret: str | None = None, timeout: float = 5.0) -> None:
        self.url = url
        self.secret = secret
        self.timeout = timeout

    def deliver(self, notification: Notification) -> None:
        body = json.dumps(
            {
                "id": notification.id,
                "kind": notification.kind,
                "ticket_id": notification.ticket_id,
                "audience": notification.audience,
                "recipient": notification.recipient,
                "subject": notification.subject,
                "body": notification.body,
                "payload": notification.payload,
                "created_at": notification.created_at.isoformat() if notification.created_at else None,
            },
            ensure_ascii=False,
        ).encode()
        headers = {"content-type": "application/json", "x-onsite24-delivery": str(notification.id)}
        if self.secret:
            headers["x-onsite24-signature"] = hmac.new(self.secret.encode(), body, hashlib.sha256).hexdigest()
        try:
            response = httpx.post(self.url, content=body, headers=headers, timeout=self.timeout)
        except httpx.HTTPError as exc:
            raise DeliveryError(f"{exc.__class__.__name__}: {exc}") from exc
        if response.status_code >= 300:
            raise DeliveryError(f"webhook answered {response.status_code}")


ChannelFactory = Callable[[Settings], OutboundChannel | None]
_FACTORIES: dict[str, ChannelFactory] = {}


def register_channel(name: str, factory: ChannelFactory) -> None:
    """Plug in an outbound channel (e-mail, SMS, …): `factory(settings)` returns it, or None if unconfigured."""
    _FACTORIES[name] = factory


register_channel(
    "webhook",
    lambda s: (
        WebhookChannel(s.webhook_url, s.webhook_secret.get_secret_value() if s.webhook_secret else None)
        if s.webhook_url
        else None
    ),
)


def outbound_channels(settings: Settings) -> dict[str, OutboundChannel]:
    channels = {}
    for name, factory in _FACTORIES.items():
        channel = factory(settings)
        if channel is not None:
            channels[name] = channel
    return channels


def notify(
    session: Session,
    settings: Settings,
    *,
    kind: str,
    subject: str,
    now: datetime,
    body: str = "",
    ticket_id: int | None = None,
    audience: str | None = None,
    recipient: str | None = None,
    payload: dict[str, Any] | None = None,
) -> list[Notification]:
    """Record the notice in-app and queue it on every configured outbound channel (caller commits)."""
    rows = [
        Notification(
            channel="in_app",
            kind=kind,
            subject=subject[:300],
            body=body,
            ticket_id=ticket_id,
            audience=audience,
            recipient=recipient,
            payload=payload or {},
            status="delivered",
            delivered_at=now,
        )
    ]
    for name, channel in outbound_channels(settings).items():
        if channel.addressed:
            continue  # staff notices have no e-mail or phone to go to; customers' notices use notify_customer
        rows.append(
            Notification(
                channel=name,
                kind=kind,
                subject=subject[:300],
                body=body,
                ticket_id=ticket_id,
                audience=audience,
                recipient=recipient,
                payload=payload or {},
                status="pending",
                next_attempt_at=now,
            )
        )
    session.add_all(rows)
    return rows


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min … capped at 1 h between delivery attempts."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


def deliver_pending(factory: sessionmaker[Session], settings: Settings, now: datetime, *, batch: int = 20) -> int:
    """Deliver due notices once each; concurrent workers skip each other's rows (SKIP LOCKED)."""
    channels = outbound_channels(settings)
    handled = 0
    with factory() as session:
        rows = session.scalars(
            select(Notification)
            .where(Notification.status == "pending", Notification.next_attempt_at <= now)
            .order_by(Notification.next_attempt_at)
            .limit(batch)
            .with_for_update(skip_locked=True)
        ).all()
        for row in rows:
            row.attempts += 1
            channel = channels.get(row.channel)
            try:
                if channel is None:
                    raise DeliveryError(f"channel '{row.channel}' is not configured")
                channel.deliver(row)
            except DeliveryError as exc:
                row.last_error = str(exc)[:1000]
                if row.attempts >= MAX_ATTEMPTS:
                    row.status = "failed"
                    row.next_attempt_at = None
                    log.error("notification %s failed for good: %s", row.id, exc)
                else:
                    row.next_attempt_at = now + backoff(row.attempts)
            else:
                row.status = "delivered"
                row.delivered_at = now
                row.next_attempt_at = None
            if row.status != "pending" and (row.payload or {}).get("redact_after_delivery"):
                # A one-time sign-in link has no business staying readable in the notice log.
                row.body = REDACTED
            handled += 1
        session.commit()
    return handled


def inbox_filter(role: Role, user_id: int) -> ColumnElement[bool]:
    """SQL condition for the in-app notices a user reads: their audiences, or addressed to them."""
    audiences = [a for a, roles in AUDIENCE_ROLES.items() if role in roles or role is Role.admin]
    return (Notification.channel == "in_app") & or_(
        Notification.audience.in_(audiences), Notification.recipient == f"user:{user_id}"
    )


# E-mail and SMS register themselves (imported last: they use DeliveryError and register_channel above).
from dispatch.notifications import channels as _channels  # noqa: E402, F401
