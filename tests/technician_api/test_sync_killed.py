"""Killing the API in the middle of a sync batch loses nothing: resending gives the same final state."""

from __future__ import annotations

import signal
import threading
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatch.audit.models import AuditEntry
from dispatch.confirmations.models import ConfirmationLink
from dispatch.core.clock import utcnow
from dispatch.core.settings import Settings
from dispatch.core.types import Role, VisitStatus
from dispatch.return_visits.models import ReturnVisitTask
from dispatch.tickets.models import Visit
from dispatch.visits.models import JobEvent
from tests.factories import make_technician, make_user, token_for
from tests.harness.wait import wait_for
from tests.technician_api.conftest import REPORT, SITE_LAT, SITE_LON, make_job
from tests.technician_api.live import api_log, start_api, stop_api

JOBS = 30
POSITIONS = 8


def _events(visit_ids: list[int]) -> list[dict]:
    start = utcnow() - timedelta(hours=6)
    out: list[dict] = []
    for n, vid in enumerate(visit_ids):
        t0 = start + timedelta(minutes=10 * n)
        steps = [{"kind": "accept"}, {"kind": "en_route", "position": {"lat": SITE_LAT - 0.05, "lon": SITE_LON}}]
        steps += [
            {"kind": "position", "position": {"lat": SITE_LAT - 0.04 + i * 0.004, "lon": SITE_LON}}
            for i in range(POSITIONS)
        ]
        steps += [
            {"kind": "arrived", "position": {"lat": SITE_LAT, "lon": SITE_LON}},
            {"kind": "completed", "report": REPORT},
        ]
        for i, s in enumerate(steps):
            out.append(
                {
                    **s,
                    "idempotency_key": f"sync-{vid:06d}-{i:02d}",
                    "job_id": vid,
                    "device_at": (t0 + timedelta(seconds=20 * i)).isoformat(),
                }
            )
    return out


@pytest.mark.slow
def test_api_killed_mid_batch_then_resent_gives_the_same_final_state(live_db, database_url, tmp_path):
    """SIGKILL during a sync batch, restart, resend: every event applied exactly once, nothing lost."""
    settings = Settings(environment="test", database_url=database_url)
    with Session(live_db, expire_on_commit=False) as s:
        tech = make_technician(s)
        user = make_user(s, role=Role.technician, technician=tech)
        visit_ids = [make_job(s, settings, technician=tech, sequence=i + 1).visit.id for i in range(JOBS)]
        s.commit()
    headers = {"Authorization": f"Bearer {token_for(settings, user)}"}
    events = _events(visit_ids)
    total = len(events)

    def applied() -> int:
        with Session(live_db) as s:
            return s.scalar(select(func.count()).select_from(JobEvent)) or 0

    api = start_api(database_url, tmp_path / "uploads")
    try:
        outcome: dict[str, object] = {}

        def send() -> None:
            try:
                outcome["response"] = httpx.post(
                    f"{api.base_url}/api/v1/me/sync", json={"events": events}, headers=headers, timeout=120
                )
            except httpx.HTTPError as exc:
                outcome["error"] = exc

        sender = threading.Thread(target=send)
        sender.start()
        try:
            wait_for(
                lambda: "response" in outcome or applied() >= total // 4, timeout=60, what="a quarter of the batch"
            )
        except AssertionError:
            sender.join(timeout=5)
            pytest.fail(f"no progress: {outcome!r}\n{api_log(tmp_path)}")
        api.process.send_signal(signal.SIGKILL)
        api.process.wait(timeout=10)
        sender.join(timeout=30)
        done_before = applied()
        assert "error" in outcome, "the batch finished before the kill; make it longer"
        assert 0 < done_before < total
    finally:
        stop_api(api)

    api = start_api(database_url, tmp_path / "uploads")
    try:
        first = httpx.post(f"{api.base_url}/api/v1/me/sync", json={"events": events}, headers=headers, timeout=120)
        assert first.status_code == 200, first.text
        statuses = [r["status"] for r in first.json()["results"]]
        assert statuses.count("duplicate") == done_before
        assert statuses.count("applied") == total - done_before
        assert "conflict" not in statuses and "rejected" not in statuses
        # and once more: all answered from the log
        second = httpx.post(f"{api.base_url}/api/v1/me/sync", json={"events": events}, headers=headers, timeout=120)
        assert {r["status"] for r in second.json()["results"]} == {"duplicate"}
    finally:
        stop_api(api)

    with Session(live_db) as s:
        assert applied() == total
        visits = s.scalars(select(Visit).where(Visit.id.in_(visit_ids))).all()
        assert {v.status for v in visits} == {VisitStatus.completed}
        for v in visits:
            actions = s.scalars(
                select(AuditEntry.action).where(AuditEntry.ticket_id == v.ticket_id).order_by(AuditEntry.id)
            ).all()
            assert actions == ["open", "accept", "start_travel", "arrive", "complete"]
        assert s.scalar(select(func.count()).select_from(ReturnVisitTask)) == JOBS
        assert s.scalar(select(func.count()).select_from(ConfirmationLink)) == JOBS
