from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from dispatch.core.db import Base


class Notification(Base):
    """One notice on one channel, with its delivery state (in-app notices are 'delivered' when recorded)."""

    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_pending", "next_attempt_at", postgresql_where=text("status = 'pending'")),
        # The portal's inbox of a customer (recipient "customer:<id>").
        Index(
            "ix_notifications_customer_inbox",
            "recipient",
            postgresql_where=text("channel = 'in_app' AND audience = 'customer'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    channel: Mapped[str] = mapped_column(String(20))  # in_app | webhook | email | sms
    audience: Mapped[str | None] = mapped_column(String(60), index=True)  # department, department_head, …
    recipient: Mapped[str | None] = mapped_column(String(300))  # user id, URL, address or phone
    kind: Mapped[str] = mapped_column(String(60))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending | delivered | failed | read
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None]
    read_at: Mapped[datetime | None]
