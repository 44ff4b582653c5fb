"""`onsite24 devices …`: provisioning gives a device a working broker account, revoking takes it away, simulate."""

from __future__ import annotations

import re
import subprocess
import sys
import threading

import paho.mqtt.client as mqtt
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatch.core.auth import verify_password
from dispatch.devices.models import Alarm, Device
from tests.device_gateway.helpers import (
    ROOT,
    alarm,
    alarm_count,
    device_client,
    gateway_env,
    running_gateway,
    stop_client,
    wait_for,
)
from tests.factories import make_site


def onsite24(settings, broker, *args: str, timeout: float = 60):  # type: ignore[no-untyped-def]
    env = {**gateway_env(settings), "ONSITE24_MOSQUITTO_DIR": str(broker.directory)}
    return subprocess.run(
        [sys.executable, "-m", "dispatch", "devices", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _refused(settings, username: str, password: str) -> bool:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"probe-{username}", protocol=mqtt.MQTTv5)
    client.username_pw_set(username, password)
    answer: list[mqtt.ReasonCode] = []
    done = threading.Event()
    client.on_connect = lambda *a: (answer.append(a[3]), done.set())
    client.connect(settings.mqtt_host, settings.mqtt_port)
    client.loop_start()
    done.wait(5)
    client.disconnect()
    client.loop_stop()
    return bool(answer) and answer[0].is_failure


def test_provision_shows_password_once_and_the_device_can_publish_then_revoke_refuses_it(settings, broker, live_db):
    """A provisioned device connects with the password shown once and its alarm is stored; revoked, it is refused."""
    with Session(live_db) as s:
        _site, unit = make_site(s)
        unit.device_id = None
        s.commit()
        equipment_id = unit.id
    r = onsite24(settings, broker, "provision", "crane-cli-1", "--equipment-id", str(equipment_id))
    assert r.returncode == 0, r.stderr
    password = re.search(r"MQTT password: (\S+)", r.stdout).group(1)
    assert "broker reloaded" in r.stdout
    with Session(live_db) as s:
        assert verify_password(s.get(Device, "crane-cli-1").password_hash, password)
    with running_gateway(settings, live_db):
        crane = device_client(settings, "crane-cli-1", password)
        crane.publish("devices/crane-cli-1/alarms", alarm(), qos=1)
        wait_for(lambda: alarm_count(live_db) == 1, what="the provisioned device's alarm")
        stop_client(crane)
    listed = onsite24(settings, broker, "list")
    assert "crane-cli-1" in listed.stdout and "tower_crane" in listed.stdout
    assert onsite24(settings, broker, "revoke", "crane-cli-1").returncode == 0
    wait_for(lambda: _refused(settings, "crane-cli-1", password), timeout=5, what="revoked account refused")
    assert "crane-cli-1" not in onsite24(settings, broker, "list").stdout


def test_provision_refuses_unknown_equipment(settings, broker, live_db):
    """Provisioning for equipment that does not exist fails with a message and changes nothing."""
    r = onsite24(settings, broker, "provision", "ghost-9", "--equipment-id", "999999")
    assert r.returncode == 1 and "no equipment 999999" in r.stderr


def test_simulate_publishes_alarm_streams_that_become_alarm_rows(settings, broker, live_db):
    """`devices simulate --provision` makes registered devices publish; the gateway stores what they send."""
    with Session(live_db) as s:
        for _ in range(3):
            make_site(s)
        s.commit()
    with running_gateway(settings, live_db):
        r = onsite24(
            settings,
            broker,
            "simulate",
            "--devices",
            "3",
            "--rate",
            "40",
            "--duration",
            "2",
            "--faults",
            "raise",
            "--provision",
        )
        assert r.returncode == 0, r.stderr + r.stdout
        sent = int(re.search(r"published (\d+)", r.stdout.splitlines()[-1]).group(1))
        assert sent >= 60
        wait_for(lambda: alarm_count(live_db) == sent, what=f"{sent} simulated alarms")
    with Session(live_db) as s:
        assert s.scalar(select(func.count(func.distinct(Alarm.device_id)))) == 3
