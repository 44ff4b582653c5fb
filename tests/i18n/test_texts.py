"""Grade reasons are stored once and read in each reader's language (catalogue, or the policy's own words)."""

from __future__ import annotations

import pytest

from dispatch.core import i18n, texts
from dispatch.domain.grading import ComplaintFacts, grade_with_policy
from dispatch.domain.impact import Impact
from dispatch.domain.policy import Category, default_policy_data, load_policy, validate_policy


def _stored(decision) -> list[dict]:  # type: ignore[no-untyped-def]
    """What the intake service keeps on the ticket."""
    return [
        {"rule": r.rule, "grade": r.grade.value, "text": r.text, "params": dict(r.params)} for r in decision.reasons
    ]


def test_every_shipped_rule_has_a_catalogue_reason_matching_the_policy():
    """The English catalogue text of each default rule is the policy's own wording (so it is recognised)."""
    for rule in load_policy().grading.rules:
        key = f"grade.reason.{rule.name}"
        assert i18n.has_key(key), f"add {key}"
        assert i18n.gettext(key, "en") == rule.reason, f"{key} differs from policy.toml"


@pytest.mark.parametrize("locale", i18n.LOCALES)
def test_a_reason_with_values_reads_in_each_language(locale):
    """A repeat complaint's reason keeps its numbers in every language."""
    policy = load_policy()
    decision = grade_with_policy(
        ComplaintFacts(category=Category.EQUIPMENT, prior_general_complaints=2, days_since_last_general_complaint=3),
        policy,
    )
    stored = _stored(decision)
    repeat = next(r for r in stored if r["rule"] == "repeat_general")
    text = texts.grade_reason(repeat, locale, policy)
    assert text == i18n.gettext("grade.reason.repeat_general", locale, **repeat["params"])
    assert "2" in text and str(policy.repeat.window_days) in text
    if locale == "en":
        assert text == repeat["text"]


def test_a_deployments_own_rule_uses_its_translations_or_its_words():
    """A rewritten rule is not replaced by the shipped translation; its `reasons` table translates it."""
    data = default_policy_data()
    rule = next(r for r in data["grading"]["rules"] if r["name"] == "people_trapped")
    rule["reason"] = "Persons stuck in the lift car"
    policy = validate_policy(data, "test")
    decision = grade_with_policy(
        ComplaintFacts(category=Category.EQUIPMENT, impact=Impact(people_trapped=True)), policy
    )
    reason = next(r for r in _stored(decision) if r["rule"] == "people_trapped")
    assert texts.grade_reason(reason, "zh_CN", policy) == "Persons stuck in the lift car"

    rule["reasons"] = {"zh-CN": "有人被困在轿厢内", "ko": "엘리베이터에 사람이 갇힘"}
    policy = validate_policy(data, "test")
    assert texts.grade_reason(reason, "zh_CN", policy) == "有人被困在轿厢内"
    assert texts.grade_reason(reason, "ko", policy) == "엘리베이터에 사람이 갇힘"
    assert texts.grade_reason(reason, "en", policy) == "Persons stuck in the lift car"


def test_a_policy_translation_with_an_unknown_placeholder_is_refused():
    """A typo in a translated reason is caught when the policy loads, not when a ticket is shown."""
    data = default_policy_data()
    data["grading"]["rules"][0]["reasons"] = {"ko": "부상 {nonsense}"}
    with pytest.raises(ValueError, match="nonsense"):
        validate_policy(data, "test")


def test_an_override_keeps_the_dispatchers_words_inside_a_translated_sentence():
    """The dispatcher's free text is not translated; the sentence around it and the grade are."""
    reason = {"rule": "override", "grade": "major", "text": "x", "params": {"grade": "major", "reason": "VIP site"}}
    assert texts.grade_reason(reason, "zh_CN") == i18n.gettext(
        "grade.reason.override", "zh_CN", grade=i18n.gettext("grade.major", "zh_CN"), reason="VIP site"
    )


def test_old_rows_without_values_fall_back_to_their_stored_text():
    """Tickets graded before values were kept still show their reason (in the policy's words)."""
    old = {"rule": "repeat_general", "grade": "serious", "text": "Repeat complaint: 1 earlier …"}
    assert texts.grade_reason(old, "ko") == old["text"]
    plain = {"rule": "people_trapped", "grade": "major", "text": "People are trapped"}
    assert texts.grade_reason(plain, "ko") == i18n.gettext("grade.reason.people_trapped", "ko")
