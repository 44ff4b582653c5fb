"""The device registry and the broker accounts: provision, revoke, list (behind `onsite24 devices …`).

A device's MQTT username is its device id; the ACL's `pattern write devices/%u/…` lines let it publish only
under its own id and read nothing. Our database keeps an argon2 hash of the password (to verify it or to
rotate it); the broker's password file keeps mosquitto's own hash. The password itself is shown once.
"""

from __future__ import annotations

import os
import secrets
import signal
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from device_gateway.broker import remove_password, set_password
from device_gateway.payloads import DEVICE_ID
from dispatch.core.auth import hash_password
from dispatch.core.errors import Conflict, NotFound, Unprocessable
from dispatch.customers.models import Equipment
from dispatch.devices.models import Device

RESERVED_USERNAMES = frozenset({"onsite24-gateway", "onsite24-simulator"})


@dataclass(frozen=True)
class Provisioned:
    device_id: str
    equipment_id: int
    password: str  # shown once, never stored in clear
    broker_updated: bool


def reload_broker(directory: Path) -> bool:
    """Ask the running Mosquitto (pid file in `directory`) to re-read its password file and ACL (SIGHUP)."""
    pid_file = directory / "mosquitto.pid"
    try:
        pid = int(pid_file.read_text().strip())
        os.kill(pid, signal.SIGHUP)
    except (OSError, ValueError):
        return False
    return True


def provision_device(
    session: Session, *, device_id: str, equipment_id: int, broker_dir: Path | None, now: datetime
) -> Provisioned:
    """Register `device_id` for the equipment with a new password (rotating it if already provisioned). Commits."""
    if not DEVICE_ID.match(device_id) or device_id in RESERVED_USERNAMES:
        raise Unprocessable(
            f"'{device_id}' is not a valid device id (letters, digits and _.:- only, at most 100).",
            key="error.device.bad-id",
            params={"device_id": device_id},
        )
    equipment = session.get(Equipment, equipment_id, with_for_update=True)
    if equipment is None:
        raise NotFound(
            f"There is no equipment {equipment_id}.",
            key="error.device.no-equipment",
            params={"equipment_id": equipment_id},
        )
    if equipment.device_id not in (None, device_id):
        raise Conflict(
            f"Equipment {equipment_id} already reports as device '{equipment.device_id}'; revoke it first.",
            key="error.device.equipment-taken",
            params={"equipment_id": equipment_id, "device_id": equipment.device_id},
        )
    other = session.scalar(select(Equipment.id).where(Equipment.device_id == device_id, Equipment.id != equipment_id))
    if other is not None:
        raise Conflict(
            f"Device '{device_id}' already belongs to equipment {other}.",
            key="error.device.device-taken",
            params={"device_id": device_id, "equipment_id": other},
        )
    password = secrets.token_urlsafe(24)
    device = session.get(Device, device_id, with_for_update=True)
    if device is None:
        device = Device(device_id=device_id, status="unknown")
        session.add(device)
    device.equipment_id = equipment_id
    device.password_hash = hash_password(password)
    device.provisioned_at = now
    device.revoked_at = None
    equipment.device_id = device_id
    session.flush()
    updated = False
    if broker_dir is not None:
        set_password(broker_dir, device_id, password)
        updated = reload_broker(broker_dir)
    session.commit()
    return Provisioned(device_id, equipment_id, password, updated)


def revoke_device(session: Session, *, device_id: str, broker_dir: Path | None, now: datetime) -> bool:
    """Withdraw the device's credentials: its messages become dead letters and the broker refuses it. Commits."""
    device = session.get(Device, device_id, with_for_update=True)
    if device is None:
        equipment = session.scalar(select(Equipment).where(Equipment.device_id == device_id))
        if equipment is None:
            raise NotFound(
                f"There is no device '{device_id}'.", key="error.device.not-found", params={"device_id": device_id}
            )
        device = Device(device_id=device_id, equipment_id=equipment.id, status="unknown")
        session.add(device)
    device.revoked_at = now
    device.password_hash = None
    session.flush()
    reloaded = False
    if broker_dir is not None:
        remove_password(broker_dir, device_id)
        reloaded = reload_broker(broker_dir)
    session.commit()
    return reloaded


def list_devices(session: Session, *, include_revoked: bool = False) -> list[tuple[Device, Equipment | None]]:
    query = (
        select(Device, Equipment).outerjoin(Equipment, Equipment.id == Device.equipment_id).order_by(Device.device_id)
    )
    if not include_revoked:
        query = query.where(Device.revoked_at.is_(None))
    return [(d, e) for d, e in session.execute(query)]
