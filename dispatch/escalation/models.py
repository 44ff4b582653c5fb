from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from dispatch.core.db import Base


class TicketEscalation(Base):
    """The durable state of one ticket's escalation ladder: timers live here, not in a worker's memory."""

    __tablename__ = "ticket_escalations"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), unique=True)
    started_at: Mapped[datetime]
    # When a worker should next look at it; NULL when nothing is left to fire.
    next_check_at: Mapped[datetime | None] = mapped_column(index=True)
    fired_keys: Mapped[list[str]] = mapped_column(ARRAY(String(80)), default=list)
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    acknowledgement_note: Mapped[str | None] = mapped_column(Text)
    resolved_at: Mapped[datetime | None]


class EscalationEvent(Base):
    """A fired step. Unique per ticket and step, so no step can ever fire twice, whatever the workers do."""

    __tablename__ = "escalation_events"
    __table_args__ = (UniqueConstraint("ticket_id", "step_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    step_key: Mapped[str] = mapped_column(String(80))
    audience: Mapped[str] = mapped_column(String(60))
    kind: Mapped[str] = mapped_column(String(20))
    message: Mapped[str] = mapped_column(Text)
    due_at: Mapped[datetime]
    fired_at: Mapped[datetime] = mapped_column(server_default=func.now())
    fired_by: Mapped[str] = mapped_column(String(120))
