"""Database plumbing: the declarative Base, the engine factory, and the one session dependency."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any, ClassVar

from fastapi import Depends, Request
from sqlalchemy import DateTime, MetaData, create_engine, event, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from dispatch.core.backoff import Backoff

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: DateTime(timezone=True)}


log = logging.getLogger("onsite24.db")


def make_engine(database_url: str, *, pool_size: int = 10, connect_patience_s: float = 0.0) -> Engine:
    """Engine with pre-ping so a restarted PostgreSQL is reconnected to, not reported as an error.

    With `connect_patience_s`, opening a connection that the server refuses (restarting, starting up, not yet
    listening) is retried with backoff for that long before the error is raised. Nothing has been sent when a
    connection cannot be opened, so waiting is safe for any request; the API uses it so a request arriving
    during a short database restart is answered late rather than with a 503 (bench/soak.py --faults).
    """
    engine = create_engine(
        database_url,
        pool_pre_ping=True,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_recycle=1800,
        connect_args={"connect_timeout": 5, "options": "-c timezone=UTC"},
    )
    if connect_patience_s > 0:

        @event.listens_for(engine, "do_connect")
        def _connect_patiently(dialect: Any, _record: Any, cargs: Any, cparams: Any) -> Any:
            dbapi = dialect.loaded_dbapi
            deadline = time.monotonic() + connect_patience_s
            backoff = Backoff(0.1, 2.0)
            while True:
                try:
                    return dbapi.connect(*cargs, **cparams)
                except dbapi.OperationalError as exc:
                    delay = backoff.next_delay()
                    if time.monotonic() + delay > deadline:
                        raise
                    log.warning("database refused a connection (%s); retrying in %.1fs", exc, delay)
                    time.sleep(delay)

    return engine


def make_sessionmaker(bind: Engine | Connection, **options: Any) -> sessionmaker[Session]:
    """The product's sessions: every model mapped, and the session-wide rules registered on this factory.

    The rules are the audit guard (no ticket status change or new ticket without its audit row,
    `dispatch.audit.service.install_guard`) and the change events live views listen to (`dispatch.events`).
    They hold for the sessions of the returned factory only, not for every Session in the process. `options`
    override the defaults (tests bind a connection and join its transaction).
    """
    # Every process that opens sessions needs every model mapped (foreign keys resolve across packages).
    import dispatch.models  # noqa: F401
    from dispatch import events
    from dispatch.audit.service import install_guard

    factory: sessionmaker[Session] = sessionmaker(
        bind=bind, **{"expire_on_commit": False, "autoflush": False, **options}
    )
    install_guard(factory)
    events.install(factory)
    return factory


async def get_session(request: Request) -> AsyncIterator[Session]:
    """The one way a request gets a session; services commit, this only ends what is left over.

    Opening a session does no I/O (it connects on first use), so this runs on the event loop rather than as a
    thread-pool hop; ending one that holds a connection talks to the database, so that part goes to a thread.
    """
    factory: sessionmaker[Session] = request.app.state.sessionmaker
    session = factory()
    succeeded = False
    try:
        yield session
        succeeded = True
    finally:
        if session.in_transaction():
            await run_in_threadpool(end_leftover_transaction, session, succeeded=succeeded)
        else:
            session.close()


_WROTE_ANYTHING = text("SELECT pg_current_xact_id_if_assigned() IS NOT NULL")


def end_leftover_transaction(session: Session, *, succeeded: bool) -> None:
    """Roll back what a request left uncommitted, except a read-only transaction of a request that succeeded,
    which is committed: for a transaction that wrote nothing the two are the same in PostgreSQL, but psycopg
    forgets every prepared statement of the connection on ROLLBACK, so ending reads with it made PostgreSQL
    parse and plan the hot reads (the technician's job page) afresh on every request. PostgreSQL knows whether
    the transaction wrote anything: a transaction id is assigned by the first write or row lock. Changes the
    session holds but has not flushed would be written by a commit, so they too mean rolling back.
    """
    try:
        unflushed = session.new or session.dirty or session.deleted
        if succeeded and not unflushed and not session.scalar(_WROTE_ANYTHING):
            session.commit()
    except SQLAlchemyError:  # the transaction had failed: nothing to keep, roll it back below
        pass
    finally:
        session.close()


DbSession = Annotated[Session, Depends(get_session)]
