"""The gateway's policy numbers (pure data). Defaults follow docs/device-protocol.md and shared/domain.md.

TODO(merge): load these from dispatch/policy.toml through dispatch.domain.policy (flapping thresholds,
heartbeat timeout, device-offline policy) once that lands; the field names here match the issue's wording.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta


@dataclass(frozen=True)
class GatewayPolicy:
    # Flapping: the fault is raised and cleared more than `flap_cycles` times within `flap_window`.
    flap_cycles: int = 3
    flap_window: timedelta = timedelta(minutes=10)
    # A cleared alarm resolves its ticket as auto-recovered while no technician has left yet.
    auto_resolve_on_clear: bool = True
    # A device that announced heartbeats is offline once none arrived for this long.
    heartbeat_timeout: timedelta = timedelta(minutes=3)
    # An offline device of these equipment types opens an "equipment unreachable" ticket after the grace.
    unreachable_ticket_grades: dict[str, str] = field(
        default_factory=lambda: {"base_station": "major", "elevator": "serious"}
    )
    unreachable_grace: timedelta = timedelta(seconds=0)


DEFAULT_POLICY = GatewayPolicy()
