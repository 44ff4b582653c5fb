"""End-to-end soak: a simulated working day at 10× speed against the real processes, with optional faults.

What runs (all on this machine, all started here and stopped at the end):

- its OWN PostgreSQL cluster (the test harness's `initdb` on a free port) and its OWN Mosquitto with the
  product's config (`device_gateway.broker.write_config`, plus a simulator account);
- the product as real subprocesses, each restarted by a small supervisor when it dies (as systemd or compose
  would): two `onsite24 serve` API processes (the clients round-robin between them, like a load balancer, and
  fail over when one is down), `onsite24 gateway` and `onsite24 worker`;
- the load, in this process: 1,000 devices publishing alarms (the `onsite24 devices simulate` library's `Fleet`,
  mixed scenario: raise, repeat, clear, flap, drop off the network), agents creating phone/web complaints through
  the HTTP API, 40 technicians as scripted HTTP clients (accept, travel, arrive, complete; a quarter of them
  offline, sending en-route and arrival later as one sync batch), customers confirming through the confirmation
  link, and a dispatcher polling the board APIs and acknowledging half of the escalations.

10× speed: the policy's clocks (promise, escalation ladders, notice clocks), the routing speed and service times
are scaled by `--speed` through a policy overlay file (ONSITE24_POLICY_FILE), and the technicians travel and work
for the planned (scaled) durations. A "day" is `--hours` simulated hours (default 8) → 48 min of wall time.

At the end every record the load sent is reconciled against the database (alarms acknowledged by the broker,
complaints answered 201, technician events answered 200 or synced, confirmations answered 201), every escalation
ladder is checked (no step twice, none due and skipped), and every ticket's status against its audit trail.

    python bench/soak.py                         # the full day at 10× (~50 min)
    python bench/soak.py --hours 1 --faults      # 6 min with gateway/worker/API kills and DB/broker restarts
    python bench/soak.py --hours 8 --faults --write-docs
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import random
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import psycopg  # noqa: E402
from sqlalchemy import create_engine, insert  # noqa: E402

from device_gateway.broker import write_config  # noqa: E402
from device_gateway.simulate import Fleet, SimDevice, SimStats, acknowledged  # noqa: E402
from dispatch.core.auth import Principal, create_access_token, hash_password  # noqa: E402
from dispatch.core.migrate import upgrade  # noqa: E402
from dispatch.core.settings import Settings  # noqa: E402
from dispatch.core.types import Role  # noqa: E402
from dispatch.domain import escalation as ladder_rules  # noqa: E402
from dispatch.domain.policy import Grade, load_policy  # noqa: E402
from tests.harness.broker import MosquittoBroker  # noqa: E402
from tests.harness.net import free_port  # noqa: E402
from tests.harness.postgres import PostgresServer, destroy_postgres, start_postgres  # noqa: E402

SIM_USER = "onsite24-simulator"
EQUIPMENT_TYPES = ["tower_crane", "construction_hoist", "elevator", "base_station", "facility"]
CENTRE = (28.20, 112.95)  # Changsha; sites within ±0.22° (about 50 × 50 km)
SPREAD = 0.22


def log(msg: str) -> None:
    print(f"[soak {datetime.now(UTC):%H:%M:%S}] {msg}", flush=True)


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


# --- the scaled policy ------------------------------------------------------------------------------------------


def scaled_policy(speed: float) -> str:
    """A policy overlay running every clock `speed` times faster (TOML); the rest is the packaged default."""
    base = tomllib.loads((ROOT / "dispatch" / "policy.toml").read_text())
    out: list[str] = [f"# Soak overlay: the default policy's clocks at {speed:g}× speed (bench/soak.py)"]

    def table(name: str, values: dict[str, Any]) -> None:
        out.append(f"[{name}]")
        out.extend(f"{k} = {json.dumps(v)}" for k, v in values.items())

    promise = base["promise"]
    table("promise", {"hard_cap_hours": promise["hard_cap_hours"] / speed})
    table("promise.on_site_hours", {g: h / speed for g, h in promise["on_site_hours"].items()})
    clocks = {k: (v / speed if k != "return_visit_working_days" else v) for k, v in base["clocks"].items()}
    table("clocks", clocks)
    for grade, steps in base["escalation"]["ladders"].items():
        for step in steps:
            out.append(f"[[escalation.ladders.{grade}]]")
            out.extend(f"{k} = {json.dumps(v / speed if k == 'after_minutes' else v)}" for k, v in step.items())
    pre = dict(base["escalation"]["pre_breach"])
    pre["margin_minutes"] = pre["margin_minutes"] / speed
    table("escalation.pre_breach", pre)
    r = base["routing"]
    table(
        "routing",
        {
            "speed_kmh": r["speed_kmh"] * speed,
            "horizon_hours": r["horizon_hours"] / speed,
            "position_max_age_minutes": r["position_max_age_minutes"] / speed,
            "shift_tolerance_minutes": r["shift_tolerance_minutes"] / speed,
        },
    )
    table("routing.service_minutes", {k: v / speed for k, v in r["service_minutes"].items()})
    return "\n".join(out) + "\n"


# --- HTTP with a client-side load balancer and per-endpoint figures ---------------------------------------------


@dataclass
class HttpStats:
    lock: threading.Lock = field(default_factory=threading.Lock)
    latency: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    status: dict[str, dict[int, int]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    transport_errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    server_errors: list[dict[str, Any]] = field(default_factory=list)

    def record(self, template: str, code: int, seconds: float, body: str, at: float) -> None:
        with self.lock:
            self.latency[template].append(seconds)
            self.status[template][code] += 1
            if code >= 500:
                self.server_errors.append({"t": at, "endpoint": template, "status": code, "body": body[:300]})

    def transport(self, template: str) -> None:
        with self.lock:
            self.transport_errors[template] += 1


class Http:
    """One client's connection to the API replicas: round robin, and on a refused connection the next replica."""

    def __init__(self, ctx: Soak, token: str | None = None) -> None:
        self.ctx = ctx
        self.client = httpx.Client(timeout=30.0, headers={"Authorization": f"Bearer {token}"} if token else {})
        self.turn = random.randrange(len(ctx.api_bases))

    def call(self, method: str, path: str, template: str, *, attempts: int = 8, **kwargs: Any) -> httpx.Response | None:
        """The response, or None when no replica answered after `attempts` tries (each retry is the same request,
        so callers must send an idempotency key or accept a possible duplicate, as a real client would)."""
        for attempt in range(attempts):
            self.turn += 1
            base = self.ctx.api_bases[self.turn % len(self.ctx.api_bases)]
            started = time.perf_counter()
            try:
                r = self.client.request(method, base + path, **kwargs)
            except httpx.TransportError:
                self.ctx.http.transport(template)
                time.sleep(min(0.2 * (attempt + 1), 2.0))
                continue
            self.ctx.http.record(
                template,
                r.status_code,
                time.perf_counter() - started,
                r.text if r.status_code >= 500 else "",
                time.monotonic() - self.ctx.t0,
            )
            if r.status_code == 503 and attempt < attempts - 1:
                # Unavailable (the database restarting): back off and try again, as a client should.
                time.sleep(min(0.5 * (attempt + 1), 3.0))
                continue
            return r
        return None


# --- the processes ----------------------------------------------------------------------------------------------


@dataclass
class Proc:
    name: str
    argv: list[str]
    log: Path
    popen: subprocess.Popen[bytes] | None = None
    starts: int = 0
    started_at: float = 0.0


class Supervisor:
    """Starts the product's processes and restarts any that dies, one second later (like systemd/compose)."""

    def __init__(self, env: dict[str, str], directory: Path) -> None:
        self.env = env
        self.dir = directory
        self.procs: dict[str, Proc] = {}
        self.stopping = threading.Event()
        self.restarts: list[tuple[float, str, int | None]] = []
        self.t0 = time.monotonic()

    def add(self, name: str, argv: list[str]) -> None:
        self.procs[name] = Proc(name, argv, self.dir / f"{name}.log")
        self._start(self.procs[name])

    def _start(self, p: Proc) -> None:
        out = p.log.open("ab")
        p.popen = subprocess.Popen(
            [sys.executable, "-m", "dispatch", *p.argv], cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT
        )
        p.starts += 1
        p.started_at = time.monotonic()

    def watch(self) -> None:
        while not self.stopping.wait(0.5):
            for p in self.procs.values():
                if p.popen is not None and p.popen.poll() is not None and not self.stopping.is_set():
                    self.restarts.append((time.monotonic() - self.t0, p.name, p.popen.returncode))
                    time.sleep(1.0)
                    self._start(p)

    def kill(self, name: str) -> int:
        p = self.procs[name]
        assert p.popen is not None
        pid = p.popen.pid
        os.kill(pid, signal.SIGKILL)
        return pid

    def stop_all(self) -> None:
        self.stopping.set()
        for p in self.procs.values():
            if p.popen is not None and p.popen.poll() is None:
                p.popen.terminate()
        for p in self.procs.values():
            if p.popen is None:
                continue
            try:
                p.popen.wait(20)
            except subprocess.TimeoutExpired:
                p.popen.kill()


# --- /proc sampling ---------------------------------------------------------------------------------------------

_TICK = os.sysconf("SC_CLK_TCK")


def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = defaultdict(list)
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        kids[ppid].append(int(entry))
    return kids


def _tree(pid: int, kids: dict[int, list[int]]) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def _usage(pids: list[int]) -> tuple[float, float]:
    """(CPU seconds, RSS MiB) summed over the processes."""
    cpu = rss = 0.0
    for p in pids:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            cpu += (int(fields[11]) + int(fields[12])) / _TICK
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    rss += int(line.split()[1]) / 1024
        except (OSError, IndexError, ValueError):
            continue
    return cpu, rss


# --- the soak ---------------------------------------------------------------------------------------------------


class SoakFleet(Fleet):
    """The simulator's fleet, remembering every alarm it publishes (for the reconciliation)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sent: list[tuple[str, str, str, Any]] = []  # device, alarm id, state, MQTTMessageInfo
        self.reconnects = 0

    def publish(self, i: int, topic: str, payload: bytes, *, retain: bool = False) -> None:
        super().publish(i, topic, payload, retain=retain)
        if topic.endswith("/alarms"):
            body = json.loads(payload)
            self.sent.append((self.states[i].device.device_id, str(body["alarm_id"]), body["at"], self.pending[-1]))


class Soak:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.rng = random.Random(args.seed)
        self.duration = args.hours * 3600 / args.speed
        self.dir = Path(tempfile.mkdtemp(prefix="onsite24-soak-"))
        self.stop = threading.Event()
        self.http = HttpStats()
        self.t0 = time.monotonic()
        self.api_bases: list[str] = []
        self.confirm_queue: queue.Queue[tuple[float, str, int]] = queue.Queue()
        self.lock = threading.Lock()
        # What the load sent and what the server answered, for the reconciliation.
        self.complaints: dict[str, dict[str, Any]] = {}  # marker → {"status", "report_id", "ticket_id"}
        self.events: dict[tuple[int, str], dict[str, Any]] = {}  # (technician id, key) → outcome
        self.confirmations: dict[int, int] = {}  # ticket id → HTTP status of the confirmation
        self.acknowledged: set[int] = set()
        self.completed_jobs = 0
        self.faults: list[dict[str, Any]] = []
        self.readyz: list[tuple[float, str, int]] = []  # (t, base, status; 0 = no answer)
        self.samples: list[dict[str, Any]] = []
        self.sim_stats = SimStats()
        self.fleet: SoakFleet | None = None

    def now(self) -> float:
        return time.monotonic() - self.t0

    # --- setup ---------------------------------------------------------------------------------------------------
    def setup(self) -> None:
        a = self.args
        log(f"working directory {self.dir}")
        self.pg: PostgresServer = start_postgres()
        self.pg.execute("CREATE DATABASE soak")
        self.pg.execute("CREATE EXTENSION postgis", database="soak")
        self.db_url = self.pg.url("soak")
        self.dsn = self.pg.dsn("soak")
        upgrade(self.db_url)
        self.policy_file = self.dir / "policy.toml"
        self.policy_file.write_text(scaled_policy(a.speed))
        self.policy = load_policy(self.policy_file)
        self.secret = secrets.token_urlsafe(48)
        self.seed()
        broker_dir = self.dir / "mqtt"
        port = free_port()
        self.gw_password, self.sim_password = secrets.token_hex(16), secrets.token_hex(16)
        write_config(
            broker_dir,
            port=port,
            gateway_user="onsite24-gateway",
            gateway_password=self.gw_password,
            simulator_user=SIM_USER,
            simulator_password=self.sim_password,
        )
        self.broker = MosquittoBroker(broker_dir, port, "onsite24-gateway", self.gw_password)
        self.broker.start()
        ports = [free_port() for _ in range(a.apis)]
        self.api_bases = [f"http://127.0.0.1:{p}" for p in ports]
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "ONSITE24_ENVIRONMENT": "production",
            "ONSITE24_SECRET_KEY": self.secret,
            "ONSITE24_DATABASE_URL": self.db_url,
            "ONSITE24_MQTT_URL": f"mqtt://127.0.0.1:{port}",
            "ONSITE24_MQTT_USERNAME": "onsite24-gateway",
            "ONSITE24_MQTT_PASSWORD": self.gw_password,
            "ONSITE24_POLICY_FILE": str(self.policy_file),
            "ONSITE24_PUBLIC_BASE_URL": self.api_bases[0],
            "ONSITE24_UPLOAD_DIR": str(self.dir / "uploads"),
            "ONSITE24_LOG_LEVEL": "INFO",
            # A lone gateway may subscribe plainly, which Mosquitto restores after a restart (shared ones it does not).
            "ONSITE24_GATEWAY_SHARED_SUBSCRIPTION": "false" if a.plain_subscription else "true",
        }
        self.settings = Settings(
            environment="production",
            secret_key=self.secret,
            database_url=self.db_url,
            mqtt_url=env["ONSITE24_MQTT_URL"],
        )
        self.sup = Supervisor(env, self.dir)
        for i, p in enumerate(ports):
            self.sup.add(f"api{i + 1}", ["serve", "--host", "127.0.0.1", "--port", str(p)])
        for i in range(a.gateways):
            self.sup.add(f"gateway{i + 1}", ["gateway", "--client-id", f"soak-gateway-{i + 1}"])
        for i in range(a.workers):
            self.sup.add(f"worker{i + 1}", ["worker"])
        self.wait_ready()

    def seed(self) -> None:
        """Depots, technicians with shifts over the whole run, customers, sites, 1,000 devices and other equipment."""
        a, rng = self.args, self.rng
        from dispatch.models import Customer, Depot, Equipment, Site, Technician, TechnicianShift, User

        engine = create_engine(self.db_url)
        now = datetime.now(UTC)
        pw = hash_password(secrets.token_hex(8))  # nobody logs in with it: tokens are minted below
        n_units = a.devices + a.other_equipment
        with engine.begin() as conn:
            conn.execute(
                insert(Depot),
                [
                    {
                        "name": n,
                        "kind": "service_centre",
                        "region": "changsha",
                        "location": f"SRID=4326;POINT({lon} {lat})",
                    }
                    for n, lat, lon in (("Changsha centre", 28.23, 112.94), ("Zhuzhou centre", 28.05, 113.10))
                ],
            )
            conn.execute(
                insert(Customer),
                [{"name": f"Customer {i}", "phone": f"1390000{i:04d}", "language": "zh-CN"} for i in range(200)],
            )
            self.sites: list[tuple[float, float]] = [
                (CENTRE[0] + rng.uniform(-SPREAD, SPREAD), CENTRE[1] + rng.uniform(-SPREAD, SPREAD)) for _ in range(600)
            ]
            conn.execute(
                insert(Site),
                [
                    {
                        "customer_id": 1 + i % 200,
                        "name": f"Site {i}",
                        "address": f"{i} Furong Road, Changsha",
                        "region": "changsha",
                        "timezone": "Asia/Shanghai",
                        "location": f"SRID=4326;POINT({lon} {lat})",
                        "access_hours": {},
                        "contact_name": f"Site manager {i}",
                        "contact_phone": f"1380000{i:04d}",
                    }
                    for i, (lat, lon) in enumerate(self.sites)
                ],
            )
            self.units: list[tuple[int, str, str | None]] = []  # (equipment id, type, device id)
            rows = []
            for i in range(n_units):
                etype = EQUIPMENT_TYPES[i % len(EQUIPMENT_TYPES)]
                device = f"soak-{i:05d}" if i < a.devices else None
                rows.append(
                    {
                        "site_id": 1 + i % len(self.sites),
                        "equipment_type": etype,
                        "model": "ZJ5510" if etype == "tower_crane" else "M-1",
                        "serial_number": f"SOAK-{i:06d}",
                        "device_id": device,
                    }
                )
                self.units.append((i + 1, etype, device))
            conn.execute(insert(Equipment), rows)
            techs = []
            for i in range(a.technicians):
                # Every type is covered by at least 16 technicians: each knows two neighbouring types.
                skills = [EQUIPMENT_TYPES[i % 5], EQUIPMENT_TYPES[(i + 1) % 5]]
                techs.append(
                    {
                        "name": f"Tech {i + 1}",
                        "home_depot_id": 1 + i % 2,
                        "skills": skills,
                        "certifications": [],
                        "is_active": True,
                    }
                )
            conn.execute(insert(Technician), techs)
            conn.execute(
                insert(TechnicianShift),
                [
                    {
                        "technician_id": t + 1,
                        "starts_at": now - timedelta(hours=1),
                        "ends_at": now + timedelta(seconds=self.duration) + timedelta(hours=3),
                    }
                    for t in range(a.technicians)
                ],
            )
            users = [
                {
                    "username": f"tech{i + 1}",
                    "full_name": f"Tech {i + 1}",
                    "password_hash": pw,
                    "role": "technician",
                    "technician_id": i + 1,
                    "language": "zh-CN",
                    "is_active": True,
                }
                for i in range(a.technicians)
            ]
            users += [
                {
                    "username": name,
                    "full_name": name,
                    "password_hash": pw,
                    "role": role,
                    "technician_id": None,
                    "language": "zh-CN",
                    "is_active": True,
                }
                for name, role in (("agent1", "agent"), ("agent2", "agent"), ("dispatcher1", "dispatcher"))
            ]
            conn.execute(insert(User), users)
        engine.dispose()
        minutes = int(self.duration / 60) + 24 * 60

        def token(user_id: int, username: str, role: Role, tech: int | None) -> str:
            return create_access_token(
                self.settings_for_tokens(), Principal(user_id, username, role, tech), minutes=minutes
            )

        self.tech_tokens = [token(i + 1, f"tech{i + 1}", Role.technician, i + 1) for i in range(a.technicians)]
        n = a.technicians
        self.agent_tokens = [token(n + 1, "agent1", Role.agent, None), token(n + 2, "agent2", Role.agent, None)]
        self.dispatcher_token = token(n + 3, "dispatcher1", Role.dispatcher, None)

    def settings_for_tokens(self) -> Settings:
        return Settings(environment="production", secret_key=self.secret, access_token_minutes=24 * 60)

    def wait_ready(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        pending = set(self.api_bases)
        while pending and time.monotonic() < deadline:
            for base in list(pending):
                try:
                    if httpx.get(base + "/readyz", timeout=2).status_code == 200:
                        pending.discard(base)
                except httpx.TransportError:
                    pass
            time.sleep(0.3)
        if pending:
            raise RuntimeError(f"API not ready: {pending}; see {self.dir}")
        gw_logs = [p.log for n, p in self.sup.procs.items() if n.startswith("gateway")]
        while time.monotonic() < deadline:
            if all(lg.exists() and " subscribed" in lg.read_text(errors="replace") for lg in gw_logs):
                return
            time.sleep(0.3)
        raise RuntimeError("gateway did not subscribe")

    # --- load: devices --------------------------------------------------------------------------------------------
    def devices(self) -> None:
        a = self.args
        sims = [
            SimDevice(device_id=d, equipment_type=t, username=SIM_USER, password=self.sim_password)
            for _id, t, d in self.units
            if d is not None
        ]
        settings = Settings(environment="test", mqtt_url=f"mqtt://127.0.0.1:{self.broker.port}")
        fleet = SoakFleet(settings, sims, seed=a.seed)
        self.fleet = fleet
        fleet.connect(timeout=60)
        rate = a.devices * a.alarms_per_device_hour * a.speed / 3600  # messages per wall second
        log(f"{len(sims)} devices connected; publishing {rate:.1f} messages/s")
        started = time.monotonic()
        n = 0
        last_misc = started
        while not self.stop.is_set():
            now = time.monotonic()
            due = int((now - started) * rate) + 1 - n
            for _ in range(max(0, min(due, 200))):
                fleet.step(fleet.rng.randrange(len(fleet.states)), "mixed", self.sim_stats)
                n += 1
            fleet.pump(0.0 if due > 0 else 0.01)
            if now - last_misc >= 1.0:
                fleet.misc()
                fleet.reconnects += fleet.heal()
                last_misc = now
        # Let paho deliver what is still in flight (devices keep their unacknowledged messages and resend them).
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            fleet.reconnects += fleet.heal()
            fleet.flush(2)
            if all(acknowledged(info) for *_x, info in fleet.sent):
                break
        fleet.close()

    # --- load: agents ---------------------------------------------------------------------------------------------
    def agent(self, index: int, count: int) -> None:
        http = Http(self, self.agent_tokens[index])
        rng = random.Random(self.args.seed * 100 + index)
        gap = self.duration / max(count, 1)
        for k in range(count):
            if self.stop.wait(rng.expovariate(1 / gap)):
                return
            _eid, etype, _dev = unit = self.units[rng.randrange(len(self.units))]
            marker = f"soak-c{index}-{k}"
            roll = rng.random()
            impact: dict[str, Any] = {"degraded": True}
            category = rng.choice(["equipment", "equipment", "service_quality", "service_attitude"])
            if roll < 0.08:
                impact = {"people_trapped": True} if etype == "elevator" else {"safety_risk": True}
                category = "emergency" if etype == "elevator" else "equipment"
            elif roll < 0.33:
                impact = {"equipment_down": True}
            body = {
                "channel": rng.choice(["phone", "web"]),
                "equipment_id": unit[0],
                "reporter_name": f"Caller {k}",
                "reporter_phone": f"1370000{k % 10000:04d}",
                "category": category,
                "symptom": f"{marker}: {rng.choice(['gearbox noise', 'door does not close', 'no power', 'slow'])}",
                "impact": impact,
            }
            r = http.call("POST", "/api/v1/complaints", "POST /api/v1/complaints", json=body)
            with self.lock:
                self.complaints[marker] = {
                    "status": r.status_code if r is not None else 0,
                    "report_id": r.json()["intake"]["report_id"] if r is not None and r.status_code == 201 else None,
                }

    # --- load: technicians ----------------------------------------------------------------------------------------
    def technician(self, index: int) -> None:
        tech_id = index + 1
        http = Http(self, self.tech_tokens[index])
        rng = random.Random(self.args.seed * 1000 + index)
        offline = index % 4 == 3
        pos = (28.23, 112.94) if index % 2 == 0 else (28.05, 113.10)
        poll = max(1.0, 30 / self.args.speed)
        refused: dict[int, int] = defaultdict(int)  # job id -> events the server refused (409); 3 = leave it
        while not self.stop.is_set():
            r = http.call("GET", "/api/v1/me/jobs?limit=20", "GET /api/v1/me/jobs")
            jobs = r.json()["items"] if r is not None and r.status_code == 200 else []
            job = next(
                (
                    j
                    for j in jobs
                    if {"accept", "en_route", "arrived", "completed"} & set(j["allowed_actions"])
                    and refused.get(j["id"], 0) < 3
                ),
                None,
            )
            if job is None:
                self.stop.wait(poll * rng.uniform(0.7, 1.3))
                continue
            before = self._refusals(tech_id)
            allowed = set(job["allowed_actions"])
            site = (job["site"]["lat"], job["site"]["lon"]) if job.get("site") else pos
            if "accept" in allowed:
                self.event(http, tech_id, job, {"kind": "accept"})
            elif "en_route" in allowed:
                travel = self.travel_seconds(job, pos, site)
                if offline:
                    # No signal on the way: both events are queued on the phone and sent as one batch on site.
                    left = datetime.now(UTC)
                    if self.stop.wait(travel):
                        return
                    batch = [
                        {
                            "idempotency_key": uuid.uuid4().hex,
                            "job_id": job["id"],
                            "kind": "en_route",
                            "device_at": left.isoformat(),
                            "position": {"lat": pos[0], "lon": pos[1]},
                        },
                        {
                            "idempotency_key": uuid.uuid4().hex,
                            "job_id": job["id"],
                            "kind": "arrived",
                            "device_at": datetime.now(UTC).isoformat(),
                            "position": {"lat": site[0], "lon": site[1]},
                        },
                    ]
                    self.sync(http, tech_id, batch)
                else:
                    pos_body = {"lat": pos[0], "lon": pos[1]}
                    if self.event(
                        http, tech_id, job, {"kind": "en_route", "position": pos_body}
                    ) and not self.stop.wait(travel):
                        self.event(
                            http, tech_id, job, {"kind": "arrived", "position": {"lat": site[0], "lon": site[1]}}
                        )
                pos = site
            elif "arrived" in allowed:
                self.event(http, tech_id, job, {"kind": "arrived", "position": {"lat": site[0], "lon": site[1]}})
                pos = site
            elif "completed" in allowed:
                if self.stop.wait(self.work_seconds(job) * rng.uniform(0.7, 1.1)):
                    return
                report = {
                    "cause_found": "worn part",
                    "work_done": "replaced and tested",
                    "parts_used": [],
                    "minutes_spent": 60,
                    "follow_up_needed": False,
                }
                answer = self.event(http, tech_id, job, {"kind": "completed", "report": report})
                if answer and answer.get("confirmation"):
                    with self.lock:
                        self.completed_jobs += 1
                    due = time.monotonic() + rng.uniform(3, 20)
                    self.confirm_queue.put((due, answer["confirmation"]["url"], job["ticket_id"]))
            if self._refusals(tech_id) > before:
                refused[job["id"]] += 1

    def _refusals(self, tech_id: int) -> int:
        with self.lock:
            return sum(
                1
                for (t, _k), v in self.events.items()
                if t == tech_id and (v["status"] == 409 or v.get("sync") == "conflict")
            )

    def travel_seconds(self, job: dict[str, Any], pos: tuple[float, float], site: tuple[float, float]) -> float:
        """The planned (scaled) drive, or distance at the scaled speed; between 1 s and 3 min of wall time."""
        km = ((pos[0] - site[0]) ** 2 + ((pos[1] - site[1]) * 0.88) ** 2) ** 0.5 * 111 * 1.35
        seconds = km / (40 * self.args.speed) * 3600
        return min(max(seconds, 1.0), 180.0)

    def work_seconds(self, job: dict[str, Any]) -> float:
        start, end = job.get("planned_start_at"), job.get("planned_end_at")
        if start and end:
            return min(max((datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds(), 5.0), 900.0)
        return 60 * 90 / self.args.speed

    def event(self, http: Http, tech_id: int, job: dict[str, Any], body: dict[str, Any]) -> dict[str, Any] | None:
        key = uuid.uuid4().hex
        r = http.call(
            "POST",
            f"/api/v1/jobs/{job['id']}/events",
            "POST /api/v1/jobs/{id}/events",
            json=body,
            headers={"Idempotency-Key": key},
        )
        with self.lock:
            self.events[(tech_id, key)] = {"status": r.status_code if r is not None else 0, "kind": body["kind"]}
        return r.json() if r is not None and r.status_code == 200 else None

    def sync(self, http: Http, tech_id: int, batch: list[dict[str, Any]]) -> None:
        r = http.call("POST", "/api/v1/me/sync", "POST /api/v1/me/sync", json={"events": batch})
        results = (
            {x["idempotency_key"]: x["status"] for x in r.json()["results"]}
            if r is not None and r.status_code == 200
            else {}
        )
        with self.lock:
            for e in batch:
                self.events[(tech_id, e["idempotency_key"])] = {
                    "status": 200 if e["idempotency_key"] in results else (r.status_code if r is not None else 0),
                    "kind": e["kind"],
                    "sync": results.get(e["idempotency_key"]),
                }

    # --- load: customers and the dispatcher -------------------------------------------------------------------------
    def customer(self) -> None:
        http = Http(self)
        signature = _signature()
        rng = random.Random(self.args.seed + 7)
        while not (self.stop.is_set() and self.confirm_queue.empty()):
            try:
                due, url, ticket_id = self.confirm_queue.get(timeout=0.5)
            except queue.Empty:
                continue
            wait = due - time.monotonic()
            if wait > 0 and not self.stop.is_set():
                time.sleep(min(wait, 20))
            path = "/confirm/" + url.rsplit("/confirm/", 1)[1]
            http.call("GET", path, "GET /confirm/{token}")
            happy = rng.random() < 0.9
            body = {
                "satisfied": happy,
                **{
                    d: (rng.randint(3, 5) if happy else 2)
                    for d in ("quality", "speed", "attitude", "accurate_information", "safety")
                },
                "comment": "soak",
                "signer_name": "Li Wei",
                "signer_role": "site manager",
                "signature": signature,
            }
            r = http.call("POST", path, "POST /confirm/{token}", json=body, headers={"Accept": "application/json"})
            with self.lock:
                self.confirmations[ticket_id] = r.status_code if r is not None else 0

    def dispatcher(self) -> None:
        http = Http(self, self.dispatcher_token)
        rng = random.Random(self.args.seed + 11)
        reads = [
            ("/api/v1/board/queue/groups", "GET /api/v1/board/queue/groups"),
            ("/api/v1/board/schedule", "GET /api/v1/board/schedule"),
            ("/api/v1/board/map", "GET /api/v1/board/map"),
            ("/api/v1/plans/live", "GET /api/v1/plans/live"),
            ("/api/v1/reports/on-time", "GET /api/v1/reports/on-time"),
            ("/api/v1/tickets?limit=50", "GET /api/v1/tickets"),
        ]
        n = 0
        while not self.stop.wait(max(0.5, 20 / self.args.speed)):
            path, template = reads[n % len(reads)]
            http.call("GET", path, template)
            n += 1
            if n % 3 == 0:
                r = http.call("GET", "/api/v1/escalations", "GET /api/v1/escalations")
                if r is not None and r.status_code == 200:
                    for e in r.json():
                        if (
                            e["acknowledged_at"] is None
                            and e["ticket_id"] not in self.acknowledged
                            and rng.random() < 0.5
                        ):
                            a = http.call(
                                "POST",
                                f"/api/v1/escalations/{e['ticket_id']}/acknowledge",
                                "POST /api/v1/escalations/{id}/acknowledge",
                                json={"note": "on it"},
                            )
                            if a is not None and a.status_code == 200:
                                self.acknowledged.add(e["ticket_id"])

    # --- observation ----------------------------------------------------------------------------------------------
    def probe(self) -> None:
        client = httpx.Client(timeout=2.0)
        while not self.stop.wait(0.5):
            for base in self.api_bases:
                try:
                    code = client.get(base + "/readyz").status_code
                except httpx.TransportError:
                    code = 0
                self.readyz.append((self.now(), base, code))

    def sampler(self) -> None:
        prev: dict[str, tuple[float, float]] = {}
        while True:
            kids = _children()
            sample: dict[str, Any] = {"t": self.now(), "load": os.getloadavg()[0]}
            roots: dict[str, int] = {n: p.popen.pid for n, p in self.sup.procs.items() if p.popen is not None}
            pg_pid = self._postmaster()
            if pg_pid:
                roots["postgres"] = pg_pid
            if self.broker.process is not None:
                roots["mosquitto"] = self.broker.process.pid
            roots["load generator"] = os.getpid()
            for name, pid in roots.items():
                pids = _tree(pid, kids) if name != "load generator" else [pid]
                cpu, rss = _usage(pids)
                last = prev.get(name)
                cpu_pct = 100 * (cpu - last[0]) / (sample["t"] - last[1]) if last and sample["t"] > last[1] else None
                if last and cpu < last[0]:
                    cpu_pct = None  # the process was restarted
                prev[name] = (cpu, sample["t"])
                sample[name] = {"pid": pid, "rss": rss, "cpu_pct": cpu_pct}
            self.samples.append(sample)
            if self.stop.wait(5.0):
                return

    def _postmaster(self) -> int | None:
        try:
            return int((self.pg.directory / "data" / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    # --- faults ---------------------------------------------------------------------------------------------------
    def fault_injector(self) -> None:
        plan = [
            (0.15, "kill -9 gateway1", lambda: self.sup.kill("gateway1")),
            (0.25, "kill -9 worker1", lambda: self.sup.kill("worker1")),
            (0.35, "kill -9 api1", lambda: self.sup.kill("api1")),
            (0.50, "restart PostgreSQL (fast shutdown, 5 s down)", self.restart_postgres),
            (0.70, "restart Mosquitto (5 s down)", self.restart_broker),
        ]
        for at, what, action in plan:
            if self.stop.wait(max(0.0, at * self.duration - self.now())):
                return
            started = self.now()
            log(f"FAULT: {what}")
            action()
            self.faults.append({"what": what, "at": round(started, 1), "ended": round(self.now(), 1)})

    def restart_postgres(self) -> None:
        self.pg.stop("fast")
        time.sleep(5)
        self.pg.start()

    def restart_broker(self) -> None:
        self.broker.stop()
        time.sleep(5)
        self.broker.start()

    # --- run ------------------------------------------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        a = self.args
        self.setup()
        self.t0 = time.monotonic()
        self.sup.t0 = self.t0
        threads = [
            threading.Thread(target=self.sup.watch, name="supervisor", daemon=True),
            threading.Thread(target=self.sampler, name="sampler", daemon=True),
            threading.Thread(target=self.probe, name="readyz", daemon=True),
            threading.Thread(target=self.devices, name="devices", daemon=True),
            threading.Thread(target=self.dispatcher, name="dispatcher", daemon=True),
        ]
        threads += [threading.Thread(target=self.customer, name=f"customer{i}", daemon=True) for i in range(2)]
        # --complaints is per 8-hour day; a shorter day gets its share.
        total = round(a.complaints * a.hours / 8)
        per_agent = [total // 2 + (i < total % 2) for i in range(2)]
        threads += [threading.Thread(target=self.agent, args=(i, per_agent[i]), daemon=True) for i in range(2)]
        threads += [threading.Thread(target=self.technician, args=(i,), daemon=True) for i in range(a.technicians)]
        if a.faults:
            threads.append(threading.Thread(target=self.fault_injector, name="faults", daemon=True))
        log(f"load for {self.duration:.0f} s ({a.hours:g} h at {a.speed:g}×), faults {'on' if a.faults else 'off'}")
        for t in threads:
            t.start()
        next_report = 60.0
        while self.now() < self.duration:
            time.sleep(1)
            if self.now() >= next_report:
                next_report += 60
                with self.lock:
                    ok = sum(1 for c in self.complaints.values() if c["status"] == 201)
                log(
                    f"t={self.now():.0f}s alarms sent {len(self.fleet.sent) if self.fleet else 0}, complaints {ok}, "
                    f"completed jobs {self.completed_jobs}, confirmations {len(self.confirmations)}, "
                    f"load {os.getloadavg()[0]:.1f}"
                )
        self.stop.set()
        log("load stopped; draining")
        for t in threads:
            if t.name in ("devices", "customer0", "customer1"):
                t.join(120)
        self.settle()
        end_load = os.getloadavg()
        result = self.reconcile()
        result["load_average_end"] = [round(x, 2) for x in end_load]
        return result

    def settle(self) -> None:
        """Wait until the gateway has stored every acknowledged alarm and the worker has caught up (≤ 120 s)."""
        deadline = time.monotonic() + 120
        want = {(d, al) for d, al, _s, info in (self.fleet.sent if self.fleet else []) if acknowledged(info)}
        while time.monotonic() < deadline:
            with psycopg.connect(self.dsn) as conn:
                have = conn.execute("SELECT count(*) FROM alarms WHERE device_id LIKE 'soak-%%'").fetchone()[0]
            if have >= len(want):
                break
            time.sleep(1)
        # The worker catches up with the escalation steps that came due at the very end (≤ 120 s more).
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with psycopg.connect(self.dsn) as conn:
                due = conn.execute(
                    "SELECT count(*) FROM ticket_escalations WHERE next_check_at <= now() - interval '2 seconds'"
                ).fetchone()[0]
            if not due:
                break
            time.sleep(1)
        time.sleep(2)

    # --- reconciliation and figures --------------------------------------------------------------------------------
    def reconcile(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        with psycopg.connect(self.dsn) as conn:
            q = conn.execute
            # Alarms: every message the broker acknowledged is stored exactly once.
            sent = self.fleet.sent if self.fleet else []
            acked = {(d, al) for d, al, _s, info in sent if acknowledged(info)}
            unacked = {(d, al) for d, al, _s, info in sent if not acknowledged(info)}
            rows = q("SELECT device_id, alarm_id FROM alarms WHERE device_id LIKE 'soak-%%'").fetchall()
            stored = [(r[0], r[1]) for r in rows]
            stored_set = set(stored)
            out["alarms"] = {
                "published": len(sent),
                "acknowledged_by_broker": len(acked),
                "never_acknowledged": len(unacked),
                "never_acknowledged_but_stored": len(unacked & stored_set),
                "stored": len(stored),
                "lost": len(acked - stored_set),
                "duplicated": len(stored) - len(stored_set),
                "dead_letters": q("SELECT count(*) FROM dead_letters WHERE topic LIKE '%%/alarms'").fetchone()[0],
                "without_ticket": q(
                    "SELECT count(*) FROM alarms WHERE state = 'raised' AND ticket_id IS NULL"
                ).fetchone()[0],
                "device_reconnects": self.fleet.reconnects if self.fleet else 0,
                "lost_examples": sorted(
                    f"{at} {d} {al}" for d, al, at, info in sent if acknowledged(info) and (d, al) not in stored_set
                )[:20],
            }
            lat = [
                r[0]
                for r in q(
                    "SELECT extract(epoch FROM a.received_at) * 1000 - (a.data->>'sent_ns')::numeric / 1e6 "
                    "FROM alarms a WHERE a.ticket_id IS NOT NULL AND a.data ? 'sent_ns'"
                ).fetchall()
            ]
            lat = [float(x) for x in lat]
            out["alarm_to_ticket_ms"] = {
                "n": len(lat),
                "p50": pct(lat, 0.5),
                "p99": pct(lat, 0.99),
                "max": max(lat, default=None),
            }
            # Complaints: every 201 is a stored report, each marker once.
            reports = q(
                "SELECT id, substring(symptom from '^(soak-c[0-9]+-[0-9]+):') FROM ticket_reports "
                "WHERE symptom LIKE 'soak-c%%'"
            ).fetchall()
            by_marker: dict[str, int] = defaultdict(int)
            for _id, marker in reports:
                by_marker[marker] += 1
            ok = {m for m, c in self.complaints.items() if c["status"] == 201}
            failed = {m for m, c in self.complaints.items() if c["status"] != 201}
            out["complaints"] = {
                "sent": len(self.complaints),
                "answered_201": len(ok),
                "not_answered_201": len(failed),
                "stored": len(reports),
                "lost": len([m for m in ok if by_marker.get(m, 0) == 0]),
                "duplicated": sum(c - 1 for c in by_marker.values() if c > 1),
                "linked_to_open_ticket": q(
                    "SELECT count(*) FROM ticket_reports WHERE linked AND symptom LIKE 'soak-c%%'"
                ).fetchone()[0],
            }
            # Technician events: every answered event (live or synced) is stored once under its key.
            keys = q(
                "SELECT technician_id, idempotency_key FROM job_events WHERE idempotency_key IS NOT NULL"
            ).fetchall()
            key_count: dict[tuple[int, str], int] = defaultdict(int)
            for t, k in keys:
                key_count[(t, k)] += 1
            answered = {k for k, v in self.events.items() if v["status"] == 200}
            out["technician_events"] = {
                "sent": len(self.events),
                "answered_200": len(answered),
                "by_status": _count_by(v["status"] for v in self.events.values()),
                "synced": _count_by(v.get("sync") for v in self.events.values() if "sync" in v),
                "lost": len([k for k in answered if key_count.get(k, 0) == 0]),
                "duplicated": sum(c - 1 for c in key_count.values() if c > 1),
            }
            conf_rows = dict(q("SELECT ticket_id, count(*) FROM confirmations GROUP BY ticket_id").fetchall())
            ok_conf = [t for t, s in self.confirmations.items() if s == 201]
            out["confirmations"] = {
                "sent": len(self.confirmations),
                "answered_201": len(ok_conf),
                "by_status": _count_by(self.confirmations.values()),
                "lost": len([t for t in ok_conf if conf_rows.get(t, 0) == 0]),
                "stored": sum(conf_rows.values()),
            }
            # Every ticket's status is the last audited one.
            out["audit"] = {
                "tickets": q("SELECT count(*) FROM tickets").fetchone()[0],
                "status_differs_from_last_audit_row": q(
                    "SELECT count(*) FROM tickets t JOIN LATERAL (SELECT to_status FROM audit_log a "
                    "WHERE a.ticket_id = t.id ORDER BY a.id DESC LIMIT 1) last ON true "
                    "WHERE last.to_status <> t.status::text"
                ).fetchone()[0],
                "without_audit_row": q(
                    "SELECT count(*) FROM tickets t "
                    "WHERE NOT EXISTS (SELECT 1 FROM audit_log a WHERE a.ticket_id = t.id)"
                ).fetchone()[0],
            }
            out["escalation"] = self.check_ladders(conn)
            out["tickets"] = {
                "created": out["audit"]["tickets"],
                "by_channel": dict(q("SELECT channel::text, count(*) FROM tickets GROUP BY 1").fetchall()),
                "by_status": dict(q("SELECT status::text, count(*) FROM tickets GROUP BY 1").fetchall()),
                "closed_or_confirmed": q(
                    "SELECT count(*) FROM tickets WHERE status IN ('confirmed', 'closed')"
                ).fetchone()[0],
                "resolved_by_device_clear": q(
                    "SELECT count(*) FROM tickets WHERE channel = 'device' AND status = 'resolved' "
                    "AND NOT EXISTS (SELECT 1 FROM visits v WHERE v.ticket_id = tickets.id)"
                ).fetchone()[0],
            }
            on_time = {}
            for grade, due, on_site_in_time, on_site_late, due_not_on_site in q(
                "SELECT grade::text, count(*) FILTER (WHERE due_on_site_at < now()), "
                "count(*) FILTER (WHERE on_site_at IS NOT NULL AND on_site_at <= due_on_site_at), "
                "count(*) FILTER (WHERE on_site_at > due_on_site_at), "
                "count(*) FILTER (WHERE on_site_at IS NULL AND due_on_site_at < now() "
                "  AND status NOT IN ('cancelled', 'resolved', 'confirmed', 'closed')) "
                "FROM tickets GROUP BY 1"
            ).fetchall():
                judged = on_site_in_time + on_site_late + due_not_on_site
                on_time[grade] = {
                    "due_during_run": due,
                    "on_site_in_time": on_site_in_time,
                    "on_site_late": on_site_late,
                    "deadline_passed_not_on_site": due_not_on_site,
                    "rate": round(on_site_in_time / judged, 3) if judged else None,
                }
            out["on_time_by_grade"] = on_time
            waits = [
                float(r[0])
                for r in q(
                    "SELECT extract(epoch FROM processed_at - created_at) FROM replan_requests "
                    "WHERE processed_at IS NOT NULL AND draft_plan_id IS NULL"
                ).fetchall()
            ]
            out["replan_request_wait_s"] = {"n": len(waits), "p50": pct(waits, 0.5), "p95": pct(waits, 0.95)}
        out["replan_solve"] = self.replan_from_logs()
        out["http"] = self.http_figures()
        out["readyz"] = self.readyz_figures()
        out["processes"] = self.process_figures()
        out["faults"] = self.faults
        out["restarts"] = [{"t": round(t, 1), "process": n, "exit": rc} for t, n, rc in self.sup.restarts]
        out["log_errors"] = self.log_errors()
        out["device_sim"] = self.sim_stats.__dict__ | {"by_kind": None}
        return out

    def check_ladders(self, conn: psycopg.Connection) -> dict[str, Any]:
        """No step fired twice (events unique and equal to fired_keys); no step due before the end left unfired."""
        now = conn.execute("SELECT now()").fetchone()[0] - timedelta(seconds=3)
        rows = conn.execute(
            "SELECT e.ticket_id, t.grade::text, e.started_at, e.acknowledged_at, e.resolved_at, e.fired_keys "
            "FROM ticket_escalations e JOIN tickets t ON t.id = e.ticket_id"
        ).fetchall()
        events: dict[int, list[str]] = defaultdict(list)
        for ticket_id, key in conn.execute("SELECT ticket_id, step_key FROM escalation_events").fetchall():
            events[ticket_id].append(key)
        twice = skipped = mismatch = fired = 0
        examples: list[str] = []
        for ticket_id, grade, started, acked, resolved, fired_keys in rows:
            keys = events.get(ticket_id, [])
            fired += len(keys)
            twice += len(keys) - len(set(keys))
            if set(keys) != set(fired_keys or []):
                mismatch += 1
            ladder = ladder_rules.ladder_for(Grade(grade), self.policy)
            missing = ladder_rules.due_steps(ladder, started, now, acked, set(keys), resolved)
            if missing:
                skipped += len(missing)
                if len(examples) < 5:
                    examples.append(f"ticket {ticket_id}: {[s.key for s in missing]}")
        lag = [
            float(r[0])
            for r in conn.execute("SELECT extract(epoch FROM fired_at - due_at) FROM escalation_events").fetchall()
        ]
        return {
            "ladders": len(rows),
            "fired_after_due_s": {"p50": pct(lag, 0.5), "p99": pct(lag, 0.99), "max": max(lag, default=None)},
            "steps_fired": fired,
            "fired_twice": twice,
            "due_but_not_fired": skipped,
            "events_differ_from_fired_keys": mismatch,
            "examples": examples,
            "acknowledged_by_dispatcher": len(self.acknowledged),
        }

    def replan_from_logs(self) -> dict[str, Any]:
        # "re-planned 359 visits (361 queued beyond the shifts) for 3 request(s) in 1.02s" (the queue part since
        # the live model was cut to what the shifts can hold; older logs lack it).
        pat = re.compile(
            r"re-planned (\d+) visits (?:\((\d+) queued beyond the shifts\) )?for (\d+) request\(s\) in ([0-9.]+)s"
        )
        solves: list[float] = []
        visits: list[int] = []
        queued: list[int] = []
        for name, p in self.sup.procs.items():
            if name.startswith("worker") and p.log.exists():
                for m in pat.finditer(p.log.read_text(errors="replace")):
                    visits.append(int(m.group(1)))
                    queued.append(int(m.group(2) or 0))
                    solves.append(float(m.group(4)))
        return {
            "replans": len(solves),
            "solve_p50_s": pct(solves, 0.5),
            "solve_p95_s": pct(solves, 0.95),
            "solve_max_s": max(solves, default=None),
            "visits_max": max(visits, default=None),
            "queued_max": max(queued, default=None),
        }

    def http_figures(self) -> dict[str, Any]:
        figures = {}
        for template, values in sorted(self.http.latency.items()):
            figures[template] = {
                "n": len(values),
                "p50_ms": round(1000 * pct(values, 0.5), 1),  # type: ignore[operator]
                "p99_ms": round(1000 * pct(values, 0.99), 1),  # type: ignore[operator]
                "status": dict(sorted(self.http.status[template].items())),
                "transport_errors": self.http.transport_errors.get(template, 0),
            }
        windows = [(f["at"] - 1, f["ended"] + 60) for f in self.faults]
        in_fault = [e for e in self.http.server_errors if any(lo <= e["t"] <= hi for lo, hi in windows)]
        return {
            "endpoints": figures,
            "5xx": len(self.http.server_errors),
            "5xx_within_60s_of_a_fault": len(in_fault),
            "5xx_by_status": _count_by(e["status"] for e in self.http.server_errors),
            "5xx_examples": self.http.server_errors[:8],
            "transport_errors": sum(self.http.transport_errors.values()),
        }

    def readyz_figures(self) -> dict[str, Any]:
        out = []
        for f in self.faults:
            seen = [(t, base, code) for t, base, code in self.readyz if f["at"] - 1 <= t <= f["ended"] + 90]
            not_ready = [(t, c) for t, _b, c in seen if c != 200]
            out.append(
                {
                    "fault": f["what"],
                    "probes": len(seen),
                    "503": sum(1 for _t, c in not_ready if c == 503),
                    "no_answer": sum(1 for _t, c in not_ready if c == 0),
                    "not_ready_for_s": round(not_ready[-1][0] - not_ready[0][0], 1) if not_ready else 0.0,
                    "ready_again_after_s": round(not_ready[-1][0] - f["at"], 1) if not_ready else 0.0,
                }
            )
        outside = [
            (t, c)
            for t, _b, c in self.readyz
            if c != 200 and not any(f["at"] - 1 <= t <= f["ended"] + 90 for f in self.faults)
        ]
        return {"per_fault": out, "not_ready_outside_faults": len(outside), "probes": len(self.readyz)}

    def process_figures(self) -> dict[str, Any]:
        names = [n for n in self.samples[-1] if isinstance(self.samples[-1][n], dict)] if self.samples else []
        out: dict[str, Any] = {}
        half = self.duration / 2
        for name in names:
            series = [(s["t"], s[name]) for s in self.samples if name in s]
            cpu = [x["cpu_pct"] for _t, x in series if x["cpu_pct"] is not None]
            rss = [x["rss"] for _t, x in series]
            # Memory trend over the last half of the run, on the process incarnation alive at the end.
            last_pid = series[-1][1]["pid"]
            tail = [(t, x["rss"]) for t, x in series if t >= half and x["pid"] == last_pid and t <= self.duration]
            slope = _slope(tail) * 3600 if len(tail) >= 4 else None
            out[name] = {
                "cpu_pct_mean": round(statistics.fmean(cpu), 1) if cpu else None,
                "cpu_pct_p95": round(pct(cpu, 0.95), 1) if cpu else None,  # type: ignore[arg-type]
                "rss_mib_start": round(rss[0], 1) if rss else None,
                "rss_mib_max": round(max(rss), 1) if rss else None,
                "rss_mib_end": round(rss[-1], 1) if rss else None,
                "rss_second_half_mib_per_hour": round(slope, 1) if slope is not None else None,
                "rss_second_half_first_last": [round(tail[0][1], 1), round(tail[-1][1], 1)] if tail else None,
            }
        loads = [s["load"] for s in self.samples]
        out["machine_load_average_1min"] = {
            "mean": round(statistics.fmean(loads), 2) if loads else None,
            "max": round(max(loads), 2) if loads else None,
        }
        return out

    def log_errors(self) -> dict[str, Any]:
        out = {}
        for name, p in self.sup.procs.items():
            text = p.log.read_text(errors="replace") if p.log.exists() else ""
            out[name] = {
                "tracebacks": text.count("Traceback"),
                "errors": len(re.findall(r" (ERROR|CRITICAL) ", text)),
                "starts": p.starts,
            }
        return out

    def teardown(self) -> None:
        self.stop.set()
        if hasattr(self, "sup"):
            self.sup.stop_all()
        if hasattr(self, "broker"):
            self.broker.stop()
        if hasattr(self, "pg"):
            if self.args.keep:
                log(f"kept: logs in {self.dir}; PostgreSQL stopped")
                self.pg.stop()
            else:
                destroy_postgres(self.pg)
        if not self.args.keep:
            shutil.rmtree(self.dir, ignore_errors=True)


def _signature() -> str:
    """A drawn signature as the confirmation page's canvas sends it (a PNG data URL with some ink)."""
    import base64
    import io

    from PIL import Image, ImageDraw

    img = Image.new("RGBA", (400, 150), (0, 0, 0, 0))
    ImageDraw.Draw(img).line([(20, 100), (80, 40), (140, 110), (220, 30), (360, 90)], fill=(11, 31, 77, 255), width=3)
    out = io.BytesIO()
    img.save(out, format="PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


def _count_by(values: Any) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for v in values:
        out[str(v)] += 1
    return dict(sorted(out.items()))


def _slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope (per second) of (t, value) points."""
    n = len(points)
    mt = sum(t for t, _ in points) / n
    mv = sum(v for _, v in points) / n
    den = sum((t - mt) ** 2 for t, _ in points)
    return sum((t - mt) * (v - mv) for t, v in points) / den if den else 0.0


def _ms(x: float | None) -> str:
    return "–" if x is None else f"{x:,.0f} ms" if x >= 10 else f"{x:.1f} ms"


def _yes(ok: bool) -> str:
    return "met" if ok else "**NOT met**"


def render(r: dict[str, Any]) -> str:
    """The figures of one run as the markdown that goes into docs/benchmarks.md."""
    al, co, ev, cf = r["alarms"], r["complaints"], r["technician_events"], r["confirmations"]
    esc, http, procs = r["escalation"], r["http"], r["processes"]
    lost = al["lost"] + co["lost"] + ev["lost"] + cf["lost"]
    dup = al["duplicated"] + co["duplicated"] + ev["duplicated"] + esc["fired_twice"]
    load = procs.get("machine_load_average_1min", {})
    out = [
        f"Run of {r['started_utc']} ({r['wall_s'] / 60:.0f} min wall): `{r['command']}`. "
        f"1-minute load average during the run: mean {load.get('mean')}, max {load.get('max')} on 2 cores "
        f"(end: {' / '.join(str(x) for x in r.get('load_average_end', []))}).",
        "",
        "| target | result | verdict |",
        "|---|---|---|",
        f"| 0 lost records | alarms {al['lost']}, complaints {co['lost']}, technician events {ev['lost']}, "
        f"confirmations {cf['lost']} | {_yes(lost == 0)} |",
        f"| 0 duplicated records | alarms {al['duplicated']}, complaints {co['duplicated']}, events "
        f"{ev['duplicated']}, escalation steps fired twice {esc['fired_twice']} | {_yes(dup == 0)} |",
        f"| no escalation step skipped | {esc['due_but_not_fired']} due but not fired "
        f"({esc['ladders']} ladders, {esc['steps_fired']} steps fired) | {_yes(esc['due_but_not_fired'] == 0)} |",
        f"| every ticket status audited | {r['audit']['status_differs_from_last_audit_row']} differ from their last "
        f"audit row, {r['audit']['without_audit_row']} without one | "
        f"{_yes(r['audit']['status_differs_from_last_audit_row'] + r['audit']['without_audit_row'] == 0)} |",
        f"| 0 × 5xx | {http['5xx']} ({http['5xx_by_status']}; {http['5xx_within_60s_of_a_fault']} within 60 s of a "
        f"fault) | {_yes(http['5xx'] == 0)} |",
    ]
    app = [n for n in procs if n.startswith(("api", "gateway", "worker"))]
    growth = {n: procs[n]["rss_second_half_mib_per_hour"] for n in app}
    flat = all(g is not None and g < 20 for g in growth.values())
    out.append(
        "| memory flat over the second half | "
        + ", ".join(f"{n} {g:+.0f} MiB/h" if g is not None else f"{n} –" for n, g in growth.items())
        + f" | {_yes(flat)} (threshold < 20 MiB/h) |"
    )
    out += [
        "",
        f"**Volume.** Alarms: {al['published']:,} published "
        f"messages, {al['acknowledged_by_broker']:,} acknowledged by the broker, {al['stored']:,} stored "
        f"({al['never_acknowledged']} never acknowledged, of which "
        f"{al['never_acknowledged_but_stored']} stored anyway; "
        f"{al['dead_letters']} dead letters; {al['device_reconnects']} device reconnects). "
        f"Complaints: {co['sent']:,} sent, {co['answered_201']:,} answered 201 ({co['linked_to_open_ticket']:,} linked "
        f"to an open ticket of the same machine). Tickets: {r['tickets']['created']:,} created "
        f"({', '.join(f'{k} {v:,}' for k, v in r['tickets']['by_channel'].items())}); "
        f"{r['tickets']['closed_or_confirmed']:,} confirmed or closed by the customer, "
        f"{r['tickets']['resolved_by_device_clear']:,} resolved by the device's own clear. "
        f"Technician events: {ev['sent']:,} sent ({ev['by_status']}; offline sync results {ev['synced']}). "
        f"Confirmations: {cf['sent']:,} sent ({cf['by_status']}).",
        "",
        "| grade | deadline passed during the run | on site in time | on site late "
        "| deadline passed, not on site | on-time rate |",
        "|---|---|---|---|---|---|",
    ]
    for g in ("major", "serious", "general"):
        o = r["on_time_by_grade"].get(g)
        if o:
            rate = "–" if o["rate"] is None else f"{100 * o['rate']:.1f} %"
            out.append(
                f"| {g} | {o['due_during_run']} | {o['on_site_in_time']} | {o['on_site_late']} | "
                f"{o['deadline_passed_not_on_site']} | {rate} |"
            )
    a2t, rp, rw = r["alarm_to_ticket_ms"], r["replan_solve"], r["replan_request_wait_s"]
    lag = esc.get("fired_after_due_s") or {"p50": None, "p99": None, "max": None}
    out += [
        "",
        f"Alarm publish → stored on its ticket: p50 {_ms(a2t['p50'])}, **p99 {_ms(a2t['p99'])}**, max "
        f"{_ms(a2t['max'])} ({a2t['n']:,} alarms). Live re-plans: {rp['replans']}, solve p50 {rp['solve_p50_s']} s, "
        f"**p95 {rp['solve_p95_s']} s**, max {rp['solve_max_s']} s (up to {rp['visits_max']} visits planned, "
        f"{rp.get('queued_max') or 0} queued beyond the shifts); a request "
        f"waited p50 {rw['p50'] and round(rw['p50'], 2)} s / p95 {rw['p95'] and round(rw['p95'], 2)} s to be taken. "
        f"Escalation steps fired after their due time: p50 {lag['p50'] and round(lag['p50'], 2)} s, "
        f"p99 {lag['p99'] and round(lag['p99'], 2)} s, max {lag['max'] and round(lag['max'], 2)} s "
        f"(the dispatcher acknowledged {esc['acknowledged_by_dispatcher']} ladders).",
        "",
        "| endpoint | requests | p50 | p99 | statuses | connection errors (retried on the other API) |",
        "|---|---|---|---|---|---|",
    ]
    for name, e in http["endpoints"].items():
        out.append(
            f"| `{name}` | {e['n']:,} | {_ms(e['p50_ms'])} | {_ms(e['p99_ms'])} | "
            f"{', '.join(f'{k}: {v:,}' for k, v in e['status'].items())} | {e['transport_errors']} |"
        )
    out += [
        "",
        "| process | CPU mean | CPU p95 | RSS start | RSS max | RSS end | RSS trend, 2nd half | starts "
        "| tracebacks in log |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, p in procs.items():
        if name == "machine_load_average_1min":
            continue
        logs = r["log_errors"].get(name, {})
        trend = p["rss_second_half_mib_per_hour"]
        out.append(
            f"| {name} | {p['cpu_pct_mean']} % | {p['cpu_pct_p95']} % | {p['rss_mib_start']} MiB | "
            f"{p['rss_mib_max']} MiB | {p['rss_mib_end']} MiB | "
            f"{'–' if trend is None else f'{trend:+.0f} MiB/h'} | {logs.get('starts', '–')} | "
            f"{logs.get('tracebacks', '–')} |"
        )
    if r["faults"]:
        out += [
            "",
            "| fault (at s) | /readyz probes in the window | 503 | no answer | not ready for | ready again after |",
            "|---|---|---|---|---|---|",
        ]
        for f, rz in zip(r["faults"], r["readyz"]["per_fault"], strict=True):
            out.append(
                f"| {f['what']} ({f['at']:.0f}) | {rz['probes']} | {rz['503']} | {rz['no_answer']} | "
                f"{rz['not_ready_for_s']} s | {rz['ready_again_after_s']} s |"
            )
        out.append("")
        out.append(
            "Restarts by the supervisor: "
            + (", ".join(f"{x['process']} at {x['t']:.0f} s (exit {x['exit']})" for x in r["restarts"]) or "none")
            + "."
        )
    return "\n".join(out) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=8.0, help="simulated day length in hours (default 8)")
    parser.add_argument("--speed", type=float, default=10.0, help="simulation speed (default 10×)")
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--other-equipment", type=int, default=500, help="equipment without a device")
    parser.add_argument("--alarms-per-device-hour", type=float, default=2.0, help="device messages per simulated hour")
    parser.add_argument("--complaints", type=int, default=2000, help="complaints per 8-hour day")
    parser.add_argument("--technicians", type=int, default=40)
    parser.add_argument("--apis", type=int, default=2, help="API processes (one is killed with --faults)")
    parser.add_argument("--gateways", type=int, default=1)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--faults", action="store_true", help="kill -9 gateway, worker, API; restart DB and broker")
    parser.add_argument(
        "--plain-subscription",
        action="store_true",
        help="one gateway on plain topic filters instead of the shared group (survives a Mosquitto restart)",
    )
    parser.add_argument("--seed", type=int, default=24)
    parser.add_argument("--keep", action="store_true", help="keep the logs (and the stopped cluster) for a look")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--render", type=Path, help="print the markdown for docs/benchmarks.md from a --json file")
    args = parser.parse_args()
    if args.plain_subscription and args.gateways != 1:
        parser.error("--plain-subscription needs --gateways 1 (plain filters give every gateway every alarm)")
    if args.render:
        print(render(json.loads(args.render.read_text())))
        return
    soak = Soak(args)
    started = datetime.now(UTC)
    try:
        result = soak.run()
    finally:
        soak.teardown()
    result["command"] = "python bench/soak.py " + " ".join(sys.argv[1:])
    result["started_utc"] = started.isoformat(timespec="seconds")
    result["wall_s"] = round((datetime.now(UTC) - started).total_seconds())
    text = json.dumps(result, indent=2, default=str)
    print(text)
    print(render(json.loads(text)))
    if args.json:
        args.json.write_text(text)


if __name__ == "__main__":
    main()
