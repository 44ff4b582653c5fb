from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from dispatch.core.db import Base


class Plan(Base):
    """A plan from the optimizer: the live one the field works to, or a draft a dispatcher previews."""

    __tablename__ = "plans"
    __table_args__ = (Index("ix_plans_live", "status", postgresql_where=text("status = 'live'")),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # live | draft
    # live, superseded | pending, ready, applied, discarded, failed
    status: Mapped[str] = mapped_column(String(20), index=True)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    computed_at: Mapped[datetime | None]
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str | None] = mapped_column(Text)
    # For a draft: the live plan it was computed against; applying it after the live plan moved on is refused.
    based_on_plan_id: Mapped[int | None] = mapped_column(ForeignKey("plans.id"))
    fingerprint: Mapped[str | None] = mapped_column(String(32))
    document: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    diff: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    time_limit_seconds: Mapped[float | None]
    error: Mapped[str | None] = mapped_column(Text)


class ReplanRequest(Base):
    """A reason to re-plan (new ticket, regrade, technician event…); the worker drains them."""

    __tablename__ = "replan_requests"
    __table_args__ = (Index("ix_replan_requests_pending", "id", postgresql_where=text("processed_at IS NULL")),)

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    reason: Mapped[str] = mapped_column(String(200))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    draft_plan_id: Mapped[int | None] = mapped_column(ForeignKey("plans.id"))
    processed_at: Mapped[datetime | None]
