"""The one retry back-off: a doubling delay with a ceiling, reset after a success.

Every loop that waits out an unreachable database or broker uses it (the engine's patient connect in
`dispatch.core.db`, the board's event hub, the worker's jobs, the gateway's batch store), each with its own
first delay and ceiling; how the loop sleeps (a thread's `Event.wait`, `asyncio.sleep`) stays the loop's own.
"""

from __future__ import annotations


class Backoff:
    """Delays `first`, `2 * first`, `4 * first`, ... never more than `ceiling` seconds; `reset()` starts over."""

    def __init__(self, first: float, ceiling: float) -> None:
        if not 0 < first <= ceiling:
            raise ValueError("a back-off needs 0 < first <= ceiling")
        self.first = first
        self.ceiling = ceiling
        self._next = first

    def next_delay(self) -> float:
        """The delay to wait before the next attempt (and double the one after, up to the ceiling)."""
        delay = self._next
        self._next = min(delay * 2, self.ceiling)
        return delay

    def peek(self) -> float:
        """The delay `next_delay()` would return, without using it."""
        return self._next

    def reset(self) -> None:
        """After a success: the next failure waits `first` again."""
        self._next = self.first
