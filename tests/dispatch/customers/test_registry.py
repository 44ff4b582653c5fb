"""Intake that can always dispatch: find what the caller means, register what is new, plan an unknown machine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from dispatch.audit.models import AuditEntry
from dispatch.core.types import EquipmentType, Role
from dispatch.customers.models import Equipment, Site
from dispatch.plans.models import ReplanRequest
from dispatch.tickets.models import Ticket
from tests.factories import auth_header, make_site, make_user

NOW = datetime.now(UTC).replace(microsecond=0)


def _complaint(**overrides):
    body = {
        "channel": "phone",
        "category": "equipment",
        "symptom": "Hoist gearbox gear broken",
        "impact": {"equipment_down": True},
        "reported_at": (NOW - timedelta(minutes=2)).isoformat(),
    }
    body.update(overrides)
    return body


def test_agent_finds_equipment_by_serial_model_owner_and_phone(client, db_session, settings):
    """An agent types what the caller says (serial, model, owner's name or phone) and finds the machine."""
    agent = make_user(db_session, role=Role.agent)
    site, crane = make_site(db_session)
    crane.model = "QTZ-7030X"
    customer = site.customer
    customer.phone = "138-0000-4242"
    db_session.commit()
    headers = auth_header(settings, agent)
    for q in (crane.serial_number.lower(), "qtz-7030", customer.name, "13800004242", "4242"):
        r = client.get("/api/v1/registry/search", params={"q": q}, headers=headers)
        assert r.status_code == 200, r.text
        found = r.json()
        assert crane.id in [e["id"] for e in found["equipment"]], q
        hit = next(e for e in found["equipment"] if e["id"] == crane.id)
        assert hit["site_id"] == site.id and hit["customer_id"] == customer.id
    by_name = client.get("/api/v1/registry/search", params={"q": customer.name}, headers=headers).json()
    assert customer.id in [c["id"] for c in by_name["customers"]]
    by_address = client.get("/api/v1/registry/search", params={"q": site.address}, headers=headers).json()
    assert site.id in [s["id"] for s in by_address["sites"]]


def test_register_site_and_equipment_on_the_call(client, db_session, settings):
    """A new site (typed coordinates, access hours, contact) and a new machine with its manufacture date."""
    agent = make_user(db_session, role=Role.agent)
    headers = auth_header(settings, agent)
    r = client.post(
        "/api/v1/sites",
        json={
            "customer": {"name": "Xiangjiang Builders", "phone": "13912345678"},
            "name": "Riverside tower block 3",
            "address": "18 Riverside Road, Changsha",
            "region": "changsha",
            "position": {"lat": 28.21, "lon": 112.97},
            "access_hours": {"mon": [["07:00", "19:00"]], "sat": [["08:00", "12:00"]]},
            "contact_name": "Foreman Li",
            "contact_phone": "13900001111",
        },
        headers=headers,
    )
    assert r.status_code == 201, r.text
    site = r.json()
    assert site["lat"] == 28.21 and site["lon"] == 112.97 and site["timezone"] == "Asia/Shanghai"
    assert site["access_hours"]["sat"] == [["08:00", "12:00"]] and site["contact_name"] == "Foreman Li"
    r = client.post(
        "/api/v1/equipment",
        json={
            "site_id": site["id"],
            "equipment_type": "tower_crane",
            "model": "ZJ5510",
            "serial_number": "ZJ5510-050",
            "manufacture_date": "2024-02-05",
        },
        headers=headers,
    )
    assert r.status_code == 201, r.text
    assert r.json()["manufacture_date"] == "2024-02-05" and r.json()["customer_name"] == "Xiangjiang Builders"
    again = client.post(
        "/api/v1/equipment",
        json={"site_id": site["id"], "equipment_type": "tower_crane", "model": "ZJ5510", "serial_number": "zj5510-050"},
        headers=headers,
    )
    assert again.status_code == 409


def test_bad_site_is_refused_with_field_pointers(client, db_session, settings):
    """Coordinates off the globe, unknown weekdays and a missing owner are answered with where the problem is."""
    agent = make_user(db_session, role=Role.agent)
    r = client.post(
        "/api/v1/sites",
        json={
            "customer_id": 1,
            "name": "x",
            "address": "y",
            "position": {"lat": 95, "lon": 10},
            "access_hours": {"someday": [["07:00", "19:00"]]},
        },
        headers=auth_header(settings, agent),
    )
    assert r.status_code == 422
    pointers = {e["pointer"] for e in r.json()["errors"]}
    assert {"/position/lat", "/access_hours"} <= pointers


def test_unknown_serial_ticket_gets_its_site_and_is_planned(client, db_session, settings):
    """A ticket opened for an unregistered machine gets its site and machine recorded, and goes to the planner."""
    agent = make_user(db_session, role=Role.agent)
    headers = auth_header(settings, agent)
    opened = client.post(
        "/api/v1/complaints",
        json=_complaint(
            equipment={
                "serial_number": "NEW-777",
                "model": "SC200",
                "manufacture_date": "2023-05-01",
                "equipment_type": "construction_hoist",
            },
            customer={"name": "Caller", "phone": "13700007777"},
        ),
        headers=headers,
    ).json()
    assert opened["site"] is None and opened["reported_manufacture_date"] == "2023-05-01"
    assert opened["reported_equipment_type"] == "construction_hoist"
    site, _unit = make_site(db_session)
    unit = Equipment(
        site_id=site.id, equipment_type=EquipmentType.construction_hoist, model="SC200", serial_number="NEW-777"
    )
    db_session.add(unit)
    db_session.commit()
    r = client.put(
        f"/api/v1/tickets/{opened['id']}/site", json={"site_id": site.id, "equipment_id": unit.id}, headers=headers
    )
    assert r.status_code == 200, r.text
    t = r.json()
    assert t["site"]["id"] == site.id and t["equipment"]["serial_number"] == "NEW-777"
    audit = db_session.scalars(
        select(AuditEntry).where(AuditEntry.ticket_id == opened["id"], AuditEntry.action == "site_recorded")
    ).all()
    assert len(audit) == 1 and audit[0].actor_user_id == agent.id
    assert db_session.scalar(
        select(ReplanRequest.id).where(ReplanRequest.ticket_id == opened["id"], ReplanRequest.reason == "site recorded")
    )
    other_site, _ = make_site(db_session)
    wrong = client.put(
        f"/api/v1/tickets/{opened['id']}/site",
        json={"site_id": other_site.id, "equipment_id": unit.id},
        headers=headers,
    )
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["pointer"] == "/equipment_id"


def test_known_serial_without_customer_takes_the_owner_from_its_site(client, db_session, settings):
    """A caller who only gives the serial number gets a ticket owned by the machine's site's customer."""
    agent = make_user(db_session, role=Role.agent)
    site, crane = make_site(db_session)
    r = client.post(
        "/api/v1/complaints",
        json=_complaint(equipment={"serial_number": crane.serial_number, "manufacture_date": "2020-02-05"}),
        headers=auth_header(settings, agent),
    )
    assert r.status_code == 201, r.text
    t = r.json()
    assert t["equipment"]["id"] == crane.id and t["customer"]["id"] == site.customer_id
    assert t["site"]["id"] == site.id
    db_session.expire_all()
    assert db_session.get(Equipment, crane.id).manufacture_date.isoformat() == "2020-02-05"
    assert db_session.get(Ticket, t["id"]).site_id == db_session.get(Site, site.id).id
