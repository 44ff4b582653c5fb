"""Scale-out: two gateways and two workers at once on one broker and one database (docs/deployment.md).

The gateways share the alarm stream through the MQTT 5 shared subscription and the workers share the escalation
clocks through `FOR UPDATE SKIP LOCKED`; together they must still open one ticket per machine, store every alarm
once and fire every escalation step exactly once.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatch.core.clock import utcnow
from dispatch.devices.models import Alarm, AlarmFault, DeadLetter
from dispatch.domain.policy import load_policy
from dispatch.escalation.models import EscalationEvent, TicketEscalation
from dispatch.tickets.models import Ticket
from tests.device_gateway.helpers import (
    alarm,
    alarm_count,
    device_client,
    gateway_env,
    register_devices,
    stop_client,
    stop_process,
    wait_for,
)
from tests.dispatch.escalation.test_worker_processes import FAST_LADDER, STEPS
from tests.factories import open_trapped_complaint
from tests.harness.wait import stays

ROOT = Path(__file__).resolve().parents[1]
DEVICES, ALARMS_PER_DEVICE, COMPLAINTS = 24, 40, 16


def _start(argv: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "dispatch", *argv], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )


def _complaints(engine, policy_file: Path, count: int) -> None:  # type: ignore[no-untyped-def]
    """Phone complaints about trapped people: major tickets whose ladders start at once."""
    policy = load_policy(policy_file)
    now = utcnow()
    with Session(engine) as session:
        for _ in range(count):
            open_trapped_complaint(session, policy, now=now)


def _count(engine, model, *where) -> int:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        return s.scalar(select(func.count()).select_from(model).where(*where)) or 0


def test_two_gateways_and_two_workers_open_one_ticket_per_machine_and_fire_each_step_once(
    settings, broker, live_db, tmp_path
):
    """Alarms from many devices through two gateways, clocks run by two workers: no duplicate, no double step."""
    policy_file = tmp_path / "policy.toml"
    policy_file.write_text(FAST_LADDER)
    env = {**gateway_env(settings), "ONSITE24_POLICY_FILE": str(policy_file), "ONSITE24_WORKER_POLL_SECONDS": "0.1"}
    creds = register_devices(live_db, broker, DEVICES)
    _complaints(live_db, policy_file, COMPLAINTS)
    gw_logs = [tmp_path / "gw1.log", tmp_path / "gw2.log"]
    worker_logs = [tmp_path / "w1.log", tmp_path / "w2.log"]
    procs = [_start(["gateway", "--client-id", f"scale-gw-{i + 1}"], env, log) for i, log in enumerate(gw_logs)]
    procs += [_start(["worker"], env, log) for log in worker_logs]
    clients = []
    try:
        for log in gw_logs:
            wait_for(lambda log=log: log.exists() and " subscribed" in log.read_text(), timeout=90, what="gateway")
        clients = [device_client(settings, d, p) for d, p in creds]
        t0 = utcnow()
        infos = [
            c.publish(
                f"devices/{d}/alarms",
                alarm(code="SLEW_BRAKE_FAULT", severity="critical", at=t0 + timedelta(milliseconds=n)),
                qos=1,
            )
            for n in range(ALARMS_PER_DEVICE)
            for c, (d, _p) in zip(clients, creds, strict=True)
        ]
        for info in infos:
            info.wait_for_publish(10)
        total = DEVICES * ALARMS_PER_DEVICE
        wait_for(lambda: alarm_count(live_db) >= total, timeout=60, what=f"{total} stored alarms")
        tickets = DEVICES + COMPLAINTS
        wait_for(
            lambda: _count(live_db, EscalationEvent) >= tickets * STEPS, timeout=90, what="every ladder step fired"
        )
        stays(lambda: _count(live_db, EscalationEvent), seconds=1.5)  # no late second firing
    finally:
        for c in clients:
            stop_client(c)
        for p in procs:
            stop_process(p)

    with Session(live_db) as s:
        # Every alarm once, one ticket per machine (its repeats attach to it), nothing dead-lettered.
        assert s.scalar(select(func.count()).select_from(Alarm)) == total
        assert s.scalar(select(func.count(func.distinct(Alarm.device_id + ":" + Alarm.alarm_id)))) == total
        assert s.scalar(select(func.count()).select_from(Ticket)) == tickets
        counts = s.execute(select(Ticket.equipment_id, func.count()).group_by(Ticket.equipment_id)).all()
        assert all(n == 1 for _e, n in counts)
        assert _count(live_db, AlarmFault, AlarmFault.ticket_id.is_(None)) == 0
        assert _count(live_db, DeadLetter, DeadLetter.topic.like("%/alarms")) == 0
        # Every step of every ladder exactly once, and the ladder's record agrees with the events.
        events = s.execute(select(EscalationEvent.ticket_id, EscalationEvent.step_key)).all()
        assert len(events) == len(set(events)) == tickets * STEPS
        for state in s.scalars(select(TicketEscalation)):
            assert sorted(state.fired_keys) == sorted(k for t, k in events if t == state.ticket_id)
        firers = set(s.scalars(select(EscalationEvent.fired_by).distinct()))
    assert len(firers) == 2, f"both workers took part: {firers}"
    for log in gw_logs + worker_logs:
        assert "Traceback" not in log.read_text(), log.read_text()[-3000:]
