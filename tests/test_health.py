"""Probes that orchestrators and load balancers rely on."""

from __future__ import annotations

import time


def _wait_status(client, path, status, seconds=15.0):
    deadline = time.monotonic() + seconds
    while True:
        r = client.get(path)
        if r.status_code == status or time.monotonic() > deadline:
            return r
        time.sleep(0.2)


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
