"""`onsite24 devices simulate`: a fleet of devices publishing realistic alarm streams, for demos and load tests.

Every simulated device is its own MQTT client (its own last will), all driven by ONE thread with a selector
over their sockets (paho's external-loop pattern), so a thousand devices cost a thousand sockets, not a
thousand threads. Scenarios (`--faults`):

- `mixed` (default): each device raises a fault from its equipment type's catalogue, repeats it, clears it;
  about 1 in 10 faults flaps; about 1 in 50 devices drops off the network (last will `offline`) and returns.
- `raise`: steady raises of one fault per device (load tests: every message is a new alarm row).
- `flap`: every fault raises and clears quickly (flapping detection).
- `offline`: devices drop off abruptly (their last will says `offline`) and come back after a while.
- `crane-critical`: the demo: the first crane raises a critical slewing-brake alarm, once.
"""

from __future__ import annotations

import json
import random
import selectors
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import paho.mqtt.client as mqtt

from dispatch.core.mqtt import make_client
from dispatch.core.settings import Settings

SCENARIOS = ("mixed", "raise", "flap", "offline", "crane-critical")

# Vendor codes per equipment type: (code, severity, message, readings). The codes are the ones the policy's
# alarm mapping (dispatch/policy.toml [[alarms.mappings]]) knows, so simulated alarms grade like real ones.
CATALOGUE: dict[str, list[tuple[str, str, str, dict[str, object]]]] = {
    "tower_crane": [
        ("SLEW_BRAKE_FAULT", "critical", "slewing brake fault", {"wind_speed": 9.1, "load_t": 4.2}),
        ("HEIGHT_LIMITER_FAILURE", "major", "hoist height limiter tripped", {"load_t": 2.8}),
        ("MOMENT_LIMITER_FAILURE", "major", "moment limiter overload", {"load_t": 6.3, "radius_m": 42}),
        ("W-WIND-SPEED", "warning", "wind speed above working limit", {"wind_speed": 21.5}),
    ],
    "construction_hoist": [
        ("E-DOOR-INTERLOCK", "critical", "cage door interlock open while moving", {"door_state": "open"}),
        ("OVERSPEED_GOVERNOR_TRIPPED", "major", "overspeed governor tripped", {"speed_mps": 0.9}),
    ],
    "elevator": [
        ("PEOPLE_TRAPPED", "critical", "passengers trapped between floors", {"floor": 7, "door_state": "closed"}),
        ("DOOR_FAULT", "major", "landing door does not close", {"floor": 3, "door_state": "ajar"}),
        ("W-LEVELLING", "minor", "levelling error above 15 mm", {"error_mm": 18}),
    ],
    "base_station": [
        ("MAINS_POWER_LOST", "major", "mains power lost, on battery", {"battery_pct": 64}),
        ("E-LINK-DOWN", "critical", "backhaul link down", {"link": "microwave"}),
        ("W-TEMP-HIGH", "minor", "cabinet temperature high", {"temp_c": 48}),
    ],
    "facility": [
        ("E-PUMP-FAIL", "major", "water pump failed", {"pressure_bar": 0.4}),
        ("W-WATER-LEAK", "minor", "water detected in plant room", {"sensor": "B2"}),
    ],
}


@dataclass(frozen=True)
class SimDevice:
    device_id: str
    equipment_type: str = "tower_crane"
    username: str | None = None  # None: the device's own id
    password: str | None = None


@dataclass
class _State:
    device: SimDevice
    client: mqtt.Client
    code: tuple[str, str, str, dict[str, object]]
    phase: str = "idle"  # idle | raised | offline
    repeats_left: int = 0
    flapping: bool = False
    back_at: float = 0.0
    seq: int = 0


@dataclass
class SimStats:
    published: int = 0
    raised: int = 0
    cleared: int = 0
    offline: int = 0
    errors: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)


def alarm_payload(
    device_id: str, alarm_id: str, code: tuple[str, str, str, dict[str, object]], state: str, *, sent_ns: int
) -> bytes:
    name, severity, message, readings = code
    body = {
        "alarm_id": alarm_id,
        "code": name,
        "severity": severity,
        "state": state,
        "at": datetime.now(UTC).isoformat(),
        "message": message,
        "data": {**readings, "sent_ns": sent_ns},
    }
    return json.dumps(body, separators=(",", ":")).encode()


def acknowledged(info: mqtt.MQTTMessageInfo) -> bool:
    """Whether the broker has acknowledged this QoS 1 publish.

    paho keeps a QoS 1 message published while the connection is down and sends it after the reconnect, but its
    `is_published()` raises for such a message forever after (rc NO_CONN); its own flag says whether the broker has
    acknowledged it since. (A broker restart under bench/soak.py --faults crashed the simulator here.)
    """
    try:
        return info.is_published()
    except RuntimeError:
        return bool(getattr(info, "_published", False))


class Fleet:
    """Connected simulated devices, pumped by the calling thread (no paho threads)."""

    def __init__(self, settings: Settings, devices: list[SimDevice], *, seed: int = 24) -> None:
        self.settings = settings
        self.rng = random.Random(seed)  # noqa: S311 (a reproducible simulation, not security)
        self.selector = selectors.DefaultSelector()
        self.run_id = uuid.uuid4().hex[:8]
        self.states: list[_State] = []
        self.dirty: set[int] = set()
        self.pending: list[mqtt.MQTTMessageInfo] = []  # QoS 1 publishes not yet acknowledged by the broker
        self.retry_at: dict[int, float] = {}  # device index -> earliest next reconnect attempt
        for d in devices:
            client = make_client(
                settings,
                client_id=f"sim-{d.device_id}-{self.run_id}",
                username=d.username or d.device_id,
                password=d.password or "",
            )
            client.will_set(f"devices/{d.device_id}/status", b"offline", qos=1, retain=True)
            catalogue = CATALOGUE.get(d.equipment_type) or CATALOGUE["tower_crane"]
            self.states.append(_State(d, client, self.rng.choice(catalogue)))

    # --- the external network loop ----------------------------------------------------------------------
    def connect(self, timeout: float = 30.0) -> None:
        connected: set[int] = set()
        refused: list[str] = []
        for i, st in enumerate(self.states):

            def on_connect(_c, _u, _f, rc, _p, i=i, st=st):  # type: ignore[no-untyped-def]
                if rc.is_failure:
                    refused.append(f"{st.device.device_id}: {rc}")
                else:
                    connected.add(i)

            st.client.on_connect = on_connect
            st.client.connect(self.settings.mqtt_host, self.settings.mqtt_port, keepalive=60)
            self._register(i)
        deadline = time.monotonic() + timeout
        while len(connected) + len(refused) < len(self.states) and time.monotonic() < deadline:
            self.pump(0.01)
        if refused:
            raise RuntimeError(f"the broker refused {len(refused)} device(s), e.g. {refused[0]}")
        if len(connected) < len(self.states):
            raise RuntimeError(f"only {len(connected)} of {len(self.states)} devices connected in {timeout}s")
        for st in self.states:
            st.client.publish(f"devices/{st.device.device_id}/status", b"online", qos=1, retain=True)
        self.flush()

    def _register(self, i: int) -> None:
        sock = self.states[i].client.socket()
        if sock is not None:
            self.selector.register(sock, selectors.EVENT_READ, i)

    def pump(self, timeout: float = 0.0) -> None:
        for key, _ in self.selector.select(timeout):
            st = self.states[key.data]
            if st.phase != "offline":
                st.client.loop_read()
        for i in list(self.dirty):
            client = self.states[i].client
            if client.want_write():
                client.loop_write()
            else:
                self.dirty.discard(i)

    def misc(self) -> None:
        for st in self.states:
            if st.phase != "offline":
                st.client.loop_misc()

    def flush(self, timeout: float = 30.0) -> None:
        """Pump until every QoS 1 message published so far is acknowledged by the broker."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.pump(0.005)
            self.pending = [m for m in self.pending if not acknowledged(m)]
            if not self.pending and not self.dirty:
                return

    def publish(self, i: int, topic: str, payload: bytes, *, retain: bool = False) -> None:
        self.pending.append(self.states[i].client.publish(topic, payload, qos=1, retain=retain))
        self.dirty.add(i)
        if len(self.pending) > 20000:
            self.pending = [m for m in self.pending if not acknowledged(m)]

    def heal(self) -> int:
        """Reconnect devices whose connection dropped (a broker restart); returns how many were reconnected.

        paho sends their unacknowledged QoS 1 messages again after the reconnect. Each device retries at most every
        3–5 s, so a broker that is still down is not hammered.
        """
        now = time.monotonic()
        done = 0
        for i, st in enumerate(self.states):
            if st.phase == "offline" or st.client.is_connected() or now < self.retry_at.get(i, 0.0):
                continue
            self.retry_at[i] = now + 3.0 + self.rng.random() * 2
            for key in list(self.selector.get_map().values()):
                if key.data == i:
                    self.selector.unregister(key.fileobj)
            try:
                st.client.reconnect()
            except OSError:
                continue
            done += 1
            self._register(i)
            self.dirty.add(i)
        return done

    def close(self) -> None:
        self.flush(10)
        for st in self.states:
            if st.phase != "offline":
                st.client.publish(f"devices/{st.device.device_id}/status", b"online", qos=1, retain=True)
                st.client.disconnect()  # a clean disconnect: no last will
                self.pump(0.001)
        self.selector.close()

    # --- device behaviour -------------------------------------------------------------------------------
    def step(self, i: int, scenario: str, stats: SimStats) -> None:
        """One message's worth of behaviour for device `i` under `scenario`."""
        st = self.states[i]
        d = st.device.device_id
        if st.phase == "offline":
            if time.monotonic() >= st.back_at:
                self._come_back(i)
            return
        if scenario == "offline" or (scenario == "mixed" and st.phase == "idle" and self.rng.random() < 0.02):
            self._drop(i, stats)
            return
        st.seq += 1
        alarm_id = f"{self.run_id}-{st.seq}"
        sent = time.time_ns()
        if scenario == "raise":
            self.publish(i, f"devices/{d}/alarms", alarm_payload(d, alarm_id, st.code, "raised", sent_ns=sent))
            stats.raised += 1
        elif st.phase == "idle":
            st.flapping = scenario == "flap" or self.rng.random() < 0.1
            st.repeats_left = 0 if st.flapping else self.rng.randint(1, 4)
            st.phase = "raised"
            self.publish(i, f"devices/{d}/alarms", alarm_payload(d, alarm_id, st.code, "raised", sent_ns=sent))
            stats.raised += 1
        elif st.repeats_left > 0:
            st.repeats_left -= 1
            self.publish(i, f"devices/{d}/alarms", alarm_payload(d, alarm_id, st.code, "raised", sent_ns=sent))
            stats.raised += 1
        else:
            self.publish(i, f"devices/{d}/alarms", alarm_payload(d, alarm_id, st.code, "cleared", sent_ns=sent))
            stats.cleared += 1
            st.phase = "idle"
        stats.published += 1

    def _drop(self, i: int, stats: SimStats) -> None:
        st = self.states[i]
        self.flush(5)
        sock = st.client.socket()
        if sock is not None:
            self.selector.unregister(sock)
            sock.close()  # abrupt: the broker publishes the last will `offline`
        st.phase = "offline"
        st.back_at = time.monotonic() + self.rng.uniform(5, 15)
        stats.offline += 1

    def _come_back(self, i: int) -> None:
        st = self.states[i]
        try:
            st.client.reconnect()
        except OSError:
            st.back_at = time.monotonic() + 2
            return
        st.phase = "idle"
        self._register(i)
        self.publish(i, f"devices/{st.device.device_id}/status", b"online", retain=True)


def simulate(
    settings: Settings,
    devices: list[SimDevice],
    *,
    rate: float,
    scenario: str = "mixed",
    duration: float | None = None,
    total: int | None = None,
    stop: threading.Event | None = None,
    progress: Callable[[SimStats, float], None] | None = None,
    seed: int = 24,
) -> SimStats:
    """Publish at `rate` messages per second across `devices` until `duration`, `total` or `stop`."""
    if scenario not in SCENARIOS:
        raise ValueError(f"unknown scenario '{scenario}'; choose one of {', '.join(SCENARIOS)}")
    stop = stop or threading.Event()
    fleet = Fleet(settings, devices, seed=seed)
    fleet.connect()
    stats = SimStats()
    if scenario == "crane-critical":
        cranes = [i for i, st in enumerate(fleet.states) if st.device.equipment_type == "tower_crane"] or [0]
        st = fleet.states[cranes[0]]
        d = st.device.device_id
        brake = CATALOGUE["tower_crane"][0]
        fleet.publish(
            cranes[0], f"devices/{d}/alarms", alarm_payload(d, f"{fleet.run_id}-1", brake, "raised", sent_ns=0)
        )
        stats.published = stats.raised = 1
        fleet.close()
        return stats
    started = time.monotonic()
    last_misc = started
    order = list(range(len(fleet.states)))
    n = 0
    try:
        while not stop.is_set():
            now = time.monotonic()
            elapsed = now - started
            if (duration is not None and elapsed >= duration) or (total is not None and stats.published >= total):
                break
            due = int(elapsed * rate) + 1 - n
            for _ in range(max(0, min(due, 1000))):
                if total is not None and stats.published >= total:
                    break
                i = order[n % len(order)] if scenario == "raise" else fleet.rng.randrange(len(order))
                fleet.step(i, scenario, stats)
                n += 1
            fleet.pump(0.0 if due > 0 else min(0.002, 1.0 / max(rate, 1.0)))
            if now - last_misc >= 1.0:
                fleet.misc()
                fleet.heal()
                last_misc = now
                if progress:
                    progress(stats, elapsed)
    finally:
        fleet.close()
    return stats
