from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from dispatch.domain.policy import Policy, load_policy
from dispatch.roads.extracts import helsinki_pbf
from dispatch.roads.service import ImportResult, import_roads

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def helsinki() -> Path:
    return helsinki_pbf()


@pytest.fixture(scope="session")
def policy() -> Policy:
    return load_policy()


@pytest.fixture
def imported(session_factory: sessionmaker[Session], helsinki: Path, policy: Policy) -> ImportResult:
    """Central Helsinki's roads imported as region 'helsinki' (inside the test's rolled-back transaction)."""
    return import_roads(session_factory, path=helsinki, region="helsinki", policy=policy, now=NOW)
