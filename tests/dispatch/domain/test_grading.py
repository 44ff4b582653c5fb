"""Grading: each default rule, every matching rule reported, repeats, flapping and overrides."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dispatch.domain.grading import (
    ComplaintFacts,
    GradeDecision,
    grade_complaint,
    grade_with_policy,
    is_flapping,
    override_grade,
    repeat_facts,
)
from dispatch.domain.impact import IMPACT_FACTS, Impact
from dispatch.domain.policy import GRADING_FACTS, Category, Grade, Policy, Severity

EQ = Category.EQUIPMENT


def _grade(policy: Policy, **facts: object) -> GradeDecision:
    facts.setdefault("category", EQ)
    impact = Impact.from_facts({k: facts.pop(k) for k in IMPACT_FACTS if k in facts})
    return grade_with_policy(ComplaintFacts(impact=impact, **facts), policy)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("facts", "rule", "grade"),
    [
        ({"injury": True}, "injury", Grade.MAJOR),
        ({"people_trapped": True}, "people_trapped", Grade.MAJOR),
        ({"safety_risk": True}, "safety_risk", Grade.MAJOR),
        ({"site_stopped": True}, "site_stopped", Grade.MAJOR),
        ({"equipment_type": "base_station", "equipment_down": True}, "base_station_down", Grade.MAJOR),
        ({"alarm_severity": Severity.CRITICAL, "alarm_code": "X1"}, "critical_alarm", Grade.MAJOR),
        ({"category": Category.EMERGENCY}, "emergency", Grade.MAJOR),
        ({"equipment_type": "tower_crane", "equipment_down": True}, "equipment_down", Grade.SERIOUS),
        ({"equipment_type": "base_station", "degraded": True}, "degraded_base_station", Grade.SERIOUS),
        ({"prior_general_complaints": 1}, "repeat_general", Grade.SERIOUS),
        ({"flapping": True}, "flapping_alarm", Grade.SERIOUS),
        ({"equipment_type": "elevator"}, "general", Grade.GENERAL),
    ],
)
def test_each_default_rule(policy: Policy, facts: dict[str, object], rule: str, grade: Grade) -> None:
    """Each default rule of domain.md grades its own case and names itself as the deciding rule."""
    decision = _grade(policy, **facts)
    assert (decision.grade, decision.rule) == (grade, rule)
    assert decision.reasons[0].rule == rule


def test_tower_crane_gearbox_is_serious(policy: Policy) -> None:
    """The domain page's broken hoist gearbox (crane out of service, no safety risk) is serious."""
    decision = _grade(policy, equipment_type="tower_crane", equipment_down=True)
    assert decision.grade is Grade.SERIOUS
    assert decision.reasons[0].text == "Equipment out of service without safety risk"


def test_people_trapped_in_elevator_is_major(policy: Policy) -> None:
    """People trapped in an elevator is major, with every matching reason listed in table order."""
    decision = _grade(
        policy,
        category=Category.EMERGENCY,
        equipment_type="elevator",
        people_trapped=True,
        equipment_down=True,
    )
    assert decision.grade is Grade.MAJOR
    assert decision.rule == "people_trapped"
    assert [r.rule for r in decision.reasons] == ["people_trapped", "emergency", "equipment_down"]
    assert [r.grade for r in decision.reasons] == [Grade.MAJOR, Grade.MAJOR, Grade.SERIOUS]


def test_higher_grade_wins_over_earlier_lower_rule(policy: Policy) -> None:
    """A later major rule beats an earlier serious one: the grade is the highest match, not the first."""
    rules = (policy.grading.rules[7], policy.grading.rules[5], policy.grading.rules[-1])  # serious, major, fb
    facts = ComplaintFacts(
        category=EQ, impact=Impact(equipment_down=True), alarm_severity=Severity.CRITICAL, alarm_code="Q"
    )
    decision = grade_complaint(facts, rules)
    assert (decision.grade, decision.rule) == (Grade.MAJOR, "critical_alarm")
    assert [r.rule for r in decision.reasons] == ["equipment_down", "critical_alarm"]


def test_base_station_down_reports_both_rules(policy: Policy) -> None:
    """A base station down is major, and the serious 'equipment down' rule is still shown as a reason."""
    decision = _grade(policy, equipment_type="base_station", equipment_down=True)
    assert decision.grade is Grade.MAJOR
    assert [r.rule for r in decision.reasons] == ["base_station_down", "equipment_down"]


def test_safety_risk_excludes_the_serious_down_rule(policy: Policy) -> None:
    """Equipment down *with* a safety risk is major only; the 'without safety risk' rule does not match."""
    decision = _grade(policy, equipment_down=True, safety_risk=True)
    assert [r.rule for r in decision.reasons] == ["safety_risk"]


def test_repeat_rule_text_counts_the_earlier_complaints(policy: Policy) -> None:
    """A repeated general complaint becomes serious and says how many earlier ones, within how many days."""
    decision = _grade(policy, prior_general_complaints=2, days_since_last_general_complaint=3.5)
    assert decision.grade is Grade.SERIOUS
    assert decision.reasons[0].text == (
        "Repeat complaint: 2 earlier general complaint(s) on this equipment within 30 days"
    )


def test_repeat_facts_use_the_window() -> None:
    """Only general complaints within the 30-day window before this report count as repeats."""
    now = datetime(2026, 3, 31, 8, 0, tzinfo=UTC)
    prior = [
        now - timedelta(days=31),
        now - timedelta(days=29),
        now - timedelta(days=2),
        now + timedelta(hours=1),
    ]
    assert repeat_facts(prior, now, 30) == (2, 2.0)
    assert repeat_facts([now - timedelta(days=31)], now, 30) == (0, None)


def test_flapping_is_serious_at_least(policy: Policy) -> None:
    """A flapping alarm is serious even when its severity alone would be general, and major stays major."""
    assert _grade(policy, alarm_severity=Severity.MINOR, flapping=True).grade is Grade.SERIOUS
    flapping_critical = _grade(policy, alarm_severity=Severity.CRITICAL, alarm_code="B", flapping=True)
    assert flapping_critical.grade is Grade.MAJOR
    assert "flapping_alarm" in [r.rule for r in flapping_critical.reasons]


def test_flapping_means_more_than_n_transitions_in_the_window() -> None:
    """Five raise/clear events in ten minutes flap (N = 4); four do not, nor do old ones."""
    now = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    five = [now - timedelta(minutes=m) for m in (0, 2, 4, 6, 9)]
    assert is_flapping(five, now, 4, 10)
    assert not is_flapping(five[:4], now, 4, 10)
    assert not is_flapping([*five[:4], now - timedelta(minutes=11)], now, 4, 10)


def test_override_keeps_the_computed_reasons(policy: Policy) -> None:
    """A dispatcher's override changes the grade, records who and why, and keeps the rules' reasons."""
    decision = _grade(policy, equipment_type="tower_crane", equipment_down=True)
    overridden = override_grade(decision, Grade.MAJOR, "concrete pour in progress", "dispatcher:li")
    assert (overridden.grade, overridden.computed_grade, overridden.rule) == (
        Grade.MAJOR,
        Grade.SERIOUS,
        "override",
    )
    assert [r.rule for r in overridden.reasons] == ["equipment_down", "override"]
    assert overridden.reasons[-1].text == (
        "Grade set to major by dispatcher:li (computed serious): concrete pour in progress"
    )
    assert overridden.override is not None and overridden.override.by == "dispatcher:li"
    again = override_grade(overridden, Grade.GENERAL, "customer says it works again", "dispatcher:wu")
    assert [r.rule for r in again.reasons] == ["equipment_down", "override"]
    assert again.override is not None and again.override.from_grade is Grade.SERIOUS


def test_override_needs_a_reason(policy: Policy) -> None:
    """An override without a reason or an author is refused."""
    decision = _grade(policy)
    with pytest.raises(ValueError, match="reason"):
        override_grade(decision, Grade.MAJOR, "  ", "dispatcher:li")
    with pytest.raises(ValueError, match="person"):
        override_grade(decision, Grade.MAJOR, "why", "")


def test_fact_names_match_the_policy_vocabulary() -> None:
    """Every fact a rule may test is one ComplaintFacts gives the rules (and vice versa)."""
    assert set(ComplaintFacts(category=EQ).as_mapping()) == set(GRADING_FACTS)
