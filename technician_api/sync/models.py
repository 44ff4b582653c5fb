"""The technician event log, which is also the idempotency store of offline sync."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, String, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from dispatch.core.db import Base


class JobEvent(Base):
    """One technician event as processed: its key, device time, payload and the answer given.

    The unique (technician_id, idempotency_key) makes a replay find the stored answer instead of
    applying the event again; events sent without a key (direct API calls) are logged with a NULL key.
    """

    __tablename__ = "job_events"
    __table_args__ = (UniqueConstraint("technician_id", "idempotency_key"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    technician_id: Mapped[int] = mapped_column(ForeignKey("technicians.id"))
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id"), index=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(32))
    device_at: Mapped[datetime | None]
    received_at: Mapped[datetime]
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    outcome: Mapped[str] = mapped_column(String(20))  # applied | conflict
    result: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
