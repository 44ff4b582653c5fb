"""The shipped deployment files: docker-compose and the broker config."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from device_gateway.broker import render_config

ROOT = Path(__file__).resolve().parents[1]


def test_compose_file_parses_and_names_the_stack():
    """docker-compose.yml is valid YAML and runs PostGIS, Mosquitto, API, gateway and worker."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"db", "broker", "api", "gateway", "worker"} <= set(services)
    assert services["db"]["image"].startswith("postgis/postgis")
    assert services["broker"]["image"].startswith("eclipse-mosquitto")
    for name in ("api", "gateway", "worker"):
        assert services[name]["command"][0] == "onsite24"
        assert "ONSITE24_SECRET_KEY" in services[name]["environment"]


def test_broker_configs_never_drop_queued_alarms():
    """Both broker configs lift max_queued_messages, persist sessions and refuse anonymous clients."""
    shipped = (ROOT / "deploy/mosquitto/mosquitto.conf").read_text().splitlines()
    rendered = render_config(Path("/tmp/x"), port=1883).splitlines()
    for conf in (shipped, rendered):
        assert "max_queued_messages 0" in conf
        assert "persistence true" in conf
        assert "allow_anonymous false" in conf


def test_gateway_and_worker_can_be_scaled_with_compose():
    """`docker compose up --scale gateway=2 --scale worker=2` works: no fixed names or host ports, one MQTT
    session per gateway replica, every gateway on the shared subscription."""
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    for name in ("gateway", "worker"):
        assert "container_name" not in services[name], f"{name} cannot be scaled with a fixed container name"
        assert "ports" not in services[name], f"{name} cannot be scaled with a fixed host port"
        assert services[name].get("restart") == "unless-stopped", f"{name} is restarted when it dies"
    command = services["gateway"]["command"]
    client_id = command[command.index("--client-id") + 1]
    assert "{hostname}" in client_id, "replicas need distinct MQTT client ids"


def test_client_id_placeholder_gives_each_replica_its_own_session():
    """A gateway started with `--client-id onsite24-gateway-{hostname}` uses its host's name in the id."""
    import socket

    from device_gateway.client import SHARE_GROUP, TOPICS, Gateway
    from dispatch.core.settings import Settings

    gateway = Gateway(Settings(environment="test"), lambda _batch: None, client_id="onsite24-gateway-{hostname}")
    assert gateway.client_id == f"onsite24-gateway-{socket.gethostname()}"
    assert SHARE_GROUP == "onsite24-gateway" and "devices/+/alarms" in TOPICS


@pytest.mark.skipif(
    shutil.which("docker") is None
    or subprocess.run(["docker", "compose", "version"], capture_output=True, check=False).returncode != 0,
    reason="the Docker Compose plugin is not installed here",
)
def test_docker_compose_accepts_the_file_with_scaled_services():
    """`docker compose config` validates the file (where the Compose plugin is installed)."""
    env = {**os.environ, "ONSITE24_SECRET_KEY": "x" * 48, "ONSITE24_DB_PASSWORD": "p", "ONSITE24_MQTT_PASSWORD": "p"}
    done = subprocess.run(
        ["docker", "compose", "-f", str(ROOT / "docker-compose.yml"), "config", "--quiet"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
