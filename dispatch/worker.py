"""The background worker: runs registered periodic jobs (escalation clocks, re-planning) off the request path.

Jobs keep their state in the database and take work with `FOR UPDATE SKIP LOCKED`, so any number of
workers may run and a killed worker loses nothing: its uncommitted work is simply taken again.
"""

from __future__ import annotations

import importlib
import logging
import signal
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from dispatch.core.backoff import Backoff
from dispatch.core.clock import utcnow
from dispatch.core.settings import Settings

log = logging.getLogger("onsite24.worker")


@dataclass(frozen=True)
class Job:
    """A unit of background work: `run(session_factory, settings, now)` returns how many items it handled."""

    name: str
    run: Callable[..., int]
    every_seconds: float = 1.0


_JOBS: list[Job] = []


def register(job: Job) -> Job:
    if all(j.name != job.name for j in _JOBS):
        _JOBS.append(job)
    return job


def registered_jobs(modules: Sequence[str]) -> list[Job]:
    """Every registered job, once `modules` are imported (each registers its jobs); `dispatch.cli` names them."""
    for module in modules:
        importlib.import_module(module)
    return list(_JOBS)


def run_worker(
    settings: Settings,
    factory: sessionmaker[Session],
    *,
    job_modules: Sequence[str],
    stop: threading.Event | None = None,
    once: bool = False,
) -> None:
    """Run the jobs until stopped; a database outage is waited out with backoff, never fatal.

    Each job loops in its own thread. In one loop a live re-plan of a few hundred visits (10–15 s on two shared
    cores) held the escalation clocks back: in the soak (bench/soak.py) steps fired up to 19 s after they were
    due. The jobs already coordinate through the database (SKIP LOCKED, advisory locks), as separate workers do.
    """
    stop = stop or threading.Event()
    jobs = registered_jobs(job_modules)
    log.info("worker started with jobs: %s", ", ".join(j.name for j in jobs) or "(none)")
    if once:
        for job in jobs:
            _run_job(job, factory, settings)
        return
    threads = [
        threading.Thread(target=_job_loop, args=(job, factory, settings, stop), name=f"job-{job.name}", daemon=True)
        for job in jobs
    ]
    for thread in threads:
        thread.start()
    while not stop.wait(1.0):
        pass
    for thread in threads:
        thread.join(timeout=30)


def _job_loop(job: Job, factory: sessionmaker[Session], settings: Settings, stop: threading.Event) -> None:
    backoff = Backoff(1.0, 30.0)
    while not stop.is_set():
        if _run_job(job, factory, settings):
            backoff.reset()
            stop.wait(max(job.every_seconds, settings.worker_poll_seconds))
        else:
            stop.wait(backoff.next_delay())


def _run_job(job: Job, factory: sessionmaker[Session], settings: Settings) -> bool:
    """Run the job once; False when the database was unavailable (the caller backs off)."""
    try:
        handled = job.run(factory, settings, utcnow())
        if handled:
            log.info("%s handled %d item(s)", job.name, handled)
    except OperationalError as exc:
        log.warning("database unavailable in %s (%s); retrying with backoff", job.name, exc.orig)
        return False
    except Exception:
        log.exception("job %s failed; it will run again", job.name)
    return True


def install_signal_handlers(stop: threading.Event) -> None:
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
