"""Board benchmark: first meaningful paint and live-update latency in headless Chromium.

Dataset: 1,000 open tickets, 40 technicians with shifts today and tomorrow, 400 planned visits, in a
throwaway PostGIS cluster (the test harness's). The app runs in uvicorn; the page is Debian's Chromium
driven by Playwright.

- first meaningful paint: navigation start → the frame after the queue's three grade groups are rendered
  (`performance.mark("onsite24:queue-painted")`), fresh browser context each run, token already in
  sessionStorage (as after logging in);
- live update: a major ticket committed in this process (its `ticket.created` event rides the commit) → its row
  present in the open page (MutationObserver timestamp; same machine clock);
- API: server time of the board's read models with this dataset.

Reproduce: `make bench-board` (or `.venv/bin/python bench/board.py [--runs 20] [--write-docs]`).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from sqlalchemy import create_engine  # noqa: E402
from sqlalchemy.orm import sessionmaker  # noqa: E402

from dispatch.core.clock import utcnow  # noqa: E402
from dispatch.core.db import make_sessionmaker  # noqa: E402
from dispatch.core.migrate import upgrade  # noqa: E402
from dispatch.core.settings import Settings  # noqa: E402
from dispatch.core.types import EquipmentType, Grade, Role, TicketStatus, VisitStatus  # noqa: E402
from dispatch.tickets.models import Visit  # noqa: E402
from dispatch.workforce.models import TechnicianShift  # noqa: E402
from tests.board.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from tests.factories import make_depot, make_site, make_technician, make_ticket, make_user, token_for  # noqa: E402
from tests.harness.net import free_port  # noqa: E402
from tests.harness.postgres import destroy_postgres, start_postgres  # noqa: E402

TICKETS, TECHNICIANS, VISITS = 1000, 40, 400


def seed(session_factory: sessionmaker, rng: random.Random) -> tuple[object, list[int]]:
    now = utcnow().replace(microsecond=0)
    with session_factory() as s:
        depots = [make_depot(s, lat=28.23, lon=112.94), make_depot(s, lat=27.83, lon=113.13)]
        types = list(EquipmentType)
        techs = [
            make_technician(s, skills=rng.sample([t.value for t in types], 2), depot=depots[i % 2])
            for i in range(TECHNICIANS)
        ]
        day = now.replace(hour=0, minute=0, second=0)
        for t in techs:
            for d in (0, 1):
                start = day + timedelta(days=d, hours=0 + rng.choice([0, 1, 2]))
                s.add(TechnicianShift(technician_id=t.id, starts_at=start, ends_at=start + timedelta(hours=10)))
        grades = [Grade.MAJOR] * 80 + [Grade.SERIOUS] * 320 + [Grade.GENERAL] * 600
        tickets = []
        for g in grades:
            _site, unit = make_site(
                s,
                lat=28.2 + rng.uniform(-0.4, 0.4),
                lon=112.95 + rng.uniform(-0.4, 0.4),
                equipment_type=rng.choice(types),
            )
            reported = now - timedelta(minutes=rng.randint(0, 60 * {"major": 5, "serious": 14, "general": 26}[g]))
            tickets.append(make_ticket(s, grade=g, equipment=unit, reported_at=reported, status=TicketStatus.new))
        for i, ticket in enumerate(rng.sample(tickets, VISITS)):
            tech = techs[i % TECHNICIANS]
            start = now + timedelta(minutes=30 + 100 * (i // TECHNICIANS))
            s.add(
                Visit(
                    ticket_id=ticket.id,
                    technician_id=tech.id,
                    status=VisitStatus.assigned,
                    sequence=i // TECHNICIANS,
                    planned_departure_at=start - timedelta(minutes=30),
                    planned_arrival_at=start,
                    planned_start_at=start,
                    planned_end_at=start + timedelta(minutes=60),
                )
            )
        s.commit()
        user = make_user(s, role=Role.dispatcher)
        return user, [t.id for t in techs]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--write-docs", action="store_true", help="update the '## Board' section of docs/benchmarks.md")
    parser.add_argument("--verbose", action="store_true", help="print each run's resource timings")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    server_pg = start_postgres()
    try:
        server_pg.execute("CREATE DATABASE bench")
        server_pg.execute("CREATE EXTENSION postgis", database="bench")
        url = server_pg.url("bench")
        upgrade(url)
        engine = create_engine(url, connect_args={"options": "-c timezone=UTC"})
        factory = make_sessionmaker(engine, autoflush=True)
        t0 = time.perf_counter()
        user, _techs = seed(factory, random.Random(8))
        seed_s = time.perf_counter() - t0

        settings = Settings(environment="test", database_url=url)
        port = free_port()
        # The API runs as `onsite24 serve` does: its own process (not sharing a GIL with the browser driver).
        env = {
            **os.environ,
            "ONSITE24_ENVIRONMENT": "test",
            "ONSITE24_DATABASE_URL": url,
            "ONSITE24_LOG_LEVEL": "WARNING",
        }
        server = subprocess.Popen([sys.executable, "-m", "dispatch", "serve", "--port", str(port)], env=env, cwd=ROOT)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("uvicorn did not start")
            time.sleep(0.1)
        token = token_for(settings, user, minutes=120)
        headers = {"Authorization": f"Bearer {token}"}

        api: dict[str, float] = {}
        with httpx.Client(base_url=base, headers=headers) as c:
            for name, path in [
                ("queue groups (3 × 50 rows: the first paint)", "/api/v1/board/queue/groups?limit=50"),
                ("queue page (one grade, 50 rows)", "/api/v1/board/queue?grade=general&limit=50"),
                ("schedule (40 technicians, 48 h)", "/api/v1/board/schedule?limit=200"),
                ("map", "/api/v1/board/map"),
                ("on-time report", "/api/v1/reports/on-time"),
            ]:
                c.get(path).raise_for_status()
                times = []
                for _ in range(20):
                    a = time.perf_counter()
                    c.get(path).raise_for_status()
                    times.append((time.perf_counter() - a) * 1000)
                api[name] = statistics.median(times)

        fmp: list[float] = []
        fcp: list[float] = []
        gantt: list[float] = []
        live: list[float] = []
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            init = (
                f"sessionStorage.setItem('onsite24.token', '{token}');"
                "sessionStorage.setItem('onsite24.role', 'dispatcher');"
            )
            for _ in range(args.runs + 1):  # the first run warms caches and is dropped
                ctx = browser.new_context(viewport={"width": 1440, "height": 900})
                ctx.add_init_script(init)
                page = ctx.new_page()
                page.goto(f"{base}/board#queue")
                page.wait_for_function("performance.getEntriesByName('onsite24:queue-painted').length > 0")
                fmp.append(page.evaluate("performance.getEntriesByName('onsite24:queue-painted')[0].startTime"))
                if args.verbose:
                    print(
                        page.evaluate(
                            "performance.getEntriesByType('resource').map(e => "
                            "[e.name.split('/').pop().slice(0, 40), Math.round(e.startTime),"
                            " Math.round(e.responseEnd)])"
                        ),
                        file=sys.stderr,
                    )
                fcp.append(
                    page.evaluate(
                        "(performance.getEntriesByName('first-contentful-paint')[0] || {startTime: NaN}).startTime"
                    )
                )
                a = page.evaluate("performance.now()")
                page.evaluate("location.hash = 'gantt'")
                page.wait_for_selector("#view-gantt[data-loaded='true']")
                gantt.append(page.evaluate("performance.now()") - a)
                ctx.close()
            fmp, fcp, gantt = fmp[1:], fcp[1:], gantt[1:]

            ctx = browser.new_context(viewport={"width": 1440, "height": 900})
            ctx.add_init_script(init)
            page = ctx.new_page()
            page.goto(f"{base}/board#queue")
            page.wait_for_selector("#live-state[data-state='live']")
            page.wait_for_selector("#view-queue[data-loaded='true']")
            with factory() as s:
                for _ in range(args.runs):
                    page.evaluate(
                        """() => { window.__seen = {}; new MutationObserver(() => {
                          for (const li of document.querySelectorAll('.grade-major li.ticket'))
                            if (!(li.dataset.id in window.__seen)) window.__seen[li.dataset.id] = Date.now();
                        }).observe(document.querySelector('#view-queue'), {childList: true, subtree: true}); }"""
                    )
                    ticket = make_ticket(s, grade=Grade.MAJOR, reported_at=utcnow() - timedelta(hours=4, minutes=50))
                    s.commit()
                    committed = time.time() * 1000
                    page.wait_for_function(f"window.__seen && window.__seen['{ticket.id}']", timeout=10_000)
                    live.append(page.evaluate(f"window.__seen['{ticket.id}']") - committed)
                    time.sleep(0.3)
            ctx.close()
            browser.close()
        server.terminate()
        server.wait(15)
        result = {
            "dataset": {"open_tickets": TICKETS + args.runs, "technicians": TECHNICIANS, "planned_visits": VISITS},
            "seed_s": round(seed_s, 1),
            "first_meaningful_paint_ms": {
                "median": round(statistics.median(fmp)),
                "p95": round(pct(fmp, 0.95)),
                "max": round(max(fmp)),
            },
            "first_contentful_paint_ms": {"median": round(statistics.median(fcp))},
            "gantt_switch_ms": {"median": round(statistics.median(gantt)), "max": round(max(gantt))},
            "live_update_ms": {
                "median": round(statistics.median(live)),
                "p95": round(pct(live, 0.95)),
                "max": round(max(live)),
            },
            "api_median_ms": {k: round(v, 1) for k, v in api.items()},
            "runs": args.runs,
            "load_average_1m": round(os.getloadavg()[0], 1),
            "cpus": os.cpu_count(),
        }
        print(json.dumps(result, indent=2))
        if args.write_docs:
            write_docs(result)
    finally:
        destroy_postgres(server_pg)


def write_docs(r: dict) -> None:
    path = ROOT / "docs" / "benchmarks.md"
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    f, lv, g = r["first_meaningful_paint_ms"], r["live_update_ms"], r["gantt_switch_ms"]
    api_rows = "\n".join(f"| {k} | {v} ms |" for k, v in r["api_median_ms"].items())
    tickets, techs, visits = (
        r["dataset"]["open_tickets"] - r["runs"],
        r["dataset"]["technicians"],
        r["dataset"]["planned_visits"],
    )

    def row(name: str, target: str, d: dict) -> str:
        p95 = f"{d['p95']} ms" if "p95" in d else "–"
        return f"| {name} | {target} | {d['median']} ms | {p95} | {d['max']} ms |"

    section = "\n".join(
        [
            "## Board",
            "",
            "Dispatcher board in headless Chromium (Debian's `/usr/bin/chromium`, Playwright) against the app",
            f"in uvicorn on a local PostGIS, with {tickets:,} open tickets, {techs} technicians (shifts today and",
            f"tomorrow) and {visits} planned visits; {r['runs']} runs each, after one warm-up. Machine:",
            f"{r['cpus']} CPUs shared with other work (1-minute load average {r['load_average_1m']} at the end).",
            "",
            "| measure | target | median | p95 | max |",
            "| --- | --- | --- | --- | --- |",
            row("first meaningful paint (navigation → queue of three grades painted)", "≤ 1,000 ms", f),
            row("live update (commit of a major ticket → its row in the open page)", "≤ 1,000 ms", lv),
            row("switch to the Gantt (40 rows, 400 visits, fetched and drawn)", "–", g),
            "",
            f"First contentful paint: {r['first_contentful_paint_ms']['median']} ms (median). The first paint needs",
            "two requests, started by an inline script while the 26 kB bundle loads: `/board/config` and",
            "`/board/queue/groups`. The map and reports load their chunks when first opened. Server time of the",
            "read models, measured from the client (median of 20 requests):",
            "",
            "| endpoint | median |",
            "| --- | --- |",
            api_rows,
            "",
            "Reproduce: `make bench-board` (or `.venv/bin/python bench/board.py --runs 20 --write-docs`); it starts",
            "its own PostgreSQL cluster and needs the built board (`make board`).",
            "",
        ]
    )
    if "## Board" in text:
        head, _, rest = text.partition("## Board")
        tail = rest[rest.find("\n## ") + 1 :] if "\n## " in rest else ""
        text = head + section + ("\n" + tail if tail else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text)


if __name__ == "__main__":
    main()
