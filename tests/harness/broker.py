"""A real Mosquitto broker for the test session, started with the product's own config, passwords and ACL."""

from __future__ import annotations

import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from device_gateway.broker import TlsListener, set_password, write_config
from tests.harness.net import free_port
from tests.harness.wait import wait_for


@dataclass
class MosquittoBroker:
    directory: Path
    port: int
    gateway_user: str
    gateway_password: str
    tls: TlsListener | None = None
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> None:
        if self.process is not None and self.process.poll() is None:
            return
        binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        self.process = subprocess.Popen(
            [binary, "-c", str(self.directory / "mosquitto.conf")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(self._accepts, timeout=10, what=f"mosquitto to start (see {self.directory / 'mosquitto.log'})")

    def _accepts(self) -> bool:
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
        except OSError:
            return False
        return True

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        self.process = None

    def reload(self) -> None:
        """Re-read passwords and ACLs (SIGHUP), as `onsite24 devices provision` does."""
        if self.process is not None:
            self.process.send_signal(1)
            time.sleep(0.3)

    def add_account(self, username: str, password: str) -> None:
        set_password(self.directory, username, password)
        self.reload()


def start_broker(tls: TlsListener | None = None) -> MosquittoBroker:
    directory = Path(tempfile.mkdtemp(prefix="onsite24-mqtt-"))
    port = free_port()
    password = secrets.token_hex(16)
    write_config(directory, port=port, gateway_user="onsite24-gateway", gateway_password=password, tls=tls)
    broker = MosquittoBroker(directory, port, "onsite24-gateway", password, tls)
    broker.start()
    return broker


def destroy_broker(broker: MosquittoBroker) -> None:
    broker.stop()
    shutil.rmtree(broker.directory, ignore_errors=True)
