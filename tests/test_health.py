"""Probes that orchestrators and load balancers rely on."""

from __future__ import annotations

from tests.harness.wait import wait_for


def _wait_status(client, path, status, seconds=15.0):
    """The response once `path` answers `status` (the probe follows the broker within `seconds`)."""
    return wait_for(
        lambda: (r := client.get(path)).status_code == status and r, timeout=seconds, interval=0.2, what=path
    )


def test_healthz_is_alive(client):
    """The liveness probe answers without touching dependencies."""
    assert client.get("/healthz").json() == {"status": "ok"}


def test_readyz_follows_the_broker(client, broker):
    """/readyz is 200 with database and broker up, 503 while the broker is down, 200 again after."""
    assert _wait_status(client, "/readyz", 200).status_code == 200
    broker.stop()
    try:
        r = _wait_status(client, "/readyz", 503)
        assert r.status_code == 503
        assert r.json()["checks"]["broker"]["ok"] is False
        assert r.json()["checks"]["database"]["ok"] is True
    finally:
        broker.start()
    assert _wait_status(client, "/readyz", 200).status_code == 200
