"""The worker's loop: jobs run side by side, so a long re-plan never holds the escalation clocks back."""

from __future__ import annotations

import threading
import time

from dispatch import worker
from dispatch.core.settings import Settings
from tests.harness.wait import wait_for


def test_a_slow_job_does_not_hold_back_the_others(monkeypatch):
    """While one job runs for seconds (a large re-plan), a one-second job (escalations) keeps its rhythm."""
    slow_started, release = threading.Event(), threading.Event()
    fast_runs: list[float] = []

    def slow(_factory, _settings, _now) -> int:  # type: ignore[no-untyped-def]
        slow_started.set()
        release.wait(10)
        return 0

    def fast(_factory, _settings, _now) -> int:  # type: ignore[no-untyped-def]
        fast_runs.append(time.monotonic())
        return 0

    jobs = [worker.Job("replan", slow, every_seconds=0.1), worker.Job("escalation", fast, every_seconds=0.1)]
    monkeypatch.setattr(worker, "registered_jobs", lambda _modules: jobs)
    stop = threading.Event()
    settings = Settings(environment="test", worker_poll_seconds=0.1)
    thread = threading.Thread(
        target=worker.run_worker, args=(settings, None), kwargs={"job_modules": (), "stop": stop}, daemon=True
    )
    thread.start()
    try:
        assert slow_started.wait(5)
        wait_for(lambda: len(fast_runs) >= 5, timeout=5, what="the fast job to run while the slow one is busy")
        assert not release.is_set()
    finally:
        release.set()
        stop.set()
        thread.join(10)
    assert not thread.is_alive()
