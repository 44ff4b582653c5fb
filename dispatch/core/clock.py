"""The only place that reads the wall clock, so services and tests can pass `now` explicitly.

Code that cannot take `now` as a parameter (an endpoint stamping an acknowledgement, a worker tick) calls
`utcnow()`. Tests that drive the product with fixed times set the same clock for the code they call through
`frozen_at` / `Clock`, so a fixed test time and the API's own time never disagree, whatever today's date.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

_source: Callable[[], datetime] | None = None


def utcnow() -> datetime:
    """Current time, timezone-aware UTC (the wall clock unless a clock was set)."""
    if _source is not None:
        return _source()
    return datetime.now(UTC)


class Clock:
    """A settable clock for tests and simulations: `utcnow()` answers `now` until it is moved."""

    def __init__(self, now: datetime) -> None:
        self.set(now)

    def set(self, now: datetime) -> None:
        if now.tzinfo is None:
            raise ValueError("a clock needs a timezone-aware time")
        self.now = now.astimezone(UTC)

    def advance(self, delta: timedelta) -> datetime:
        self.now = self.now + delta
        return self.now

    def __call__(self) -> datetime:
        return self.now


@contextmanager
def frozen_at(now: datetime) -> Iterator[Clock]:
    """Within the block, `utcnow()` answers the returned clock's time (which the caller may move)."""
    global _source
    clock = Clock(now)
    previous = _source
    _source = clock
    try:
        yield clock
    finally:
        _source = previous
