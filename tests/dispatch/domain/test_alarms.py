"""Alarm mapping: device alarms become complaint facts and grade like phone complaints."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

import pytest

from dispatch.domain.alarms import heartbeat_overdue, map_alarm, opens_unreachable_ticket, should_auto_resolve
from dispatch.domain.grading import grade_with_policy
from dispatch.domain.policy import Category, Grade, Policy, Severity, default_policy_data, validate_policy


def _grade(policy: Policy, equipment_type: str, code: str, severity: Severity, data: dict | None) -> Grade:
    mapping = map_alarm(equipment_type, code, severity, data, policy)
    return grade_with_policy(mapping.facts(equipment_type=equipment_type, code=code, severity=severity), policy).grade


def test_crane_slewing_brake_is_major_via_safety_risk(policy: Policy) -> None:
    """A tower crane's slewing-brake fault is a safety risk and grades major, needing a tower-crane technician."""
    m = map_alarm("tower_crane", "SLEW_BRAKE_FAULT", Severity.CRITICAL, {"wind_speed": 9.5}, policy)
    assert (m.rule, m.category) == ("crane_slewing_brake", Category.EQUIPMENT)
    assert m.impact == {"safety_risk": True, "equipment_down": True}
    assert m.required_skills == ("tower_crane",)
    facts = m.facts(equipment_type="tower_crane", code="SLEW_BRAKE_FAULT", severity=Severity.MAJOR)
    decision = grade_with_policy(facts, policy)
    assert (decision.grade, decision.rule) == (Grade.MAJOR, "safety_risk")


@pytest.mark.parametrize(
    ("data", "rule", "grade"),
    [
        ({"battery_backup": False}, "base_station_mains_lost_no_battery_flag", Grade.MAJOR),
        ({"battery_pct": 0}, "base_station_mains_lost_battery_empty", Grade.MAJOR),
        ({"battery_pct": 64, "battery_backup": True}, "base_station_mains_lost_on_battery", Grade.SERIOUS),
        (None, "base_station_mains_lost_on_battery", Grade.SERIOUS),
    ],
)
def test_base_station_mains_lost_depends_on_battery(policy: Policy, data: dict | None, rule: str, grade: Grade) -> None:
    """Mains power lost at a base station is major with no battery left, else serious (degraded)."""
    assert map_alarm("base_station", "MAINS_POWER_LOST", Severity.MAJOR, data, policy).rule == rule
    assert _grade(policy, "base_station", "MAINS_POWER_LOST", Severity.MAJOR, data) is grade


def test_elevator_alarms(policy: Policy) -> None:
    """People trapped in a lift is an emergency (major, rescue skill); a door fault is serious."""
    trapped = map_alarm("elevator", "PEOPLE_TRAPPED", Severity.CRITICAL, {"door_state": "closed"}, policy)
    assert trapped.category is Category.EMERGENCY
    assert trapped.required_skills == ("elevator",)
    assert _grade(policy, "elevator", "PEOPLE_TRAPPED", Severity.MAJOR, None) is Grade.MAJOR
    assert _grade(policy, "elevator", "DOOR_FAULT", Severity.MAJOR, None) is Grade.SERIOUS


def test_hoist_limiter_failure_is_major(policy: Policy) -> None:
    """A construction hoist's limiter failure is a safety risk: major."""
    assert (
        map_alarm("construction_hoist", "LIMITER_FAILURE", Severity.MAJOR, {}, policy).rule == "hoist_limiter_failure"
    )
    assert _grade(policy, "construction_hoist", "LIMITER_FAILURE", Severity.MAJOR, {}) is Grade.MAJOR


@pytest.mark.parametrize(
    ("severity", "rule", "grade"),
    [
        (Severity.CRITICAL, "generic_critical", Grade.MAJOR),
        (Severity.MAJOR, "generic_major", Grade.SERIOUS),
        (Severity.MINOR, "generic_minor_or_warning", Grade.GENERAL),
        (Severity.WARNING, "generic_minor_or_warning", Grade.GENERAL),
    ],
)
def test_unknown_codes_fall_back_by_severity(policy: Policy, severity: Severity, rule: str, grade: Grade) -> None:
    """A vendor code the table does not know still maps, by severity, with the equipment type as skill."""
    m = map_alarm("facility_pump", "E-4711", severity, {}, policy)
    assert (m.rule, m.required_skills) == (rule, ("facility_pump",))
    assert _grade(policy, "facility_pump", "E-4711", severity, {}) is grade


def test_device_offline_maps_to_unreachable(policy: Policy) -> None:
    """A base station that goes offline maps through the policy's offline code and is degraded (serious)."""
    offline = policy.alarms.offline
    m = map_alarm("base_station", offline.alarm_code, offline.alarm_severity, None, policy)
    assert m.rule == "device_offline"
    assert _grade(policy, "base_station", offline.alarm_code, offline.alarm_severity, None) is Grade.SERIOUS


def test_table_order_decides() -> None:
    """The first matching row wins, so a deployment can put a specific row before a generic one."""
    data = copy.deepcopy(default_policy_data())
    data["alarms"]["mappings"].insert(
        0,
        {
            "name": "windy_crane",
            "equipment_type": "tower_crane",
            "severities": ["warning"],
            "data": {"wind_speed": {"gte": 20}},
            "category": "equipment",
            "impact": {"safety_risk": True},
        },
    )
    policy = validate_policy(data)
    assert map_alarm("tower_crane", "WIND", "warning", {"wind_speed": 22.0}, policy).rule == "windy_crane"
    assert map_alarm("tower_crane", "WIND", "warning", {"wind_speed": 12.0}, policy).rule == (
        "generic_minor_or_warning"
    )


def test_unknown_severity_is_refused(policy: Policy) -> None:
    """A severity outside the protocol is a payload error, not a silent general ticket."""
    with pytest.raises(ValueError, match="'fatal'"):
        map_alarm("tower_crane", "X", "fatal", {}, policy)


def test_clear_auto_resolves_only_before_anyone_left(policy: Policy) -> None:
    """A cleared alarm resolves an accepted ticket, but not one whose technician is already driving."""
    assert should_auto_resolve("accepted", policy)
    assert not should_auto_resolve("en_route", policy)
    data = copy.deepcopy(default_policy_data())
    data["alarms"]["auto_resolve_on_clear"] = False
    assert not should_auto_resolve("new", validate_policy(data))


def test_offline_rules(policy: Policy) -> None:
    """Base stations and elevators silent for more than 5 minutes get an unreachable ticket; cranes do not."""
    assert opens_unreachable_ticket("base_station", policy)
    assert not opens_unreachable_ticket("tower_crane", policy)
    seen = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
    assert not heartbeat_overdue(seen, seen + timedelta(seconds=300), policy)
    assert heartbeat_overdue(seen, seen + timedelta(seconds=301), policy)
