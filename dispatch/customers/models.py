from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dispatch.core.db import Base
from dispatch.core.types import EquipmentType, enum_column_type, point_type


class Customer(Base):
    """A construction firm, building owner or telecom operator that owns equipment."""

    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40), index=True)
    email: Mapped[str | None] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(10), default="zh-CN")
    # Where the customer wants notices (sms, email, in_app, webhook); edited on the portal's settings page.
    notice_channels: Mapped[list[str]] = mapped_column(JSONB, default=lambda: ["sms", "email", "in_app"])
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    sites: Mapped[list[Site]] = relationship(back_populates="customer")


# Sign-in requests look customers up by e-mail written in any case, and by phone digits (see migration 0008).
Index("ix_customers_email", func.lower(Customer.email))
Index("ix_customers_phone_digits", func.regexp_replace(Customer.phone, "[^0-9+]", "", "g"))


class Site(Base):
    """Where equipment stands: a construction site, a building, a base-station compound."""

    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(400))
    region: Mapped[str | None] = mapped_column(String(80), index=True)
    location: Mapped[Any] = mapped_column(point_type())
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    # Weekly opening windows in site-local time, e.g. {"mon": [["07:00", "19:00"]], ...}; absent day = closed,
    # empty dict = open around the clock.
    access_hours: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    contact_name: Mapped[str | None] = mapped_column(String(200))
    contact_phone: Mapped[str | None] = mapped_column(String(40))
    contact_email: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    customer: Mapped[Customer] = relationship(back_populates="sites")
    equipment: Mapped[list[Equipment]] = relationship(back_populates="site")


class Equipment(Base):
    """One machine under service: type, model, serial number, manufacture date, where it stands now."""

    __tablename__ = "equipment"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    equipment_type: Mapped[EquipmentType] = mapped_column(enum_column_type(EquipmentType, "equipment_type"))
    model: Mapped[str] = mapped_column(String(100))
    serial_number: Mapped[str] = mapped_column(String(100), unique=True)
    manufacture_date: Mapped[date | None]
    device_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    site: Mapped[Site] = relationship(back_populates="equipment")
    site_history: Mapped[list[EquipmentSiteMove]] = relationship(
        back_populates="equipment", order_by="EquipmentSiteMove.moved_in_at"
    )


class EquipmentSiteMove(Base):
    """A stay of a machine at a site (tower cranes move from site to site)."""

    __tablename__ = "equipment_site_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    equipment_id: Mapped[int] = mapped_column(ForeignKey("equipment.id"), index=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    moved_in_at: Mapped[datetime]
    moved_out_at: Mapped[datetime | None]

    equipment: Mapped[Equipment] = relationship(back_populates="site_history")


Index("ix_sites_contact_phone_digits", func.regexp_replace(Site.contact_phone, "[^0-9+]", "", "g"))
