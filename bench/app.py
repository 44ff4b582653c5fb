"""Technician app benchmark: shell size, cold start on slow 4G, start offline, and an offline day's outbox sync.

Dataset: one technician with 20 open jobs today (the list the phone shows), in a throwaway PostGIS cluster
(the test harness's); the API runs as `onsite24 serve` does, in its own process; the phone is Debian's
Chromium through Playwright at 360 × 740 with touch and a mobile user agent.

- shell: the built app's JavaScript (every file the service worker precaches), gzipped as the server sends it
  (level 6) and at level 9;
- cold start on slow 4G: a fresh phone that has the sign-in stored but nothing else (no HTTP cache, no service
  worker, no jobs), Chromium's "Slow 4G" preset (562.5 ms RTT, 1.44 Mbit/s down, 675 kbit/s up) through the
  DevTools protocol; navigation start → the 20 jobs drawn (polled every frame);
- start offline: the same phone after its first visit (service worker installed), network off, reload →
  the 20 jobs drawn from the phone's own store;
- outbox sync: 10 jobs done offline — per job accept, en route, a position, on site, a 1600 × 1200 photo
  and the completed report naming it (50 events, 10 photos) — then the network comes back: time until the
  outbox is empty with no tap, and how many sync batches and uploads it took (unthrottled and on slow 4G).

Reproduce: `make bench-app` (or `.venv/bin/python bench/app.py [--runs 10] [--write-docs]`).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from sqlalchemy import create_engine, func, select  # noqa: E402
from sqlalchemy.orm import sessionmaker  # noqa: E402

from dispatch.core.clock import utcnow  # noqa: E402
from dispatch.core.migrate import upgrade  # noqa: E402
from dispatch.core.settings import Settings  # noqa: E402
from dispatch.core.types import Grade, Role, TicketStatus  # noqa: E402
from dispatch.visits.models import JobEvent, JobPhoto  # noqa: E402
from technician_api.webapp.static import STATIC_DIR  # noqa: E402
from tests.app.conftest import PHONE  # noqa: E402
from tests.board.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from tests.factories import (  # noqa: E402
    make_depot,
    make_site,
    make_technician,
    make_ticket,
    make_user,
    make_visit,
    token_for,
)
from tests.harness.net import free_port  # noqa: E402
from tests.harness.postgres import destroy_postgres, start_postgres  # noqa: E402

JOBS = 20
OFFLINE_JOBS = 10
# Chromium DevTools' "Slow 4G" preset (throttling presets of Chrome 131).
SLOW_4G = {"offline": False, "latency": 562.5, "downloadThroughput": 180_000, "uploadThroughput": 84_375}

SEED_IDB = """async ([token, me]) => {
  const db = await new Promise((resolve, reject) => {
    const open = indexedDB.open("onsite24-app", 1);
    open.onupgradeneeded = () => {
      const d = open.result;
      d.createObjectStore("kv");
      d.createObjectStore("jobs", { keyPath: "id" });
      d.createObjectStore("outbox", { keyPath: "key" }).createIndex("seq", "seq");
      d.createObjectStore("blobs");
    };
    open.onsuccess = () => resolve(open.result);
    open.onerror = () => reject(open.error);
  });
  await new Promise((resolve, reject) => {
    const tx = db.transaction("kv", "readwrite");
    tx.objectStore("kv").put(token, "token");
    tx.objectStore("kv").put(me, "me");
    tx.oncomplete = resolve;
    tx.onerror = () => reject(tx.error);
  });
  db.close();
}"""

# The rows the app writes when the technician works offline (outbox.js), for 10 jobs, with real JPEGs.
FILL_OUTBOX = """async ([jobs, owner, lat, lon]) => {
  const db = await new Promise((resolve) => {
    const o = indexedDB.open("onsite24-app");
    o.onsuccess = () => resolve(o.result);
  });
  const put = (row, blob) => new Promise((resolve, reject) => {
    const tx = db.transaction(["outbox", "blobs"], "readwrite");
    tx.objectStore("outbox").add(row);
    if (blob) tx.objectStore("blobs").put(blob, row.key);
    tx.oncomplete = resolve; tx.onerror = () => reject(tx.error);
  });
  const photo = async (n) => {
    const c = new OffscreenCanvas(1600, 1200);
    const g = c.getContext("2d");
    for (let i = 0; i < 400; i++) {
      g.fillStyle = `hsl(${(i * 37 + n * 11) % 360} 60% ${30 + (i % 40)}%)`;
      g.fillRect((i * 97) % 1600, (i * 53) % 1200, 40 + (i % 120), 30 + (i % 90));
    }
    return c.convertToBlob({ type: "image/jpeg", quality: 0.8 });
  };
  let t = Date.now() - 3600 * 1000;
  let seq = t * 1000;
  const at = () => { t += 7000; return new Date(t).toISOString(); };
  const pos = { lat, lon, accuracy_m: 12 };
  let bytes = 0;
  for (const [i, id] of jobs.entries()) {
    const ev = (kind, body) => ({ key: crypto.randomUUID(), seq: ++seq, owner, type: "event", job_id: id, kind,
                                  device_at: at(), body, state: "waiting", created_at: Date.now() });
    await put(ev("accept", {}));
    await put(ev("en_route", { position: { ...pos, lat: lat - 0.01 } }));
    await put(ev("position", { position: { ...pos, lat: lat - 0.005 } }));
    await put(ev("arrived", { position: pos }));
    const blob = await photo(i);
    bytes += blob.size;
    const p = { key: crypto.randomUUID(), seq: ++seq, owner, type: "photo", job_id: id, kind: "photo",
                device_at: at(), body: { size: blob.size, type: blob.type }, state: "waiting", created_at: Date.now() };
    await put(p, blob);
    await put(ev("completed", { report: { cause_found: "Worn brake pads", work_done: "Replaced the pads",
      parts_used: [], minutes_spent: 40, follow_up_needed: false, follow_up_note: null,
      photo_ids: ["local:" + p.key] } }));
  }
  db.close();
  return bytes;
}"""


def shell_size() -> dict[str, Any]:
    files = sorted(p for p in STATIC_DIR.rglob("*") if p.is_file())
    js = [p for p in files if p.suffix == ".js"]
    css = [p for p in files if p.suffix == ".css"]

    def gz(paths: list[Path], level: int) -> int:
        return sum(len(gzip.compress(p.read_bytes(), compresslevel=level)) for p in paths)

    return {
        "js_files": [p.name for p in js],
        "js_raw_kb": round(sum(p.stat().st_size for p in js) / 1024, 1),
        "js_gzip6_kb": round(gz(js, 6) / 1024, 1),
        "js_gzip9_kb": round(gz(js, 9) / 1024, 1),
        "css_gzip6_kb": round(gz(css, 6) / 1024, 1),
        "html_gzip6_kb": round(gz([STATIC_DIR / "index.html"], 6) / 1024, 1),
    }


def seed(factory: sessionmaker) -> tuple[Any, list[int]]:
    now = utcnow().replace(microsecond=0)
    with factory() as s:
        tech = make_technician(s, depot=make_depot(s, lat=28.23, lon=112.94))
        user = make_user(s, role=Role.technician, technician=tech)
        ids = []
        for i in range(JOBS):
            site, unit = make_site(s, lat=28.2 + i * 0.01, lon=112.95)
            site.contact_name, site.contact_phone = "Wang Fang", "+86 138 0000 0000"
            site.access_hours = {"mon": [["07:00", "19:00"]]}
            grade = Grade.major if i % 7 == 0 else Grade.serious if i % 3 == 0 else Grade.general
            ticket = make_ticket(
                s, grade=grade, equipment=unit, reported_at=now - timedelta(hours=1), status=TicketStatus.assigned
            )
            ticket.symptom = "Hoist gearbox gear broken, the drum does not turn under load " * 2
            ids.append(
                make_visit(
                    s, ticket=ticket, technician=tech, sequence=i, planned_start_at=now + timedelta(minutes=40 * i)
                ).id
            )
        s.commit()
        return user, ids


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument(
        "--write-docs", action="store_true", help="update the '## Technician app' section of docs/benchmarks.md"
    )
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    if not (STATIC_DIR / "index.html").is_file():
        raise SystemExit("the app is not built: run `make app`")
    pg = start_postgres()
    server = None
    try:
        pg.execute("CREATE DATABASE bench")
        pg.execute("CREATE EXTENSION postgis", database="bench")
        url = pg.url("bench")
        upgrade(url)
        engine = create_engine(url, connect_args={"options": "-c timezone=UTC"})
        factory = sessionmaker(bind=engine, expire_on_commit=False)
        user, _visit_ids = seed(factory)
        settings = Settings(environment="test", database_url=url)
        port = free_port()
        env = {
            **os.environ,
            "ONSITE24_ENVIRONMENT": "test",
            "ONSITE24_DATABASE_URL": url,
            "ONSITE24_LOG_LEVEL": "WARNING",
            "ONSITE24_UPLOAD_DIR": tempfile.mkdtemp(prefix="onsite24-bench-app-"),
        }
        server = subprocess.Popen([sys.executable, "-m", "dispatch", "serve", "--port", str(port)], env=env, cwd=ROOT)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("the API did not start")
            time.sleep(0.1)
        token = token_for(settings, user, minutes=240)
        me = httpx.get(f"{base}/api/v1/users/me", headers={"Authorization": f"Bearer {token}"}).json()
        drawn = f"document.querySelectorAll('li.job').length === {JOBS}"

        cold: list[float] = []
        offline: list[float] = []
        transferred: list[int] = []
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for _ in range(args.runs + 1):  # the first run warms the server and is dropped
                ctx = browser.new_context(**PHONE, locale="en-US")
                page = ctx.new_page()
                page.goto(f"{base}/app/manifest.webmanifest")  # the origin, nothing of the app
                page.evaluate(SEED_IDB, [token, me])
                cdp = ctx.new_cdp_session(page)
                cdp.send("Network.enable")
                cdp.send("Network.emulateNetworkConditions", SLOW_4G)
                page.goto(f"{base}/app/")
                page.wait_for_function(drawn, polling="raf", timeout=30_000)
                cold.append(page.evaluate("performance.now()"))
                transferred.append(
                    page.evaluate(
                        "performance.getEntriesByType('resource').reduce((n, e) => n + e.transferSize, 0)"
                        " + performance.getEntriesByType('navigation')[0].transferSize"
                    )
                )
                cdp.send(
                    "Network.emulateNetworkConditions",
                    {**SLOW_4G, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
                )
                page.evaluate("navigator.serviceWorker.ready.then(() => true)")
                if not page.evaluate("navigator.serviceWorker.controller !== null"):
                    page.reload()
                    page.wait_for_function(drawn, polling="raf")
                ctx.set_offline(True)
                page.reload()
                page.wait_for_function(drawn, polling="raf", timeout=10_000)
                offline.append(page.evaluate("performance.now()"))
                ctx.close()
            cold, offline, transferred = cold[1:], offline[1:], transferred[1:]

            sync_runs = []
            for throttled in (False, True):
                tech_user, ids = seed(factory)
                tok = token_for(settings, tech_user, minutes=240)
                me2 = httpx.get(f"{base}/api/v1/users/me", headers={"Authorization": f"Bearer {tok}"}).json()
                ctx = browser.new_context(**PHONE, locale="en-US")
                page = ctx.new_page()
                page.goto(f"{base}/app/manifest.webmanifest")
                page.evaluate(SEED_IDB, [tok, me2])
                page.goto(f"{base}/app/")
                page.wait_for_function(drawn, polling="raf", timeout=30_000)
                ctx.set_offline(True)
                page.wait_for_selector("#net[data-state='offline']")
                photo_bytes = page.evaluate(FILL_OUTBOX, [ids[:OFFLINE_JOBS], me2["id"], 28.2, 112.95])
                page.reload()
                page.wait_for_selector("#outbox-chip[data-waiting='60']")
                posts: list[str] = []

                def record(r: Any, posts: list[str] = posts) -> None:
                    if r.method == "POST":
                        posts.append(r.url)

                page.on("request", record)
                if throttled:
                    cdp = ctx.new_cdp_session(page)
                    cdp.send("Network.enable")
                    cdp.send("Network.emulateNetworkConditions", SLOW_4G)
                start = time.perf_counter()
                ctx.set_offline(False)
                page.wait_for_selector("#outbox-chip[data-waiting='0']", timeout=300_000)
                elapsed = time.perf_counter() - start
                refused = page.get_attribute("#outbox-chip", "data-refused")
                with factory() as s:
                    events = s.scalar(select(func.count()).select_from(JobEvent).where(JobEvent.visit_id.in_(ids)))
                    photos = s.scalar(select(func.count()).select_from(JobPhoto).where(JobPhoto.visit_id.in_(ids)))
                sync_runs.append(
                    {
                        "network": "slow 4G" if throttled else "unthrottled (loopback)",
                        "seconds": round(elapsed, 1),
                        "sync_batches": sum(1 for u in posts if u.endswith("/me/sync")),
                        "photo_uploads": sum(1 for u in posts if u.endswith("/photos")),
                        "photo_kb": round(photo_bytes / 1024),
                        "refused": int(refused or 0),
                        "server_events": events,
                        "server_photos": photos,
                    }
                )
                ctx.close()
            browser.close()

        result = {
            "shell": shell_size(),
            "cold_start_slow_4g_ms": {
                "median": round(statistics.median(cold)),
                "max": round(max(cold)),
                "transferred_kb": round(statistics.median(transferred) / 1024, 1),
            },
            "start_offline_ms": {"median": round(statistics.median(offline)), "max": round(max(offline))},
            "outbox_sync": sync_runs,
            "jobs": JOBS,
            "runs": args.runs,
            "load_average_1m": round(os.getloadavg()[0], 1),
            "cpus": os.cpu_count(),
        }
        print(json.dumps(result, indent=2))
        if args.write_docs:
            write_docs(result)
    finally:
        if server is not None:
            server.terminate()
            server.wait(15)
        destroy_postgres(pg)


def write_docs(r: dict[str, Any]) -> None:
    path = ROOT / "docs" / "benchmarks.md"
    text = path.read_text()
    sh, cold, off = r["shell"], r["cold_start_slow_4g_ms"], r["start_offline_ms"]
    sync_rows = "\n".join(
        f"| {s['network']} | {s['seconds']} s | {s['sync_batches']} | {s['photo_uploads']} | {s['photo_kb']} KB |"
        f" {s['server_events']} events, {s['server_photos']} photos, {s['refused']} refused |"
        for s in r["outbox_sync"]
    )
    shell_cell = (
        f"**{sh['js_gzip6_kb']} KB** ({sh['js_raw_kb']} KB raw, {sh['js_gzip9_kb']} KB at level 9;"
        f" CSS {sh['css_gzip6_kb']} KB, page {sh['html_gzip6_kb']} KB)"
    )
    cold_cell = f"**{cold['median']} ms** median, {cold['max']} ms max ({cold['transferred_kb']} KB transferred)"
    off_cell = f"**{off['median']} ms** median, {off['max']} ms max"
    section = f"""## Technician app

The phone app at `/app` (issue 21), measured by `bench/app.py` in Debian's Chromium with phone emulation
(360 × 740, touch, mobile user agent) against `onsite24 serve` in its own process; {r["jobs"]} open jobs,
{r["runs"]} runs (the first dropped), 1-minute load average {r["load_average_1m"]} on {r["cpus"]} cores.

| | target | measured |
|---|---|---|
| App shell JavaScript, gzipped as served (level 6) | ≤ 200 KB | {shell_cell} |
| Cold start on "Slow 4G" → {r["jobs"]} jobs drawn | ≤ 2 s | {cold_cell} |
| Start with no network (service worker, IndexedDB) → jobs drawn | instant | {off_cell} |

Cold start: a phone with the sign-in stored and nothing else (no HTTP cache, no service worker, no saved
jobs), throttled with the DevTools protocol to Chromium's "Slow 4G" preset (562.5 ms round trip,
1.44 Mbit/s down, 675 kbit/s up); navigation start until the list shows every job (polled each frame). Two
round trips make most of it: the page, then the script and — asked for by a small inline script in the page
while the bundle downloads — the job list and the app's configuration, in parallel. Start with no network:
the same phone after its first visit, network off, reload; drawn from the service worker's cache and
IndexedDB (the rest is Chromium starting the page on a loaded machine).

An offline day's outbox — 10 jobs each with accept, en route, a position, on site, a 1600 × 1200 photo and
the completed report naming that photo (50 events, 10 photos) — synced when the network comes back, with no
tap:

| network | until the outbox is empty | sync batches | photo uploads | photos | on the server |
|---|---|---|---|---|---|
{sync_rows}

The events go in one batch (the reports that name a photo wait for it), the photos two at a time, then one
batch with the reports. On slow 4G the time is the photos' upload at 675 kbit/s.

Reproduce: `make bench-app` (or `.venv/bin/python bench/app.py --runs 10 --write-docs`).
"""
    marker = "## Technician app"
    if marker in text:
        head, _, rest = text.partition(marker)
        tail = rest.split("\n## ", 1)
        text = head + section + ("\n## " + tail[1] if len(tail) > 1 else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text)


if __name__ == "__main__":
    main()
