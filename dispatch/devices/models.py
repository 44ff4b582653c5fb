"""What devices publish and what we know about them: alarms, alarm faults, the device registry, dead letters.

Deduplication lives in the database: an alarm is stored once per (device_id, alarm_id); the open fault of a
device and code is unique while open (partial unique index), so repeats attach instead of opening tickets.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from dispatch.core.db import Base


class Alarm(Base):
    """A fault alarm published by a device; the same alarm_id from the same device is stored once."""

    __tablename__ = "alarms"
    __table_args__ = (
        UniqueConstraint("device_id", "alarm_id"),
        # The technician's job list reads each equipment's latest raised alarms (technician_api/jobs/queries.py).
        Index(
            "ix_alarms_equipment_raised",
            "equipment_id",
            text("received_at DESC"),
            postgresql_where=text("state = 'raised'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    device_id: Mapped[str] = mapped_column(String(100), index=True)
    alarm_id: Mapped[str] = mapped_column(String(100))
    equipment_id: Mapped[int | None] = mapped_column(ForeignKey("equipment.id"), index=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    # The device fault (device + code episode) this alarm belongs to; its ticket is the fault's ticket.
    fault_id: Mapped[int | None] = mapped_column(ForeignKey("alarm_faults.id"), index=True)
    code: Mapped[str] = mapped_column(String(100))
    severity: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(20))
    message: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    # Fields the device sent that the protocol does not define, kept as sent.
    extra: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default=text("'{}'::jsonb"))
    device_at: Mapped[datetime | None]
    received_at: Mapped[datetime] = mapped_column(server_default=func.now())


class AlarmFault(Base):
    """One fault of one device (device + code) while its ticket is open: raises attach here (count, first/last seen).

    At most one open fault per device and code (closed_at IS NULL), enforced by a partial unique index.
    """

    __tablename__ = "alarm_faults"
    __table_args__ = (
        Index(
            "uq_alarm_faults_open_device_code",
            "device_id",
            "code",
            unique=True,
            postgresql_where=text("closed_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    device_id: Mapped[str] = mapped_column(String(100))
    code: Mapped[str] = mapped_column(String(100))
    equipment_id: Mapped[int | None] = mapped_column(ForeignKey("equipment.id"), index=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    severity: Mapped[str] = mapped_column(String(20))  # the highest severity seen
    count: Mapped[int] = mapped_column(default=0)  # raises attached
    clear_count: Mapped[int] = mapped_column(default=0)
    first_seen_at: Mapped[datetime | None]  # device time of the first raise
    last_seen_at: Mapped[datetime | None]  # device time of the latest raise
    last_cleared_at: Mapped[datetime | None]  # device time of the latest clear
    cleared_at: Mapped[datetime | None]  # set while the device reports the fault cleared
    # Device times of recent clears, trimmed to the flapping window (policy: N clears in M minutes).
    recent_clears: Mapped[list[str]] = mapped_column(JSONB, default=list)
    flapping: Mapped[bool] = mapped_column(default=False)
    flapping_since: Mapped[datetime | None]
    auto_recovered_at: Mapped[datetime | None]
    opened_at: Mapped[datetime] = mapped_column(server_default=func.now())
    closed_at: Mapped[datetime | None]


class Device(Base):
    """A device in the registry: the equipment it reports for, its credentials (argon2 hash) and liveness."""

    __tablename__ = "devices"

    device_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    equipment_id: Mapped[int | None] = mapped_column(ForeignKey("equipment.id"), index=True)
    # Our own argon2 hash of the device password; the broker's password file holds its own (mosquitto_passwd).
    password_hash: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default="unknown", server_default="unknown")  # online/offline
    status_at: Mapped[datetime | None]
    last_seen_at: Mapped[datetime | None]
    last_heartbeat_at: Mapped[datetime | None]
    heartbeat_interval_s: Mapped[int | None]
    provisioned_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class DeviceWatch(Base):
    """A period in which a device was unreachable (last will `offline` or missed heartbeats); closed when back."""

    __tablename__ = "device_watches"
    __table_args__ = (
        Index("uq_device_watches_open_device", "device_id", unique=True, postgresql_where=text("closed_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    device_id: Mapped[str] = mapped_column(String(100))
    equipment_id: Mapped[int | None] = mapped_column(ForeignKey("equipment.id"))
    reason: Mapped[str] = mapped_column(String(40))  # last_will | offline | heartbeat_missed
    opened_at: Mapped[datetime]
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    closed_at: Mapped[datetime | None]


class DeadLetter(Base):
    """A message the gateway could not accept, kept with its raw bytes, topic and reason; replayable."""

    __tablename__ = "dead_letters"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    received_at: Mapped[datetime] = mapped_column(server_default=func.now(), index=True)
    topic: Mapped[str] = mapped_column(Text)
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    # sha256(topic + NUL + payload): a redelivered message (crash between commit and ack) is kept once.
    digest: Mapped[bytes] = mapped_column(LargeBinary, unique=True)
    reason: Mapped[str] = mapped_column(Text)
    device_id: Mapped[str | None] = mapped_column(String(100), index=True)
    replayed_at: Mapped[datetime | None]
    replay_result: Mapped[str | None] = mapped_column(Text)
