"""Issue 16 end to end: one solve path for the worker and `route solomon`; vans and the drive home from the database."""

from __future__ import annotations

import importlib

from geoalchemy2 import WKTElement
from typer.testing import CliRunner

import routing
from dispatch.core.clock import utcnow
from dispatch.core.types import EquipmentType, Role
from dispatch.plans import service as plans
from dispatch.plans.models import Plan
from routing.solomon import data_dir
from tests.dispatch.plans.test_planning import _tech, _ticket
from tests.factories import auth_header, make_user


def test_the_cli_and_the_worker_reach_the_same_solve(db_session, session_factory, fast, monkeypatch, tmp_path):
    """`onsite24 route solomon` and the worker's live re-plan both plan through routing.solve's search."""
    solve_module = importlib.import_module("routing.solve")
    solomon_module = importlib.import_module("routing.solomon")
    seen: list[str] = []
    search = solve_module._search

    def spy(problem, *args, **kwargs):
        seen.append("solomon" if problem.technicians[0].id.startswith("vehicle-") else "worker")
        return search(problem, *args, **kwargs)

    monkeypatch.setattr(solve_module, "_search", spy)

    _tech(db_session, ["elevator"])
    _ticket(db_session, fast, EquipmentType.elevator)
    db_session.commit()
    plans.run_live_replan(session_factory, fast, utcnow())
    assert "worker" in seen

    data = data_dir()
    if data is None:
        import pytest

        pytest.skip("benchmark data not present")
    lines = (data / "solomon100" / "R101.txt").read_text().splitlines()
    head = next(i for i, line in enumerate(lines) if line.split()[:1] == ["0"])
    small = tmp_path / "R101_12.txt"
    small.write_text("\n".join(lines[: head + 13]) + "\n")
    from dispatch.cli import app

    result = CliRunner().invoke(app, ["route", "solomon", str(small), "--time-limit", "0.5", "--json"])
    assert result.exit_code == 0, result.output
    assert "solomon" in seen
    assert solomon_module.solve is solve_module.solve is routing.solve is plans.solve  # one function


def test_vans_and_homes_from_the_database(fast_client, db_session, session_factory, fast):
    """Van capacities and ticket loads pass through: two one-gearbox vans take one gearbox job each; the live plan
    and the board's Gantt show each day's drive home, to the home address where one is recorded."""
    a = _tech(db_session, ["elevator"])
    b = _tech(db_session, ["elevator"], lat=28.26, lon=112.97)
    a.van_capacity = b.van_capacity = 1
    b.home_location = WKTElement("POINT(113.0 28.3)", srid=4326)
    one = _ticket(db_session, fast, EquipmentType.elevator)
    two = _ticket(db_session, fast, EquipmentType.elevator, lat=28.211, lon=112.951)
    one.load_units = two.load_units = 1
    db_session.commit()
    plans.run_live_replan(session_factory, fast, utcnow())

    doc = db_session.query(Plan).filter(Plan.status == "live").one().document
    by_ticket = {int(s["ticket_id"]): r for r in doc["routes"] for s in r["stops"]}
    assert {by_ticket[one.id]["technician_id"], by_ticket[two.id]["technician_id"]} == {str(a.id), str(b.id)}
    ends = {r["technician_id"]: r["end_kind"] for r in doc["routes"]}
    assert ends == {str(a.id): "service centre", str(b.id): "home"}

    headers = auth_header(fast, make_user(db_session, role=Role.dispatcher))
    live = fast_client.get("/api/v1/plans/live", headers=headers).json()
    assert all(r["home_at"] and r["home_travel_minutes"] > 0 for r in live["routes"])
    rows = fast_client.get("/api/v1/board/schedule", headers=headers).json()["rows"]
    homes = {r["technician"]["id"]: r["home"] for r in rows}
    assert homes[a.id] and homes[a.id][0]["kind"] == "service centre"
    assert homes[b.id] and homes[b.id][0]["kind"] == "home"
    assert homes[b.id][0]["end"] > homes[b.id][0]["start"]
