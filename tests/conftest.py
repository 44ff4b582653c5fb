"""The test harness: a real PostGIS database and a real Mosquitto broker, both started by the test session.

Servers start lazily, so `pytest tests/dispatch/domain` starts nothing. A template database is migrated once;
each test gets either a rolled-back transaction (`db_session`, `client`) or, when threads and processes must
see its data, real commits that are truncated afterwards (`live_db`).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from dispatch.app import create_app
from dispatch.core.db import make_sessionmaker
from dispatch.core.settings import Settings
from tests.harness.broker import MosquittoBroker, destroy_broker, start_broker
from tests.harness.postgres import PostgresServer, destroy_postgres, start_postgres
from tests.harness.s3 import S3Server, start_s3, stop_s3

TEMPLATE_DB = "onsite24_template"
TEST_DB = "onsite24_test"


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    server = start_postgres()
    try:
        server.execute(f"CREATE DATABASE {TEMPLATE_DB}")
        server.execute("CREATE EXTENSION postgis", database=TEMPLATE_DB)
        server.execute("CREATE EXTENSION pgrouting", database=TEMPLATE_DB)
        from dispatch.core.migrate import upgrade

        upgrade(server.url(TEMPLATE_DB))
        server.execute(f"CREATE DATABASE {TEST_DB} TEMPLATE {TEMPLATE_DB}")
        yield server
    finally:
        destroy_postgres(server)


@pytest.fixture(scope="session")
def broker() -> Iterator[MosquittoBroker]:
    b = start_broker()
    try:
        yield b
    finally:
        destroy_broker(b)


@pytest.fixture(scope="session")
def s3_store() -> Iterator[S3Server]:
    server = start_s3()
    try:
        yield server
    finally:
        stop_s3(server)


@pytest.fixture(scope="session")
def database_url(postgres: PostgresServer) -> str:
    return postgres.url(TEST_DB)


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    eng = create_engine(database_url, pool_pre_ping=True, connect_args={"options": "-c timezone=UTC"})
    yield eng
    eng.dispose()


@pytest.fixture
def settings(database_url: str, broker: MosquittoBroker, tmp_path) -> Settings:  # type: ignore[no-untyped-def]
    return Settings(
        environment="test",
        database_url=database_url,
        mqtt_url=broker.url,
        mqtt_username=broker.gateway_user,
        mqtt_password=broker.gateway_password,
        upload_dir=tmp_path / "uploads",
    )


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    conn = engine.connect()
    outer = conn.begin()
    try:
        yield conn
    finally:
        outer.rollback()
        conn.close()


@pytest.fixture
def session_factory(connection: Connection) -> sessionmaker[Session]:
    # Service commits become savepoint releases; the outer transaction is rolled back after the test.
    return make_sessionmaker(connection, join_transaction_mode="create_savepoint", autoflush=True)


@pytest.fixture
def db_session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    with session_factory() as s:
        yield s


@pytest.fixture
def client(settings: Settings, session_factory: sessionmaker[Session]) -> Iterator[TestClient]:
    """The real app; its requests share the test's rolled-back transaction."""
    app = create_app(settings, session_factory=session_factory)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def live_db(engine: Engine) -> Iterator[Engine]:
    """Real commits for tests that cross threads or processes; every table is emptied afterwards."""
    yield engine
    with engine.begin() as conn:
        tables = conn.execute(
            text(
                "SELECT string_agg(format('%I', tablename), ', ') FROM pg_tables "
                "WHERE schemaname = 'public' AND tablename NOT IN ('spatial_ref_sys', 'alembic_version')"
            )
        ).scalar_one()
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
