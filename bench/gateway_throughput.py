"""Device gateway benchmarks: throughput, publish→commit latency, and the SIGKILL test (docs/benchmarks.md).

Everything runs on this machine: a Mosquitto started with the product config (plus a simulator account that
may publish as any device), the gateway(s) as real `python -m dispatch gateway` processes, one publisher
process, and PostgreSQL (default: the local server on 127.0.0.1:5432 with its real fsync/synchronous_commit).

    python bench/gateway_throughput.py throughput --gateways 2 --alarms 60000
    python bench/gateway_throughput.py latency --gateways 1 --rate 1000 --seconds 20
    python bench/gateway_throughput.py kill --gateways 1 --alarms 50000 --devices 1000 --kills 3

`--pg-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres` chooses the server; a database
`onsite24_bench_<pid>` is created, migrated, seeded and dropped afterwards.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from device_gateway.broker import write_config  # noqa: E402
from dispatch.core.migrate import upgrade  # noqa: E402

SIM_USER = "onsite24-simulator"


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- fixtures: database, broker, gateways -----------------------------------------------------------------------


class Bench:
    def __init__(self, pg_url: str, devices: int) -> None:
        self.admin_dsn = pg_url.replace("postgresql+psycopg://", "postgresql://")
        self.db = f"onsite24_bench_{os.getpid()}"
        base = pg_url.rsplit("/", 1)[0]
        self.url = f"{base}/{self.db}"
        self.dsn = self.url.replace("postgresql+psycopg://", "postgresql://")
        self.devices = devices
        self.dir = Path(tempfile.mkdtemp(prefix="onsite24-bench-"))
        self.port = free_port()
        self.gw_password = secrets.token_hex(12)
        self.sim_password = secrets.token_hex(12)
        self.broker: subprocess.Popen[bytes] | None = None
        self.gateways: dict[str, subprocess.Popen[bytes]] = {}

    def __enter__(self) -> Bench:
        with psycopg.connect(self.admin_dsn, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {self.db}")
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        upgrade(self.url)
        self._seed()
        write_config(
            self.dir,
            port=self.port,
            gateway_user="onsite24-gateway",
            gateway_password=self.gw_password,
            simulator_user=SIM_USER,
            simulator_password=self.sim_password,
        )
        self.broker = subprocess.Popen(["mosquitto", "-c", str(self.dir / "mosquitto.conf")])
        time.sleep(0.5)
        return self

    def __exit__(self, *exc: object) -> None:
        for proc in self.gateways.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.gateways.values():
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
        if self.broker:
            self.broker.terminate()
            self.broker.wait(10)
        with psycopg.connect(self.admin_dsn, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {self.db} WITH (FORCE)")
        shutil.rmtree(self.dir, ignore_errors=True)

    def _seed(self) -> None:
        with psycopg.connect(self.dsn) as conn:
            conn.execute("INSERT INTO customers (name, language) VALUES ('Bench Construction', 'zh-CN')")
            conn.execute(
                "INSERT INTO sites (customer_id, name, address, location, timezone, access_hours) "
                "VALUES (1, 'Bench site', 'Road 1', ST_GeogFromText('POINT(112.95 28.2)'), 'Asia/Shanghai', '{}')"
            )
            conn.execute(
                "INSERT INTO equipment (site_id, equipment_type, model, serial_number, device_id) "
                "SELECT 1, 'tower_crane', 'ZJ5510', 'BENCH-' || g, 'bench-' || lpad(g::text, 4, '0') "
                "FROM generate_series(0, %s - 1) g",
                (self.devices,),
            )

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "ONSITE24_ENVIRONMENT": "test",
            "ONSITE24_DATABASE_URL": self.url,
            "ONSITE24_MQTT_URL": f"mqtt://127.0.0.1:{self.port}",
            "ONSITE24_MQTT_USERNAME": "onsite24-gateway",
            "ONSITE24_MQTT_PASSWORD": self.gw_password,
            "ONSITE24_LOG_LEVEL": "INFO",
        }

    def start_gateway(self, client_id: str) -> None:
        log = (self.dir / f"{client_id}.log").open("ab")
        self.gateways[client_id] = subprocess.Popen(
            [sys.executable, "-m", "dispatch", "gateway", "--client-id", client_id],
            cwd=ROOT,
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def wait_subscribed(self, client_id: str, times: int = 1, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        log = self.dir / f"{client_id}.log"
        while time.monotonic() < deadline:
            if log.exists() and log.read_text(errors="replace").count(f"{client_id} subscribed") >= times:
                return
            time.sleep(0.05)
        raise RuntimeError(f"{client_id} did not subscribe; see {log}")

    def count(self) -> int:
        with psycopg.connect(self.dsn) as conn:
            return conn.execute("SELECT count(*) FROM alarms").fetchone()[0]  # type: ignore[index]

    def scalar(self, sql: str) -> int:
        with psycopg.connect(self.dsn) as conn:
            return conn.execute(sql).fetchone()[0]  # type: ignore[index]


# --- the publisher (its own process) ----------------------------------------------------------------------------


def publisher(port: int, password: str, devices: int, total: int, rate: float, codes: int, run: str, done) -> None:  # type: ignore[no-untyped-def]
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"bench-pub-{run}", protocol=mqtt.MQTTv5)
    client.username_pw_set(SIM_USER, password)
    client.max_inflight_messages_set(1000)
    client.connect("127.0.0.1", port)
    client.loop_start()
    t0 = time.perf_counter()
    infos = []
    for n in range(total):
        if rate:
            ahead = t0 + n / rate - time.perf_counter()
            if ahead > 0:
                time.sleep(ahead)
        d = n % devices
        body = {
            "alarm_id": f"{run}-{n}",
            "code": f"E-{(n // devices) % codes}",
            "severity": "major",
            "state": "raised",
            "at": "2026-11-23T08:00:00+00:00",
            "data": {"sent_ns": time.time_ns(), "load_t": 3.2},
        }
        infos.append(client.publish(f"devices/bench-{d:04d}/alarms", json.dumps(body), qos=1))
    for info in infos:
        info.wait_for_publish(120)
    done.value = time.perf_counter() - t0
    client.disconnect()
    client.loop_stop()


def start_publisher(b: Bench, total: int, rate: float, codes: int) -> tuple[mp.Process, object]:
    done = mp.Value("d", 0.0)
    run = secrets.token_hex(3)
    proc = mp.Process(target=publisher, args=(b.port, b.sim_password, b.devices, total, rate, codes, run, done))
    proc.start()
    return proc, done


# --- the scenarios ----------------------------------------------------------------------------------------------


def start_gateways(b: Bench, n: int) -> list[str]:
    ids = [f"bench-gw-{i}" for i in range(n)]
    for cid in ids:
        b.start_gateway(cid)
    for cid in ids:
        b.wait_subscribed(cid)
    return ids


def throughput(b: Bench, args: argparse.Namespace) -> dict[str, object]:
    start_gateways(b, args.gateways)
    if args.warm:
        warm_up(b, args)
    base = b.count()
    t0 = time.monotonic()
    proc, done = start_publisher(b, args.alarms, 0.0, args.codes)
    samples: list[tuple[float, int]] = []
    while True:
        c = b.count() - base
        samples.append((time.monotonic() - t0, c))
        if c >= args.alarms or time.monotonic() - t0 > 600:
            break
        time.sleep(0.1)
    proc.join()
    elapsed = samples[-1][0]

    def at(fraction: float) -> tuple[float, int]:
        return next(s for s in samples if s[1] >= fraction * args.alarms)

    (ta, ca), (tb, cb) = at(0.1), at(0.9)
    return {
        "alarms": args.alarms,
        "stored": samples[-1][1],
        "gateways": args.gateways,
        "warm": args.warm,
        "publish_seconds": round(done.value, 2),  # type: ignore[attr-defined]
        "end_to_end_seconds": round(elapsed, 2),
        "overall_per_s": round(args.alarms / elapsed),
        "sustained_per_s_10_90": round((cb - ca) / (tb - ta)),
        "tickets": b.scalar("SELECT count(*) FROM tickets"),
        "dead_letters": b.scalar("SELECT count(*) FROM dead_letters"),
    }


def warm_up(b: Bench, args: argparse.Namespace) -> None:
    """One alarm per fault first, so every fault has its ticket: the measurement sees the steady state."""
    faults = b.devices * args.codes
    proc, _done = start_publisher(b, faults, 0.0, args.codes)
    proc.join()
    while b.count() < faults:
        time.sleep(0.1)


def latency(b: Bench, args: argparse.Namespace) -> dict[str, object]:
    start_gateways(b, args.gateways)
    warm_up(b, args)
    total = int(args.rate * args.seconds)
    proc, _done = start_publisher(b, total, args.rate, args.codes)
    lat_ms: list[float] = []
    # Several gateways commit out of id order: keep a floor below which every id was seen, and re-read above it.
    floor = b.scalar("SELECT max(id) FROM alarms")
    seen: set[int] = set()
    deadline = time.monotonic() + args.seconds + 60
    with psycopg.connect(b.dsn, autocommit=True) as conn:
        while len(lat_ms) < total and time.monotonic() < deadline:
            rows = conn.execute(
                "SELECT id, (data->>'sent_ns')::bigint FROM alarms WHERE id > %s ORDER BY id", (floor,)
            ).fetchall()
            now_ns = time.time_ns()
            for row_id, sent in rows:
                if row_id not in seen:
                    seen.add(row_id)
                    lat_ms.append((now_ns - sent) / 1e6)
            while floor + 1 in seen:
                floor += 1
                seen.discard(floor)
            time.sleep(0.002)
    proc.join()
    lat_ms.sort()
    warm = lat_ms  # all of them, warm-up included

    def pct(p: float) -> float:
        return round(warm[min(len(warm) - 1, int(p * len(warm)))], 1)

    return {
        "rate_per_s": args.rate,
        "seconds": args.seconds,
        "gateways": args.gateways,
        "alarms": len(lat_ms),
        "p50_ms": pct(0.50),
        "p95_ms": pct(0.95),
        "p99_ms": pct(0.99),
        "max_ms": round(warm[-1], 1),
        "mean_ms": round(statistics.fmean(warm), 1),
        "note": "publish → row visible to a 2 ms poller (an upper bound of publish → commit)",
    }


def kill(b: Bench, args: argparse.Namespace) -> dict[str, object]:
    ids = start_gateways(b, args.gateways)
    proc, _done = start_publisher(b, args.alarms, args.rate, args.codes)
    kills = 0
    thresholds = [args.alarms * (k + 1) / (args.kills + 1) for k in range(args.kills)]
    t0 = time.monotonic()
    for k, threshold in enumerate(thresholds):
        while b.count() < threshold:
            time.sleep(0.02)
        victim = ids[k % len(ids)]
        b.gateways[victim].send_signal(signal.SIGKILL)
        b.gateways[victim].wait()
        kills += 1
        b.start_gateway(victim)
        b.wait_subscribed(victim, times=2 + k // len(ids))
    proc.join()
    while b.count() < args.alarms and time.monotonic() - t0 < 600:
        time.sleep(0.1)
    time.sleep(2.0)  # anything redelivered late would show up as a duplicate attempt (refused by the database)
    faults = min(args.codes, -(-args.alarms // args.devices)) * args.devices
    result = {
        "alarms_published": args.alarms,
        "devices": args.devices,
        "gateways": args.gateways,
        "sigkills": kills,
        "seconds": round(time.monotonic() - t0, 1),
        "alarm_rows": b.count(),
        "distinct_alarms": b.scalar("SELECT count(DISTINCT (device_id, alarm_id)) FROM alarms"),
        "attached_total": b.scalar("SELECT coalesce(sum(count), 0) FROM alarm_faults"),
        "expected_faults": faults,
        "open_faults": b.scalar("SELECT count(*) FROM alarm_faults WHERE closed_at IS NULL"),
        "tickets": b.scalar("SELECT count(*) FROM tickets"),
        "open_tickets_per_fault_max": b.scalar(
            "SELECT coalesce(max(n), 0) FROM (SELECT count(*) n FROM tickets t "
            "JOIN alarm_faults f ON f.ticket_id = t.id WHERE t.closed_at IS NULL GROUP BY f.device_id, f.code) x"
        ),
        "open_tickets_per_machine_max": b.scalar(
            "SELECT coalesce(max(n), 0) FROM (SELECT count(*) n FROM tickets t "
            "WHERE t.closed_at IS NULL GROUP BY t.equipment_id) x"
        ),
        "dead_letters": b.scalar("SELECT count(*) FROM dead_letters"),
    }
    # One job per machine: a device's faults (codes) share its open ticket, as a phone call would.
    ok = (
        result["alarm_rows"] == result["distinct_alarms"] == result["attached_total"] == args.alarms
        and result["open_faults"] == faults
        and result["tickets"] == args.devices
        and result["open_tickets_per_fault_max"] == 1
        and result["open_tickets_per_machine_max"] == 1
        and result["dead_letters"] == 0
    )
    result["passed"] = ok
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=["throughput", "latency", "kill"])
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--gateways", type=int, default=1)
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--codes", type=int, default=2, help="fault codes per device (faults = devices × codes)")
    parser.add_argument("--alarms", type=int, default=60000)
    parser.add_argument("--rate", type=float, default=1000.0, help="latency/kill: publish rate per second")
    parser.add_argument("--seconds", type=float, default=20.0, help="latency: duration")
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--warm", action="store_true", help="throughput: open every fault's ticket first")
    args = parser.parse_args()
    with Bench(args.pg_url, args.devices) as b:
        started = time.time()
        result = {"throughput": throughput, "latency": latency, "kill": kill}[args.mode](b, args)
        result["mode"] = args.mode
        result["load_average_after"] = round(os.getloadavg()[0], 2)
        result["wall_seconds"] = round(time.time() - started, 1)
    print(json.dumps(result))


if __name__ == "__main__":
    threading.current_thread().name = "bench"
    main()
