"""A technician's day for the app tests: three jobs at three sites, one of them major, with everything the job
screen shows (intake answers, equipment history, a raised alarm, access hours, a contact, a customer photo)."""

from __future__ import annotations

import io
import secrets
from dataclasses import dataclass
from datetime import date, timedelta

from PIL import Image
from sqlalchemy.orm import Session

from dispatch.core.clock import utcnow
from dispatch.core.settings import Settings
from dispatch.core.types import Grade, Role, TicketStatus
from dispatch.devices.models import Alarm
from dispatch.photos.storage import storage_from_settings
from dispatch.portal.models import TicketPhoto
from dispatch.tickets.models import Ticket, Visit
from dispatch.users.models import User
from dispatch.visits.models import Part
from dispatch.workforce.models import Technician
from tests.factories import make_depot, make_site, make_technician, make_ticket, make_user, make_visit

#: Where the first job's site is (the geofence tests stand inside and outside it).
SITE_LAT, SITE_LON = 28.2000, 112.9500


@dataclass
class Day:
    user: User
    technician: Technician
    tickets: list[Ticket]
    visits: list[Visit]

    @property
    def first(self) -> Visit:
        return self.visits[0]


def customer_photo_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (320, 240), (30, 120, 200)).save(out, format="JPEG")
    return out.getvalue()


def make_day(session: Session, settings: Settings) -> Day:
    depot = make_depot(session, lat=28.23, lon=112.94)
    tech = make_technician(session, depot=depot)
    user = make_user(session, role=Role.technician, technician=tech)
    user.full_name = "Li Wei"
    now = utcnow()
    plans = [  # (grade, sequence, hours reported ago, lat)
        (Grade.GENERAL, 0, 2, SITE_LAT),
        (Grade.SERIOUS, 1, 1, SITE_LAT + 0.05),
        (Grade.MAJOR, 2, 0.5, SITE_LAT + 0.1),
    ]
    tickets, visits = [], []
    for i, (grade, seq, ago, lat) in enumerate(plans):
        site, unit = make_site(session, lat=lat, lon=SITE_LON)
        site.name = ["Riverside tower crane", "Metro hoist yard", "Hospital lift block"][i]
        site.address = f"{i + 1} Xiangjiang Road, Changsha"
        site.timezone = "Asia/Shanghai"
        site.contact_name, site.contact_phone = "Wang Fang", f"+86 138 0000 000{i}"
        site.access_hours = {d: [["07:00", "19:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
        unit.manufacture_date = date(2019, 2, 5)
        earlier = make_ticket(
            session,
            grade=Grade.GENERAL,
            equipment=unit,
            reported_at=now - timedelta(days=40),
            status=TicketStatus.closed,
        )
        earlier.symptom = "Slewing brake noise"
        ticket = make_ticket(
            session, grade=grade, equipment=unit, reported_at=now - timedelta(hours=ago), status=TicketStatus.assigned
        )
        ticket.symptom = ["Hoist gearbox gear broken", "Door interlock fault", "Car stuck between floors"][i]
        ticket.location_detail = ["Hoist gearbox, drum side", "Landing door, level 3", "Car, shaft B"][i]
        ticket.working_condition = "Under load, lifting rebar"
        ticket.impact = {"equipment_down": True, "site_stopped": i == 0, "people_trapped": i == 2}
        ticket.special_request = "Replace the gearbox" if i == 0 else None
        visit = make_visit(
            session, ticket=ticket, technician=tech, sequence=seq, planned_start_at=now + timedelta(hours=1 + seq)
        )
        tickets.append(ticket)
        visits.append(visit)
    session.add(
        Alarm(
            device_id=f"dev-{tickets[0].equipment_id}",
            alarm_id="a-1",
            equipment_id=tickets[0].equipment_id,
            ticket_id=tickets[0].id,
            code="HOIST_OVERLOAD",
            severity="major",
            state="raised",
            message="Hoist overload tripped",
            device_at=now - timedelta(hours=2),
        )
    )
    data = customer_photo_bytes()
    photo_id = secrets.token_urlsafe(24)
    key = f"portal/{photo_id}"
    storage_from_settings(settings).put(key, data, "image/jpeg")
    session.add(
        TicketPhoto(
            id=photo_id,
            ticket_id=tickets[0].id,
            content_type="image/jpeg",
            size_bytes=len(data),
            sha256="0" * 64,
            storage_key=key,
        )
    )
    session.add(Part(code=f"GB-{secrets.token_hex(3)}", name="Hoist gearbox", unit="pc", equipment_type="tower_crane"))
    session.commit()
    return Day(user, tech, tickets, visits)
