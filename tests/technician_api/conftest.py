"""Arrangements for the technician API tests: a technician with an assigned job at a known site."""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from sqlalchemy.orm import Session

from dispatch.core.clock import utcnow
from dispatch.core.types import Role, TicketStatus
from dispatch.customers.models import Equipment, Site
from dispatch.tickets.models import Ticket, Visit
from dispatch.users.models import User
from dispatch.workforce.models import Technician
from tests.factories import auth_header, make_site, make_technician, make_ticket, make_user, make_visit

SITE_LAT, SITE_LON = 28.2000, 112.9500
#: Screenshots and sample PDFs for people to look at (gitignored).
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@dataclass
class Job:
    user: User
    technician: Technician
    site: Site
    equipment: Equipment
    ticket: Ticket
    visit: Visit
    headers: dict[str, str]


def make_job(session: Session, settings, *, technician: Technician | None = None, sequence: int = 1) -> Job:  # type: ignore[no-untyped-def]
    tech = technician or make_technician(session)
    user = session.query(User).filter_by(technician_id=tech.id).one_or_none() or make_user(
        session, role=Role.technician, technician=tech
    )
    site, unit = make_site(session, lat=SITE_LAT, lon=SITE_LON)
    site.contact_name, site.contact_phone = "Site manager Wang", "13800000001"
    site.access_hours = {"mon": [["07:00", "19:00"]]}
    opened = utcnow() - timedelta(hours=8)  # before every queued event the tests send (the oldest: 6 h ago)
    ticket = make_ticket(session, status=TicketStatus.assigned, equipment=unit, reported_at=opened)
    ticket.received_at = opened
    visit = make_visit(
        session,
        ticket=ticket,
        technician=tech,
        sequence=sequence,
        planned_start_at=utcnow() + timedelta(hours=sequence),
    )
    visit.created_at = opened + timedelta(minutes=1)
    session.commit()
    return Job(user, tech, site, unit, ticket, visit, auth_header(settings, user))


@pytest.fixture
def job(db_session: Session, settings) -> Job:  # type: ignore[no-untyped-def]
    return make_job(db_session, settings)


@pytest.fixture
def dispatcher_headers(db_session: Session, settings) -> dict[str, str]:  # type: ignore[no-untyped-def]
    user = make_user(db_session, role=Role.dispatcher)
    return auth_header(settings, user)


def signature_data_url() -> str:
    """A drawn signature as the canvas sends it: a PNG data URL with some ink on transparency."""
    img = Image.new("RGBA", (400, 150), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    draw.line([(20, 100), (80, 40), (140, 110), (220, 30), (360, 90)], fill=(11, 31, 77, 255), width=3)
    out = io.BytesIO()
    img.save(out, format="PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


def tiny_jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 80, 40)).save(out, format="JPEG")
    return out.getvalue()


REPORT = {
    "cause_found": "Hoist gearbox gear broken (tooth 14)",
    "work_done": "Replaced the hoist gearbox, tested under load",
    "parts_used": [],
    "minutes_spent": 95,
    "follow_up_needed": False,
}


def drive_to_site(client, job: Job, *, lat: float = SITE_LAT, lon: float = SITE_LON) -> dict:  # type: ignore[no-untyped-def]
    """accept → en_route → arrived through the API; returns the arrival result."""
    url = f"/api/v1/jobs/{job.visit.id}/events"
    for body in (
        {"kind": "accept"},
        {"kind": "en_route", "position": {"lat": SITE_LAT - 0.05, "lon": SITE_LON}},
    ):
        r = client.post(url, json=body, headers=job.headers)
        assert r.status_code == 200, r.text
    r = client.post(url, json={"kind": "arrived", "position": {"lat": lat, "lon": lon}}, headers=job.headers)
    assert r.status_code == 200, r.text
    return r.json()


def complete(client, job: Job, report: dict | None = None) -> dict:  # type: ignore[no-untyped-def]
    r = client.post(
        f"/api/v1/jobs/{job.visit.id}/events",
        json={"kind": "completed", "report": report or REPORT},
        headers=job.headers,
    )
    assert r.status_code == 200, r.text
    return r.json()


def token_of(url: str) -> str:
    return url.rsplit("/confirm/", 1)[1]
