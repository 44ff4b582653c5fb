"""Stored machine texts written again in the reader's language when they are shown.

Grade reasons, plan explanations and refusals are stored the way they were produced (the policy's words,
the optimizer's English) together with a rule name or reason code and the values they were filled with.
They are translated here, at render time, so a dispatcher in Seoul and a technician in Changsha read the
same record in their own language; a text we cannot translate (a deployment's own rule without a
translation, a dispatcher's free-text note) is shown as stored.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from typing import Any

from dispatch.core.i18n import gettext as _
from dispatch.core.i18n import has_key, tag
from dispatch.domain.grading import OVERRIDE_RULE
from dispatch.domain.policy import Policy


class _Blank(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        raise KeyError(key)


def _fill(text: str, params: Mapping[str, Any]) -> str | None:
    """`text` with its placeholders filled, or None when a value it needs was not kept."""
    try:
        return text.format_map(_Blank(params))
    except (KeyError, IndexError, ValueError):
        return None


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def word(prefix: str, value: str | None, locale: str | None) -> str:
    """A code (status.on_site, grade.major, action.accept …) in the reader's language; the code if unknown."""
    if value is None:
        return ""
    key = f"{prefix}.{value}"
    return _(key, locale) if has_key(key) else value


def grade_reason(reason: Mapping[str, Any], locale: str | None, policy: Policy | None = None) -> str:
    """One stored grade reason ({rule, grade, text, params}) in the reader's language.

    Order: the policy rule's own translation (`reasons` in the policy file), then the catalogue's text for a
    shipped rule (grade.reason.<rule>) when the stored text is that rule's shipped English wording (a
    deployment that rewrote a rule keeps its own words), else the stored text.
    """
    rule = str(reason.get("rule") or "")
    params: Mapping[str, Any] = reason.get("params") or {}
    stored = str(reason.get("text") or rule)
    if rule == OVERRIDE_RULE:
        if "reason" in params and "grade" in params:
            return _(
                "grade.reason.override",
                locale,
                grade=word("grade", str(params["grade"]), locale),
                reason=params["reason"],
            )
        return stored
    if policy is not None:
        own = next((r for r in policy.grading.rules if r.name == rule), None)
        translated = own.reasons.get(tag(locale)) if own is not None else None  # type: ignore[call-overload]
        if translated and (filled := _fill(translated, params)) is not None:
            return filled
    key = f"grade.reason.{rule}"
    if has_key(key):
        english = _(key, "en")
        if not _placeholders(english) - set(params) and _fill(english, params) == stored:
            return _(key, locale, **params)
    return stored


def grade_reasons(
    reasons: list[Mapping[str, Any]] | None, locale: str | None, policy: Policy | None = None
) -> list[dict[str, Any]]:
    """Stored reasons with `text` in the reader's language (rule, grade and params unchanged)."""
    return [{**r, "text": grade_reason(r, locale, policy)} for r in (reasons or [])]


def audit_action(action: str, locale: str | None) -> str:
    """An audit action code in words: its own key, else the lifecycle action (visit_accept → accept)."""
    for key in (f"audit.{action}", f"action.{action}", f"action.{action.removeprefix('visit_')}"):
        if has_key(key):
            return _(key, locale)
    return action.replace("_", " ")
