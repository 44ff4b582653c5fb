"""The gateway's policy numbers, read from the dispatch policy file (dispatch/policy.toml, [alarms]).

`GatewayPolicy.from_policy(policy)` keeps the gateway's names for what it needs (flapping window, heartbeat
timeout, which equipment types open an "equipment unreachable" ticket) and carries the whole policy along,
so device tickets are graded by the same rules and alarm mapping as phone complaints.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any


@dataclass(frozen=True)
class GatewayPolicy:
    # Flapping: the fault is raised and cleared more than `flap_cycles` times within `flap_window`.
    flap_cycles: int = 2
    flap_window: timedelta = timedelta(minutes=10)
    # A cleared alarm resolves its ticket as auto-recovered while no technician has left yet.
    auto_resolve_on_clear: bool = True
    # A device that announced heartbeats is offline once none arrived for this long.
    heartbeat_timeout: timedelta = timedelta(minutes=5)
    # An offline device of these equipment types opens an "equipment unreachable" ticket after the grace.
    unreachable_types: tuple[str, ...] = ("base_station", "elevator")
    unreachable_grace: timedelta = timedelta(seconds=0)
    offline_code: str = "DEVICE_OFFLINE"
    offline_severity: str = "major"
    # The dispatch policy (grade rules, alarm mapping, clocks); None only in bare unit tests.
    rules: Any = field(default=None, compare=False, repr=False)
    # Where the customer's tracking link points (the "complaint received" notice of an alarm ticket).
    public_base_url: str | None = None

    @classmethod
    def from_policy(cls, policy: Any, *, public_base_url: str | None = None) -> GatewayPolicy:
        alarms = policy.alarms
        return cls(
            # The policy counts raise/clear transitions; a cycle is one raise and one clear.
            flap_cycles=max(1, alarms.flapping.max_transitions // 2),
            flap_window=timedelta(minutes=alarms.flapping.window_minutes),
            auto_resolve_on_clear=alarms.auto_resolve_on_clear,
            heartbeat_timeout=timedelta(seconds=alarms.offline.heartbeat_timeout_seconds),
            unreachable_types=tuple(alarms.offline.open_ticket_for),
            offline_code=alarms.offline.alarm_code,
            offline_severity=str(getattr(alarms.offline.alarm_severity, "value", alarms.offline.alarm_severity)),
            rules=policy,
            public_base_url=public_base_url,
        )


def _default() -> GatewayPolicy:
    from dispatch.domain.policy import load_policy

    return GatewayPolicy.from_policy(load_policy())


DEFAULT_POLICY = _default()
