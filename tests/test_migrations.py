"""The schema migrates up from nothing, down to nothing, and up again."""

from __future__ import annotations

import psycopg

from dispatch.core.migrate import downgrade, upgrade


def _tables(postgres, db):
    with psycopg.connect(postgres.dsn(db)) as conn:
        rows = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall()
    return {r[0] for r in rows} - {"spatial_ref_sys"}


def test_upgrade_downgrade_upgrade(postgres):
    """A fresh PostGIS database reaches head, returns to base cleanly, and reaches head again."""
    postgres.execute("DROP DATABASE IF EXISTS onsite24_migrations")
    postgres.execute("CREATE DATABASE onsite24_migrations")
    postgres.execute("CREATE EXTENSION postgis", database="onsite24_migrations")
    url = postgres.url("onsite24_migrations")
    upgrade(url)
    assert {"tickets", "visits", "audit_log", "technicians", "sites", "equipment", "alarms", "users"} <= _tables(
        postgres, "onsite24_migrations"
    )
    downgrade(url, "base")
    assert _tables(postgres, "onsite24_migrations") == {"alembic_version"}
    upgrade(url)
    assert "tickets" in _tables(postgres, "onsite24_migrations")
    postgres.execute("DROP DATABASE onsite24_migrations")


def test_the_models_and_the_migrations_agree(database_url):
    """At head, Alembic's autogenerate finds nothing to add: every model change came with its migration."""
    from dispatch.core.migrate import check

    check(database_url)
