"""The only place that reads the wall clock, so services and tests can pass `now` explicitly."""

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Current time, timezone-aware UTC."""
    return datetime.now(UTC)
