"""Small helpers shared by everything that talks to the broker (readiness probe, gateway, simulator)."""

from __future__ import annotations

import ssl
import threading
import uuid

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from dispatch.core.settings import Settings


def make_client(
    settings: Settings,
    *,
    client_id: str | None = None,
    username: str | None = None,
    password: str | None = None,
    clean_start: bool = True,
    manual_ack: bool = False,
) -> mqtt.Client:
    """An MQTT v5 client configured from settings (credentials, TLS)."""
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id=client_id or f"onsite24-{uuid.uuid4().hex[:12]}",
        protocol=mqtt.MQTTv5,
        manual_ack=manual_ack,
    )
    user = username if username is not None else settings.mqtt_username
    secret = password
    if secret is None and settings.mqtt_password is not None:
        secret = settings.mqtt_password.get_secret_value()
    if user:
        client.username_pw_set(user, secret)
    if settings.mqtt_tls:
        client.tls_set(
            ca_certs=str(settings.mqtt_tls_ca_file) if settings.mqtt_tls_ca_file else None,
            tls_version=ssl.PROTOCOL_TLS_CLIENT,
        )
    return client


def broker_reachable(settings: Settings, *, timeout: float = 2.0) -> tuple[bool, str]:
    """Whether the broker answers an MQTT CONNECT within `timeout` (any CONNACK means it is up)."""
    answered = threading.Event()
    outcome: dict[str, str] = {}

    def on_connect(_c, _u, _f, reason_code, _p):  # type: ignore[no-untyped-def]
        outcome["reason"] = str(reason_code)
        answered.set()

    client = make_client(settings, client_id=f"onsite24-readyz-{uuid.uuid4().hex[:8]}")
    client.on_connect = on_connect
    try:
        client.connect(settings.mqtt_host, settings.mqtt_port, keepalive=10)
    except (OSError, ssl.SSLError) as exc:
        return False, f"cannot connect to {settings.mqtt_host}:{settings.mqtt_port}: {exc}"
    client.loop_start()
    try:
        if not answered.wait(timeout):
            return False, "the broker did not answer CONNECT in time"
        return True, outcome.get("reason", "connected")
    finally:
        client.disconnect()
        client.loop_stop()
