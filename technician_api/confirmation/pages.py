"""Server-rendered pages of the customer's confirmation: Jinja2 templates (templates/), as the portal's pages.

Mobile first, with the CSS and the signature pad's script inline (no CDN, nothing else to fetch): the only
script is ours, allowed by a per-response nonce in the CSP. Every value is escaped by the templates'
autoescape. Every text is a catalogue key (confirm.*) written in the page's language, with a language
switcher; times are shown in the site's time zone, the way that language writes them.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from dispatch.confirmations.schemas import DIMENSIONS, IMPROVEMENT_AREAS
from dispatch.core.i18n import LOCALES, format_datetime, tag
from dispatch.core.i18n import gettext as _

env = Environment(
    loader=FileSystemLoader(Path(__file__).resolve().parent / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
env.globals.update(tag=tag, locales=LOCALES, gettext=_)


def new_nonce() -> str:
    return secrets.token_urlsafe(16)


def csp(nonce: str) -> str:
    return (
        "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; "
        f"script-src 'nonce-{nonce}'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    )


def _render(template: str, *, locale: str, here: str, title: str, **values: Any) -> str:
    def text(key: str, **params: Any) -> str:
        return _(key, locale, **params)

    return env.get_template(template).render(_=text, locale=locale, here=here, title=title, **values)


def form_page(
    summary: dict[str, Any],
    report: dict[str, Any],
    *,
    action: str,
    nonce: str,
    locale: str = "en",
    errors: list[str] | None = None,
    values: dict[str, str] | None = None,
) -> str:
    tz = summary.get("timezone")

    def when(value: datetime | None) -> str:
        return format_datetime(value, locale, tz, "medium") if value else "-"

    return _render(
        "form.html",
        locale=locale,
        here=action,
        title=_("confirm.title", locale),
        summary=summary,
        report=report,
        action=action,
        nonce=nonce,
        errors=errors or [],
        values=values or {},
        dimensions=DIMENSIONS,
        improvement_areas=IMPROVEMENT_AREAS,
        when=when,
    )


def thanks_page(
    *, ticket_id: int, unsatisfied: bool, report_url: str, nonce: str, locale: str = "en", here: str = ""
) -> str:
    return _render(
        "thanks.html",
        locale=locale,
        here=here,
        title=_("confirm.thanks.page-title", locale),
        ticket_id=ticket_id,
        unsatisfied=unsatisfied,
        report_url=report_url,
        nonce=nonce,
    )


def error_page(*, title: str, detail: str, nonce: str, locale: str = "en", here: str = "") -> str:
    return _render("error.html", locale=locale, here=here, title=title, detail=detail, nonce=nonce)
