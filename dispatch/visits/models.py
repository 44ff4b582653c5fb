"""Tables of what a visit records: the parts list, work reports, photos and the technician's event log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, String, Text, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from dispatch.core.db import Base


class Part(Base):
    """A spare part a technician may report as used (the parts list of the work report)."""

    __tablename__ = "parts"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(20), default="pc")
    equipment_type: Mapped[str | None] = mapped_column(String(32))
    is_active: Mapped[bool] = mapped_column(default=True)


class WorkReport(Base):
    """What the technician found and did on a visit; written once, on completion."""

    __tablename__ = "work_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id"), unique=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    cause_found: Mapped[str] = mapped_column(Text)
    work_done: Mapped[str] = mapped_column(Text)
    # [{"part_id", "code", "name", "unit", "quantity"}]: a copy, so a renamed part never rewrites history.
    parts_used: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    minutes_spent: Mapped[int]
    follow_up_needed: Mapped[bool] = mapped_column(default=False)
    follow_up_note: Mapped[str | None] = mapped_column(Text)
    photo_ids: Mapped[list[str]] = mapped_column(JSONB, default=list)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class JobPhoto(Base):
    """A photo of a job; the id is random and unguessable, the bytes live in the storage backend."""

    __tablename__ = "job_photos"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id"), index=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    content_type: Mapped[str] = mapped_column(String(40))
    size_bytes: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(200))
    uploaded_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    # When the phone took it (an upload from the outbox may come hours later); never after `created_at`.
    taken_at: Mapped[datetime | None]


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
