"""How a request's session ends: what a request left uncommitted is never kept, and reads stay cheap."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session, sessionmaker

from dispatch.core.db import end_leftover_transaction, make_engine, make_sessionmaker
from dispatch.core.types import Role
from dispatch.users.models import User
from tests.factories import make_user

# The technician's job page is read many times a second; the statement stands in for it.
HOT_READ = text("SELECT count(*) FROM users WHERE id > :after")


@pytest.fixture
def one_connection(database_url: str, live_db: Engine) -> Iterator[sessionmaker[Session]]:
    """The app's own sessions over a pool of one connection, so each session reuses the same server session."""
    engine = make_engine(database_url, pool_size=1)
    try:
        yield make_sessionmaker(engine)
    finally:
        engine.dispose()


def _prepared_count(factory: sessionmaker[Session]) -> int:
    """Statements prepared on the pool's connection (read as a request would, ended the request's way)."""
    session = factory()
    count = session.scalar(text("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE '%users WHERE%'"))
    end_leftover_transaction(session, succeeded=True)
    return int(count or 0)


def _usernames(factory: sessionmaker[Session]) -> set[str]:
    with factory() as s:
        return set(s.scalars(select(User.username)))


@pytest.mark.parametrize("flushed", [True, False])
@pytest.mark.parametrize("succeeded", [True, False])
def test_a_write_the_request_did_not_commit_is_rolled_back(one_connection, succeeded, flushed) -> None:
    """A service that failed half-way (or forgot to commit) leaves nothing behind, whatever the request answered,
    whether its change reached the database or was still held by the session."""
    session = one_connection()
    session.execute(HOT_READ, {"after": 0})  # the request's transaction has begun
    session.add(User(username="half-done", full_name="Half done", password_hash="x", role=Role.dispatcher))
    if flushed:
        session.flush()
    end_leftover_transaction(session, succeeded=succeeded)
    assert "half-done" not in _usernames(one_connection)


def test_a_row_lock_the_request_took_is_released(one_connection) -> None:
    """A read that locked rows (SELECT … FOR UPDATE) is ended too, so the next writer is not kept waiting."""
    with one_connection() as setup:
        user = make_user(setup, role=Role.dispatcher)
    session = one_connection()
    session.execute(select(User).where(User.id == user.id).with_for_update())
    end_leftover_transaction(session, succeeded=True)
    with one_connection() as s:
        assert s.scalar(text("SELECT count(*) FROM pg_locks WHERE locktype = 'transactionid'")) == 0


def test_reads_keep_their_prepared_statements_between_requests(one_connection) -> None:
    """A read repeated across requests is parsed and planned once per connection, not once per request.

    psycopg prepares a statement on its fifth run and forgets all of them on ROLLBACK; a read-only request is
    therefore ended with COMMIT, which is the same outcome in PostgreSQL."""
    for _ in range(6):  # six requests, each reading once
        session = one_connection()
        session.execute(HOT_READ, {"after": 0}).scalar()
        end_leftover_transaction(session, succeeded=True)
    assert _prepared_count(one_connection) == 1

    failed = one_connection()  # a failed request is still rolled back (and psycopg starts preparing afresh)
    failed.execute(HOT_READ, {"after": 0}).scalar()
    end_leftover_transaction(failed, succeeded=False)
    assert _prepared_count(one_connection) == 0
