"""The gateway's storage rules on the real database: dedup, attachment, clear, flapping, dead letters, liveness."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from device_gateway.policy import GatewayPolicy
from device_gateway.service import (
    Message,
    close_watches,
    mark_silent_devices,
    open_unreachable_tickets,
    process_batch,
    replay_dead_letter,
)
from dispatch.audit.models import AuditEntry
from dispatch.core.types import EquipmentType, Grade, TicketStatus, VisitStatus
from dispatch.devices.models import Alarm, AlarmFault, DeadLetter, Device, DeviceWatch
from dispatch.domain.policy import default_policy_data, validate_policy
from dispatch.tickets.models import Ticket, Visit
from tests.device_gateway.helpers import alarm, make_device, minutes
from tests.factories import BASE_TIME, make_site, make_technician

NOW = BASE_TIME + timedelta(minutes=1)


def _ingest(session, *messages, now=NOW):
    result = process_batch(session, list(messages), now=now)
    session.flush()
    return result


def _alarm_msg(unit, **kw):
    return Message(f"devices/{unit.device_id}/alarms", alarm(**kw))


def _actions(session, ticket_id):
    return list(session.scalars(select(AuditEntry.action).where(AuditEntry.ticket_id == ticket_id).order_by("id")))


def test_critical_raise_opens_major_ticket_with_four_hour_deadline(db_session):
    """A crane's critical alarm opens a major ticket due 4 h after the alarm, audited as opened by the device."""
    unit = make_device(db_session)
    result = _ingest(db_session, _alarm_msg(unit, severity="critical"))
    assert result.stored == 1 and len(result.tickets_opened) == 1
    ticket = db_session.get(Ticket, result.tickets_opened[0])
    assert ticket.grade is Grade.MAJOR and ticket.status is TicketStatus.new
    assert ticket.due_on_site_at == ticket.reported_at + timedelta(hours=4) and ticket.reported_at <= NOW
    assert any(r["rule"] == "critical_alarm" for r in ticket.grade_reasons)
    assert ticket.equipment_id == unit.id and ticket.channel == "device"
    assert _actions(db_session, ticket.id) == ["open"]
    row = db_session.scalars(select(Alarm)).one()
    assert row.ticket_id == ticket.id and row.fault_id is not None


def test_repeats_attach_to_the_open_ticket_and_redelivery_is_stored_once(db_session):
    """Repeated raises of one fault attach to its ticket (count, first/last seen); the same alarm_id is stored once."""
    unit = make_device(db_session)
    first = _alarm_msg(unit, alarm_id="x1", at=BASE_TIME)
    _ingest(db_session, first)
    r = _ingest(
        db_session,
        first,
        _alarm_msg(unit, alarm_id="x2", at=BASE_TIME + minutes(1)),
        _alarm_msg(unit, alarm_id="x3", at=BASE_TIME + minutes(2)),
        _alarm_msg(unit, alarm_id="x3", at=BASE_TIME + minutes(2)),
    )
    assert (r.stored, r.duplicates, r.tickets_opened) == (2, 2, [])
    fault = db_session.scalars(select(AlarmFault)).one()
    assert fault.count == 3
    assert fault.first_seen_at == BASE_TIME and fault.last_seen_at == BASE_TIME + minutes(2)
    assert db_session.scalar(select(func.count()).select_from(Ticket)) == 1
    assert db_session.scalar(select(func.count()).select_from(Alarm)) == 3


def test_other_code_is_another_fault(db_session):
    """A different fault code of the same device is a separate fault with its own ticket."""
    unit = make_device(db_session)
    r = _ingest(db_session, _alarm_msg(unit, code="E1"), _alarm_msg(unit, code="E2", severity="minor"))
    assert len(r.tickets_opened) == 2


def test_clear_before_departure_resolves_as_auto_recovered(db_session):
    """When the device clears the alarm before any technician left, the ticket resolves itself, with an audit row."""
    unit = make_device(db_session)
    r = _ingest(db_session, _alarm_msg(unit))
    _ingest(db_session, _alarm_msg(unit, state="cleared", at=BASE_TIME + minutes(3)))
    ticket = db_session.get(Ticket, r.tickets_opened[0])
    assert ticket.status is TicketStatus.resolved and ticket.resolved_at == NOW
    assert _actions(db_session, ticket.id) == ["open", "auto_recover"]
    fault = db_session.scalars(select(AlarmFault)).one()
    assert fault.cleared_at == BASE_TIME + minutes(3) and fault.closed_at is not None


def test_clear_after_departure_keeps_ticket_open_and_tells_the_technician(db_session):
    """Once a technician is on the way, a clear does not resolve the ticket; it is recorded for the technician."""
    unit = make_device(db_session)
    r = _ingest(db_session, _alarm_msg(unit))
    ticket = db_session.get(Ticket, r.tickets_opened[0])
    tech = make_technician(db_session)
    db_session.add(Visit(ticket_id=ticket.id, technician_id=tech.id, status=VisitStatus.en_route, departed_at=NOW))
    db_session.flush()
    _ingest(db_session, _alarm_msg(unit, state="cleared", at=BASE_TIME + minutes(3)))
    assert ticket.status is TicketStatus.new
    assert _actions(db_session, ticket.id) == ["open", "alarm_cleared"]
    assert db_session.scalars(select(AlarmFault)).one().cleared_at is not None


def test_raise_after_its_clear_in_one_batch_is_ordered_by_device_time(db_session):
    """A raise and its clear arriving out of order in one batch are applied in device-time order."""
    unit = make_device(db_session)
    r = _ingest(
        db_session,
        _alarm_msg(unit, state="cleared", at=BASE_TIME + minutes(1)),
        _alarm_msg(unit, state="raised", at=BASE_TIME),
    )
    ticket = db_session.get(Ticket, r.tickets_opened[0])
    assert ticket.status is TicketStatus.resolved


def test_flapping_is_marked_graded_serious_and_keeps_one_ticket(db_session):
    """A minor alarm raised and cleared more than 3 times in 10 minutes is flapping: one ticket, at least serious."""
    unit = make_device(db_session)
    t = BASE_TIME
    for n in range(5):
        _ingest(db_session, _alarm_msg(unit, severity="minor", at=t + minutes(2 * n)), now=NOW + minutes(2 * n))
        _ingest(
            db_session,
            _alarm_msg(unit, severity="minor", state="cleared", at=t + minutes(2 * n + 1)),
            now=NOW + minutes(2 * n + 1),
        )
    tickets = db_session.scalars(select(Ticket)).all()
    assert len(tickets) == 1
    ticket = tickets[0]
    fault = db_session.scalars(select(AlarmFault).where(AlarmFault.closed_at.is_(None))).one()
    assert fault.flapping and fault.count == 5 and fault.clear_count == 5
    assert ticket.grade is Grade.SERIOUS and ticket.due_on_site_at == ticket.reported_at + timedelta(hours=12)
    assert ticket.status is TicketStatus.reopened  # a flapping fault no longer resolves itself
    assert "regrade" in _actions(db_session, ticket.id)
    # The reason reads like every other grade reason, so the ticket's views (and the complaint answer) render it.
    from dispatch.tickets.views import ticket_views

    [view] = ticket_views(db_session, [ticket], NOW + minutes(10))
    assert view.grade_reasons[-1].rule and "flapping" in view.grade_reasons[-1].text


def test_a_flapping_regrade_follows_the_deployments_policy(db_session):
    """A deployment that promises serious faults on site in 6 h (and flapping alarms as major) gets its own
    numbers on a flapping regrade, not the defaults: the grade, the rule's reason and the 2 h major deadline."""
    data = default_policy_data()
    data["promise"]["on_site_hours"] = {"major": 2, "serious": 6, "general": 24}
    for rule in data["grading"]["rules"]:
        if rule.get("when") == {"flapping": True}:
            rule["grade"] = "major"
            rule["reason"] = "Flapping: treat as major"
    policy = GatewayPolicy.from_policy(validate_policy(data, "test"))
    unit = make_device(db_session)
    for n in range(5):
        for k, state in enumerate(("raised", "cleared")):
            at = minutes(2 * n + k)
            msg = _alarm_msg(unit, severity="minor", state=state, at=BASE_TIME + at)
            process_batch(db_session, [msg], policy=policy, now=NOW + at)
            db_session.flush()
    [ticket] = db_session.scalars(select(Ticket)).all()
    assert ticket.grade is Grade.MAJOR
    assert ticket.due_on_site_at == ticket.reported_at + timedelta(hours=2)
    assert ticket.grade_reasons[-1]["text"] == "Flapping: treat as major"
    assert "regrade" in _actions(db_session, ticket.id)


def test_unknown_device_and_malformed_payload_become_dead_letters(db_session):
    """Nothing is dropped: an unknown device's alarm and a broken payload are kept with raw bytes, topic and reason."""
    unit = make_device(db_session)
    broken = b'{"alarm_id": 1, "code": "E1", "severity": "bad"'
    r = _ingest(
        db_session,
        Message("devices/ghost-1/alarms", alarm()),
        Message(f"devices/{unit.device_id}/alarms", broken),
        Message(f"devices/{unit.device_id}/alarms", alarm(severity="catastrophic")),
    )
    assert r.dead_letters == 3 and r.stored == 0
    letters = {d.reason.split(":")[0]: d for d in db_session.scalars(select(DeadLetter))}
    assert "unknown device 'ghost-1' (not in the registry, or revoked)" in letters
    assert bytes(letters["payload is not UTF-8 JSON"].payload) == broken
    assert any("severity" in reason for reason in (d.reason for d in letters.values()))
    # A redelivered copy is kept once.
    assert _ingest(db_session, Message("devices/ghost-1/alarms", b"x")).dead_letters == 1
    assert _ingest(db_session, Message("devices/ghost-1/alarms", b"x")).dead_letters == 0


def test_dead_letter_replays_after_the_device_is_registered(db_session):
    """After a dispatcher registers the device, replaying its dead letter stores the alarm and opens the ticket."""
    _site, unit = make_site(db_session)
    device_id, unit.device_id = unit.device_id, None
    db_session.flush()
    _ingest(db_session, Message(f"devices/{device_id}/alarms", alarm(alarm_id="late-1")))
    letter = db_session.scalars(select(DeadLetter)).one()
    again = replay_dead_letter(db_session, dead_letter_id=letter.id, now=NOW)
    assert again.replay_result.startswith("rejected again: unknown device")
    unit.device_id = letter.device_id
    db_session.flush()
    done = replay_dead_letter(db_session, dead_letter_id=letter.id, now=NOW)
    assert done.replay_result.startswith("stored: alarm late-1 raised")
    assert db_session.scalar(select(func.count()).select_from(Ticket)) == 1


def test_revoked_device_is_not_accepted(db_session):
    """A revoked device's messages go to the dead letters, not into tickets."""
    unit = make_device(db_session)
    db_session.get(Device, unit.device_id).revoked_at = NOW
    db_session.flush()
    assert _ingest(db_session, _alarm_msg(unit)).dead_letters == 1


def test_last_will_opens_unreachable_ticket_for_base_station_and_online_closes_the_watch(db_session):
    """A base station whose last will says offline gets an "equipment unreachable" ticket; back online ends it."""
    station = make_device(db_session, equipment_type=EquipmentType.base_station)
    crane = make_device(db_session)
    _ingest(
        db_session,
        Message(f"devices/{station.device_id}/status", b"offline"),
        Message(f"devices/{crane.device_id}/status", b"offline"),
    )
    assert db_session.get(Device, station.device_id).status == "offline"
    opened = open_unreachable_tickets(db_session, now=NOW)
    assert len(opened) == 1  # cranes are not configured for unreachable tickets
    ticket = db_session.get(Ticket, opened[0])
    # Unreachable is graded by the policy's device_offline mapping: a base station on reserve is serious.
    assert ticket.equipment_id == station.id and ticket.grade is Grade.SERIOUS
    assert "unreachable" in ticket.symptom
    assert open_unreachable_tickets(db_session, now=NOW) == []
    _ingest(db_session, Message(f"devices/{station.device_id}/status", b"online"), now=NOW + minutes(5))
    watch = db_session.scalars(select(DeviceWatch).where(DeviceWatch.device_id == station.device_id)).one()
    assert watch.closed_at == NOW + minutes(5)
    assert ticket.status is TicketStatus.resolved
    assert close_watches(db_session, [station.device_id], now=NOW) == 0


def test_missed_heartbeats_mark_device_offline(db_session):
    """A device that stops its heartbeats beyond the policy timeout is offline and watched."""
    unit = make_device(db_session, equipment_type=EquipmentType.elevator)
    _ingest(db_session, Message(f"devices/{unit.device_id}/heartbeat", b'{"interval_s": 30}'))
    device = db_session.get(Device, unit.device_id)
    assert device.status == "online" and device.heartbeat_interval_s == 30
    assert mark_silent_devices(db_session, now=NOW + minutes(4)) == []  # policy timeout: 5 min
    assert mark_silent_devices(db_session, now=NOW + minutes(6)) == [unit.device_id]
    assert len(open_unreachable_tickets(db_session, now=NOW + minutes(6))) == 1


def test_worker_runs_the_liveness_job(live_db, settings):
    """The worker knows the device-liveness job, and one run opens the unreachable ticket of an offline lift."""
    from sqlalchemy.orm import sessionmaker

    from dispatch.cli import WORKER_JOB_MODULES
    from dispatch.worker import registered_jobs, run_worker

    assert "device_gateway.liveness" in [j.name for j in registered_jobs(WORKER_JOB_MODULES)]
    factory = sessionmaker(live_db, expire_on_commit=False)
    with factory() as s:
        lift = make_device(s, equipment_type=EquipmentType.elevator)
        process_batch(s, [Message(f"devices/{lift.device_id}/status", b"offline")], now=NOW)
        s.commit()
    run_worker(settings, factory, job_modules=WORKER_JOB_MODULES, once=True)
    with factory() as s:
        assert s.scalars(select(DeviceWatch)).one().ticket_id is not None


def test_clear_before_departure_withdraws_an_accepted_job(db_session):
    """A job the technician accepted but has not left for is withdrawn when the device recovers by itself."""
    unit = make_device(db_session)
    r = _ingest(db_session, _alarm_msg(unit))
    ticket = db_session.get(Ticket, r.tickets_opened[0])
    tech = make_technician(db_session)
    visit = Visit(ticket_id=ticket.id, technician_id=tech.id, status=VisitStatus.accepted)
    db_session.add(visit)
    db_session.flush()
    _ingest(db_session, _alarm_msg(unit, state="cleared", at=BASE_TIME + minutes(3)))
    assert ticket.status is TicketStatus.resolved
    assert visit.status is VisitStatus.cancelled
