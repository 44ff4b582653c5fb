"""The shipped deployment files: docker-compose and the broker config."""

from __future__ import annotations

from pathlib import Path

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
