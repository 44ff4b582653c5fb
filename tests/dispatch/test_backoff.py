"""The one retry back-off the database and broker loops share."""

from __future__ import annotations

import pytest

from dispatch.core.backoff import Backoff


def test_delays_double_up_to_the_ceiling_and_start_over_after_a_success() -> None:
    """A long outage is retried ever less often, but never less often than the ceiling; a success resets it."""
    backoff = Backoff(0.5, 3.0)
    assert [backoff.next_delay() for _ in range(5)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    backoff.reset()
    assert backoff.peek() == 0.5
    assert backoff.next_delay() == 0.5


def test_a_back_off_without_a_first_delay_or_with_a_ceiling_below_it_is_refused() -> None:
    """A zero first delay would spin on a dead database; a ceiling below the first delay is a typo."""
    for first, ceiling in ((0, 1.0), (2.0, 1.0)):
        with pytest.raises(ValueError, match="first"):
            Backoff(first, ceiling)
