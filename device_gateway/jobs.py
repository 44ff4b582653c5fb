"""Worker jobs of the device gateway: missed heartbeats, and "equipment unreachable" tickets for offline devices.

Registered on import; `dispatch.worker` imports this module. Several workers may run: watches are taken with
FOR UPDATE SKIP LOCKED, and the heartbeat sweep is one UPDATE … RETURNING.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from device_gateway.policy import GatewayPolicy
from device_gateway.service import mark_silent_devices, open_unreachable_tickets
from dispatch.core.policy import policy_for
from dispatch.core.settings import Settings
from dispatch.worker import Job, register


def check_device_liveness(factory: sessionmaker[Session], settings: Settings, now: datetime) -> int:
    """Mark devices silent beyond the heartbeat timeout offline; open unreachable tickets past the grace. Commits."""
    with factory() as session:
        policy = GatewayPolicy.from_policy(policy_for(settings), public_base_url=settings.public_base_url)
        silent = mark_silent_devices(session, policy=policy, now=now)
        opened = open_unreachable_tickets(session, policy=policy, now=now)
        session.commit()
    return len(silent) + len(opened)


DEVICE_LIVENESS = register(Job(name="device_gateway.liveness", run=check_device_liveness, every_seconds=5.0))
