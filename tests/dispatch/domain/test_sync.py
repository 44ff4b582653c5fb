"""Offline sync: device-time order, duplicates once, and which arrival time the promise uses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dispatch.domain.geo import GeoPoint, haversine_m
from dispatch.domain.policy import Policy
from dispatch.domain.sync import SyncEvent, order_events, sla_arrival_time

T = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


def test_events_apply_in_device_time_order_once() -> None:
    """A batch sent out of order is applied by device time, and a replayed key only once."""
    batch = [
        SyncEvent("k3", "arrived", T + timedelta(minutes=40), 0),
        SyncEvent("k1", "accept", T, 1),
        SyncEvent("k2", "en_route", T + timedelta(minutes=5), 2),
        SyncEvent("k1", "accept", T, 3),
        SyncEvent("k4", "position", T + timedelta(minutes=5), 4),
    ]
    assert [e.idempotency_key for e in order_events(batch)] == ["k1", "k2", "k4", "k3"]


def test_device_arrival_rules(policy: Policy) -> None:
    """The device time counts unless it is in the future, before en_route, too old or implies teleporting."""
    en_route = T
    arrived = T + timedelta(minutes=40)
    ok = sla_arrival_time(arrived, T + timedelta(hours=2), en_route, policy)
    assert (ok.at, ok.source, ok.reason) == (arrived, "device", None)

    future = sla_arrival_time(T + timedelta(minutes=10), T, None, policy)
    assert (future.at, future.source) == (T, "server")
    assert future.reason == "device time is 600 s ahead of the server"

    jitter = sla_arrival_time(T + timedelta(seconds=90), T, None, policy)
    assert (jitter.at, jitter.source) == (T, "device")  # within tolerance, clamped to receipt

    before = sla_arrival_time(en_route - timedelta(minutes=5), T + timedelta(hours=1), en_route, policy)
    assert (before.source, before.reason) == ("server", "arrival is 300 s before en_route")

    old = sla_arrival_time(T, T + timedelta(hours=73), None, policy)
    assert (old.source, old.reason) == ("server", "device time is older than 72 h")


def test_implied_speed_refuses_a_teleport(policy: Policy) -> None:
    """Shanghai to Beijing (≈1,070 km) in 40 minutes is not an arrival time the promise can trust."""
    shanghai, beijing = GeoPoint(31.2304, 121.4737), GeoPoint(39.9042, 116.4074)
    assert haversine_m(shanghai, beijing) == pytest.approx(1_067_000, rel=0.01)
    result = sla_arrival_time(
        T + timedelta(minutes=40),
        T + timedelta(hours=1),
        T,
        policy,
        en_route_position=shanghai,
        arrived_position=beijing,
    )
    assert result.source == "server"
    assert result.reason is not None and result.reason.startswith("implied speed")
    near = GeoPoint(31.30, 121.50)
    fine = sla_arrival_time(
        T + timedelta(minutes=40),
        T + timedelta(hours=1),
        T,
        policy,
        en_route_position=shanghai,
        arrived_position=near,
    )
    assert fine.source == "device"


def test_bad_coordinates_are_refused() -> None:
    """A position outside WGS 84 ranges is a payload error."""
    with pytest.raises(ValueError, match="WGS 84"):
        GeoPoint(121.47, 31.23)
