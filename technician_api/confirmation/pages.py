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

from dispatch.confirmations.schemas import DIMENSIONS

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
        when=when,
    )

    def improve(area: str) -> str:
        name = f"improvement_{area}"
        return (
            f'<label>{t(f"confirm.improve.{area}")}<textarea name="{name}" rows="2" maxlength="2000">'
            f"{escape(v.get(name, ''))}</textarea></label>"
        )

    kept_yes = " checked" if v.get("relationship_kept") == "yes" else ""
    kept_no = " checked" if v.get("relationship_kept") == "no" else ""
    yes = " checked" if v.get("satisfied") == "yes" else ""
    no = " checked" if v.get("satisfied") == "no" else ""
    # The form posts back in the language it is shown in (the customer may have switched on this page).
    target = f"{action}?lang={tag(locale)}"
    body = f"""
<h1>{t("confirm.title")}</h1>
<p class="muted">{t("confirm.intro")}</p>
{errs}{_summary(summary, report, locale)}
<form id="form" class="card" method="post" action="{escape(target)}">
<fieldset><legend>{t("confirm.satisfied")}</legend>
<div class="scale"><label><input type="radio" name="satisfied" value="yes" required{yes}><span>{t("confirm.yes")}</span></label>
<label><input type="radio" name="satisfied" value="no"{no}><span>{t("confirm.no")}</span></label></div></fieldset>
{"".join(scale(d, _(f"confirm.dimension.{d}", locale)) for d in DIMENSIONS)}
<fieldset><legend>{t("confirm.relationship")}</legend>
<div class="scale"><label><input type="radio" name="relationship_kept" value="yes"{kept_yes}><span>{t("confirm.yes")}</span></label>
<label><input type="radio" name="relationship_kept" value="no"{kept_no}><span>{t("confirm.no")}</span></label></div></fieldset>
<fieldset><legend>{t("confirm.improve")}</legend>
{"".join(improve(a) for a in IMPROVEMENT_AREAS)}
<label>{t("confirm.comment")}<textarea name="comment" rows="3" maxlength="4000">{escape(v.get("comment", ""))}</textarea></label></fieldset>
<fieldset><legend>{t("confirm.your-name")}</legend><input type="text" name="signer_name" required maxlength="200" value="{escape(v.get("signer_name", ""))}"></fieldset>
<fieldset><legend>{t("confirm.your-role")}</legend><input type="text" name="signer_role" required maxlength="200" value="{escape(v.get("signer_role", ""))}"></fieldset>
<fieldset><legend>{t("confirm.signature")}</legend><canvas id="sig" aria-label="{t("confirm.sign-here")}"></canvas>
<div class="error" id="sigerr" hidden>{t("confirm.sign-please")}</div>
<p><button type="button" class="secondary" id="clear">{t("confirm.clear")}</button></p></fieldset>
<input type="hidden" name="signature" id="signature">
<button type="submit" id="submit">{t("confirm.submit")}</button>
</form>"""
    return _page(_("confirm.title", locale), body, nonce, locale, action, SIGNATURE_JS)


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
