"""The return-visit task: the call owed to the customer after completion, and its outcome."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, func, text
from sqlalchemy.orm import Mapped, mapped_column

from dispatch.core.db import Base


class ReturnVisitTask(Base):
    """The return visit (call) owed to the customer after completion (domain.md: within 2 working days)."""

    __tablename__ = "return_visit_tasks"
    __table_args__ = (Index("ix_return_visit_tasks_open_due", "due_at", postgresql_where=text("status = 'open'")),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id"))
    # "completion" (the routine call) or "unsatisfied" (the customer was not happy: the matter is reopened).
    reason: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20), default="open")  # open | done | superseded
    due_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    done_at: Mapped[datetime | None]
    done_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    outcome: Mapped[str | None] = mapped_column(String(40))
    note: Mapped[str | None] = mapped_column(Text)
