"""Policy loading: the packaged defaults are domain.md's numbers, overrides merge, errors name the key."""

from __future__ import annotations

import copy
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from dispatch.domain.policy import (
    DEFAULT_POLICY_PATH,
    Grade,
    Policy,
    PolicyError,
    default_policy_data,
    load_policy,
    validate_policy,
)


@pytest.fixture
def data() -> dict[str, Any]:
    return copy.deepcopy(default_policy_data())


def _error_keys(data: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(PolicyError) as info:
        validate_policy(data)
    return dict(info.value.errors)


def test_defaults_are_the_domain_numbers(policy: Policy) -> None:
    """Without a deployment file, the promise and clocks are those of shared/domain.md."""
    assert policy.promise.on_site_hours == {Grade.MAJOR: 4, Grade.SERIOUS: 12, Grade.GENERAL: 24}
    assert policy.promise.hard_cap_hours == 24
    c = policy.clocks
    assert (c.department_notify_urgent_minutes, c.department_notify_ordinary_hours) == (3, 12)
    assert (c.cannot_meet_notice_hours, c.report_back_hours, c.first_responder_hours) == (2, 2, 2)
    assert (c.follow_up_verification_hours, c.return_visit_working_days) == (8, 2)
    assert (policy.calendar.country, policy.calendar.timezone) == ("CN", "Asia/Shanghai")
    assert policy.geofence.radius_m == 300
    assert policy.repeat.window_days == 30
    assert policy.alarms.offline.open_ticket_for == ("base_station", "elevator")
    assert DEFAULT_POLICY_PATH.name == "policy.toml"


def test_major_ladder_follows_the_domain_minutes(policy: Policy) -> None:
    """The major ladder notifies at once, the head at 5 min, the manager at 10 min, reports at 24 h/48 h."""
    steps = {s.key: (s.after_minutes, s.kind) for s in policy.escalation.ladders[Grade.MAJOR]}
    assert steps["department"] == (0, "notify")
    assert steps["department_head"] == (5, "notify")
    assert steps["supervising_manager"] == (10, "notify")
    assert steps["written_report_24h"] == (24 * 60, "report_due")
    assert steps["written_report_48h"] == (48 * 60, "report_due")


def test_deployment_file_overlays_the_defaults(tmp_path: Path) -> None:
    """A deployment file changes only what it names; other defaults stay."""
    override = tmp_path / "policy.toml"
    override.write_text(
        '[calendar]\ncountry = "KR"\ntimezone = "Asia/Seoul"\nextra_working_days = [2026-10-10]\n'
        "[geofence]\nradius_m = 150\n",
        encoding="utf-8",
    )
    policy = load_policy(override)
    assert policy.calendar.country == "KR"
    assert policy.calendar.extra_working_days == (date(2026, 10, 10),)
    assert policy.geofence.radius_m == 150
    assert policy.promise.on_site_hours[Grade.MAJOR] == 4


def test_unknown_fact_in_a_rule_is_named(data: dict[str, Any]) -> None:
    """A typo in a rule's condition is refused with the rule's key and the bad fact."""
    data["grading"]["rules"][0]["when"] = {"injuri": True}
    errors = _error_keys(data)
    assert "unknown fact 'injuri'" in errors["grading.rules[0].when"]


def test_grade_above_the_hard_cap_is_refused(data: dict[str, Any]) -> None:
    """No grade may promise more than the 24 h cap."""
    data["promise"]["on_site_hours"]["general"] = 30
    errors = _error_keys(data)
    assert "on_site_hours.general = 30 h exceeds hard_cap_hours = 24 h" in errors["promise"]


def test_unknown_country_and_time_zone_are_named(data: dict[str, Any]) -> None:
    """A calendar the holidays library or tz database does not know is refused at load."""
    data["calendar"]["country"] = "XX"
    data["calendar"]["timezone"] = "Mars/Olympus"
    errors = _error_keys(data)
    assert "unknown time zone 'Mars/Olympus'" in errors["calendar.timezone"]
    assert "country 'XX'" in errors["calendar.country"]


def test_unknown_subdivision_is_named(data: dict[str, Any]) -> None:
    """A region code the holidays library does not know for the country is refused."""
    data["calendar"]["country"] = "US"
    data["calendar"]["subdivision"] = "ZZ"
    assert "subdivision 'ZZ'" in _error_keys(data)["calendar.subdivision"]


def test_bad_range_test_and_unknown_key_are_named(data: dict[str, Any]) -> None:
    """A misspelt range operator or section key names its place in the file."""
    data["alarms"]["mappings"][5]["data"] = {"battery_pct": {"lt": 0}}
    data["geofence"]["radius"] = 300
    errors = _error_keys(data)
    assert "use gte/lte" in errors["alarms.mappings[5].data.battery_pct"]
    assert "Extra inputs are not permitted" in errors["geofence.radius"]


def test_rules_need_a_fallback(data: dict[str, Any]) -> None:
    """Every complaint must get a grade, so the table must end in a fallback."""
    data["grading"]["rules"] = [r for r in data["grading"]["rules"] if "when" in r]
    assert "fallback" in _error_keys(data)["grading.rules"]


def test_unknown_reason_placeholder_is_named(data: dict[str, Any]) -> None:
    """A reason text may only interpolate known facts and policy values."""
    data["grading"]["rules"][1]["reason"] = "Trapped on floor {floor}"
    assert "{floor}" in _error_keys(data)["grading.rules[1].reason"]


def test_lateness_fees_must_rank_the_grades(data: dict[str, Any]) -> None:
    """The optimiser must always prefer keeping a major promise: fees major > serious > general."""
    data["routing"]["late_fee"]["serious"] = 200000000
    assert "major ≥ serious ≥ general" in _error_keys(data)["routing.late_fee"]


def test_alarm_table_needs_a_fallback_per_severity(data: dict[str, Any]) -> None:
    """Every alarm must map to something, so each severity needs a generic row."""
    data["alarms"]["mappings"] = [m for m in data["alarms"]["mappings"] if m["name"] != "generic_critical"]
    assert "severity 'critical'" in _error_keys(data)["alarms.mappings"]


def test_unreadable_file_is_named(tmp_path: Path) -> None:
    """A broken deployment file fails loudly with its path, not silently with defaults."""
    bad = tmp_path / "policy.toml"
    bad.write_text("[promise\n", encoding="utf-8")
    with pytest.raises(PolicyError, match="not valid TOML") as info:
        load_policy(bad)
    assert str(bad) in str(info.value)
    with pytest.raises(PolicyError, match="cannot read"):
        load_policy(tmp_path / "missing.toml")


def test_policy_is_frozen(policy: Policy) -> None:
    """Code cannot change the policy at run time; only the file can."""
    with pytest.raises(ValueError, match="frozen"):
        policy.geofence.radius_m = 1  # type: ignore[misc]


def _keys(data: object) -> list[str]:
    if isinstance(data, dict):
        return [k for key, value in data.items() for k in [key, *_keys(value)]]
    if isinstance(data, list):
        return [k for item in data for k in _keys(item)]
    return []


def test_every_policy_key_is_documented() -> None:
    """An operator finds every key of the packaged policy and every rule/mapping name in docs/policy.md."""
    doc = (Path(__file__).resolve().parents[3] / "docs" / "policy.md").read_text(encoding="utf-8")
    data = default_policy_data()
    names = [r["name"] for r in data["grading"]["rules"]] + [m["name"] for m in data["alarms"]["mappings"]]
    prose = re.sub(r"```.*?```", "", doc, flags=re.DOTALL)
    spans = re.findall(r"`([^`]+)`", prose)
    documented = {word for span in spans for word in re.findall(r"[A-Za-z0-9_]+", span)}
    missing = sorted({k for k in [*_keys(data), *names] if k not in documented})
    assert missing == []
