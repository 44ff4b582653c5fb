"""Turn a device alarm into complaint facts with the policy's mapping table (issue 7).

The first row of `alarms.mappings` that matches the equipment type, code, severity and the alarm's
readings decides the complaint category, the impact facts and the skills needed; grading then uses
the same rules as a phone complaint (`grading.ComplaintFacts`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from dispatch.domain.calendar import require_aware
from dispatch.domain.conditions import condition_holds
from dispatch.domain.grading import ComplaintFacts
from dispatch.domain.impact import Impact
from dispatch.domain.lifecycle import allowed_actions
from dispatch.domain.policy import Category, Policy, Severity


@dataclass(frozen=True)
class AlarmMapping:
    """What an alarm means: category, impact facts (`IMPACT_FACTS` names), skills, and the row used."""

    category: Category
    impact: Mapping[str, bool]
    required_skills: tuple[str, ...]
    rule: str

    def facts(
        self,
        *,
        equipment_type: str,
        code: str,
        severity: Severity,
        flapping: bool = False,
        prior_general_complaints: int = 0,
        days_since_last_general_complaint: float | None = None,
    ) -> ComplaintFacts:
        """Complaint facts for grading this alarm like a phone complaint."""
        return ComplaintFacts(
            category=self.category,
            equipment_type=equipment_type,
            alarm_severity=severity,
            alarm_code=code,
            flapping=flapping,
            prior_general_complaints=prior_general_complaints,
            days_since_last_general_complaint=days_since_last_general_complaint,
            impact=Impact.from_facts(self.impact),
        )


def map_alarm(
    equipment_type: str, code: str, severity: Severity | str, data: Mapping[str, Any] | None, policy: Policy
) -> AlarmMapping:
    """Map one alarm with the first matching row of the policy's table (rows documented in policy.toml).

    The policy guarantees a generic fallback for every severity, so this always returns a mapping.
    """
    sev = Severity(severity)
    readings = data or {}
    for row in policy.alarms.mappings:
        if row.equipment_type not in ("*", equipment_type):
            continue
        if row.codes and code not in row.codes:
            continue
        if row.severities and sev not in row.severities:
            continue
        if not condition_holds(row.data, readings):
            continue
        skills = tuple(dict.fromkeys(s.replace("{equipment_type}", equipment_type) for s in row.required_skills))
        return AlarmMapping(row.category, dict(row.impact), skills, row.name)
    raise ValueError(f"no alarm mapping for {equipment_type}/{code}/{sev.value}")


def should_auto_resolve(ticket_state: str, policy: Policy) -> bool:
    """Whether a cleared alarm resolves its ticket as auto-recovered (issue 7).

    Yes when the policy allows it and no technician has left yet (the lifecycle allows `auto_resolve`:
    new, assigned, accepted, reopened); otherwise the ticket stays and the technician is told.
    """
    return policy.alarms.auto_resolve_on_clear and "auto_resolve" in allowed_actions(ticket_state)


def opens_unreachable_ticket(equipment_type: str, policy: Policy) -> bool:
    """Whether an offline device of this type opens an "equipment unreachable" ticket (issue 7)."""
    return equipment_type in policy.alarms.offline.open_ticket_for


def heartbeat_overdue(last_seen_at: datetime, now: datetime, policy: Policy) -> bool:
    """Offline when nothing was heard for longer than `alarms.offline.heartbeat_timeout_seconds`."""
    require_aware(last_seen_at, "last_seen_at")
    require_aware(now, "now")
    return now - last_seen_at > timedelta(seconds=policy.alarms.offline.heartbeat_timeout_seconds)
