"""Dispatchers see dead letters and replay them once the device registry is fixed, over the HTTP API."""

from __future__ import annotations

import base64

from sqlalchemy import select

from device_gateway.service import Message, process_batch
from dispatch.core.types import Role
from dispatch.devices.models import Alarm
from tests.device_gateway.helpers import alarm
from tests.factories import BASE_TIME, auth_header, make_site, make_user


def _dead_letter_for_unregistered_device(db_session):
    _site, unit = make_site(db_session)
    device_id, unit.device_id = unit.device_id, None
    db_session.flush()
    raw = alarm(alarm_id="first")
    process_batch(db_session, [Message(f"devices/{device_id}/alarms", raw)], now=BASE_TIME)
    db_session.flush()
    return unit, device_id, raw


def test_dispatcher_lists_dead_letters_with_raw_bytes_and_reason(client, settings, db_session):
    """A dispatcher sees each dead letter's topic, reason and exact payload, newest first, paginated."""
    _unit, device_id, raw = _dead_letter_for_unregistered_device(db_session)
    process_batch(db_session, [Message(f"devices/{device_id}/alarms", b"not json")], now=BASE_TIME)
    headers = auth_header(settings, make_user(db_session, role=Role.dispatcher))
    r = client.get("/api/v1/dead-letters", params={"limit": 1}, headers=headers)
    assert r.status_code == 200, r.text
    page = r.json()
    assert page["total"] == 2 and len(page["items"]) == 1
    assert page["items"][0]["reason"].startswith("payload is not UTF-8 JSON")
    r = client.get("/api/v1/dead-letters", params={"limit": 1, "offset": 1, "device_id": device_id}, headers=headers)
    item = r.json()["items"][0]
    assert base64.b64decode(item["payload_base64"]) == raw
    assert item["topic"] == f"devices/{device_id}/alarms" and "unknown device" in item["reason"]


def test_replay_after_registering_the_device_stores_the_alarm(client, settings, db_session):
    """After the equipment gets its device id, replaying the dead letter stores the alarm and opens the ticket."""
    unit, device_id, _raw = _dead_letter_for_unregistered_device(db_session)
    headers = auth_header(settings, make_user(db_session, role=Role.admin))
    letter_id = client.get("/api/v1/dead-letters", headers=headers).json()["items"][0]["id"]
    r = client.post(f"/api/v1/dead-letters/{letter_id}/replay", headers=headers)
    assert r.status_code == 200 and r.json()["replay_result"].startswith("rejected again")
    unit.device_id = device_id
    db_session.flush()
    r = client.post(f"/api/v1/dead-letters/{letter_id}/replay", headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["replay_result"].startswith("stored: alarm first raised")
    assert db_session.scalars(select(Alarm)).one().ticket_id is not None
    again = client.post(f"/api/v1/dead-letters/{letter_id}/replay", headers=headers)
    assert again.status_code == 409 and again.headers["content-type"] == "application/problem+json"


def test_dead_letters_are_for_dispatchers_only(client, settings, db_session):
    """Technicians and anonymous callers get problem+json 403/401; an unknown id is a 404 problem."""
    tech = auth_header(settings, make_user(db_session, role=Role.technician))
    assert client.get("/api/v1/dead-letters", headers=tech).status_code == 403
    assert client.get("/api/v1/dead-letters").status_code == 401
    headers = auth_header(settings, make_user(db_session, role=Role.dispatcher))
    r = client.post("/api/v1/dead-letters/999999/replay", headers=headers)
    assert r.status_code == 404 and r.json()["status"] == 404
