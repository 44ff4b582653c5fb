"""Builders and waits for the gateway tests: registered devices, alarm payloads, polling with a deadline."""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import paho.mqtt.client as mqtt
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from device_gateway.client import Gateway, wait_subscribed
from device_gateway.service import ingest, store_failure
from dispatch.core.db import make_sessionmaker
from dispatch.core.mqtt import make_client
from dispatch.core.settings import Settings
from dispatch.core.types import EquipmentType
from dispatch.customers.models import Equipment
from dispatch.devices.models import Alarm, Device
from tests.factories import BASE_TIME, make_site
from tests.harness.wait import wait_for

T = TypeVar("T")
_alarm_seq = itertools.count(1)


def make_device(session: Session, *, equipment_type: EquipmentType = EquipmentType.tower_crane) -> Equipment:
    """Equipment at a site with a registered device (its id is `equipment.device_id`)."""
    _site, unit = make_site(session, equipment_type=equipment_type)
    session.add(Device(device_id=unit.device_id, equipment_id=unit.id, status="unknown", provisioned_at=BASE_TIME))
    session.flush()
    return unit


def alarm(
    *,
    code: str = "E-SLEW-BRAKE",
    severity: str = "critical",
    state: str = "raised",
    alarm_id: str | None = None,
    at: datetime = BASE_TIME,
    **extra: Any,
) -> bytes:
    body = {
        "alarm_id": alarm_id or f"a{next(_alarm_seq)}",
        "code": code,
        "severity": severity,
        "state": state,
        "at": at.isoformat(),
        "message": "slewing brake fault",
        "data": {"wind_speed": 7.5, "load_t": 3.2},
        **extra,
    }
    return json.dumps(body).encode()


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


# --- over the real broker -------------------------------------------------------------------------------------


ROOT = Path(__file__).resolve().parents[2]


def register_devices(
    engine: Engine, broker, n: int, *, equipment_type=EquipmentType.tower_crane
) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """`n` registered devices with broker accounts; returns (device_id, password) pairs."""
    with make_sessionmaker(engine, expire_on_commit=True, autoflush=True)() as session:
        units = [make_device(session, equipment_type=equipment_type) for _ in range(n)]
        session.commit()
        ids = [u.device_id for u in units]
    from device_gateway.broker import set_password

    creds = [(d, uuid.uuid4().hex) for d in ids]
    for device_id, password in creds:
        set_password(broker.directory, device_id, password)
    broker.reload()
    wait_for(lambda: _accepted(broker, *creds[-1]), timeout=10, what="the broker to accept the new accounts")
    return creds


def _accepted(broker, username: str, password: str) -> bool:  # type: ignore[no-untyped-def]
    """Whether the broker has (re)loaded the account: a probe CONNECT is accepted."""
    client = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2, client_id=f"probe-{uuid.uuid4().hex[:8]}", protocol=mqtt.MQTTv5
    )
    client.username_pw_set(username, password)
    answer: list[bool] = []
    done = threading.Event()

    def on_connect(_c, _u, _f, rc, _p):  # type: ignore[no-untyped-def]
        answer.append(not rc.is_failure)
        done.set()

    client.on_connect = on_connect
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    done.wait(3)
    client.disconnect()
    client.loop_stop()
    return bool(answer and answer[0])


def device_client(settings: Settings, device_id: str, password: str, *, will: bool = False) -> mqtt.Client:
    """A connected device (network loop running), optionally with its last will `offline` on its status topic."""
    client = make_client(
        settings, client_id=f"{device_id}-{uuid.uuid4().hex[:6]}", username=device_id, password=password
    )
    if will:
        client.will_set(f"devices/{device_id}/status", b"offline", qos=1, retain=True)
    connected = threading.Event()
    client.on_connect = lambda *a: connected.set() if not a[3].is_failure else None
    client.connect(settings.mqtt_host, settings.mqtt_port, keepalive=5)
    client.loop_start()
    assert connected.wait(10), f"{device_id} could not connect"
    return client


def publish(client: mqtt.Client, topic: str, payload: bytes, *, retain: bool = False) -> mqtt.MQTTMessageInfo:
    info = client.publish(topic, payload, qos=1, retain=retain)
    return info


def publish_acknowledged(client: mqtt.Client, topic: str, payload: bytes) -> None:
    """Publish at QoS 1 and wait for the broker's PUBACK, riding out a reconnect (paho reconnects by itself).

    Mosquitto 2.0.11 may drop fresh connections while it reloads its password file after a SIGHUP.
    """
    codes: list[int] = []
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        info = client.publish(topic, payload, qos=1)
        codes.append(info.rc)
        if info.rc == mqtt.MQTT_ERR_SUCCESS:
            with contextlib.suppress(RuntimeError):  # dropped before the PUBACK: paho resends on reconnect
                info.wait_for_publish(10)
            if info.is_published():
                return
        # Dropped (e.g. during the broker's reload): paho reconnects with its own backoff; wait, then retry.
        wait_for(client.is_connected, timeout=10, what="the device to reconnect")
        time.sleep(0.2)
    raise AssertionError(f"could not publish to {topic} (paho codes {codes})")


def stop_client(client: mqtt.Client) -> None:
    client.disconnect()
    client.loop_stop()


@contextmanager
def running_gateway(settings: Settings, engine: Engine, *, client_id: str | None = None) -> Iterator[Gateway]:
    """An in-process gateway on the test broker and database, stopped cleanly (session ended) afterwards."""
    factory = make_sessionmaker(engine)
    gw = Gateway(
        settings,
        partial(ingest, factory),
        on_failure=partial(store_failure, factory),
        client_id=client_id or f"gw-{uuid.uuid4().hex[:8]}",
    )
    stop = threading.Event()
    thread = threading.Thread(target=gw.run, args=(stop,), daemon=True)
    thread.start()
    try:
        assert wait_subscribed(gw), "gateway did not subscribe"
        yield gw
    finally:
        stop.set()
        thread.join(20)


def gateway_env(settings: Settings) -> dict[str, str]:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "ONSITE24_ENVIRONMENT": "test",
        "ONSITE24_DATABASE_URL": settings.database_url,
        "ONSITE24_MQTT_URL": settings.mqtt_url,
        "ONSITE24_MQTT_USERNAME": settings.mqtt_username or "",
        "ONSITE24_MQTT_PASSWORD": settings.mqtt_password.get_secret_value() if settings.mqtt_password else "",
        "ONSITE24_LOG_LEVEL": "INFO",
    }
    return env


def start_gateway_process(settings: Settings, client_id: str, log_path: Path) -> subprocess.Popen[bytes]:
    """`python -m dispatch gateway` as its own process, as it runs in production."""
    with log_path.open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "dispatch", "gateway", "--client-id", client_id],
            cwd=ROOT,
            env=gateway_env(settings),
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def stop_process(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def alarm_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(Alarm)) or 0
