"""TLS: a listener with certificates from a CA made by the test accepts TLS clients, and the gateway runs over mqtts."""

from __future__ import annotations

import socket
import ssl
import subprocess
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from device_gateway.broker import TlsListener
from dispatch.core.settings import Settings
from dispatch.devices.models import Alarm
from tests.device_gateway.helpers import alarm, alarm_count, device_client, register_devices, running_gateway, wait_for
from tests.harness.broker import destroy_broker, start_broker
from tests.harness.net import free_port


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_ca_and_server_cert(directory: Path) -> tuple[Path, Path, Path]:
    """A self-signed CA and a server certificate for 127.0.0.1/localhost signed by it (openssl CLI)."""
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=Onsite24 Test CA",
             "-keyout", "ca.key", "-out", "ca.crt", cwd=directory)  # fmt: skip
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-keyout", "server.key",
             "-out", "server.csr", cwd=directory)  # fmt: skip
    (directory / "san.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    _openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
             "-days", "2", "-extfile", "san.ext", "-out", "server.crt", cwd=directory)  # fmt: skip
    return directory / "ca.crt", directory / "server.crt", directory / "server.key"


@pytest.fixture(scope="module")
def tls_broker(tmp_path_factory):  # type: ignore[no-untyped-def]
    directory = tmp_path_factory.mktemp("tls")
    ca, cert, key = make_ca_and_server_cert(directory)
    broker = start_broker(tls=TlsListener(port=free_port(), cafile=ca, certfile=cert, keyfile=key))
    try:
        yield broker
    finally:
        destroy_broker(broker)


def test_gateway_and_device_work_over_tls(tls_broker, database_url, live_db):
    """With mqtts:// and the CA file set, devices and the gateway talk over TLS and alarms are stored."""
    settings = Settings(
        environment="test",
        database_url=database_url,
        mqtt_url=f"mqtts://127.0.0.1:{tls_broker.tls.port}",
        mqtt_tls_ca_file=tls_broker.tls.cafile,
        mqtt_username=tls_broker.gateway_user,
        mqtt_password=tls_broker.gateway_password,
    )
    [(device, password)] = register_devices(live_db, tls_broker, 1)
    with running_gateway(settings, live_db, client_id=f"gw-tls-{uuid.uuid4().hex[:6]}"):
        crane = device_client(settings, device, password)
        assert isinstance(crane.socket(), ssl.SSLSocket)
        crane.publish(f"devices/{device}/alarms", alarm(), qos=1)
        wait_for(lambda: alarm_count(live_db) == 1, what="alarm over TLS")
        crane.disconnect()
        crane.loop_stop()
    with Session(live_db) as s:
        assert s.scalars(select(Alarm)).one().device_id == device


def test_tls_listener_refuses_a_client_that_does_not_trust_the_ca(tls_broker):
    """A client without the deployment's CA cannot complete the TLS handshake (no silent downgrade)."""
    context = ssl.create_default_context()
    raw = socket.create_connection(("127.0.0.1", tls_broker.tls.port), timeout=5)
    try:
        with pytest.raises(ssl.SSLCertVerificationError):
            context.wrap_socket(raw, server_hostname="127.0.0.1")
    finally:
        raw.close()
