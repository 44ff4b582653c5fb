"""The product's Mosquitto configuration: persistence, no silent drops, passwords and per-device ACLs.

Mosquitto's default `max_queued_messages` (1000) silently dropped 18,198 of 20,000 queued QoS 1 messages
for a slow persistent subscriber on a two-core machine; the product config lifts that limit and persists
sessions so a gateway that restarts finds its queue intact.

Used by provisioning (`make demo`), docker-compose (deploy/mosquitto) and the test harness alike.
`python -m device_gateway.broker write-config --dir D --port P --gateway-user U --gateway-password W`
"""

from __future__ import annotations

import argparse
import getpass
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

GATEWAY_ACL = """\
# The gateway reads every device's topics (also through the $share group) and writes nothing to devices.
user {gateway_user}
topic read devices/+/alarms
topic read devices/+/status
topic read devices/+/heartbeat
"""
# Demo and load tests only: one account that may publish as any device (`onsite24 devices simulate --account`).
SIMULATOR_ACL = """\
user {simulator_user}
topic write devices/+/alarms
topic write devices/+/status
topic write devices/+/heartbeat
"""
# %u is the MQTT username, which for a device is its device id: a device may only publish under its own id.
DEVICE_PATTERNS = """\
pattern write devices/%u/alarms
pattern write devices/%u/status
pattern write devices/%u/heartbeat
"""


@dataclass(frozen=True)
class TlsListener:
    port: int
    cafile: Path
    certfile: Path
    keyfile: Path


def render_config(
    directory: Path,
    *,
    port: int,
    bind: str = "127.0.0.1",
    log_dest: str = "file",
    tls: TlsListener | None = None,
    run_as: str | None = None,
) -> str:
    log = f"log_dest file {directory / 'mosquitto.log'}" if log_dest == "file" else f"log_dest {log_dest}"
    lines = [
        "# Onsite24 broker configuration (generated; see device_gateway/broker.py)",
        "per_listener_settings false",
        "allow_anonymous false",
        f"password_file {directory / 'passwd'}",
        f"acl_file {directory / 'acl'}",
        "persistence true",
        f"persistence_location {directory / 'data'}/",
        "autosave_interval 10",
        "# 0 = no limit: a slow persistent subscriber must never lose queued QoS 1 alarms.",
        "max_queued_messages 0",
        "max_queued_bytes 0",
        "max_inflight_messages 200",
        "persistent_client_expiration 14d",
        "max_packet_size 131072",
        f"pid_file {directory / 'mosquitto.pid'}",
        log,
        "log_type error",
        "log_type warning",
        "log_type notice",
        f"listener {port} {bind}",
        "protocol mqtt",
    ]
    if run_as:
        lines.insert(1, f"user {run_as}")
    if tls is not None:
        lines += [
            f"listener {tls.port} {bind}",
            f"cafile {tls.cafile}",
            f"certfile {tls.certfile}",
            f"keyfile {tls.keyfile}",
            "tls_version tlsv1.2",
        ]
    return "\n".join(lines) + "\n"


def _mosquitto_passwd() -> str:
    found = shutil.which("mosquitto_passwd")
    if not found:
        raise RuntimeError("mosquitto_passwd not found: install the 'mosquitto' package (make demo does)")
    return found


def set_password(directory: Path, username: str, password: str) -> None:
    """Add or replace one account in the broker's password file (stored hashed by mosquitto_passwd)."""
    passwd = directory / "passwd"
    if not passwd.exists():
        passwd.touch(mode=0o600)
    subprocess.run([_mosquitto_passwd(), "-b", str(passwd), username, password], check=True)  # noqa: S603


def remove_password(directory: Path, username: str) -> None:
    passwd = directory / "passwd"
    if passwd.exists():
        subprocess.run([_mosquitto_passwd(), "-D", str(passwd), username], check=True)  # noqa: S603


def write_config(
    directory: Path,
    *,
    port: int,
    gateway_user: str,
    gateway_password: str,
    bind: str = "127.0.0.1",
    log_dest: str = "file",
    tls: TlsListener | None = None,
    simulator_user: str | None = None,
    simulator_password: str | None = None,
) -> Path:
    """Write mosquitto.conf, acl and passwd (gateway account) into `directory`; returns the config path.

    `simulator_user` adds an account that may publish as any device: for demos and load tests, never production.
    """
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "data").mkdir(exist_ok=True)
    run_as = getpass.getuser() if os.geteuid() == 0 else None
    conf = directory / "mosquitto.conf"
    conf.write_text(render_config(directory, port=port, bind=bind, log_dest=log_dest, tls=tls, run_as=run_as))
    acl = GATEWAY_ACL.format(gateway_user=gateway_user) + "\n"
    if simulator_user:
        acl += SIMULATOR_ACL.format(simulator_user=simulator_user) + "\n"
    (directory / "acl").write_text(acl + DEVICE_PATTERNS)
    set_password(directory, gateway_user, gateway_password)
    if simulator_user and simulator_password:
        set_password(directory, simulator_user, simulator_password)
    (directory / "passwd").chmod(0o600)
    (directory / "acl").chmod(0o600)
    return conf


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    w = sub.add_parser("write-config", help="write mosquitto.conf, acl and passwd into a directory")
    w.add_argument("--dir", type=Path, required=True)
    w.add_argument("--port", type=int, default=1883)
    w.add_argument("--bind", default="127.0.0.1")
    w.add_argument("--gateway-user", default="onsite24-gateway")
    w.add_argument("--gateway-password", required=True)
    w.add_argument("--simulator-user", help="demo/load tests only: an account that may publish as any device")
    w.add_argument("--simulator-password")
    args = parser.parse_args()
    conf = write_config(
        args.dir.resolve(),
        port=args.port,
        bind=args.bind,
        gateway_user=args.gateway_user,
        gateway_password=args.gateway_password,
        simulator_user=args.simulator_user,
        simulator_password=args.simulator_password,
    )
    print(conf)


if __name__ == "__main__":
    main()
