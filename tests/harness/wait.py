"""Waiting in tests: poll a condition until a deadline, never a bare `time.sleep(n)` to let things settle.

`wait_for` returns as soon as the condition holds (so a fast machine is not slowed down and a loaded one gets
the whole deadline); `stays` checks that something does not change for a while (a late duplicate would show).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_for(check: Callable[[], T], *, timeout: float = 60.0, interval: float = 0.05, what: str = "") -> T:
    """Poll `check()` until it returns something truthy and return that; fail after `timeout` seconds.

    The failure names `what` (or the check) and the last value seen.
    """
    deadline = time.monotonic() + timeout
    last = check()
    while not last:
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or check} (last: {last!r})")
        time.sleep(interval)
        last = check()
    return last


def stays(value: Callable[[], object], *, seconds: float, interval: float = 0.1, what: str = "") -> None:
    """Poll `value()` for `seconds` and fail as soon as it differs from its first reading."""
    first = value()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        now = value()
        assert now == first, f"{what or value} changed from {first!r} to {now!r}"
        time.sleep(interval)
