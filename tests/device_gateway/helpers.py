"""Builders and waits for the gateway tests: registered devices, alarm payloads, polling with a deadline."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from dispatch.core.types import EquipmentType
from dispatch.customers.models import Equipment
from dispatch.devices.models import Device
from tests.factories import BASE_TIME, make_site

T = TypeVar("T")
_alarm_seq = itertools.count(1)


def make_device(session: Session, *, equipment_type: EquipmentType = EquipmentType.tower_crane) -> Equipment:
    """Equipment at a site with a registered device (its id is `equipment.device_id`)."""
    _site, unit = make_site(session, equipment_type=equipment_type)
    session.add(Device(device_id=unit.device_id, equipment_id=unit.id, status="unknown", provisioned_at=BASE_TIME))
    session.flush()
    return unit


def alarm(
    *,
    code: str = "E-SLEW-BRAKE",
    severity: str = "critical",
    state: str = "raised",
    alarm_id: str | None = None,
    at: datetime = BASE_TIME,
    **extra: Any,
) -> bytes:
    body = {
        "alarm_id": alarm_id or f"a{next(_alarm_seq)}",
        "code": code,
        "severity": severity,
        "state": state,
        "at": at.isoformat(),
        "message": "slewing brake fault",
        "data": {"wind_speed": 7.5, "load_t": 3.2},
        **extra,
    }
    return json.dumps(body).encode()


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


def wait_for(check: Callable[[], T], *, timeout: float = 15.0, interval: float = 0.05, what: str = "condition") -> T:
    """Poll `check` until it returns something truthy, or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last: T = check()
    while not last:
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")
        time.sleep(interval)
        last = check()
    return last
