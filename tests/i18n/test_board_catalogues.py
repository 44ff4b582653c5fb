"""The board's resource files are complete in every language, and the page check recognises leftover keys."""

from __future__ import annotations

import re

import pytest

from dispatch.core import i18n
from tests.i18n.pages import ROOT, board_texts, untranslated

PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")
# Literal keys passed to the board's translation function (`t("…")`, `tr("…")`).
USED = re.compile(r"""\b(?:t|tr)\(\s*["']([a-z][\w-]*(?:\.[\w-]+)+)["']""")


@pytest.mark.parametrize("locale", ["zh_CN", "ko"])
def test_every_language_has_every_board_text_with_the_same_placeholders(locale: str) -> None:
    english, other = board_texts("en"), board_texts(locale)
    assert set(other) == set(english), f"{i18n.tag(locale)}.json differs: {sorted(set(other) ^ set(english))}"
    for key, text in other.items():
        assert text.strip(), f"{locale}: {key} is empty"
        assert set(PLACEHOLDER.findall(text)) == set(PLACEHOLDER.findall(english[key])), f"{locale}: {key}"


def test_every_key_the_board_code_uses_exists() -> None:
    used = {k for path in (ROOT / "board" / "src").glob("*.js") for k in USED.findall(path.read_text("utf-8"))}
    assert used, "the scan finds the board's keys"
    assert not sorted(used - set(board_texts("en"))), sorted(used - set(board_texts("en")))


def test_leftover_keys_are_found_and_ordinary_text_is_not() -> None:
    """A key (even one missing everywhere) is reported; file names, domains and abbreviations are not."""
    text = "Queue board.queue.searc 工单 error.not-found.title — see docs/i18n.md, e.g. wqy-zenhei.ttc at onsite24.dev"
    assert untranslated(text) == ["board.queue.searc", "error.not-found.title"]
