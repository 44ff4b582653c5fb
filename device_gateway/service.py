"""Storing what devices publish. Deduplication lives in the database (unique device_id + alarm_id)."""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, sessionmaker

from device_gateway.payloads import Rejection, parse_alarm
from dispatch.customers.models import Equipment
from dispatch.devices.models import Alarm

log = logging.getLogger("onsite24.gateway")


def store_alarm(factory: sessionmaker[Session], topic: str, payload: bytes) -> None:
    """Store one alarm message once, committing before the caller acknowledges it."""
    alarm = parse_alarm(topic, payload)
    if isinstance(alarm, Rejection):
        log.warning("rejected message on %s: %s", topic, alarm.reason)
        return
    with factory() as session:
        equipment_id = session.scalar(select(Equipment.id).where(Equipment.device_id == alarm.device_id))
        session.execute(
            insert(Alarm)
            .values(
                device_id=alarm.device_id,
                alarm_id=alarm.alarm_id,
                equipment_id=equipment_id,
                code=alarm.code,
                severity=alarm.severity,
                state=alarm.state,
                message=alarm.message,
                data=alarm.data,
                device_at=alarm.at,
            )
            .on_conflict_do_nothing(index_elements=["device_id", "alarm_id"])
        )
        session.commit()
