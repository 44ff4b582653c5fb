from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, String, func
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dispatch.core.db import Base
from dispatch.core.types import DepotKind, enum_column_type, point_type, polygon_type


class Depot(Base):
    """A service centre of ours or a partner service point covering a remote region."""

    __tablename__ = "depots"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[DepotKind] = mapped_column(enum_column_type(DepotKind, "depot_kind"))
    address: Mapped[str | None] = mapped_column(String(400))
    region: Mapped[str | None] = mapped_column(String(80), index=True)
    phone: Mapped[str | None] = mapped_column(String(40))
    location: Mapped[Any] = mapped_column(point_type())
    coverage_area: Mapped[Any | None] = mapped_column(polygon_type(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class Technician(Base):
    """A field technician with skills per equipment type, a home depot and a shift calendar."""

    __tablename__ = "technicians"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40))
    home_depot_id: Mapped[int] = mapped_column(ForeignKey("depots.id"), index=True)
    # Equipment types this technician may service (the router's skill filter).
    skills: Mapped[list[str]] = mapped_column(ARRAY(String(40)), default=list)
    # Certificates behind the skills: [{"equipment_type", "name", "number", "expires_on"}].
    certifications: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    last_position: Mapped[Any | None] = mapped_column(point_type(), nullable=True)
    last_position_at: Mapped[datetime | None]
    # Where the working day ends if not at the home depot (a home address); the router drives them there.
    home_location: Mapped[Any | None] = mapped_column(point_type(), nullable=True)
    # What the van carries, in the policy's routing.load_unit; NULL: no limit.
    van_capacity: Mapped[int | None]
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    home_depot: Mapped[Depot] = relationship()
    shifts: Mapped[list[TechnicianShift]] = relationship(
        back_populates="technician", order_by="TechnicianShift.starts_at"
    )


class TechnicianShift(Base):
    """One working window of a technician (the shift calendar is the list of these)."""

    __tablename__ = "technician_shifts"
    __table_args__ = (CheckConstraint("ends_at > starts_at", name="shift_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    technician_id: Mapped[int] = mapped_column(ForeignKey("technicians.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(index=True)
    ends_at: Mapped[datetime]
    on_call: Mapped[bool] = mapped_column(default=False)

    technician: Mapped[Technician] = relationship(back_populates="shifts")
