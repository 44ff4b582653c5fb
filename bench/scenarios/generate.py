"""Generate the simulator scenarios from fixed seeds (issue 5, "Simulator"; issue 16, hard online cases).

    python bench/scenarios/generate.py   # rewrites every scenario file below

- city_cranes_elevators: a city (≈ 60 km across) with a tower-crane / construction-hoist fleet on
  building sites and an elevator fleet in residential towers; two service centres, day and night shifts.
- province_base_stations: base stations spread over a province (≈ 320 × 220 km), a service centre in
  the capital and a partner service point in the remote east; day shifts at the partner point.
- storm_city (issue 16): the city fleet, and on the second afternoon a wind storm in the north-west
  district: 70 extra crane, hoist and elevator complaints in six hours (a third of them major), far above
  what the fleet can serve in time, on top of the usual demand.
- remote_province (issue 16): a province ≈ 450 × 330 km with a small capital service centre and three
  partner points, long drives (60 km/h, road factor 1.5) and few skilled technicians: two with the power
  skill, three with antennas. Most faults come in clusters around the remote partner points.
"""

from __future__ import annotations

import json
import math
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
TZ = timezone(timedelta(hours=8))
START = datetime(2026, 12, 1, 0, 0, tzinfo=TZ)
PROMISE = {"major": 4, "serious": 12, "general": 24}


def iso(hours: float) -> str:
    return (START + timedelta(hours=hours)).isoformat()


def arrivals(rng: random.Random, per_day: float, days: int) -> list[float]:
    """Report times (hours) with a daytime peak: rate ∝ 1 + 0.8·sin over the day."""
    out, t = [], 0.0
    peak = per_day / 24 * 1.8
    while t < days * 24:
        t += rng.expovariate(peak)
        rate = per_day / 24 * (1 + 0.8 * math.sin((t % 24 - 8) / 24 * 2 * math.pi))
        if t < days * 24 and rng.random() < rate / peak:
            out.append(round(t, 3))
    return out


def shifts(kind: str, days: int) -> list[list[str]]:
    if kind == "day":
        return [[iso(24 * d + 8), iso(24 * d + 20)] for d in range(days + 1)]
    return [[iso(24 * d + 20), iso(24 * d + 32)] for d in range(-1, days)]


def city(seed: int = 11, days: int = 3) -> dict:
    rng = random.Random(seed)
    lat0, lon0 = 31.23, 121.47
    depots = [
        {"id": "SC-west", "lat": 31.21, "lon": 121.30, "kind": "service_centre"},
        {"id": "SC-east", "lat": 31.25, "lon": 121.62, "kind": "service_centre"},
    ]
    techs = []
    crews = [
        ("crane", ["tower_crane", "hoist"]),
        ("lift", ["elevator"]),
        ("multi", ["tower_crane", "hoist", "elevator"]),
    ]
    n = 0
    for depot in depots:
        for _ in range(2):
            for name, skills in crews[:2]:
                kind = "day" if n % 3 else "night"
                techs.append(
                    {
                        "id": f"{name}-{n:02d}",
                        "depot": depot["id"],
                        "skills": skills,
                        "shifts": shifts(kind, days),
                    }
                )
                n += 1
        techs.append(
            {
                "id": f"multi-{n:02d}",
                "depot": depot["id"],
                "skills": crews[2][1],
                "shifts": shifts("day", days),
            }
        )
        n += 1
    complaints = []
    for i, h in enumerate(arrivals(rng, per_day=52, days=days)):
        equipment = rng.choices(["tower_crane", "construction_hoist", "elevator"], [0.3, 0.2, 0.5])[0]
        skill = {"tower_crane": "tower_crane", "construction_hoist": "hoist", "elevator": "elevator"}[equipment]
        grade = rng.choices(["major", "serious", "general"], [0.15, 0.35, 0.5])[0]
        r, a = 28 * math.sqrt(rng.random()), rng.uniform(0, 2 * math.pi)
        complaints.append(
            {
                "id": f"C{i:04d}",
                "reported_at": iso(h),
                "lat": round(lat0 + r * math.sin(a) / 111, 5),
                "lon": round(lon0 + r * math.cos(a) / 95, 5),
                "equipment_type": equipment,
                "grade": grade,
                "skills": [skill],
                "service_minutes": rng.choice([60, 90, 120, 150]) if skill != "elevator" else rng.choice([45, 60, 90]),
            }
        )
    return {
        "name": "city_cranes_elevators",
        "start": START.isoformat(),
        "horizon_hours": days * 24,
        "promise_hours": PROMISE,
        "travel": {"speed_kmh": 30, "road_factor": 1.35},
        "depots": depots,
        "technicians": techs,
        "complaints": complaints,
    }


def province(seed: int = 23, days: int = 3) -> dict:
    rng = random.Random(seed)
    depots = [
        {"id": "SC-capital", "lat": 30.60, "lon": 114.30, "kind": "service_centre"},
        {"id": "PP-east", "lat": 30.45, "lon": 116.60, "kind": "partner_point"},
    ]
    techs = []
    for i in range(6):
        skills = ["base_station", "power"] if i % 2 else ["base_station", "antenna"]
        techs.append(
            {
                "id": f"bs-{i:02d}",
                "depot": "SC-capital",
                "skills": skills,
                "shifts": shifts("day" if i % 3 else "night", days),
            }
        )
    for i in range(2):
        techs.append(
            {
                "id": f"partner-{i}",
                "depot": "PP-east",
                "skills": ["base_station", "power", "antenna"],
                "shifts": shifts("day", days),
            }
        )
    complaints = []
    for i, h in enumerate(arrivals(rng, per_day=26, days=days)):
        east = rng.random() < 0.35
        lat = rng.uniform(29.6, 31.6)
        lon = rng.uniform(115.6, 117.2) if east else rng.uniform(113.2, 115.6)
        skill = rng.choices(["base_station", "power", "antenna"], [0.6, 0.25, 0.15])[0]
        grade = rng.choices(["major", "serious", "general"], [0.2, 0.35, 0.45])[0]
        complaints.append(
            {
                "id": f"B{i:04d}",
                "reported_at": iso(h),
                "lat": round(lat, 5),
                "lon": round(lon, 5),
                "equipment_type": "base_station",
                "grade": grade,
                "skills": [skill],
                "service_minutes": rng.choice([45, 60, 90, 120]),
            }
        )
    return {
        "name": "province_base_stations",
        "start": START.isoformat(),
        "horizon_hours": days * 24,
        "promise_hours": PROMISE,
        "travel": {"speed_kmh": 70, "road_factor": 1.4},
        "depots": depots,
        "technicians": techs,
        "complaints": complaints,
    }


def storm_city(seed: int = 31, days: int = 3) -> dict:
    sc = city(seed=seed, days=days)
    rng = random.Random(seed * 7)
    complaints = sc["complaints"]
    lat0, lon0 = 31.33, 121.36  # the north-west district
    for i in range(70):
        h = 24 + 13 + rng.uniform(0, 6)  # day 2, 13:00-19:00
        equipment = rng.choices(["tower_crane", "construction_hoist", "elevator"], [0.4, 0.25, 0.35])[0]
        skill = {"tower_crane": "tower_crane", "construction_hoist": "hoist", "elevator": "elevator"}[equipment]
        r, a = 7 * math.sqrt(rng.random()), rng.uniform(0, 2 * math.pi)
        complaints.append(
            {
                "id": f"S{i:04d}",
                "reported_at": iso(round(h, 3)),
                "lat": round(lat0 + r * math.sin(a) / 111, 5),
                "lon": round(lon0 + r * math.cos(a) / 95, 5),
                "equipment_type": equipment,
                "grade": rng.choices(["major", "serious", "general"], [0.35, 0.4, 0.25])[0],
                "skills": [skill],
                "service_minutes": rng.choice([60, 90, 120]) if skill != "elevator" else rng.choice([45, 60, 90]),
            }
        )
    complaints.sort(key=lambda c: (c["reported_at"], c["id"]))
    sc["name"] = "storm_city"
    return sc


def remote_province(seed: int = 47, days: int = 3) -> dict:
    rng = random.Random(seed)
    depots = [
        {"id": "SC-capital", "lat": 36.65, "lon": 117.00, "kind": "service_centre"},
        {"id": "PP-north", "lat": 38.20, "lon": 118.40, "kind": "partner_point"},
        {"id": "PP-east", "lat": 36.90, "lon": 120.60, "kind": "partner_point"},
        {"id": "PP-south", "lat": 35.10, "lon": 118.30, "kind": "partner_point"},
    ]
    crews = [
        ("cap-bs-00", "SC-capital", ["base_station", "power"], "day"),
        ("cap-bs-01", "SC-capital", ["base_station", "antenna"], "day"),
        ("cap-bs-02", "SC-capital", ["base_station"], "night"),
        ("north-0", "PP-north", ["base_station", "antenna"], "day"),
        ("east-0", "PP-east", ["base_station", "power"], "day"),
        ("east-1", "PP-east", ["base_station"], "day"),
        ("south-0", "PP-south", ["base_station", "antenna"], "day"),
    ]
    techs = [{"id": i, "depot": d, "skills": sk, "shifts": shifts(kind, days)} for i, d, sk, kind in crews]
    clusters = [(d["lat"], d["lon"]) for d in depots[1:]] + [(37.40, 119.40)]  # the last has no depot at all
    complaints = []
    for i, h in enumerate(arrivals(rng, per_day=22, days=days)):
        if rng.random() < 0.7:
            clat, clon = rng.choice(clusters)
            lat, lon = clat + rng.gauss(0, 0.25), clon + rng.gauss(0, 0.3)
        else:
            lat, lon = rng.uniform(34.6, 38.3), rng.uniform(115.6, 121.0)
        skill = rng.choices(["base_station", "power", "antenna"], [0.6, 0.25, 0.15])[0]
        complaints.append(
            {
                "id": f"R{i:04d}",
                "reported_at": iso(h),
                "lat": round(lat, 5),
                "lon": round(lon, 5),
                "equipment_type": "base_station",
                "grade": rng.choices(["major", "serious", "general"], [0.2, 0.35, 0.45])[0],
                "skills": [skill],
                "service_minutes": rng.choice([45, 60, 90, 120]),
            }
        )
    return {
        "name": "remote_province",
        "start": START.isoformat(),
        "horizon_hours": days * 24,
        "promise_hours": PROMISE,
        "travel": {"speed_kmh": 60, "road_factor": 1.5},
        "depots": depots,
        "technicians": techs,
        "complaints": complaints,
    }


def main() -> None:
    for sc in (city(), province(), storm_city(), remote_province()):
        path = HERE / f"{sc['name']}.json"
        path.write_text(json.dumps(sc, indent=1) + "\n")
        print(f"{path.name}: {len(sc['technicians'])} technicians, {len(sc['complaints'])} complaints")


if __name__ == "__main__":
    main()
