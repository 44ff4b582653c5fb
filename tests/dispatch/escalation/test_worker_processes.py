"""The escalation ladder in real worker processes: killed mid-ladder or racing, every step fires exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatch.core.clock import utcnow
from dispatch.domain.policy import load_policy
from dispatch.escalation.models import EscalationEvent
from dispatch.notifications.models import Notification
from tests.factories import open_trapped_complaint
from tests.harness.wait import stays, wait_for

ROOT = Path(__file__).resolve().parents[3]
# A fast major ladder (seconds instead of minutes) so a test can kill a worker between steps.
FAST_LADDER = """
[[escalation.ladders.major]]
key = "department"
after_minutes = 0
audience = "department"
kind = "notify"
message = "act now"

[[escalation.ladders.major]]
key = "department_head"
after_minutes = 0.05
audience = "department_head"
kind = "notify"
message = "not acknowledged within 3 s"

[[escalation.ladders.major]]
key = "supervising_manager"
after_minutes = 0.1
audience = "supervising_manager"
kind = "notify"
message = "not acknowledged within 6 s"

[[escalation.ladders.major]]
key = "director"
after_minutes = 0.15
audience = "director"
kind = "notify"
message = "not acknowledged within 9 s"
"""
STEPS = 4


def _seed(engine, policy_file: Path, count: int) -> list[int]:
    policy = load_policy(policy_file)
    now = utcnow()
    with Session(engine) as session:
        return [open_trapped_complaint(session, policy, now=now).id for _ in range(count)]


def _worker(database_url: str, policy_file: Path, log: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "ONSITE24_DATABASE_URL": database_url,
        "ONSITE24_ENVIRONMENT": "test",
        "ONSITE24_POLICY_FILE": str(policy_file),
        "ONSITE24_WORKER_POLL_SECONDS": "0.1",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "dispatch", "worker"], cwd=ROOT, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT
    )


def _events(engine) -> tuple[int, int, int]:
    with Session(engine) as s:
        events = s.scalar(select(func.count()).select_from(EscalationEvent))
        distinct = s.scalar(
            select(func.count()).select_from(
                select(EscalationEvent.ticket_id, EscalationEvent.step_key).distinct().subquery()
            )
        )
        notices = s.scalar(
            select(func.count()).where(Notification.channel == "in_app", Notification.kind == "escalation.notify")
        )
    return events, distinct, notices


def test_worker_killed_mid_ladder_fires_every_step_exactly_once(live_db, database_url, tmp_path):
    """SIGKILL a worker between ladder steps; after a restart every step has fired once, none twice."""
    policy_file = tmp_path / "policy.toml"
    policy_file.write_text(FAST_LADDER)
    tickets = _seed(live_db, policy_file, 25)
    log = tmp_path / "worker.log"
    worker = _worker(database_url, policy_file, log)
    try:
        wait_for(lambda: _events(live_db)[0] >= len(tickets) * 2, timeout=30, interval=0.1, what=log.read_text())
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
        mid = _events(live_db)[0]
        assert mid < len(tickets) * STEPS, "the kill should land mid-ladder"
        time.sleep(4)  # steps come due while no worker runs
        worker = _worker(database_url, policy_file, log)
        wait_for(lambda: _events(live_db)[0] >= len(tickets) * STEPS, timeout=40, interval=0.1, what=log.read_text())
        stays(lambda: _events(live_db), seconds=1, what="the fired steps")  # no late second firing
        events, distinct, notices = _events(live_db)
        assert events == distinct == notices == len(tickets) * STEPS
    finally:
        worker.kill()
        worker.wait(10)


def test_two_workers_racing_never_fire_a_step_twice(live_db, database_url, tmp_path):
    """Two workers on the same database share the ladders; each step is fired by exactly one of them."""
    policy_file = tmp_path / "policy.toml"
    policy_file.write_text(FAST_LADDER)
    tickets = _seed(live_db, policy_file, 40)
    logs = [tmp_path / "w1.log", tmp_path / "w2.log"]
    workers = [_worker(database_url, policy_file, log) for log in logs]
    try:
        wait_for(lambda: _events(live_db)[0] >= len(tickets) * STEPS, timeout=60, interval=0.1, what="every step")
        stays(lambda: _events(live_db), seconds=1, what="the fired steps")  # no late second firing
        events, distinct, notices = _events(live_db)
        assert events == distinct == notices == len(tickets) * STEPS
        with Session(live_db) as s:
            firers = set(s.scalars(select(EscalationEvent.fired_by).distinct()))
        assert len(firers) == 2, "both workers took part"
        for log in logs:
            assert "Traceback" not in log.read_text()
    finally:
        for w in workers:
            w.kill()
            w.wait(10)
