"""Every user-facing text in zh-CN, en and ko: gettext catalogues maintained with Babel.

Message ids are symbolic keys (``portal.ticket.eta``), not English sentences: a key that escaped
translation is then easy to spot on a page and in the tests, and the English catalogue is a translation
like the others. Placeholders use ``{name}`` (str.format) so every language can reorder them.

The catalogues are the ``.po`` files under ``dispatch/locale/<locale>/LC_MESSAGES/`` (``onsite24.po`` and one
file per large area, e.g. ``portal.po``, all merged into one domain); they are compiled in memory on first
use, so there is no build step and no binary in the repository. A missing
translation falls back to English, then to the key (the catalogue test keeps all three complete).
A new key is added to its area's file in all three languages; ``make i18n`` extracts every key used in the
code and templates (``pybabel extract``, babel.cfg) and the catalogue test names any that is missing.
"""

from __future__ import annotations

import io
from datetime import datetime
from functools import cache, lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError, dates
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
DOMAIN = "onsite24"
# Babel identifiers of the languages we ship, and the BCP 47 tags used in HTML, headers and settings.
LOCALES: tuple[str, ...] = ("zh_CN", "en", "ko")
TAGS: dict[str, str] = {"zh_CN": "zh-CN", "en": "en", "ko": "ko"}
FALLBACK = "en"


def catalogue_path(locale: str, area: str = DOMAIN) -> Path:
    return LOCALE_DIR / locale / "LC_MESSAGES" / f"{area}.po"


def catalogue_areas() -> list[str]:
    """The catalogue files every language has (their names, without .po), from the English directory."""
    return sorted(p.stem for p in (LOCALE_DIR / FALLBACK / "LC_MESSAGES").glob("*.po"))


def _compile(locale: str) -> NullTranslations:
    compiled: Translations | None = None
    for area in catalogue_areas():
        path = catalogue_path(locale, area)
        if not path.exists():
            continue
        with path.open("rb") as fp:
            catalog = read_po(fp, locale=locale, domain=DOMAIN)
        buffer = io.BytesIO()
        write_mo(buffer, catalog, use_fuzzy=False)
        buffer.seek(0)
        part = Translations(buffer, domain=DOMAIN)
        if compiled is None:
            compiled = part
        else:
            compiled.merge(part)
    return compiled or NullTranslations()


@cache
def translations(locale: str) -> NullTranslations:
    """The compiled catalogue of a supported locale, falling back to English for missing entries."""
    locale = normalize(locale) or FALLBACK
    compiled = _compile(locale)
    if locale != FALLBACK:
        compiled.add_fallback(translations(FALLBACK))
    return compiled


@lru_cache(maxsize=1024)  # asked on every request; Babel's parse looks on disk for the locale's data
def normalize(tag: str | None) -> str | None:
    """A supported Babel locale id for a language tag ('zh-CN', 'zh_Hans', 'ko-KR', 'en-GB' …), else None."""
    if not tag:
        return None
    tag = tag.strip().replace("-", "_")
    if not tag or tag == "*":
        return None
    try:
        parsed = Locale.parse(tag)
    except (UnknownLocaleError, ValueError, TypeError):
        return None
    if parsed.language == "zh":
        # Traditional Chinese readers get simplified text rather than English: the closest we ship.
        return "zh_CN"
    return parsed.language if parsed.language in LOCALES else None


def parse_accept_language(header: str | None) -> list[str]:
    """Supported locales named by an Accept-Language header, best first (q-values honoured, q=0 refused)."""
    if not header:
        return []
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        locale = normalize(tag)
        if locale and quality > 0:
            ranked.append((-quality, position, locale))
    seen: list[str] = []
    for _q, _p, locale in sorted(ranked):
        if locale not in seen:
            seen.append(locale)
    return seen


def negotiate(*preferences: str | None, accept_language: str | None = None, default: str = FALLBACK) -> str:
    """The first supported explicit preference (user setting, ?lang=, cookie …), then the browser's, then default."""
    for preference in preferences:
        locale = normalize(preference)
        if locale:
            return locale
    for locale in parse_accept_language(accept_language):
        return locale
    return normalize(default) or FALLBACK


def gettext(key: str, locale: str | None, **params: object) -> str:
    """The text of `key` in `locale`, with `{name}` placeholders filled from `params`."""
    text = translations(normalize(locale) or FALLBACK).gettext(key)
    return text.format_map(params) if params else text


def ngettext(singular: str, plural: str, n: int, locale: str | None, **params: object) -> str:
    """Plural-aware variant; `n` is also available to the text as `{n}`."""
    text = translations(normalize(locale) or FALLBACK).ngettext(singular, plural, n)
    return text.format_map({"n": n, **params})


def has_key(key: str) -> bool:
    """Whether the catalogues define `key` (in English, which every language mirrors)."""
    return translations(FALLBACK).gettext(key) != key


def text_or(key: str | None, fallback: str, locale: str | None, **params: object) -> str:
    """`key` translated when the catalogues know it, else the free-text `fallback` (data, older callers).

    A placeholder the caller did not fill leaves the fallback too, rather than a 500 on an error page.
    """
    if not key or not has_key(key):
        return fallback
    try:
        return gettext(key, locale, **params)
    except (KeyError, IndexError, ValueError):
        return fallback


# The conventional short name, so `pybabel extract` finds the keys (`_("key", locale, …)`).
_ = gettext


def tag(locale: str | None) -> str:
    """BCP 47 tag for HTML `lang` and `Content-Language`."""
    return TAGS.get(normalize(locale) or FALLBACK, "en")


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def format_datetime(value: datetime | None, locale: str | None, tz: str | None = None, fmt: str = "medium") -> str:
    """A timestamp in the site's time zone, written the way the reader's language writes dates."""
    if value is None:
        return ""
    return dates.format_datetime(value, fmt, tzinfo=zone(tz), locale=normalize(locale) or FALLBACK)


def format_time(value: datetime | None, locale: str | None, tz: str | None = None, fmt: str = "short") -> str:
    if value is None:
        return ""
    return dates.format_time(value, fmt, tzinfo=zone(tz), locale=normalize(locale) or FALLBACK)
