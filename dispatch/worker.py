"""The background worker: runs registered periodic jobs (escalation clocks, re-planning) off the request path.

Jobs keep their state in the database and take work with `FOR UPDATE SKIP LOCKED`, so any number of
workers may run and a killed worker loses nothing: its uncommitted work is simply taken again.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

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


def registered_jobs() -> list[Job]:
    _load_job_modules()
    return list(_JOBS)


def _load_job_modules() -> None:
    # Domain packages register their jobs on import; importing here keeps the worker the one entry point.
    import importlib

    for module in (
        "dispatch.escalation.jobs",
        "dispatch.plans.jobs",
        "dispatch.notifications.jobs",
        "device_gateway.jobs",
        "technician_api.overdue",
    ):
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            # A package that is not there yet (its parent may be missing too) is skipped; a broken import is not.
            if exc.name is None or not (module == exc.name or module.startswith(exc.name + ".")):
                raise


def run_worker(
    settings: Settings, factory: sessionmaker[Session], *, stop: threading.Event | None = None, once: bool = False
) -> None:
    """Loop over the jobs until stopped; a database outage is waited out with backoff, never fatal."""
    stop = stop or threading.Event()
    jobs = registered_jobs()
    next_run = {job.name: 0.0 for job in jobs}
    backoff = 1.0
    log.info("worker started with jobs: %s", ", ".join(j.name for j in jobs) or "(none)")
    while not stop.is_set():
        for job in jobs:
            if time.monotonic() < next_run[job.name]:
                continue
            try:
                handled = job.run(factory, settings, utcnow())
                backoff = 1.0
                if handled:
                    log.info("%s handled %d item(s)", job.name, handled)
            except OperationalError as exc:
                log.warning("database unavailable in %s (%s); retrying in %.0fs", job.name, exc.orig, backoff)
                stop.wait(backoff)
                backoff = min(backoff * 2, 30.0)
            except Exception:
                log.exception("job %s failed; it will run again", job.name)
            next_run[job.name] = time.monotonic() + job.every_seconds
        if once:
            return
        stop.wait(settings.worker_poll_seconds)


def install_signal_handlers(stop: threading.Event) -> None:
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
