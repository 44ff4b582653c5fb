"""The `onsite24` command a new user follows: help texts, creating users, seeding the demo twice."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatch.customers.models import Customer, Site
from dispatch.tickets.models import Ticket
from dispatch.users.models import User
from dispatch.workforce.models import Depot, Technician

ROOT = Path(__file__).resolve().parents[1]


def onsite24(*args: str, env: dict[str, str] | None = None, input_text: str | None = None):
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "dispatch", *args],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        input=input_text,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["serve"],
        ["gateway"],
        ["worker"],
        ["db", "upgrade"],
        ["demo"],
        ["users", "create"],
        ["route", "solomon"],
        ["simulate"],
        ["portal", "link"],
        ["roads", "import"],
    ],
)
def test_every_command_has_help(command):
    """`onsite24 … --help` explains each command a new user needs."""
    r = onsite24(*command, "--help")
    assert r.returncode == 0, r.stderr
    assert "Usage" in r.stdout and len(r.stdout) > 200


def test_production_refuses_to_start_without_secret(database_url):
    """Run outside the demo with no secret key, the service stops with a message saying what to set."""
    r = onsite24("worker", "--once", env={"ONSITE24_DATABASE_URL": database_url, "ONSITE24_SECRET_KEY": ""})
    assert r.returncode == 2
    assert "ONSITE24_SECRET_KEY" in r.stderr


def test_users_create_and_demo_seed_is_idempotent(live_db, database_url):
    """`users create` stores a login; `demo --no-run` seeds a full region and a second run adds nothing."""
    env = {"ONSITE24_DATABASE_URL": database_url, "ONSITE24_ENVIRONMENT": "demo"}
    r = onsite24("users", "create", "ops.lead", "--role", "manager", "--password", "a long password", env=env)
    assert r.returncode == 0, r.stderr
    first = onsite24("demo", "--no-run", env=env)
    assert first.returncode == 0, first.stderr
    assert "/docs" in first.stdout and "dispatcher" in first.stdout
    assert "/portal/sign-in/" in first.stdout  # the demo customer's way into the portal

    def counts():
        with Session(live_db) as s:
            return {
                model.__name__: s.scalar(select(func.count()).select_from(model))
                for model in (Depot, Technician, Site, Ticket, User)
            }

    seeded = counts()
    assert seeded["Depot"] >= 3 and seeded["Technician"] >= 15 and seeded["Site"] >= 40 and seeded["Ticket"] >= 1
    with Session(live_db) as s:
        assert s.scalar(select(User.role).where(User.username == "ops.lead")) == "manager"
        # The demo region is Chinese: its staff logins and customers read zh-CN.
        assert s.scalar(select(User.locale).where(User.username == "dispatcher")) == "zh-CN"
        assert set(s.scalars(select(Customer.language).distinct())) == {"zh-CN"}
    again = onsite24("demo", "--no-run", env=env)
    assert again.returncode == 0, again.stderr
    assert counts() == seeded

    with Session(live_db) as s:
        customer_id = s.scalar(select(func.min(Customer.id)))
    link = onsite24("portal", "link", "--customer", str(customer_id), env=env)
    assert link.returncode == 0, link.stderr
    assert link.stdout.strip().startswith("http") and "/portal/sign-in/" in link.stdout
    missing = onsite24("portal", "link", "--customer", "999999", env=env)
    assert missing.returncode == 1 and "999999" in missing.stderr
