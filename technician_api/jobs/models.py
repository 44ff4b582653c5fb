"""Tables of the technician's job: the parts list, work reports, photos and return-visit tasks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, func, text
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
