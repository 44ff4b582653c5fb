"""The policy (grade rules, clocks, ladders, calendar) loaded once per process from ONSITE24_POLICY_FILE."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from dispatch.core.settings import Settings
from dispatch.domain.calendar import WorkingCalendar
from dispatch.domain.policy import Policy, load_policy


@lru_cache(maxsize=8)
def _load(path: Path | None) -> Policy:
    return load_policy(path)


def policy_for(settings: Settings) -> Policy:
    return _load(settings.policy_file)


_calendars: dict[int, tuple[Policy, WorkingCalendar]] = {}


def calendar_for(policy: Policy) -> WorkingCalendar:
    """One calendar per policy: the holidays library fills in years lazily, so reuse it."""
    cached = _calendars.get(id(policy))
    if cached is None or cached[0] is not policy:
        cached = (policy, WorkingCalendar.from_policy(policy))
        _calendars[id(policy)] = cached
    return cached[1]
