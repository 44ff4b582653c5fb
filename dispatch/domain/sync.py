"""Offline sync rules for the technician app (issue 6 "Offline").

Events queued on a phone arrive later in one batch, each with a client idempotency key and the
device time it happened. They are applied in device-time order (ties keep batch order); a key seen
twice in a batch is applied once (the database dedups across batches). The SLA uses the device time
of `arrived` only when it is plausible; otherwise the server's receive time, which can only be later,
so an implausible clock never makes the promise look kept.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from dispatch.domain.calendar import require_aware
from dispatch.domain.geo import GeoPoint, haversine_m
from dispatch.domain.policy import Policy


@dataclass(frozen=True)
class SyncEvent:
    """One queued technician event: its idempotency key, kind (a `VisitAction` value), device time."""

    idempotency_key: str
    kind: str
    device_at: datetime
    batch_index: int = 0


def order_events(events: Iterable[SyncEvent]) -> list[SyncEvent]:
    """Events in device-time order (ties: batch order), each idempotency key once (its first copy)."""
    seen: set[str] = set()
    unique: list[SyncEvent] = []
    for event in sorted(events, key=lambda e: e.batch_index):
        require_aware(event.device_at, "device_at")
        if event.idempotency_key not in seen:
            seen.add(event.idempotency_key)
            unique.append(event)
    return sorted(unique, key=lambda e: (e.device_at, e.batch_index))


@dataclass(frozen=True)
class ArrivalTime:
    """The arrival time the SLA uses, where it came from, and why the device time was refused."""

    at: datetime
    source: Literal["device", "server"]
    reason: str | None = None


def sla_arrival_time(
    device_at: datetime,
    received_at: datetime,
    en_route_at: datetime | None,
    policy: Policy,
    *,
    en_route_position: GeoPoint | None = None,
    arrived_position: GeoPoint | None = None,
) -> ArrivalTime:
    """Which time counts as the technician's arrival for the on-site promise.

    The device time is plausible when it is (1) no more than `sync.future_tolerance_seconds` after
    the server received it, (2) not earlier than `en_route` by more than
    `sync.before_en_route_tolerance_seconds`, (3) no older than `sync.max_offline_hours`, and (4)
    when both positions are known, the implied straight-line speed since `en_route` does not exceed
    `sync.max_travel_speed_kmh`. A plausible time is clamped into [en_route_at, received_at] (clock
    jitter within the tolerances never moves arrival before departure or after receipt). Otherwise
    the server receive time is used, with the reason.
    """
    require_aware(device_at, "device_at")
    require_aware(received_at, "received_at")
    rules = policy.sync
    server = received_at.astimezone(UTC)

    ahead = (device_at - received_at).total_seconds()
    if ahead > rules.future_tolerance_seconds:
        return ArrivalTime(server, "server", f"device time is {ahead:.0f} s ahead of the server")
    if received_at - device_at > timedelta(hours=rules.max_offline_hours):
        return ArrivalTime(server, "server", f"device time is older than {rules.max_offline_hours:g} h")
    if en_route_at is not None:
        early = (en_route_at - device_at).total_seconds()
        if early > rules.before_en_route_tolerance_seconds:
            return ArrivalTime(server, "server", f"arrival is {early:.0f} s before en_route")
        travel_s = (device_at - en_route_at).total_seconds()
        if en_route_position is not None and arrived_position is not None and travel_s > 0:
            kmh = haversine_m(en_route_position, arrived_position) / 1000 / (travel_s / 3600)
            if kmh > rules.max_travel_speed_kmh:
                return ArrivalTime(server, "server", f"implied speed {kmh:.0f} km/h since en_route")
    at = min(device_at, received_at)
    if en_route_at is not None:
        at = max(at, en_route_at)
    return ArrivalTime(at.astimezone(UTC), "device")


def history_contradiction(
    at: datetime, history: Sequence[tuple[str, datetime | None]], tolerance: timedelta
) -> tuple[str, datetime] | None:
    """The latest fact of the ticket's history (what, when) that `at` comes before, or None when `at` fits.

    `history` lists what must have happened before a technician acts on the job (opened, assigned, …); an event
    whose device time is earlier than one of them is a wrong phone clock, refused with this fact as the reason
    (issue 18: "accepted 06:34:58" before "opened 06:35:58"). `tolerance` (policy
    `sync.before_history_tolerance_seconds`) absorbs a clock a few seconds behind.
    """
    require_aware(at, "at")
    known = [(what, when) for what, when in history if when is not None]
    late = [(what, when) for what, when in known if at < when - tolerance]
    return max(late, key=lambda item: item[1]) if late else None
