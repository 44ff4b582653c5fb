"""Demo region: a tower-crane, hoist, elevator and base-station fleet around Changsha, Hunan.

Seeding is idempotent: running it again adds nothing that is already there (new shifts for new days only).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from geoalchemy2.elements import WKTElement
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from dispatch.core.settings import Settings
from dispatch.core.types import Category, Channel, DepotKind, EquipmentType, Role
from dispatch.customers.models import Customer, Equipment, EquipmentSiteMove, Site
from dispatch.domain.policy import Policy, load_policy
from dispatch.tickets.models import Ticket
from dispatch.tickets.schemas import Impact
from dispatch.tickets.service import open_complaint
from dispatch.users.models import User
from dispatch.users.service import create_user
from dispatch.workforce.models import Depot, Technician, TechnicianShift

REGION_TZ = ZoneInfo("Asia/Shanghai")
DEMO_PASSWORD = "onsite24demo"  # noqa: S105 (printed to the demo user on purpose)
# The demo region (Changsha) is Chinese: staff and customers are zh-CN, like the settings default in demo mode.
DEMO_LOCALE = "zh-CN"


def point(lat: float, lon: float) -> WKTElement:
    return WKTElement(f"POINT({lon} {lat})", srid=4326)


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: Role
    password: str


DEPOTS = [
    ("长沙服务中心 Changsha Service Centre", DepotKind.service_centre, "changsha", 28.2282, 112.9388),
    ("株洲服务中心 Zhuzhou Service Centre", DepotKind.service_centre, "zhuzhou", 27.8274, 113.1340),
    ("怀化合作服务站 Huaihua Partner Point", DepotKind.partner_point, "huaihua", 27.5501, 109.9980),
]
# (depot index, skills) per technician: most cover two equipment types, a few specialise.
TECHNICIANS = [
    (0, ["tower_crane", "construction_hoist"]),
    (0, ["tower_crane", "construction_hoist"]),
    (0, ["tower_crane"]),
    (0, ["elevator", "facility"]),
    (0, ["elevator", "facility"]),
    (0, ["elevator"]),
    (0, ["base_station", "facility"]),
    (0, ["base_station"]),
    (0, ["construction_hoist", "elevator"]),
    (0, ["tower_crane", "elevator"]),
    (1, ["tower_crane", "construction_hoist"]),
    (1, ["elevator", "facility"]),
    (1, ["base_station", "facility"]),
    (1, ["tower_crane", "base_station"]),
    (2, ["base_station", "facility"]),
    (2, ["tower_crane", "construction_hoist", "base_station"]),
]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = ["伟", "芳", "娜", "敏", "静", "强", "磊", "军", "洋", "勇", "艳", "杰", "涛", "明", "超", "霞"]
MODELS = {
    EquipmentType.tower_crane: ["ZJ5510", "ZJ6015", "TC7030"],
    EquipmentType.construction_hoist: ["SC200/200", "SC270"],
    EquipmentType.elevator: ["GeN2-MR", "KONE-3000S"],
    EquipmentType.base_station: ["BBU5900", "RRU3959"],
    EquipmentType.facility: ["CHILLER-30RB", "UPS-200K"],
}
CUSTOMERS = [
    "中建五局 China Construction Fifth",
    "湖南建工集团 Hunan Construction",
    "长沙万科物业 Vanke Property",
    "中国移动湖南 China Mobile Hunan",
    "中国电信湖南 China Telecom Hunan",
    "株洲城投 Zhuzhou Urban",
]


def _logins() -> list[DemoLogin]:
    staff = [
        DemoLogin("admin", Role.admin, DEMO_PASSWORD),
        DemoLogin("dispatcher", Role.dispatcher, DEMO_PASSWORD),
        DemoLogin("agent", Role.agent, DEMO_PASSWORD),
        DemoLogin("manager", Role.manager, DEMO_PASSWORD),
    ]
    techs = [DemoLogin(f"tech{i + 1:02d}", Role.technician, DEMO_PASSWORD) for i in range(len(TECHNICIANS))]
    return staff + techs


def seed_demo(session: Session, *, now: datetime, policy: Policy | None = None) -> list[DemoLogin]:
    """Seed the demo region once, shifts for today and tomorrow, and the demo logins; returns the logins."""
    rng = random.Random(24)  # noqa: S311 (reproducible demo data, not security)
    if session.scalar(select(func.count()).select_from(Depot)) == 0:
        _seed_region(session, rng, now)
    _seed_shifts(session, now)
    session.commit()
    technicians = list(session.scalars(select(Technician).order_by(Technician.id)))
    for login in _logins():
        if session.scalar(select(User.id).where(User.username == login.username)) is not None:
            continue
        tech_id = None
        if login.role is Role.technician:
            tech_id = technicians[int(login.username[4:]) - 1].id
        create_user(
            session,
            username=login.username,
            full_name=login.username.capitalize(),
            password=login.password,
            role=login.role,
            technician_id=tech_id,
            language="zh-CN",
            locale=DEMO_LOCALE,
        )
    # The demo region is Chinese: its staff read the board, the app and reports in zh-CN (each may switch);
    # logins seeded before users had a language setting get it too.
    session.execute(
        update(User)
        .where(User.username.in_([login.username for login in _logins()]), User.locale.is_(None))
        .values(locale=DEMO_LOCALE)
    )
    session.commit()
    if session.scalar(select(func.count()).select_from(Ticket)) == 0:
        _seed_open_complaints(session, rng, now, policy or load_policy())
        session.commit()
    return _logins()


def _seed_region(session: Session, rng: random.Random, now: datetime) -> None:
    depots = []
    for name, kind, region, lat, lon in DEPOTS:
        ring = ", ".join(
            f"{lon + dx} {lat + dy}" for dx, dy in [(-0.6, -0.5), (0.6, -0.5), (0.6, 0.5), (-0.6, 0.5), (-0.6, -0.5)]
        )
        depot = Depot(
            name=name,
            kind=kind,
            region=region,
            address=name.split(" ")[0],
            phone="0731-8888" + str(len(depots)).zfill(4),
            location=point(lat, lon),
            coverage_area=WKTElement(f"POLYGON(({ring}))", srid=4326),
        )
        session.add(depot)
        depots.append(depot)
    session.flush()
    for i, (depot_index, skills) in enumerate(TECHNICIANS):
        depot = depots[depot_index]
        lat, lon = DEPOTS[depot_index][3], DEPOTS[depot_index][4]
        session.add(
            Technician(
                name=SURNAMES[i % len(SURNAMES)] + GIVEN[i % len(GIVEN)],
                phone=f"1380731{i:04d}",
                home_depot_id=depot.id,
                skills=skills,
                certifications=[
                    {"equipment_type": s, "name": f"{s} service licence", "number": f"CERT-{i:02d}-{s[:3].upper()}"}
                    for s in skills
                ],
                last_position=point(lat + rng.uniform(-0.05, 0.05), lon + rng.uniform(-0.05, 0.05)),
                last_position_at=now,
            )
        )
    customers = [Customer(name=n, phone=f"0731-5{i:06d}", language=DEMO_LOCALE) for i, n in enumerate(CUSTOMERS)]
    session.add_all(customers)
    session.flush()
    # 30 sites around Changsha, 6 around Zhuzhou, 6 base stations in the Huaihua mountains.
    layout = [(0, 30, 0.25), (1, 6, 0.15), (2, 6, 0.35)]
    serial = 1
    for depot_index, count, spread in layout:
        lat0, lon0 = DEPOTS[depot_index][3], DEPOTS[depot_index][4]
        for _ in range(count):
            etype = EquipmentType.base_station if depot_index == 2 else rng.choice(list(EquipmentType))
            customer = customers[3 + rng.randrange(2)] if etype is EquipmentType.base_station else rng.choice(customers)
            lat, lon = lat0 + rng.uniform(-spread, spread), lon0 + rng.uniform(-spread, spread)
            kind = {"base_station": "基站", "elevator": "大厦", "facility": "园区"}.get(etype.value, "工地")
            site = Site(
                customer_id=customer.id,
                name=f"{DEPOTS[depot_index][2].capitalize()} {kind} #{serial}",
                address=f"{DEPOTS[depot_index][0].split(' ')[0][:2]} site {serial}",
                region=DEPOTS[depot_index][2],
                location=point(lat, lon),
                timezone="Asia/Shanghai",
                access_hours={}
                if etype in (EquipmentType.base_station, EquipmentType.elevator)
                else {d: [["06:00", "22:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
                contact_name="现场负责人",
                contact_phone=f"1390731{serial:04d}",
            )
            session.add(site)
            session.flush()
            for _unit in range(1 + (etype in (EquipmentType.tower_crane, EquipmentType.elevator))):
                model = rng.choice(MODELS[etype])
                made = date(2018 + rng.randrange(7), 1 + rng.randrange(12), 1 + rng.randrange(28))
                equipment = Equipment(
                    site_id=site.id,
                    equipment_type=etype,
                    model=model,
                    serial_number=f"{model.split('/')[0]}-{serial:05d}",
                    manufacture_date=made,
                    device_id=f"{etype.value.replace('_', '-')}-{serial:05d}",
                )
                session.add(equipment)
                session.flush()
                session.add(
                    EquipmentSiteMove(
                        equipment_id=equipment.id,
                        site_id=site.id,
                        moved_in_at=datetime.combine(made, time(8), tzinfo=UTC) + timedelta(days=30),
                    )
                )
                serial += 1


def _seed_shifts(session: Session, now: datetime) -> None:
    """Day shifts 08:00–20:00 local (yesterday, today, tomorrow); every fourth technician is on call overnight."""
    today = now.astimezone(REGION_TZ).date()
    technicians = list(session.scalars(select(Technician).order_by(Technician.id)))
    for offset in (-1, 0, 1):  # yesterday too: its overnight on-call shift may be running now
        day = today + timedelta(days=offset)
        for i, tech in enumerate(technicians):
            windows = [(time(8), timedelta(hours=12), False)]
            if i % 4 == 0:
                windows.append((time(20), timedelta(hours=12), True))
            for start_time, length, on_call in windows:
                starts = datetime.combine(day, start_time, tzinfo=REGION_TZ).astimezone(UTC)
                exists = session.scalar(
                    select(TechnicianShift.id).where(
                        TechnicianShift.technician_id == tech.id, TechnicianShift.starts_at == starts
                    )
                )
                if exists is None:
                    session.add(
                        TechnicianShift(
                            technician_id=tech.id, starts_at=starts, ends_at=starts + length, on_call=on_call
                        )
                    )


def _seed_open_complaints(session: Session, rng: random.Random, now: datetime, policy: Policy) -> None:
    """A handful of open complaints through the real intake (graded, with deadlines and escalation ladders)."""
    by_type: dict[EquipmentType, list[Equipment]] = {}
    for unit in session.scalars(select(Equipment).order_by(Equipment.id)):
        by_type.setdefault(unit.equipment_type, []).append(unit)
    samples = [
        (
            EquipmentType.construction_hoist,
            Category.EQUIPMENT,
            "Hoist gearbox gear broken",
            Impact(equipment_down=True),
            "Replace the gearbox",
        ),
        (EquipmentType.tower_crane, Category.EQUIPMENT, "Cab air conditioning noisy", Impact(), None),
        (
            EquipmentType.elevator,
            Category.EMERGENCY,
            "People trapped in the elevator, car 2",
            Impact(people_trapped=True, equipment_down=True),
            None,
        ),
        (EquipmentType.elevator, Category.EQUIPMENT, "Door closes slowly", Impact(degraded=True), None),
        (
            EquipmentType.base_station,
            Category.EQUIPMENT,
            "One sector down, coverage weak",
            Impact(degraded=True),
            None,
        ),
        (
            EquipmentType.tower_crane,
            Category.EQUIPMENT,
            "Slewing brake slips in wind",
            Impact(safety_risk=True, equipment_down=True),
            "Stop work until checked",
        ),
        (
            EquipmentType.facility,
            Category.SERVICE_QUALITY,
            "Chiller repair last week did not hold",
            Impact(degraded=True),
            None,
        ),
    ]
    for i, (etype, category, symptom, impact, request) in enumerate(samples):
        units = by_type.get(etype) or next(iter(by_type.values()))
        unit = units[rng.randrange(len(units))]
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
            special_request=request,
            reporter_name="现场负责人",
            reporter_phone="13907310000",
            reported_at=now - timedelta(minutes=15 + 35 * i),
            commit=False,
        )


def demo_portal_link(session: Session, settings: Settings, *, now: datetime, base_url: str) -> tuple[str, str]:
    """A sign-in link (valid 24 h) for the first demo customer, printed with the demo logins."""
    from dispatch.portal.service import print_sign_in_link

    customer = session.scalars(select(Customer).order_by(Customer.id).limit(1)).one()
    url = print_sign_in_link(
        session, settings=settings, customer_id=customer.id, now=now, minutes=24 * 60, base_url=base_url
    )
    return customer.name, url
