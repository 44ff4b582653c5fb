"""Grade a complaint major / serious / general from its facts, with reasons a person can read.

Rule (domain.md "Classification"; issue 4 "Grading"): every rule of the policy's ordered grading
table whose condition holds for the facts *matches*; the complaint gets the highest grade among the
matching rules (a tie goes to the first in table order), and every matching rule is reported as a
reason. Fallback rules (no condition) apply only when nothing else matched. A dispatcher may override
the grade with a reason; the override is kept alongside the computed reasons.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timedelta
from typing import Any

from dispatch.domain.conditions import condition_holds
from dispatch.domain.impact import Impact
from dispatch.domain.policy import Category, Grade, GradeRule, GradingPolicy, Policy, Severity

OVERRIDE_RULE = "override"


@dataclass(frozen=True)
class ComplaintFacts:
    """What is known about a complaint when it is graded (the intake's four questions, or an alarm).

    `prior_general_complaints` counts general complaints on the same equipment within the policy's
    repeat window (see `repeat_facts`); `days_since_last_general_complaint` is the age of the latest.
    """

    category: Category
    equipment_type: str | None = None
    impact: Impact = field(default_factory=Impact)
    alarm_severity: Severity | None = None
    alarm_code: str | None = None
    prior_general_complaints: int = 0
    days_since_last_general_complaint: float | None = None
    flapping: bool = False

    def as_mapping(self) -> dict[str, Any]:
        """Facts by name, enum values as plain strings (what grade-rule conditions test)."""
        values: dict[str, Any] = {}
        for f in fields(self):
            v = getattr(self, f.name)
            if isinstance(v, Impact):
                values.update(v.facts())
            else:
                values[f.name] = v.value if isinstance(v, Category | Severity) else v
        return values


@dataclass(frozen=True)
class GradeReason:
    """One rule that matched: its name, the grade it asks for and its readable text (in the policy's words).

    `params` are the values the text's placeholders were filled with, kept so the text can be written
    again in the reader's language when it is shown (dispatch.core.texts).
    """

    rule: str
    grade: Grade
    text: str
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class GradeOverride:
    """A person's decision to replace the computed grade (audited by the service)."""

    from_grade: Grade
    to_grade: Grade
    reason: str
    by: str


@dataclass(frozen=True)
class GradeDecision:
    """The grade, the rule that decided it, and every matching rule as a reason (table order).

    After an override, `grade` is the overriding grade, `computed_grade` keeps what the rules said and
    the override is the last reason.
    """

    grade: Grade
    rule: str
    reasons: tuple[GradeReason, ...]
    computed_grade: Grade
    override: GradeOverride | None = field(default=None)


class _Blank(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "?"


def _render(text: str, values: Mapping[str, Any]) -> str:
    return text.format_map(_Blank({k: ("?" if v is None else v) for k, v in values.items()}))


def _used(text: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """The values a reason text's placeholders name (what a translation of it needs)."""
    names = {name for _, name, _, _ in string.Formatter().parse(text) if name}
    return {k: ("?" if values.get(k) is None else values[k]) for k in sorted(names)}


def grade_complaint(
    facts: ComplaintFacts,
    rules: GradingPolicy | Sequence[GradeRule],
    placeholders: Mapping[str, Any] | None = None,
) -> GradeDecision:
    """Grade `facts` with the ordered `rules` (see module docstring).

    `placeholders` supplies policy values for reason texts (`Policy.placeholders()`); `grade_with_policy`
    passes them for you.
    """
    table = rules.rules if isinstance(rules, GradingPolicy) else tuple(rules)
    values = facts.as_mapping()
    matched = [r for r in table if not r.is_fallback and condition_holds(r.when, values)]
    if not matched:
        matched = [r for r in table if r.is_fallback][:1]
    if not matched:
        raise ValueError("grading table has no fallback rule")
    texts = {**(placeholders or {}), **values}
    reasons = tuple(
        GradeReason(r.name, r.grade, _render(r.reason, texts), _used(" ".join((r.reason, *r.reasons.values())), texts))
        for r in matched
    )
    winner = max(matched, key=lambda r: r.grade.rank)  # max() keeps the first of equal ranks
    return GradeDecision(grade=winner.grade, rule=winner.name, reasons=reasons, computed_grade=winner.grade)


def grade_with_policy(facts: ComplaintFacts, policy: Policy) -> GradeDecision:
    """`grade_complaint` with the policy's table and its reason placeholders."""
    return grade_complaint(facts, policy.grading, policy.placeholders())


def override_grade(decision: GradeDecision, new_grade: Grade, reason: str, by: str) -> GradeDecision:
    """Replace the grade by a person's decision; the computed reasons stay and the override is added.

    Overriding again replaces the previous override (the audit trail keeps the history).
    """
    if not reason.strip():
        raise ValueError("an override needs a reason")
    if not by.strip():
        raise ValueError("an override needs the person who made it")
    base = tuple(r for r in decision.reasons if r.rule != OVERRIDE_RULE)
    text = f"Grade set to {new_grade.value} by {by} (computed {decision.computed_grade.value}): {reason}"
    return replace(
        decision,
        grade=new_grade,
        rule=OVERRIDE_RULE,
        reasons=(*base, GradeReason(OVERRIDE_RULE, new_grade, text)),
        override=GradeOverride(decision.computed_grade, new_grade, reason, by),
    )


def repeat_facts(
    prior_general_reported_at: Iterable[datetime], reported_at: datetime, window_days: int
) -> tuple[int, float | None]:
    """Count earlier general complaints on the same equipment within `window_days` before `reported_at`.

    Returns `(count, days_since_latest)` for `ComplaintFacts.prior_general_complaints` and
    `days_since_last_general_complaint`; complaints after `reported_at` are ignored (domain.md
    "Classification": a general complaint repeated within 30 days is serious).
    """
    window = timedelta(days=window_days)
    ages = [reported_at - at for at in prior_general_reported_at if timedelta(0) <= reported_at - at <= window]
    if not ages:
        return 0, None
    return len(ages), min(ages).total_seconds() / 86400


def is_flapping(transitions_at: Iterable[datetime], now: datetime, max_transitions: int, window_minutes: float) -> bool:
    """An alarm flaps when it was raised/cleared more than `max_transitions` times in the last window.

    `transitions_at` are the times of raise and clear events of one device fault (issue 7).
    """
    since = now - timedelta(minutes=window_minutes)
    return sum(1 for at in transitions_at if since <= at <= now) > max_transitions
