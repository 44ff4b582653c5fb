"""Checks that a page rendered in a real browser is wholly in one language (reusable by every page's test).

A message key that escaped translation shows as `area.thing.word`; every area is known from the
catalogues (the server's .po files and the board's resource files), so the check finds a key even when
it is missing from every catalogue (a typo in the code), without mistaking file names or domains for one.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

from babel.messages.pofile import read_po

from dispatch.core import i18n

ROOT = Path(__file__).resolve().parents[2]
BOARD_LOCALES = ROOT / "board" / "src" / "locales"
# Shown text and the texts people read in tooltips, placeholders and screen readers.
_VISIBLE_TEXT_JS = """() => {
  const parts = [document.body.innerText, document.title];
  for (const el of document.querySelectorAll('[title], [placeholder], [aria-label]')) {
    for (const a of ['title', 'placeholder', 'aria-label']) if (el.getAttribute(a)) parts.push(el.getAttribute(a));
  }
  return parts.join('\\n');
}"""


def _flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flatten(value, name + "."))
        else:
            out[name] = value
    return out


@cache
def board_texts(locale: str) -> dict[str, str]:
    """The board's resource file of a language (zh-CN, en, ko), keys flattened."""
    return _flatten(json.loads((BOARD_LOCALES / f"{i18n.tag(locale)}.json").read_text(encoding="utf-8")))


@cache
def known_keys() -> frozenset[str]:
    keys = set(board_texts("en"))
    for area in i18n.catalogue_areas():
        with i18n.catalogue_path("en", area).open("rb") as fp:
            keys |= {m.id for m in read_po(fp) if isinstance(m.id, str) and m.id}
    return frozenset(keys)


@cache
def _key_pattern() -> re.Pattern[str]:
    areas = sorted({k.split(".")[0] for k in known_keys()}, key=len, reverse=True)
    return re.compile(r"(?<![\w./-])(?:" + "|".join(map(re.escape, areas)) + r")(?:\.[A-Za-z0-9_/-]+)+")


def untranslated(text: str) -> list[str]:
    """Message keys visible in `text` (any `area.thing…` whose area is one of ours)."""
    return sorted(set(_key_pattern().findall(text)))


def visible_text(page: Any) -> str:
    return page.evaluate(_VISIBLE_TEXT_JS)


def assert_in_language(page: Any, locale: str, *, expected: list[str], name: str) -> str:
    """The page declares `locale`, shows no message key, and shows each of the `expected` texts.

    `expected` are texts in `locale` the page must show (taken from the catalogues, never typed in the
    test), which proves it is really in that language. Returns the visible text.
    """
    tag = i18n.tag(locale)
    assert page.evaluate("document.documentElement.lang") == tag, f"{name}: <html lang> is not {tag}"
    text = visible_text(page)
    leftovers = untranslated(text)
    assert not leftovers, f"{name} in {tag} shows untranslated keys: {leftovers}"
    for word in expected:
        assert word in text, f"{name} in {tag} does not show {word!r}"
    return text
