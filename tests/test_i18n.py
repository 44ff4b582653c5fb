"""The catalogues are complete in every shipped language, and the reader's language is chosen as promised."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from dispatch.core import i18n

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _catalogue(locale: str) -> dict[str, object]:
    """All the entries of one language, over every catalogue file (area); a key lives in one area only."""
    entries: dict[str, object] = {}
    for area in i18n.catalogue_areas():
        with i18n.catalogue_path(locale, area).open("rb") as fp:
            catalog = read_po(fp, locale=locale)
        for message in catalog:
            if message.id:
                key = message.id if isinstance(message.id, str) else message.id[0]
                assert key not in entries, f"{locale}: {key} is defined in two catalogue files"
                entries[key] = message
    return entries


def _used_keys() -> set[str]:
    """Every key the code and templates pass to the translation functions, as `pybabel extract` sees them."""
    method_map = [("**.py", "python"), ("**/templates/**.html", "jinja2")]
    keys: set[str] = set()
    for package in ("dispatch", "technician_api", "device_gateway"):
        for _file, _line, message, _comments, _ctx in extract_from_dir(ROOT / package, method_map):
            for key in message if isinstance(message, tuple) else (message,):
                if key:
                    keys.add(key)
    return keys


@pytest.mark.parametrize("locale", i18n.LOCALES)
def test_catalogue_is_complete_and_consistent(locale: str) -> None:
    english = _catalogue("en")
    catalogue = _catalogue(locale)
    assert set(catalogue) == set(english), "every language has exactly the English keys"
    for key, message in catalogue.items():
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(s.strip() for s in strings), f"{locale}: {key} is not translated"
        assert not message.fuzzy, f"{locale}: {key} is marked fuzzy"
        source = english[key].string
        source = source if isinstance(source, str) else source[0]
        for text in strings:
            assert set(PLACEHOLDER.findall(text)) <= set(PLACEHOLDER.findall(source)) | {"n"}, (
                f"{locale}: {key} uses a placeholder the code does not fill"
            )


def test_every_key_in_the_code_has_a_translation() -> None:
    missing = sorted(_used_keys() - set(_catalogue("en")))
    assert not missing, f"keys used in code but missing from the catalogues: {missing}"


def test_keys_resolve_in_each_language_and_unknown_keys_fall_back() -> None:
    names = {locale: i18n.gettext("language.name", locale) for locale in i18n.LOCALES}
    assert names == {"zh_CN": "中文", "en": "English", "ko": "한국어"}
    assert i18n.gettext("no.such.key", "ko") == "no.such.key"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("ko-KR,ko;q=0.9,en-US;q=0.8", "ko"),
        ("fr-FR, zh-TW;q=0.7, en;q=0.5", "zh_CN"),
        ("en;q=0, ko;q=0.1", "ko"),
        ("de, fr", "zh_CN"),
        ("", "zh_CN"),
        ("*;q=0.5, nonsense-@@", "zh_CN"),
    ],
)
def test_accept_language_is_negotiated_with_quality_values(header: str, expected: str) -> None:
    assert i18n.negotiate(accept_language=header, default="zh-CN") == expected


def test_an_explicit_preference_beats_the_browser() -> None:
    assert i18n.negotiate(None, "ko", accept_language="en", default="en") == "ko"
    assert i18n.negotiate("xx", None, accept_language="zh-CN,en", default="en") == "zh_CN"


def test_times_are_written_in_the_site_zone_and_the_readers_language() -> None:
    at = datetime(2026, 11, 23, 6, 30, tzinfo=UTC)
    assert "14:30" in i18n.format_datetime(at, "zh_CN", "Asia/Shanghai")
    assert "3:30" in i18n.format_datetime(at, "ko", "Asia/Seoul")
    assert "6:30" in i18n.format_datetime(at, "en", "Not/AZone")  # an unknown zone falls back to UTC


# Errors carry their catalogue key as `key="…"` (translated at the HTTP edge, not by `_()`).
KEY_ARGUMENT = re.compile(r"""\bkey=["']([a-z][\w-]*(?:\.[\w-]+)+)["']""")


def test_every_error_key_in_the_code_has_a_translation() -> None:
    english = set(_catalogue("en"))
    used = {
        key
        for package in ("dispatch", "technician_api", "device_gateway")
        for path in (ROOT / package).rglob("*.py")
        for key in KEY_ARGUMENT.findall(path.read_text(encoding="utf-8"))
    }
    assert used, "the scan finds the keys errors are raised with"
    assert not sorted(used - english), f"error keys missing from the catalogues: {sorted(used - english)}"
