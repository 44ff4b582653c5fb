"""Benchmark: `GET /api/v1/me/jobs` under load (issue 6: p99 ≤ 50 ms, 40 technicians, 2,000 open tickets, 200 rps).

Self-contained: starts a throwaway PostgreSQL + PostGIS cluster (the test harness's), migrates it, seeds 40
technicians with 50 open jobs each (2,000 open tickets, 3,000 closed ones as equipment history, raised
alarms), starts `python -m dispatch serve` on it and drives a fixed request rate from several client
processes (open loop: each request is sent at its scheduled time, so a slow server cannot slow the load
down and hide its own latency). Prints latency percentiles as JSON.

    .venv/bin/python bench/me_jobs.py --rps 200 --duration 60 --workers 2
    .venv/bin/python bench/me_jobs.py --accept-encoding identity   # plain JSON instead of gzip

Or point it at an existing, migrated scratch database with --database-url (it seeds into it).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import random
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from sqlalchemy import create_engine, insert, text  # noqa: E402

from dispatch.core.auth import Principal, create_access_token, hash_password  # noqa: E402
from dispatch.core.settings import Settings  # noqa: E402
from dispatch.core.types import Role  # noqa: E402


def seed(database_url: str, *, technicians: int, tickets: int) -> list[tuple[int, str, int]]:
    """Bulk-insert the fleet; returns (user_id, username, technician_id) per technician."""
    from dispatch.models import Alarm, Customer, Depot, Equipment, Site, Technician, Ticket, User, Visit

    rng = random.Random(6)
    engine = create_engine(database_url)
    now = datetime.now(UTC)
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    pw = hash_password("bench-password")
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE depots, customers, users, tickets, visits, alarms RESTART IDENTITY CASCADE"))
        conn.execute(
            insert(Depot),
            [
                {
                    "name": "Changsha centre",
                    "kind": "service_centre",
                    "region": "changsha",
                    "location": "SRID=4326;POINT(112.94 28.23)",
                }
            ],
        )
        conn.execute(
            insert(Customer),
            [{"name": f"Customer {i}", "phone": f"1390000{i:04d}", "language": "zh-CN"} for i in range(200)],
        )
        conn.execute(
            insert(Site),
            [
                {
                    "customer_id": 1 + i % 200,
                    "name": f"Site {i}",
                    "address": f"{i} Furong Road, Changsha",
                    "region": "changsha",
                    "timezone": "Asia/Shanghai",
                    "location": f"SRID=4326;POINT({112.8 + rng.random() * 0.4} {28.0 + rng.random() * 0.4})",
                    "access_hours": {"mon": [["07:00", "19:00"]], "tue": [["07:00", "19:00"]]},
                    "contact_name": f"Manager {i}",
                    "contact_phone": f"1380000{i:04d}",
                }
                for i in range(400)
            ],
        )
        n_equipment = tickets // 2
        conn.execute(
            insert(Equipment),
            [
                {
                    "site_id": 1 + i % 400,
                    "equipment_type": "tower_crane",
                    "model": "ZJ5510",
                    "serial_number": f"SN-{i:06d}",
                    "device_id": f"dev-{i:06d}",
                }
                for i in range(n_equipment)
            ],
        )
        conn.execute(
            insert(Technician),
            [
                {
                    "name": f"Tech {i}",
                    "home_depot_id": 1,
                    "skills": ["tower_crane"],
                    "certifications": [],
                    "is_active": True,
                }
                for i in range(technicians)
            ],
        )
        conn.execute(
            insert(User),
            [
                {
                    "username": f"tech{i}",
                    "full_name": f"Tech {i}",
                    "password_hash": pw,
                    "role": "technician",
                    "technician_id": i + 1,
                    "language": "zh-CN",
                    "is_active": True,
                }
                for i in range(technicians)
            ],
        )

        def ticket_row(i: int, *, open_: bool) -> dict:
            eq = 1 + i % n_equipment
            reported = now - (timedelta(hours=rng.randint(1, 20)) if open_ else timedelta(days=rng.randint(5, 400)))
            return {
                "channel": "phone",
                "site_id": 1 + (eq - 1) % 400,
                "equipment_id": eq,
                "category": "equipment",
                "nature": "effective",
                "symptom": "Hoist gearbox noise under load, site partly stopped",
                "impact": {"equipment_down": True},
                "grade": rng.choice(["major", "serious", "general"]),
                "grade_reasons": [],
                "grade_overridden": False,
                "status": "assigned" if open_ else "closed",
                "reported_at": reported,
                "due_on_site_at": reported + timedelta(hours=24),
                "deadlines": {},
                "at_risk": False,
                "resolved_at": None if open_ else reported + timedelta(hours=6),
                "closed_at": None if open_ else reported + timedelta(days=2),
                "version": 1,
            }

        closed = int(tickets * 1.5)
        conn.execute(insert(Ticket), [ticket_row(i, open_=False) for i in range(closed)])
        conn.execute(insert(Ticket), [ticket_row(i, open_=True) for i in range(tickets)])
        per_tech = tickets // technicians
        visits = []
        for k in range(tickets):
            tech, n = k % technicians, k // technicians
            day, seq = divmod(n, 12)  # 12 jobs a day, spread over the coming days
            start = today + timedelta(days=day, hours=8) + timedelta(minutes=40 * seq)
            visits.append(
                {
                    "ticket_id": closed + 1 + k,
                    "technician_id": tech + 1,
                    "status": "assigned",
                    "sequence": seq + 1,
                    "pinned": False,
                    "service_minutes": 90,
                    "planned_departure_at": start - timedelta(minutes=30),
                    "planned_arrival_at": start,
                    "planned_start_at": start,
                    "planned_end_at": start + timedelta(minutes=90),
                    "arrival_outside_geofence": False,
                }
            )
        conn.execute(insert(Visit), visits)
        conn.execute(
            insert(Alarm),
            [
                {
                    "device_id": f"dev-{i:06d}",
                    "alarm_id": f"a{i}",
                    "equipment_id": i + 1,
                    "code": "HOIST_OVERLOAD",
                    "severity": "major",
                    "state": "raised",
                    "message": "Overload on hoist",
                    "data": {},
                }
                for i in range(0, n_equipment, 5)
            ],
        )
        conn.execute(text("ANALYZE"))
    engine.dispose()
    assert per_tech * technicians == tickets
    return [(i + 1, f"tech{i}", i + 1) for i in range(technicians)]


def _tree_cpu_seconds(root: int) -> float:
    """User + system CPU seconds of a process and its living descendants (Linux /proc), to put a price on a
    request that does not depend on what else the machine is doing."""
    parent: dict[int, int] = {}
    ticks: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        parent[int(entry.name)] = int(fields[1])
        ticks[int(entry.name)] = int(fields[11]) + int(fields[12])  # utime, stime
    tree, frontier = {root}, [root]
    while frontier:
        pid = frontier.pop()
        children = [c for c, p in parent.items() if p == pid and c not in tree]
        tree.update(children)
        frontier.extend(children)
    return sum(ticks.get(pid, 0) for pid in tree) / os.sysconf("SC_CLK_TCK")


def _client(args: tuple[str, str, list[str], float, float, float, int, str]) -> list[tuple[float, int]]:
    """One load process: `rate` requests/s for `duration` s over `connections` keep-alive connections.

    A bare asyncio HTTP/1.1 client (pre-built request bytes, Content-Length framing) rather than httpx: on two
    shared cores the load generator competes with the server for CPU, and httpx in threads cost about as much
    per request as the endpoint itself. Open loop: every request has a scheduled send time and its latency is
    counted from it, so waiting for a free connection behind a slow answer counts too."""
    base_url, path, tokens, rate, duration, t0, connections, accept_encoding = args
    try:
        import uvloop

        uvloop.install()
    except ImportError:  # the plain asyncio loop measures the same, with a little more client CPU
        pass
    return asyncio.run(_load(base_url, path, tokens, rate, duration, t0, connections, accept_encoding))


async def _load(
    base_url: str,
    path: str,
    tokens: list[str],
    rate: float,
    duration: float,
    t0: float,
    connections: int,
    accept_encoding: str,
) -> list[tuple[float, int]]:
    host, port = base_url.removeprefix("http://").split(":")
    head = f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept-Encoding: {accept_encoding}\r\n"
    requests = [f"{head}Authorization: Bearer {t}\r\n\r\n".encode() for t in tokens]
    idle: asyncio.Queue = asyncio.Queue()
    for _ in range(connections):
        # One at a time, as phones connect: opened in the same instant, every connection would be accepted by
        # whichever API worker woke first (asyncio drains the accept backlog in one go), leaving the others idle.
        idle.put_nowait(await asyncio.open_connection(host, int(port)))
        await asyncio.sleep(0.02)
    out: list[tuple[float, int]] = []
    rng = random.Random(os.getpid())

    async def one(due: float, request: bytes) -> None:
        reader, writer = await idle.get()
        status = 0
        try:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = next(
                (int(line[15:]) for line in head.split(b"\r\n") if line[:15].lower() == b"content-length:"), 0
            )
            if length:
                await reader.readexactly(length)
            idle.put_nowait((reader, writer))
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            writer.close()
            status = 0
            idle.put_nowait(await asyncio.open_connection(host, int(port)))
        out.append((time.perf_counter() - due, status))

    tasks = []
    due = t0
    while due < t0 + duration:
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(due, rng.choice(requests))))
        due += 1 / rate
    await asyncio.gather(*tasks)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--technicians", type=int, default=40)
    parser.add_argument("--tickets", type=int, default=2000)
    parser.add_argument("--rps", type=float, default=200)
    parser.add_argument("--duration", type=float, default=30)
    parser.add_argument("--warmup", type=float, default=5)
    parser.add_argument("--workers", type=int, default=2, help="API worker processes")
    parser.add_argument("--clients", type=int, default=2, help="load-generating processes")
    parser.add_argument("--connections", type=int, default=16, help="keep-alive connections per load process")
    parser.add_argument("--database-url", help="an existing migrated scratch database (default: a throwaway one)")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--path", default="/api/v1/me/jobs", help="endpoint to load (e.g. /healthz as a baseline)")
    parser.add_argument(
        "--accept-encoding",
        default="gzip",
        help="what the phones accept: gzip, as Android's and iOS's HTTP stacks send by default, or identity",
    )
    args = parser.parse_args()

    from tests.harness.net import free_port

    server_pg = None
    if args.database_url:
        database_url = args.database_url
    else:
        from dispatch.core.migrate import upgrade
        from tests.harness.postgres import start_postgres

        server_pg = start_postgres()
        server_pg.execute("CREATE DATABASE bench")
        server_pg.execute("CREATE EXTENSION postgis", database="bench")
        database_url = server_pg.url("bench")
        upgrade(database_url)
    proc = None
    try:
        t = time.perf_counter()
        techs = seed(database_url, technicians=args.technicians, tickets=args.tickets)
        seeded_s = time.perf_counter() - t
        settings = Settings(environment="test", database_url=database_url)
        tokens = [
            create_access_token(settings, Principal(uid, name, Role.technician, tid), minutes=240)
            for uid, name, tid in techs
        ]
        port = args.port or free_port()
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "ONSITE24_ENVIRONMENT": "test",
            "ONSITE24_DATABASE_URL": database_url,
            "ONSITE24_LOG_LEVEL": "WARNING",
        }
        proc = subprocess.Popen(
            [sys.executable, "-m", "dispatch", "serve", "--port", str(port), "--workers", str(args.workers)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base_url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise SystemExit("the API did not start")
            time.sleep(0.2)
        first = httpx.get(
            f"{base_url}/api/v1/me/jobs",
            headers={"Authorization": f"Bearer {tokens[0]}", "Accept-Encoding": args.accept_encoding},
        )
        sample = first.json()
        page_bytes = len(json.dumps(sample))
        wire_bytes = int(first.headers["content-length"])

        def phase(duration: float) -> list[tuple[float, int]]:
            t0 = time.perf_counter() + 0.5
            per = args.rps / args.clients
            with mp.get_context("fork").Pool(args.clients) as pool:
                parts = pool.map(
                    _client,
                    [
                        (base_url, args.path, tokens, per, duration, t0, args.connections, args.accept_encoding)
                        for _ in range(args.clients)
                    ],
                )
            return [x for p in parts for x in p]

        phase(args.warmup)
        load_before = os.getloadavg()
        postmaster = (
            int((server_pg.directory / "data" / "postmaster.pid").read_text().split()[0]) if server_pg else None
        )
        cpu_before = (_tree_cpu_seconds(proc.pid), _tree_cpu_seconds(postmaster) if postmaster else 0.0)
        results = phase(args.duration)
        cpu_after = (_tree_cpu_seconds(proc.pid), _tree_cpu_seconds(postmaster) if postmaster else 0.0)
        lat = sorted(r[0] * 1000 for r in results)
        ok = sum(1 for r in results if r[1] == 200)
        q = statistics.quantiles(lat, n=100)
        report = {
            "path": args.path,
            "requests": len(results),
            "ok": ok,
            "errors": len(results) - ok,
            "achieved_rps": round(len(results) / args.duration, 1),
            "p50_ms": round(q[49], 1),
            "p95_ms": round(q[94], 1),
            "p99_ms": round(q[98], 1),
            "max_ms": round(lat[-1], 1),
            "page_items": len(sample["items"]),
            "page_total": sample["total"],
            "page_bytes": page_bytes,
            "page_bytes_on_wire": wire_bytes,
            "accept_encoding": args.accept_encoding,
            # CPU per request, whatever else the machine did: the API processes, and PostgreSQL's backends
            # (only for the throwaway cluster, whose processes are the benchmark's alone).
            "api_cpu_ms_per_request": round((cpu_after[0] - cpu_before[0]) * 1000 / len(results), 2),
            "postgres_cpu_ms_per_request": (
                round((cpu_after[1] - cpu_before[1]) * 1000 / len(results), 2) if postmaster else None
            ),
            "technicians": args.technicians,
            "open_tickets": args.tickets,
            "target_rps": args.rps,
            "api_workers": args.workers,
            "cpus": os.cpu_count(),
            "load_avg_before": load_before,
            "seed_seconds": round(seeded_s, 1),
        }
        print(json.dumps(report, indent=2))
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=15)
        if server_pg is not None:
            from tests.harness.postgres import destroy_postgres

            destroy_postgres(server_pg)


if __name__ == "__main__":
    main()
