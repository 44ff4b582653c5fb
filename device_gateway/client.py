"""The MQTT side of the gateway: a persistent MQTT v5 session, QoS 1, acknowledged only after the commit.

paho's network thread only queues what arrives (`on_message` never touches the database, never plans, never
calls HTTP). One storing thread takes whatever is queued — one message when traffic is light, up to
`batch_max` when it is heavy — stores it in one transaction and only then acknowledges each message. A crash
between receive and commit therefore means redelivery (deduplicated by the database), never loss.

Memory stays flat as far as the broker honours MQTT Receive Maximum: it may send at most `ReceiveMaximum`
unacknowledged messages, so the queue cannot hold more than that. (Mosquitto 2.0.11 enforces it only until
the first acknowledgements; see docs/device-protocol.md.)

Several gateways share the load through the shared subscription `$share/onsite24-gateway/…`; each needs its
own client id (its own persistent session).
"""

from __future__ import annotations

import logging
import queue
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm.exc import StaleDataError

from device_gateway.service import BatchResult, Message
from dispatch.core.backoff import Backoff
from dispatch.core.mqtt import make_client
from dispatch.core.settings import Settings

log = logging.getLogger("onsite24.gateway")

SHARE_GROUP = "onsite24-gateway"
ALARM_TOPIC = "devices/+/alarms"
TOPICS = ("devices/+/alarms", "devices/+/status", "devices/+/heartbeat")
SESSION_EXPIRY_SECONDS = 7 * 24 * 3600

BatchHandler = Callable[[Sequence[Message]], BatchResult | None]
FailureHandler = Callable[[Message, str], None]


@dataclass(frozen=True)
class _Received:
    message: Message
    mid: int
    qos: int
    generation: int


class Gateway:
    """One gateway process's MQTT session and its storing thread."""

    def __init__(
        self,
        settings: Settings,
        handle: BatchHandler,
        *,
        on_failure: FailureHandler | None = None,
        client_id: str | None = None,
        receive_maximum: int | None = None,
        batch_max: int | None = None,
    ) -> None:
        self.settings = settings
        self.handle = handle
        self.on_failure = on_failure
        self.fatal: BaseException | None = None
        self._unsubscribed = threading.Event()
        self._draining = threading.Event()  # stop taking new work once the queue is empty
        self._abort = threading.Event()  # give up now (also ends database retries)
        self._stop_requested = threading.Event()
        # `{hostname}` in the id lets identical replicas (docker compose --scale gateway=N) each keep their own
        # persistent session: a restarted container keeps its hostname and so resumes its session.
        self.client_id = (client_id or settings.mqtt_client_id).replace("{hostname}", socket.gethostname())
        self.receive_maximum = receive_maximum or settings.gateway_receive_maximum
        self.batch_max = min(batch_max or settings.gateway_batch_max, self.receive_maximum)
        self.queue: queue.Queue[_Received] = queue.Queue()
        # Hard cap on what this process holds, whatever the broker does (Mosquitto 2.0.11 overshoots Receive Maximum).
        self.queue_cap = 4 * self.receive_maximum
        self.overflowed = False
        self.resumes = 0  # reconnects made to get back messages dropped at the cap
        self.generation = 0  # bumped on every disconnect: message ids of an old connection are never acked
        self.connected = threading.Event()
        self.subscribed = threading.Event()
        self.stored = 0  # messages stored and acknowledged
        self.alarms_stored = 0  # new alarm rows
        self.duplicates = 0  # alarms that were already stored (redelivery)
        self.client = make_client(settings, client_id=self.client_id, clean_start=False, manual_ack=True)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        self.client.on_subscribe = self._on_subscribe
        self.client.on_connect_fail = lambda *_: log.warning("%s cannot reach the broker; retrying", self.client_id)
        self.client.reconnect_delay_set(min_delay=1, max_delay=30)

    # paho callbacks: network thread, nothing slow in here.
    def _on_connect(self, client: mqtt.Client, _u, _flags, reason_code, _props) -> None:  # type: ignore[no-untyped-def]
        if reason_code.is_failure:
            log.error("broker refused the gateway %s: %s", self.client_id, reason_code)
            return
        topics = [(f, 1) for f in self.filters()]
        log.info("%s connected to %s:%s; subscribing %s", self.client_id, *self._where(), [t for t, _ in topics])
        client.subscribe(topics)
        self.connected.set()

    def _on_subscribe(self, _c, _u, _mid, reason_codes, _props) -> None:  # type: ignore[no-untyped-def]
        if any(rc.is_failure for rc in reason_codes):
            log.error("%s: subscription refused: %s", self.client_id, reason_codes)
            return
        log.info("%s subscribed", self.client_id)
        self.subscribed.set()

    def _on_disconnect(self, _c, _u, _flags, reason_code, _props) -> None:  # type: ignore[no-untyped-def]
        self.generation += 1
        self.connected.clear()
        self.subscribed.clear()
        log.warning("%s disconnected (%s); paho reconnects with backoff", self.client_id, reason_code)

    def _on_message(self, _c: mqtt.Client, _u, msg: mqtt.MQTTMessage) -> None:  # type: ignore[no-untyped-def]
        # len() of the underlying deque, not qsize(): no lock round-trip with the storing thread per message.
        if len(self.queue.queue) >= self.queue_cap:
            # A broker that overshoots Receive Maximum: keep memory bounded. The message is not acknowledged, so it
            # stays in the broker's session; the storing thread reconnects once the queue is drained to get it again.
            self.overflowed = True
            return
        self.queue.put(_Received(Message(msg.topic, msg.payload), msg.mid, msg.qos, self.generation))

    def filters(self) -> list[str]:
        """The topic filters: the shared group (any number of gateways), or plain ones for a single gateway.

        Mosquitto 2.0.11 does not restore a persistent session's *shared* subscription after a broker restart:
        alarms published between the restart and the gateway's resubscription are acknowledged to the device and
        dropped (bench/soak.py --faults lost 33 in one restart). Plain subscriptions are restored, so a deployment
        with one gateway can set ONSITE24_GATEWAY_SHARED_SUBSCRIPTION=false and lose nothing on a broker restart.
        """
        if self.settings.gateway_shared_subscription:
            return [f"$share/{SHARE_GROUP}/{t}" for t in TOPICS]
        return list(TOPICS)

    def _where(self) -> tuple[str, int]:
        return self.settings.mqtt_host, self.settings.mqtt_port

    # The storing thread.
    def _next_batch(self, stop: threading.Event) -> list[_Received]:
        try:
            batch = [self.queue.get(timeout=0.2)]
        except queue.Empty:
            return []
        while len(batch) < self.batch_max:
            try:
                batch.append(self.queue.get_nowait())
            except queue.Empty:
                break
        return batch

    def _store(self, batch: list[_Received], stop: threading.Event) -> bool:
        """Store the batch, retrying while the database is unreachable; False if stopped before it was stored."""
        backoff = Backoff(0.5, 15.0)
        while not stop.is_set():
            try:
                started = time.perf_counter()
                result = self.handle([r.message for r in batch])
                log.debug("stored a batch of %d in %.1f ms", len(batch), (time.perf_counter() - started) * 1000)
                if result is not None:
                    self.alarms_stored += result.stored
                    self.duplicates += result.duplicates
                return True
            except DBAPIError as exc:
                # OperationalError covers "cannot connect" (the database restarting refuses new connections with no
                # SQLSTATE): before, that counted as a broken batch, it became a dead letter attempt and the gateway
                # exited (found by bench/soak.py --faults). An unreachable database is waited out instead.
                if (
                    exc.connection_invalidated
                    or isinstance(exc, OperationalError)
                    or "deadlock" in str(exc.orig).lower()
                    or _is_transient(exc)
                ):
                    delay = backoff.next_delay()
                    log.warning("database busy or unreachable (%s); retrying the batch in %.1fs", exc.orig, delay)
                    stop.wait(delay)
                    continue
                raise
            except StaleDataError as exc:
                # A person changed a ticket of this batch at the same moment: take the batch again.
                log.info("a ticket changed under the batch (%s); retrying", exc)
                stop.wait(0.05)
        return False

    def _ack(self, batch: list[_Received]) -> None:
        for r in batch:
            if r.generation == self.generation:
                self.client.ack(r.mid, r.qos)
            # else: that connection is gone; the broker redelivers and the database recognises the copy.

    def _storing_loop(self, stop: threading.Event) -> None:
        while not stop.is_set():
            batch = self._next_batch(stop)
            if not batch:
                if self._draining.is_set():
                    return
                continue
            try:
                try:
                    stored = self._store(batch, stop)
                except Exception:
                    log.exception("could not store a batch of %d; storing its messages one by one", len(batch))
                    stored = self._store_singly(batch, stop)
            except BaseException as exc:
                # Not even a dead letter could be written: exit unacknowledged; the restarted gateway gets them again.
                log.critical("giving up on a batch of %d; exiting so it is redelivered", len(batch))
                self.fatal = exc
                self._stop_requested.set()
                return
            if stored:
                self._ack(batch)
                self.stored += len(batch)
            if self.overflowed and self.queue.empty() and not stop.is_set():
                self._resume_session()

    def _resume_session(self) -> None:
        """Reconnect to the persistent session so the broker redelivers what was dropped at the cap."""
        log.info("%s dropped messages at its cap of %d; reconnecting to get them again", self.client_id, self.queue_cap)
        self.overflowed = False
        self.resumes += 1
        self.client.disconnect()  # a normal DISCONNECT: the session (expiry from CONNECT) and its messages stay
        self.client.loop_stop()
        self.client.connect_async(*self._where(), keepalive=30, clean_start=False, properties=self._connect_props())
        self.client.loop_start()

    def _store_singly(self, batch: list[_Received], stop: threading.Event) -> bool:
        """Isolate the message that fails: it becomes a dead letter with the error, the others are stored."""
        for r in batch:
            try:
                if not self._store([r], stop):
                    return False
            except Exception as exc:
                if self.on_failure is None:
                    raise
                log.exception("message on %s could not be stored; keeping it as a dead letter", r.message.topic)
                self.on_failure(r.message, f"the gateway could not store this message: {exc!r}"[:2000])
        return True

    def _connect_props(self) -> Properties:
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = SESSION_EXPIRY_SECONDS
        props.ReceiveMaximum = self.receive_maximum
        return props

    def run(self, stop: threading.Event) -> None:
        """Consume until `stop` is set, then hand over cleanly: unsubscribe, store and ack what is in hand, and
        end the session (expiry 0) so the broker routes everything to the remaining gateways.

        A gateway that dies instead (SIGKILL, power loss) keeps its session for SESSION_EXPIRY_SECONDS: its
        unacknowledged and queued messages wait for it to come back under the same client id.
        """
        props = self._connect_props()
        self.client.on_unsubscribe = lambda *_: self._unsubscribed.set()
        self.client.connect_async(*self._where(), keepalive=30, clean_start=False, properties=props)
        self.client.loop_start()
        storer = threading.Thread(target=self._storing_loop, args=(self._abort,), name="gateway-store", daemon=True)
        storer.start()
        self._stop_requested = stop
        try:
            stop.wait()
            if self.fatal is None and self.connected.is_set():
                self.client.unsubscribe(self.filters())
                self._unsubscribed.wait(5)
                time.sleep(0.2)  # messages already on the wire before the UNSUBACK
            self._draining.set()
            storer.join(timeout=30)
        finally:
            self._abort.set()
            storer.join(timeout=5)
            end = Properties(PacketTypes.DISCONNECT)
            end.SessionExpiryInterval = 0
            self.client.disconnect(properties=end)
            self.client.loop_stop()
        if self.fatal is not None:
            raise RuntimeError("the gateway stopped because a batch could not be stored") from self.fatal


def _is_transient(exc: DBAPIError) -> bool:
    code = getattr(exc.orig, "sqlstate", None) or ""
    # 40001 serialization failure, 40P01 deadlock, 08xxx connection, 57P0x shutdown/crash recovery.
    return code.startswith(("40", "08", "57P"))


def run_gateway(settings: Settings, handle: BatchHandler, *, stop: threading.Event | None = None) -> None:
    """Consume device messages until `stop` is set; `handle(messages)` must commit before it returns."""
    Gateway(settings, handle).run(stop or threading.Event())


def wait_subscribed(gateway: Gateway, timeout: float = 10.0) -> bool:
    """Whether the gateway is connected and subscribed within `timeout` seconds (for tests and tools)."""
    return gateway.subscribed.wait(timeout)
