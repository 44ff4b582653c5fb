from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dispatch.core.db import Base
from dispatch.core.types import (
    Category,
    Channel,
    EquipmentType,
    Grade,
    Nature,
    TicketStatus,
    VisitStatus,
    enum_column_type,
    point_type,
)


class Ticket(Base):
    """A complaint and the job it opens: intake answers, grade with reasons, deadlines, status."""

    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_open_due", "status", "due_on_site_at"),
        Index("ix_tickets_open_equipment", "equipment_id", postgresql_where=text("closed_at IS NULL")),
        # The technician's job list reads each equipment's latest tickets (technician_api/jobs/queries.py).
        Index("ix_tickets_equipment_reported", "equipment_id", text("reported_at DESC")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[Channel] = mapped_column(enum_column_type(Channel, "ticket_channel"))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"), index=True)
    equipment_id: Mapped[int | None] = mapped_column(ForeignKey("equipment.id"))
    reporter_name: Mapped[str | None] = mapped_column(String(200))
    reporter_phone: Mapped[str | None] = mapped_column(String(40))
    # An equipment reported by serial that is not in the registry is recorded as such, not refused.
    reported_serial: Mapped[str | None] = mapped_column(String(100))
    reported_model: Mapped[str | None] = mapped_column(String(100))
    reported_manufacture_date: Mapped[date | None]
    reported_equipment_type: Mapped[EquipmentType | None] = mapped_column(
        enum_column_type(EquipmentType, "ticket_reported_equipment_type")
    )
    category: Mapped[Category] = mapped_column(enum_column_type(Category, "ticket_category"))
    nature: Mapped[Nature] = mapped_column(enum_column_type(Nature, "ticket_nature"), default=Nature.effective)
    # The four intake questions (domain.md "Intake"): what, what problem (symptom/where/condition), impact, request.
    symptom: Mapped[str] = mapped_column(Text, default="")
    location_detail: Mapped[str | None] = mapped_column(Text)
    working_condition: Mapped[str | None] = mapped_column(Text)
    impact: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    special_request: Mapped[str | None] = mapped_column(Text)
    # What the visit takes from the technician's van (the spare part it needs), in the policy's routing.load_unit.
    load_units: Mapped[int] = mapped_column(default=0, server_default="0")
    grade: Mapped[Grade] = mapped_column(enum_column_type(Grade, "ticket_grade"))
    grade_reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    grade_overridden: Mapped[bool] = mapped_column(default=False)
    status: Mapped[TicketStatus] = mapped_column(
        enum_column_type(TicketStatus, "ticket_status"), default=TicketStatus.new
    )
    reported_at: Mapped[datetime]
    received_at: Mapped[datetime] = mapped_column(server_default=func.now())
    due_on_site_at: Mapped[datetime]
    # Other clocks of domain.md "Handling clocks": name -> ISO due time, filled by the SLA rules.
    deadlines: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    at_risk: Mapped[bool] = mapped_column(default=False)
    # The live plan's expected arrival (set by the planner); compared with due_on_site_at for "at risk".
    eta_at: Mapped[datetime | None]
    # When the customer was told that the plan misses the on-site deadline; cleared when the plan recovers,
    # so each slip is told once, not on every re-plan.
    customer_late_notice_at: Mapped[datetime | None]
    assigned_technician_id: Mapped[int | None] = mapped_column(ForeignKey("technicians.id"))
    nature_note: Mapped[str | None] = mapped_column(Text)
    first_responder_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    related_ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    on_site_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    closure_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012

    visits: Mapped[list[Visit]] = relationship(back_populates="ticket", order_by="Visit.id")


class TicketReport(Base):
    """One intake of a complaint (a call, a web form, an alarm). Reports of a fault that already has an open
    ticket are linked to it instead of opening a duplicate job."""

    __tablename__ = "ticket_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    channel: Mapped[Channel] = mapped_column(enum_column_type(Channel, "report_channel"))
    linked: Mapped[bool] = mapped_column(default=False)
    reporter_name: Mapped[str | None] = mapped_column(String(200))
    reporter_phone: Mapped[str | None] = mapped_column(String(40))
    reported_at: Mapped[datetime]
    category: Mapped[Category] = mapped_column(enum_column_type(Category, "report_category"))
    symptom: Mapped[str] = mapped_column(Text, default="")
    location_detail: Mapped[str | None] = mapped_column(Text)
    working_condition: Mapped[str | None] = mapped_column(Text)
    impact: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    special_request: Mapped[str | None] = mapped_column(Text)
    computed_grade: Mapped[Grade] = mapped_column(enum_column_type(Grade, "report_grade"))
    taken_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class Visit(Base):
    """A technician's assignment to a ticket, with planned and actual times."""

    __tablename__ = "visits"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    technician_id: Mapped[int | None] = mapped_column(ForeignKey("technicians.id"), index=True)
    status: Mapped[VisitStatus] = mapped_column(
        enum_column_type(VisitStatus, "visit_status"), default=VisitStatus.planned
    )
    sequence: Mapped[int | None]
    pinned: Mapped[bool] = mapped_column(default=False)
    # A dispatcher who drops the visit at a time on the board: it may not start before then (with `pinned`).
    pinned_start_at: Mapped[datetime | None]
    service_minutes: Mapped[int] = mapped_column(default=90)
    # The arrival the technician reported ("cannot make the promised time", new ETA): the re-plan never plans the
    # visit earlier than this, until the technician or a dispatcher changes it.
    earliest_arrival_at: Mapped[datetime | None]
    planned_departure_at: Mapped[datetime | None]
    planned_arrival_at: Mapped[datetime | None]
    planned_start_at: Mapped[datetime | None]
    planned_end_at: Mapped[datetime | None]
    departed_at: Mapped[datetime | None]
    arrived_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    arrival_location: Mapped[Any | None] = mapped_column(point_type(), nullable=True)
    arrival_distance_m: Mapped[float | None]
    arrival_outside_geofence: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())

    ticket: Mapped[Ticket] = relationship(back_populates="visits")
