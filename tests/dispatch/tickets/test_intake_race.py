"""Two reports of the same machine at the same moment make one job, not two (real commits, two sessions)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatch.core.policy import policy_for
from dispatch.core.types import Category, Channel, EquipmentType
from dispatch.tickets.models import Ticket
from dispatch.tickets.schemas import Impact
from dispatch.tickets.service import IntakeResult, open_complaint
from tests.factories import make_site


def _report(session: Session, policy, equipment_id: int, channel: Channel, commit: bool) -> IntakeResult:  # type: ignore[no-untyped-def]
    return open_complaint(
        session,
        policy=policy,
        now=datetime.now(UTC),
        actor="test",
        actor_user_id=None,
        channel=channel,
        category=Category.EQUIPMENT,
        symptom="Hoist stopped",
        impact=Impact(equipment_down=True),
        equipment_id=equipment_id,
        commit=commit,
    )


@pytest.mark.parametrize("equipment_type", [EquipmentType.tower_crane, EquipmentType.base_station])
def test_a_second_report_waits_for_the_first_and_links_to_its_ticket(live_db, settings, equipment_type) -> None:
    policy = policy_for(settings)
    with Session(live_db) as setup:
        _site, unit = make_site(setup, equipment_type=equipment_type)
        setup.commit()
        unit_id = unit.id

    first = Session(live_db)
    opened = _report(first, policy, unit_id, Channel.device, commit=False)  # an alarm's transaction, still open
    assert not opened.linked

    second_result: list[tuple[bool, int]] = []

    def phone_call() -> None:
        with Session(live_db) as second:
            result = _report(second, policy, unit_id, Channel.phone, commit=True)
            second_result.append((result.linked, result.ticket.id))

    caller = threading.Thread(target=phone_call, daemon=True)
    caller.start()
    try:
        caller.join(timeout=0.5)
        # The call must wait for the alarm's transaction rather than open a job of its own meanwhile.
        waited = caller.is_alive()
        first.commit()
        ticket_id = opened.ticket.id
    finally:
        first.close()
    caller.join(timeout=10)
    assert waited, "the second report did not wait for the first one's transaction"
    assert not caller.is_alive()

    assert second_result == [(True, ticket_id)]
    with Session(live_db) as check:
        open_jobs = check.scalar(select(func.count()).select_from(Ticket).where(Ticket.equipment_id == unit_id))
    assert open_jobs == 1
