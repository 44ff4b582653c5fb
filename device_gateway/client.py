"""The MQTT side of the gateway: a persistent MQTT v5 session, QoS 1, acknowledged only after the commit.

A message is acknowledged to the broker only once the database holds it, so a crash between receive and
commit means redelivery, never loss.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from dispatch.core.mqtt import make_client
from dispatch.core.settings import Settings

log = logging.getLogger("onsite24.gateway")

SHARE_GROUP = "onsite24-gateway"
ALARM_TOPIC = "devices/+/alarms"
SESSION_EXPIRY_SECONDS = 7 * 24 * 3600

Handler = Callable[[str, bytes], None]


def run_gateway(settings: Settings, handle: Handler, *, stop: threading.Event | None = None) -> None:
    """Consume alarms until `stop` is set; `handle(topic, payload)` must commit before it returns."""
    stop = stop or threading.Event()
    client = make_client(settings, client_id=settings.mqtt_client_id, clean_start=False, manual_ack=True)
    topics = [f"$share/{SHARE_GROUP}/{ALARM_TOPIC}"]

    def on_connect(c: mqtt.Client, _u, _flags, reason_code, _props) -> None:  # type: ignore[no-untyped-def]
        if reason_code.is_failure:
            log.error("broker refused the gateway: %s", reason_code)
            return
        log.info("connected to %s:%s; subscribing %s", settings.mqtt_host, settings.mqtt_port, topics)
        c.subscribe([(t, 1) for t in topics])

    def on_message(c: mqtt.Client, _u, msg: mqtt.MQTTMessage) -> None:  # type: ignore[no-untyped-def]
        try:
            handle(msg.topic, msg.payload)
        except Exception:
            # Not acknowledged: the broker redelivers after reconnect. Reconnect to trigger that now.
            log.exception("could not store message on %s; leaving it unacknowledged", msg.topic)
            c.disconnect()
            return
        c.ack(msg.mid, msg.qos)

    client.on_connect = on_connect
    client.on_message = on_message
    client.reconnect_delay_set(min_delay=1, max_delay=30)
    props = Properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = SESSION_EXPIRY_SECONDS
    props.ReceiveMaximum = 200
    client.connect_async(settings.mqtt_host, settings.mqtt_port, keepalive=30, clean_start=False, properties=props)
    client.loop_start()
    try:
        stop.wait()
    finally:
        client.disconnect()
        client.loop_stop()
