"""Shared fixtures for the pure domain tests: the packaged policy and its calendar."""

from __future__ import annotations

import pytest

from dispatch.domain.calendar import WorkingCalendar
from dispatch.domain.policy import Policy, load_policy


@pytest.fixture(scope="session")
def policy() -> Policy:
    return load_policy()


@pytest.fixture(scope="session")
def calendar(policy: Policy) -> WorkingCalendar:
    return WorkingCalendar.from_policy(policy)
