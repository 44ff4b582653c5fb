"""The gateway end to end over the real Mosquitto (product config, passwords, ACL) and the real database."""

from __future__ import annotations

import signal
import threading
import time
import uuid
from datetime import timedelta

import paho.mqtt.client as mqtt
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from device_gateway.service import open_unreachable_tickets
from dispatch.core.clock import utcnow
from dispatch.core.types import EquipmentType, Grade
from dispatch.devices.models import Alarm, AlarmFault, DeadLetter, Device, DeviceWatch
from dispatch.tickets.models import Ticket
from tests.device_gateway.helpers import (
    alarm,
    alarm_count,
    device_client,
    publish_acknowledged,
    register_devices,
    running_gateway,
    start_gateway_process,
    stop_client,
    stop_process,
    wait_for,
)
from tests.harness.wait import stays


def _count(engine, model, *where):
    with Session(engine) as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


def test_device_alarm_over_mqtt_opens_graded_ticket_repeats_attach_and_clear_resolves(settings, broker, live_db):
    """A crane's critical alarm published over MQTT becomes a major ticket; repeats attach; the clear resolves it."""
    [(device, password)] = register_devices(live_db, broker, 1)
    with running_gateway(settings, live_db):
        crane = device_client(settings, device, password)
        t0 = utcnow()
        for n in range(3):
            crane.publish(f"devices/{device}/alarms", alarm(at=t0 + timedelta(seconds=n)), qos=1)
        wait_for(lambda: alarm_count(live_db) == 3, what="three stored alarms")
        with Session(live_db) as s:
            ticket = s.scalars(select(Ticket)).one()
            assert ticket.grade is Grade.MAJOR
            assert timedelta(hours=3, minutes=59) < ticket.due_on_site_at - t0 <= timedelta(hours=4, seconds=5)
            assert s.scalars(select(AlarmFault)).one().count == 3
        crane.publish(f"devices/{device}/alarms", alarm(state="cleared", at=t0 + timedelta(seconds=9)), qos=1)
        wait_for(lambda: _count(live_db, Ticket, Ticket.status == "resolved") == 1, what="auto-recovered ticket")
        stop_client(crane)


def test_unknown_device_and_malformed_payload_reach_dead_letters_over_mqtt(settings, broker, live_db):
    """A registered account whose device is not in the registry, and a broken payload, land in dead letters."""
    [(device, password)] = register_devices(live_db, broker, 1)
    with Session(live_db) as s:
        s.get(Device, device).revoked_at = utcnow()
        s.commit()
    with running_gateway(settings, live_db):
        client = device_client(settings, device, password)
        client.publish(f"devices/{device}/alarms", alarm(), qos=1)
        client.publish(f"devices/{device}/alarms", b"\xff not json", qos=1)
        # (Only this device's: Mosquitto 2.0 also hands retained status messages of earlier tests to a new gateway.)
        mine = DeadLetter.device_id == device
        wait_for(lambda: _count(live_db, DeadLetter, mine) == 2, what="two dead letters")
        stop_client(client)
    assert alarm_count(live_db) == 0


def test_device_cannot_publish_for_another_device(settings, broker, live_db):
    """A device may only publish under its own id: its message on another device's topic never reaches the gateway."""
    (a, pa), (b, _pb) = register_devices(live_db, broker, 2)
    with running_gateway(settings, live_db):
        intruder = device_client(settings, a, pa)
        publish_acknowledged(intruder, f"devices/{b}/alarms", alarm(alarm_id="forged"))
        publish_acknowledged(intruder, f"devices/{a}/alarms", alarm(alarm_id="own"))
        wait_for(lambda: alarm_count(live_db) == 1, what="the device's own alarm")
        stays(lambda: alarm_count(live_db), seconds=0.3, what="the stored alarms")  # no forged one arrives late
        stop_client(intruder)
    with Session(live_db) as s:
        assert [r.device_id for r in s.scalars(select(Alarm))] == [a]
        assert s.scalar(select(func.count()).select_from(DeadLetter).where(DeadLetter.topic.like("%/alarms"))) == 0


def test_anonymous_and_wrong_password_clients_are_refused(settings, broker):
    """The broker refuses clients without an account or with a wrong password."""
    for username, password in ((None, None), ("onsite24-gateway", "wrong")):
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=uuid.uuid4().hex, protocol=mqtt.MQTTv5)
        if username:
            client.username_pw_set(username, password)
        outcome: list[mqtt.ReasonCode] = []
        answered = threading.Event()

        def on_connect(_c, _u, _f, rc, _p, outcome=outcome, answered=answered):  # type: ignore[no-untyped-def]
            outcome.append(rc)
            answered.set()

        client.on_connect = on_connect
        client.connect(settings.mqtt_host, settings.mqtt_port)
        client.loop_start()
        assert answered.wait(5)
        client.loop_stop()
        assert outcome[0].is_failure, outcome


def test_two_gateways_share_the_subscription_without_duplicates(settings, broker, live_db):
    """Two gateways on the shared subscription split the load; every alarm is stored exactly once."""
    creds = register_devices(live_db, broker, 4)
    with running_gateway(settings, live_db) as g1, running_gateway(settings, live_db) as g2:
        clients = [device_client(settings, d, p) for d, p in creds]
        t0 = utcnow()
        infos = [
            c.publish(f"devices/{d}/alarms", alarm(code=f"E{n % 3}", at=t0 + timedelta(milliseconds=n)), qos=1)
            for n in range(200)
            for c, (d, _p) in zip(clients, creds, strict=True)
        ]
        for info in infos:
            info.wait_for_publish(10)
        wait_for(lambda: alarm_count(live_db) == 800, what="800 stored alarms")
        assert g1.alarms_stored > 0 and g2.alarms_stored > 0
        assert g1.alarms_stored + g2.alarms_stored == 800 and g1.duplicates + g2.duplicates == 0
        for c in clients:
            stop_client(c)
    # One job per machine: the three faults of each device share its one open ticket (linked at intake).
    assert _count(live_db, Ticket) == 4
    assert _count(live_db, AlarmFault) == 12  # 4 devices × 3 codes, each with its ticket
    assert _count(live_db, AlarmFault, AlarmFault.ticket_id.is_(None)) == 0
    assert _count(live_db, DeadLetter, DeadLetter.topic.like("%/alarms")) == 0


def test_gateway_killed_mid_stream_loses_nothing_and_duplicates_nothing(settings, broker, live_db, tmp_path):
    """SIGKILLing the gateway process twice mid-stream loses no alarm, stores none twice, opens one ticket per fault."""
    creds = register_devices(live_db, broker, 10)
    client_id = f"gw-kill-{uuid.uuid4().hex[:6]}"
    log = tmp_path / "gateway.log"
    proc = start_gateway_process(settings, client_id, log)
    total = 3000
    clients = [device_client(settings, d, p) for d, p in creds]
    try:
        wait_for(lambda: _subscriptions(log) == 1, timeout=60, what="gateway subscribed")
        t0 = utcnow()
        done = threading.Event()

        def publish_all() -> None:
            for n in range(total):
                c, (d, _) = clients[n % 10], creds[n % 10]
                c.publish(
                    f"devices/{d}/alarms", alarm(code=f"E{(n // 10) % 2}", at=t0 + timedelta(milliseconds=n)), qos=1
                )
                if n % 200 == 0:
                    time.sleep(0.02)
            done.set()

        threading.Thread(target=publish_all, daemon=True).start()
        for kill in (300, 1500):
            wait_for(lambda kill=kill: alarm_count(live_db) >= kill, timeout=30, what=f"{kill} alarms before kill")
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
            proc = start_gateway_process(settings, client_id, log)
        # Each process logs its connection; a killed one may not have logged its SUBACK yet (a resumed session
        # delivers its queued alarms first), so the three connections are what is counted.
        wait_for(lambda: _connections(log) >= 3, timeout=20, what="third gateway connected")
        assert done.wait(60)
        wait_for(lambda: alarm_count(live_db) >= total, timeout=60, what=f"all {total} alarms")
    finally:
        stop_process(proc)
        for c in clients:
            stop_client(c)
    with Session(live_db) as s:
        assert s.scalar(select(func.count(func.distinct(Alarm.alarm_id + Alarm.device_id)))) == total
        assert s.scalar(select(func.count()).select_from(Alarm)) == total
        # One open ticket per machine (its two faults are linked to it), none per redelivery.
        assert s.scalar(select(func.count()).select_from(Ticket)) == 10
        assert s.scalar(select(func.count()).select_from(AlarmFault)) == 20  # 10 devices × 2 codes
        assert s.scalar(select(func.count()).select_from(AlarmFault).where(AlarmFault.ticket_id.is_(None))) == 0
        assert s.scalar(select(func.sum(AlarmFault.count))) == total
        assert s.scalar(select(func.count()).select_from(DeadLetter).where(DeadLetter.topic.like("%/alarms"))) == 0


def _subscriptions(log) -> int:
    return log.read_text(errors="replace").count(" subscribed") if log.exists() else 0


def _connections(log) -> int:
    return log.read_text(errors="replace").count("; subscribing") if log.exists() else 0


def test_last_will_marks_device_offline_and_opens_unreachable_ticket(settings, broker, live_db):
    """A base station that drops off the network (its last will) is offline and gets an "unreachable" ticket."""
    [(device, password)] = register_devices(live_db, broker, 1, equipment_type=EquipmentType.base_station)
    with running_gateway(settings, live_db):
        station = device_client(settings, device, password, will=True)
        station.publish(f"devices/{device}/status", b"online", qos=1, retain=True).wait_for_publish(5)
        wait_for(lambda: _status(live_db, device) == "online", what="device online")
        station.loop_stop()
        station.socket().close()  # an abrupt loss of the connection: the broker publishes the last will
        wait_for(lambda: _status(live_db, device) == "offline", timeout=20, what="last will processed")
    with Session(live_db) as s:
        opened = open_unreachable_tickets(s, now=utcnow())
        s.commit()
        assert len(opened) == 1
        assert s.scalars(select(DeviceWatch)).one().ticket_id == opened[0]


def _status(engine, device_id: str) -> str | None:
    with Session(engine) as s:
        d = s.get(Device, device_id)
        return d.status if d else None


def test_in_flight_window_is_bounded_however_far_behind_the_gateway_is(settings, broker, live_db):
    """However far behind storing falls, a gateway holds a bounded number of messages and still stores them all.

    Mosquitto 2.0.11 honours Receive Maximum only until the first acknowledgements, so the gateway caps its queue
    at 4 × Receive Maximum and gets what it dropped back by resuming its session.
    """
    import uuid as _uuid

    from device_gateway.client import Gateway, wait_subscribed
    from device_gateway.service import ingest
    from dispatch.core.db import make_sessionmaker

    [(device, password)] = register_devices(live_db, broker, 1)
    factory = make_sessionmaker(live_db)
    peak = 0

    def slow(messages):  # type: ignore[no-untyped-def]
        nonlocal peak
        peak = max(peak, len(messages) + gw.queue.qsize())
        time.sleep(0.02)
        return ingest(factory, messages)

    gw = Gateway(settings, slow, client_id=f"gw-window-{_uuid.uuid4().hex[:6]}", receive_maximum=20, batch_max=5)
    stop = threading.Event()
    thread = threading.Thread(target=gw.run, args=(stop,), daemon=True)
    thread.start()
    try:
        assert wait_subscribed(gw)
        crane = device_client(settings, device, password)
        t0 = utcnow()
        for n in range(300):
            crane.publish(f"devices/{device}/alarms", alarm(at=t0 + timedelta(milliseconds=n)), qos=1)
        wait_for(lambda: alarm_count(live_db) == 300, timeout=30, what="300 alarms through a 20-message window")
        stop_client(crane)
    finally:
        stop.set()
        thread.join(20)
    assert 5 <= peak <= 4 * 20 + 5  # the cap, plus the batch in hand


def test_gateway_waits_out_a_database_restart_and_stores_what_came_meanwhile(settings, broker, live_db, postgres):
    """PostgreSQL restarting under the gateway: it keeps running, retries, and stores the alarm sent meanwhile once."""
    [(device, password)] = register_devices(live_db, broker, 1)
    with running_gateway(settings, live_db) as gw:
        client = device_client(settings, device, password)
        try:
            publish_acknowledged(client, f"devices/{device}/alarms", alarm(alarm_id="before"))
            wait_for(lambda: alarm_count(live_db) == 1, what="the first alarm")
            postgres.stop()
            try:
                publish_acknowledged(client, f"devices/{device}/alarms", alarm(alarm_id="during"))
                wait_for(lambda: gw.queue.qsize() == 0, what="the gateway to take the alarm into its retry loop")
            finally:
                postgres.start()
            wait_for(lambda: alarm_count(live_db) == 2, timeout=40, what="the alarm sent while the database was down")
            assert gw.fatal is None, "the gateway did not give up"
        finally:
            stop_client(client)
    # Only this device's messages: other tests' leftover sessions in the shared group may hand this gateway
    # messages of devices that no longer exist (dead letters by design).
    assert _count(live_db, DeadLetter, DeadLetter.topic == f"devices/{device}/alarms") == 0
    assert _count(live_db, Alarm, Alarm.alarm_id == "during") == 1


def test_lone_gateway_on_a_plain_subscription_loses_nothing_across_a_broker_restart(settings, broker, live_db):
    """ONSITE24_GATEWAY_SHARED_SUBSCRIPTION=false: an alarm sent right after a broker restart, before the gateway
    is back, is still delivered (Mosquitto restores plain subscriptions of persistent sessions, not shared ones)."""
    plain = settings.model_copy(update={"gateway_shared_subscription": False})
    [(device, password)] = register_devices(live_db, broker, 1)
    with running_gateway(plain, live_db) as gw:
        assert gw.filters() == ["devices/+/alarms", "devices/+/status", "devices/+/heartbeat"]
        client = device_client(plain, device, password)
        publish_acknowledged(client, f"devices/{device}/alarms", alarm(alarm_id="before-restart"))
        wait_for(lambda: alarm_count(live_db) == 1, what="the first alarm")
        stop_client(client)
        broker.stop()
        broker.start()
        client = device_client(plain, device, password)  # back at once; the gateway is still in its backoff
        try:
            publish_acknowledged(client, f"devices/{device}/alarms", alarm(alarm_id="after-restart"))
            wait_for(lambda: alarm_count(live_db) == 2, timeout=40, what="the alarm sent before the gateway was back")
        finally:
            stop_client(client)
    assert _count(live_db, Alarm, Alarm.alarm_id == "after-restart") == 1
