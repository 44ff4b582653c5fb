"""Stored machine texts written again in the reader's language when they are shown.

Grade reasons, plan explanations and refusals are stored the way they were produced (the policy's words,
the optimizer's English) together with a rule name or reason code and the values they were filled with.
They are translated here, at render time, so a dispatcher in Seoul and a technician in Changsha read the
same record in their own language; a text we cannot translate (a deployment's own rule without a
translation, a dispatcher's free-text note) is shown as stored.
"""

from __future__ import annotations

import math
import string
from collections.abc import Mapping
from datetime import datetime
from functools import cache
from typing import Any

from babel import dates
from babel.messages.pofile import read_po

from dispatch.core.i18n import FALLBACK, catalogue_areas, catalogue_path, has_key, normalize, tag, text_or, zone
from dispatch.core.i18n import gettext as _
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


# --- the optimizer's explanations (routing/explain.py: reason codes with their values) ------------------


def duration(seconds: float, locale: str | None) -> str:
    """``2 h 40 min`` in the reader's language (minutes rounded up, like the optimizer's English)."""
    minutes = max(0, math.ceil(float(seconds) / 60 - 1e-9))
    d, rem = divmod(minutes, 24 * 60)
    h, m = divmod(rem, 60)
    if d:
        return _("plan.duration.days-hours", locale, d=d, h=h) if h else _("plan.duration.days", locale, d=d)
    if h:
        return _("plan.duration.hours-minutes", locale, h=h, m=m) if m else _("plan.duration.hours", locale, h=h)
    return _("plan.duration.minutes", locale, m=m)


def plan_time(iso: str, locale: str | None, tz: str | None, now: datetime | None) -> str:
    """A time of the plan in the site zone: ``14:00`` on the day of `now`, else with the weekday."""
    when = datetime.fromisoformat(iso)
    zone_info = zone(tz)
    lang = normalize(locale) or FALLBACK
    if now is not None and when.astimezone(zone_info).date() == now.astimezone(zone_info).date():
        return dates.format_time(when, "HH:mm", tzinfo=zone_info, locale=lang)
    return dates.format_skeleton("EHm", when, tzinfo=zone_info, locale=lang)


def _joined(items: list[str], locale: str | None) -> str:
    return _("list.separator", locale).join(items)


def _who(skills: list[str], locale: str | None) -> str:
    if not skills:
        return _("plan.who.any", locale)
    return _("plan.who.skilled", locale, skills=_joined([word("equipment", s, locale) for s in skills], locale))


def plan_reason(
    code: str, values: Mapping[str, Any], fallback: str, locale: str | None, tz: str | None, now: datetime | None
) -> str:
    """One explanation line (plan.reason.<code>) with its values written for the reader; else `fallback`."""
    params: dict[str, Any] = {}
    try:
        for name, value in values.items():
            if name.endswith("_at"):
                params[name.removesuffix("_at")] = plan_time(str(value), locale, tz, now)
            elif name.endswith("_s"):
                params[name.removesuffix("_s")] = duration(float(value), locale)
            elif name == "skills":
                params["skills"] = _joined([word("equipment", s, locale) for s in value], locale)
                params["who"] = _who(list(value), locale)
            elif name == "names":
                params["names"] = _joined([str(n) for n in value], locale)
            elif name == "start_kind":
                params["start"] = word("start", str(value).replace(" ", "_").replace("-", "_"), locale)
            elif name == "hours":
                params["hours"] = f"{float(value):g}"
            else:
                params[name] = value
    except (TypeError, ValueError):
        return fallback
    return text_or(f"plan.reason.{code}", fallback, locale, **params)


def plan_reasons(doc: Mapping[str, Any], key: str, locale: str | None, tz: str | None) -> list[str]:
    """The reasons of one visit of a stored plan document, in the reader's language where codes were kept."""
    english = list((doc.get("reasons") or {}).get(key, []))
    codes = (doc.get("reason_codes") or {}).get(key)
    if not codes or len(codes) != len(english) or (normalize(locale) or FALLBACK) == FALLBACK:
        return english  # English readers get the optimizer's own words; old plans kept no codes
    now = datetime.fromisoformat(doc["now"]) if doc.get("now") else None
    return [
        plan_reason(code, values, text, locale, tz, now) for (code, values), text in zip(codes, english, strict=True)
    ]


def known_text(text: str, prefix: str, locale: str | None) -> str:
    """A stored English sentence that is one of the catalogue's texts under `prefix`, in the reader's language.

    For reasons kept as plain text by older code paths (e.g. why a ticket cannot be planned)."""
    for key in _english_texts(prefix).get(text, ()):
        return _(key, locale)
    return text


@cache
def _english_texts(prefix: str) -> dict[str, tuple[str, ...]]:
    """English text -> the keys under `prefix` that have it (read once from the English catalogues)."""
    found: dict[str, list[str]] = {}
    for area in catalogue_areas():
        with catalogue_path(FALLBACK, area).open("rb") as fp:
            for message in read_po(fp, locale=FALLBACK):
                if isinstance(message.id, str) and message.id.startswith(prefix) and isinstance(message.string, str):
                    found.setdefault(message.string, []).append(message.id)
    return {text: tuple(keys) for text, keys in found.items()}
