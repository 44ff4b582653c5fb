# ruff: noqa: E501  (HTML and CSS read better unwrapped)
"""Server-rendered pages of the customer's confirmation: plain HTML, inline CSS and JS (no CDN), mobile first.

Every value is escaped; the only script is ours, allowed by a per-response nonce in the CSP.
Every text is a catalogue key (confirm.*) written in the page's language, with a language switcher;
times are shown in the site's time zone, the way that language writes them.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from html import escape
from typing import Any

from dispatch.confirmations.schemas import DIMENSIONS
from dispatch.core.i18n import LOCALES, format_datetime, tag
from dispatch.core.i18n import gettext as _

CSS = """
*{box-sizing:border-box}body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans CJK SC",sans-serif;
margin:0;padding:16px;max-width:640px;margin:auto;color:#1b1b1b;background:#f6f7f9;line-height:1.45}
h1{font-size:1.35rem;margin:.2em 0 .6em}h2{font-size:1.05rem;margin:1.2em 0 .4em}
.card{background:#fff;border-radius:10px;padding:14px 16px;margin-bottom:14px;box-shadow:0 1px 3px rgba(0,0,0,.08)}
dl{margin:0}dt{font-weight:600;margin-top:.5em}dd{margin:0}
fieldset{border:0;padding:0;margin:0 0 12px}legend{font-weight:600;margin-bottom:4px}
.scale{display:flex;gap:6px}.scale label{flex:1;text-align:center;border:1px solid #c9ced6;border-radius:8px;padding:10px 0;
background:#fff}.scale input{position:absolute;opacity:0}.scale input:checked+span{font-weight:700}
.scale label:has(input:checked){background:#1d5bd8;color:#fff;border-color:#1d5bd8}
input[type=text],textarea{width:100%;padding:10px;border:1px solid #c9ced6;border-radius:8px;font-size:1rem}
canvas{width:100%;height:180px;border:1px dashed #8a93a3;border-radius:8px;background:#fff;touch-action:none}
button{font-size:1.05rem;padding:12px 18px;border-radius:8px;border:0;background:#1d5bd8;color:#fff;width:100%}
button.secondary{background:#e4e7ec;color:#1b1b1b;width:auto;padding:6px 12px;font-size:.9rem}
.error{background:#fdecea;color:#8a1c12;padding:10px 12px;border-radius:8px;margin-bottom:12px}
.muted{color:#5b6472;font-size:.9rem}
nav.lang{display:flex;gap:10px;justify-content:flex-end;font-size:.9rem;margin-bottom:6px}
nav.lang a{color:#1d5bd8}nav.lang a[aria-current]{color:#1b1b1b;font-weight:600;text-decoration:none}
"""

SIGNATURE_JS = """
(function(){
  var c=document.getElementById('sig'),ctx=c.getContext('2d'),drawing=false,inked=false,last=null;
  function fit(){var r=c.getBoundingClientRect(),d=window.devicePixelRatio||1;
    c.width=Math.round(r.width*d);c.height=Math.round(r.height*d);ctx.setTransform(d,0,0,d,0,0);
    ctx.lineWidth=2.2;ctx.lineCap='round';ctx.lineJoin='round';ctx.strokeStyle='#0b1f4d';inked=false;}
  function pos(e){var r=c.getBoundingClientRect();return {x:e.clientX-r.left,y:e.clientY-r.top};}
  c.addEventListener('pointerdown',function(e){drawing=true;document.getElementById('sigerr').hidden=true;last=pos(e);c.setPointerCapture(e.pointerId);e.preventDefault();});
  c.addEventListener('pointermove',function(e){if(!drawing)return;var p=pos(e);ctx.beginPath();
    ctx.moveTo(last.x,last.y);ctx.lineTo(p.x,p.y);ctx.stroke();last=p;inked=true;e.preventDefault();});
  ['pointerup','pointercancel','pointerleave'].forEach(function(t){c.addEventListener(t,function(){drawing=false;});});
  document.getElementById('clear').addEventListener('click',function(){ctx.clearRect(0,0,c.width,c.height);inked=false;});
  document.getElementById('form').addEventListener('submit',function(e){
    if(!inked){e.preventDefault();document.getElementById('sigerr').hidden=false;return;}
    document.getElementById('signature').value=c.toDataURL('image/png');});
  fit();
})();
"""


def new_nonce() -> str:
    return secrets.token_urlsafe(16)


def csp(nonce: str) -> str:
    return (
        "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; "
        f"script-src 'nonce-{nonce}'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    )


def _switcher(locale: str, here: str) -> str:
    """Links to this page in each language, each named in its own language (the reader may not read ours)."""
    links = []
    for other in LOCALES:
        name = escape(_("language.name", other))
        current = ' aria-current="true"' if other == locale else ""
        links.append(
            f'<a href="{escape(here)}?lang={tag(other)}" hreflang="{tag(other)}" lang="{tag(other)}"{current}>{name}</a>'
        )
    return f'<nav class="lang" aria-label="{escape(_("language.choose", locale))}">{"".join(links)}</nav>'


def _page(title: str, body: str, nonce: str, locale: str, here: str, script: str = "") -> str:
    js = f'<script nonce="{nonce}">{script}</script>' if script else ""
    return (
        f'<!doctype html><html lang="{tag(locale)}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        '<meta name="robots" content="noindex"><link rel="icon" href="data:,">'
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>{_switcher(locale, here)}{body}{js}</body></html>"
    )


def _fmt(value: datetime | None, locale: str, tz: str | None) -> str:
    return escape(format_datetime(value, locale, tz, "medium")) if value else "-"


def _summary(summary: dict[str, Any], report: dict[str, Any], locale: str) -> str:
    tz = summary.get("timezone")
    parts = "".join(
        f"<li>{escape(p['name'])} ({escape(p['code'])}) × {p['quantity']:g} {escape(p['unit'])}</li>"
        for p in report.get("parts_used", [])
    )
    if report.get("follow_up_needed"):
        follow = escape(_("confirm.yes", locale)) + " — " + escape(report.get("follow_up_note") or "")
    else:
        follow = escape(_("confirm.no", locale))
    t = lambda key, **params: escape(_(key, locale, **params))  # noqa: E731  (short local alias)
    return f"""
<div class="card"><h2>{t("confirm.ticket", ticket_id=summary["ticket_id"])}</h2><dl>
<dt>{t("confirm.site")}</dt><dd>{escape(summary.get("site") or "-")}<br><span class="muted">{escape(summary.get("address") or "")}</span></dd>
<dt>{t("confirm.equipment")}</dt><dd>{escape(summary.get("equipment") or "-")}</dd>
<dt>{t("confirm.problem")}</dt><dd>{escape(summary.get("symptom") or "-")}</dd>
<dt>{t("confirm.reported")}</dt><dd>{_fmt(summary.get("reported_at"), locale, tz)}</dd><dt>{t("confirm.fixed")}</dt><dd>{_fmt(summary.get("resolved_at"), locale, tz)}</dd>
</dl></div>
<div class="card"><h2>{t("confirm.work-report")}</h2><dl>
<dt>{t("confirm.cause-found")}</dt><dd>{escape(report.get("cause_found", "-"))}</dd>
<dt>{t("confirm.work-done")}</dt><dd>{escape(report.get("work_done", "-"))}</dd>
<dt>{t("confirm.parts-used")}</dt><dd>{f"<ul>{parts}</ul>" if parts else t("confirm.none")}</dd>
<dt>{t("confirm.time-spent")}</dt><dd>{t("confirm.minutes", n=report.get("minutes_spent", 0))}</dd>
<dt>{t("confirm.follow-up")}</dt><dd>{follow}</dd></dl></div>"""


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
    v = values or {}
    errs = "".join(f"<div class='error'>{escape(e)}</div>" for e in errors or [])
    t = lambda key, **params: escape(_(key, locale, **params))  # noqa: E731  (short local alias)

    def scale(name: str, label: str) -> str:
        opts = "".join(
            f'<label><input type="radio" name="{name}" value="{i}" required'
            f"{' checked' if v.get(name) == str(i) else ''}><span>{i}</span></label>"
            for i in range(1, 6)
        )
        return f'<fieldset><legend>{escape(label)} <span class="muted">{t("confirm.scale")}</span></legend><div class="scale">{opts}</div></fieldset>'

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
<fieldset><legend>{t("confirm.improve")}</legend>
<textarea name="comment" rows="3" maxlength="4000">{escape(v.get("comment", ""))}</textarea></fieldset>
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
    t = lambda key, **params: escape(_(key, locale, **params))  # noqa: E731  (short local alias)
    follow = f"<p>{t('confirm.thanks.reopened')}</p>" if unsatisfied else f"<p>{t('confirm.thanks.return-visit')}</p>"
    body = f"""<div class="card"><h1 id="thanks">{t("confirm.thanks.title")}</h1>
<p>{t("confirm.ticket", ticket_id=ticket_id)}</p>{follow}<p><a href="{escape(report_url)}?lang={tag(locale)}">{t("confirm.thanks.report")}</a></p></div>"""
    return _page(_("confirm.thanks.page-title", locale), body, nonce, locale, here)


def error_page(*, title: str, detail: str, nonce: str, locale: str = "en", here: str = "") -> str:
    body = f"""<div class="card"><h1>{escape(title)}</h1><p>{escape(detail)}</p>
<p class="muted">{escape(_("confirm.help", locale))}</p></div>"""
    return _page(title, body, nonce, locale, here)
