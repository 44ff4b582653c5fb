"""Complaint intake through the API: grading with reasons, deadlines, linking, regrade, nature."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from dispatch.audit.models import AuditEntry
from dispatch.core import i18n
from dispatch.core.types import EquipmentType, Role, TicketStatus
from dispatch.escalation.models import TicketEscalation
from dispatch.tickets.models import Ticket
from tests.factories import auth_header, make_site, make_user

NOW = datetime.now(UTC).replace(microsecond=0)


def _complaint(equipment_id: int, **overrides):
    body = {
        "channel": "phone",
        "equipment_id": equipment_id,
        "category": "equipment",
        "symptom": "Hoist gearbox gear broken",
        "location_detail": "Hoisting mechanism gearbox",
        "working_condition": "Lifting a 3 t load",
        "impact": {"equipment_down": True, "description": "The gearbox cannot work"},
        "special_request": "Replace the gearbox",
        "reported_at": (NOW - timedelta(minutes=5)).isoformat(),
    }
    body.update(overrides)
    return body


def test_gearbox_complaint_is_serious_with_reasons_and_deadlines(client, db_session, settings):
    """The domain's tower-crane gearbox complaint grades serious, says why, and is due on site in 12 h."""
    agent = make_user(db_session, role=Role.agent)
    _site, crane = make_site(db_session, equipment_type=EquipmentType.tower_crane)
    r = client.post("/api/v1/complaints", json=_complaint(crane.id), headers=auth_header(settings, agent))
    assert r.status_code == 201, r.text
    t = r.json()
    assert t["grade"] == "serious"
    assert [g["rule"] for g in t["grade_reasons"]] == ["equipment_down"]
    assert "without safety risk" in t["grade_reasons"][0]["text"]
    reported = datetime.fromisoformat(t["reported_at"])
    assert datetime.fromisoformat(t["due_on_site_at"]) - reported == timedelta(hours=12)
    assert datetime.fromisoformat(t["deadlines"]["department_notify_due_at"]) - reported == timedelta(hours=12)
    assert t["status"] == "new" and t["first_responder"]["id"] == agent.id
    assert t["intake"]["linked"] is False
    assert t["next_clock"]["name"] in {"on_site", "department_notify"}
    assert db_session.scalar(select(TicketEscalation).where(TicketEscalation.ticket_id == t["id"])) is not None


def test_people_trapped_in_elevator_is_major_with_4_hours(client, db_session, settings):
    """A 'people trapped' complaint is major, due on site in 4 h, department told within 3 min."""
    agent = make_user(db_session, role=Role.agent)
    _site, lift = make_site(db_session, equipment_type=EquipmentType.elevator)
    body = _complaint(
        lift.id,
        category="emergency",
        symptom="Two people trapped in car 3",
        impact={"people_trapped": True, "equipment_down": True},
    )
    t = client.post("/api/v1/complaints", json=body, headers=auth_header(settings, agent)).json()
    assert t["grade"] == "major"
    assert {"people_trapped", "emergency"} <= {g["rule"] for g in t["grade_reasons"]}
    reported = datetime.fromisoformat(t["reported_at"])
    assert datetime.fromisoformat(t["due_on_site_at"]) - reported == timedelta(hours=4)
    assert datetime.fromisoformat(t["deadlines"]["department_notify_due_at"]) - reported == timedelta(minutes=3)


def test_unknown_serial_is_recorded_not_refused(client, db_session, settings):
    """Equipment missing from the registry is recorded as the caller gave it, with a new customer."""
    agent = make_user(db_session, role=Role.agent)
    body = _complaint(
        0,
        equipment={"serial_number": "ZJ5510-050", "model": "ZJ5510"},
        customer={"name": "Site office", "phone": "13900001111"},
    )
    del body["equipment_id"]
    r = client.post("/api/v1/complaints", json=body, headers=auth_header(settings, agent))
    assert r.status_code == 201, r.text
    t = r.json()
    assert t["equipment"] is None and t["reported_serial"] == "ZJ5510-050"
    assert t["customer"]["name"] == "Site office"
    assert "not in the registry" in t["intake"]["message"]


def test_complaint_links_to_open_alarm_ticket_with_eta(client, db_session, settings):
    """A call about equipment that already has an alarm ticket is linked to it and told the ETA."""
    agent = make_user(db_session, role=Role.agent)
    _site, crane = make_site(db_session)
    first = client.post(
        "/api/v1/complaints", json=_complaint(crane.id, channel="device"), headers=auth_header(settings, agent)
    ).json()
    ticket = db_session.get(Ticket, first["id"])
    ticket.eta_at = NOW + timedelta(hours=2)
    db_session.commit()
    r = client.post(
        "/api/v1/complaints",
        json=_complaint(crane.id, symptom="Crane stopped, gearbox noise"),
        headers=auth_header(settings, agent),
    )
    assert r.status_code == 201
    body = r.json()
    assert body["id"] == first["id"] and body["intake"]["linked"] is True
    assert "already know" in body["intake"]["message"] and "device alarm" in body["intake"]["message"]
    assert "arrives at" in body["intake"]["message"]
    assert body["report_count"] == 2
    assert db_session.scalar(select(Ticket.id).where(Ticket.equipment_id == crane.id, Ticket.id != first["id"])) is None


def test_the_intake_message_is_in_the_agents_language(client, db_session, settings):
    """A Chinese-speaking agent is told in Chinese what was opened, and that a second call joins the open ticket."""
    agent = make_user(db_session, role=Role.agent)
    _site, crane = make_site(db_session)
    chinese = {**auth_header(settings, agent), "Accept-Language": "zh-CN"}
    opened = client.post("/api/v1/complaints", json=_complaint(crane.id, channel="device"), headers=chinese).json()
    grade = i18n.gettext(f"grade.{opened['grade']}", "zh-CN")
    assert opened["intake"]["message"].startswith(f"已创建工单 {opened['id']}：{grade}")
    again = client.post("/api/v1/complaints", json=_complaint(crane.id), headers=chinese).json()
    assert again["intake"]["linked"] is True
    assert again["intake"]["message"].startswith(f"该故障已在处理中（工单 {opened['id']}，")
    assert i18n.gettext("intake.source.device", "zh-CN") in again["intake"]["message"]


def test_linked_complaint_with_worse_impact_raises_the_grade(client, db_session, settings):
    """When the caller reports people trapped on an open general ticket, the ticket becomes major."""
    agent = make_user(db_session, role=Role.agent)
    _site, lift = make_site(db_session, equipment_type=EquipmentType.elevator)
    first = client.post("/api/v1/complaints", json=_complaint(lift.id, impact={}), headers=auth_header(settings, agent))
    assert first.json()["grade"] == "general"
    second = client.post(
        "/api/v1/complaints",
        json=_complaint(lift.id, impact={"people_trapped": True}, category="emergency"),
        headers=auth_header(settings, agent),
    ).json()
    assert second["id"] == first.json()["id"] and second["grade"] == "major"
    assert datetime.fromisoformat(second["due_on_site_at"]) < datetime.fromisoformat(first.json()["due_on_site_at"])


def test_repeat_general_complaint_within_30_days_is_serious(client, db_session, settings):
    """A second general complaint on the same equipment within 30 days grades serious as a repeat."""
    agent = make_user(db_session, role=Role.agent)
    _site, lift = make_site(db_session, equipment_type=EquipmentType.elevator)
    first = client.post(
        "/api/v1/complaints",
        json=_complaint(lift.id, impact={}, symptom="Door noisy", reported_at=(NOW - timedelta(days=10)).isoformat()),
        headers=auth_header(settings, agent),
    ).json()
    db_session.get(Ticket, first["id"]).status = TicketStatus.closed  # the earlier job is finished
    db_session.add(
        AuditEntry(ticket_id=first["id"], at=NOW, actor="test", action="close", from_status="new", to_status="closed")
    )
    db_session.commit()
    again = client.post(
        "/api/v1/complaints",
        json=_complaint(lift.id, impact={}, symptom="Door noisy again"),
        headers=auth_header(settings, agent),
    ).json()
    assert again["id"] != first["id"]
    assert again["grade"] == "serious"
    assert any(g["rule"] == "repeat_general" and "1 earlier" in g["text"] for g in again["grade_reasons"])


def test_dispatcher_regrades_with_reason_and_deadline_moves(client, db_session, settings):
    """A dispatcher's override is audited and recomputes the on-site deadline; an agent may not override."""
    agent = make_user(db_session, role=Role.agent)
    dispatcher = make_user(db_session, role=Role.dispatcher)
    _site, crane = make_site(db_session)
    t = client.post("/api/v1/complaints", json=_complaint(crane.id), headers=auth_header(settings, agent)).json()
    body = {"grade": "major", "reason": "Concrete pour in progress, crane critical"}
    assert (
        client.post(f"/api/v1/tickets/{t['id']}/regrade", json=body, headers=auth_header(settings, agent)).status_code
        == 403
    )
    r = client.post(f"/api/v1/tickets/{t['id']}/regrade", json=body, headers=auth_header(settings, dispatcher))
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["grade"] == "major" and out["grade_overridden"] is True
    assert out["grade_reasons"][-1]["rule"] == "override"
    assert datetime.fromisoformat(out["due_on_site_at"]) - datetime.fromisoformat(out["reported_at"]) == timedelta(
        hours=4
    )
    audit = db_session.scalars(
        select(AuditEntry).where(AuditEntry.ticket_id == t["id"], AuditEntry.action == "regrade")
    ).one()
    assert audit.reason == body["reason"] and audit.data["from"] == "serious" and audit.data["to"] == "major"


def test_invalid_complaint_is_closed_with_explanation_never_deleted(client, db_session, settings):
    """Marking a complaint invalid closes it with the explanation; it stays readable; cancelling it is a 409."""
    agent = make_user(db_session, role=Role.agent)
    dispatcher = make_user(db_session, role=Role.dispatcher)
    _site, crane = make_site(db_session)
    t = client.post("/api/v1/complaints", json=_complaint(crane.id), headers=auth_header(settings, agent)).json()
    r = client.put(
        f"/api/v1/tickets/{t['id']}/nature",
        json={"nature": "invalid", "explanation": "Not our crane"},
        headers=auth_header(settings, agent),
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "invalid" and r.json()["closure_note"] == "Not our crane"
    got = client.get(f"/api/v1/tickets/{t['id']}", headers=auth_header(settings, dispatcher))
    assert got.status_code == 200 and got.json()["nature"] == "invalid"
    again = client.post(
        f"/api/v1/tickets/{t['id']}/cancel", json={"reason": "duplicate"}, headers=auth_header(settings, dispatcher)
    )
    assert again.status_code == 409
    assert again.json()["allowed"] == [] and again.json()["state"] == "invalid"


def test_bad_complaints_get_field_paths(client, db_session, settings):
    """Malformed intake answers 422 naming each bad field; nothing is stored."""
    agent = make_user(db_session, role=Role.agent)
    before = db_session.scalar(select(Ticket.id).order_by(Ticket.id.desc()).limit(1))
    bad = {
        "channel": "fax",
        "category": "equipment",
        "symptom": "",
        "impact": {"injury": "maybe"},
        "customer_id": 1,
        "reported_at": "2026-11-23T10:00:00",
    }
    r = client.post("/api/v1/complaints", json=bad, headers=auth_header(settings, agent))
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    pointers = {e["pointer"] for e in r.json()["errors"]}
    assert {"/channel", "/symptom", "/impact/injury", "/reported_at"} <= pointers
    missing = client.post("/api/v1/complaints", json=_complaint(999999), headers=auth_header(settings, agent))
    assert missing.status_code == 422 and missing.json()["errors"][0]["pointer"] == "/equipment_id"
    future = client.post(
        "/api/v1/complaints",
        json=_complaint(999999, reported_at=(NOW + timedelta(days=1)).isoformat()),
        headers=auth_header(settings, agent),
    )
    assert future.status_code == 422
    assert db_session.scalar(select(Ticket.id).order_by(Ticket.id.desc()).limit(1)) == before


def test_ticket_list_sorts_by_time_left_and_filters(client, db_session, settings):
    """The queue lists open tickets soonest-due first and filters by grade and search text."""
    agent = make_user(db_session, role=Role.agent)
    headers = auth_header(settings, agent)
    made = []
    for grade_impact, symptom in [
        ({}, "noise A"),
        ({"people_trapped": True}, "trapped B"),
        ({"equipment_down": True}, "down C"),
    ]:
        _site, unit = make_site(db_session, equipment_type=EquipmentType.elevator)
        made.append(
            client.post(
                "/api/v1/complaints", json=_complaint(unit.id, impact=grade_impact, symptom=symptom), headers=headers
            ).json()
        )
    page = client.get("/api/v1/tickets?limit=500", headers=headers).json()
    ids = [t["id"] for t in page["items"] if t["id"] in {m["id"] for m in made}]
    assert ids == [made[1]["id"], made[2]["id"], made[0]["id"]]  # major 4 h, serious 12 h, general 24 h
    majors = client.get("/api/v1/tickets?grade=major", headers=headers).json()
    assert {t["grade"] for t in majors["items"]} == {"major"}
    found = client.get("/api/v1/tickets?q=trapped%20B", headers=headers).json()
    assert [t["id"] for t in found["items"]] == [made[1]["id"]]
    assert client.get("/api/v1/tickets?limit=0", headers=headers).status_code == 422


def test_technician_cannot_record_or_list_complaints(client, db_session, settings):
    """Complaint intake and the ticket queue are office-only."""
    tech = make_user(db_session, role=Role.technician)
    _site, crane = make_site(db_session)
    assert (
        client.post("/api/v1/complaints", json=_complaint(crane.id), headers=auth_header(settings, tech)).status_code
        == 403
    )
    assert client.get("/api/v1/tickets", headers=auth_header(settings, tech)).status_code == 403
