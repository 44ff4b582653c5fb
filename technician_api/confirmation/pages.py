# ruff: noqa: E501  (HTML and CSS read better unwrapped)
"""Server-rendered pages of the customer's confirmation: plain HTML, inline CSS and JS (no CDN), mobile first.

Every value is escaped; the only script is ours, allowed by a per-response nonce in the CSP.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from html import escape
from typing import Any

from technician_api.confirmation.schemas import DIMENSION_LABELS, DIMENSIONS

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


def _page(title: str, body: str, nonce: str, script: str = "") -> str:
    js = f'<script nonce="{nonce}">{script}</script>' if script else ""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        '<meta name="robots" content="noindex"><link rel="icon" href="data:,">'
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>{body}{js}</body></html>"
    )


def _fmt(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "-"


def _summary(summary: dict[str, Any], report: dict[str, Any]) -> str:
    parts = "".join(
        f"<li>{escape(p['name'])} ({escape(p['code'])}) × {p['quantity']:g} {escape(p['unit'])}</li>"
        for p in report.get("parts_used", [])
    )
    follow = "Yes — " + escape(report.get("follow_up_note") or "") if report.get("follow_up_needed") else "No"
    return f"""
<div class="card"><h2>Ticket {summary["ticket_id"]}</h2><dl>
<dt>Site</dt><dd>{escape(summary.get("site") or "-")}<br><span class="muted">{escape(summary.get("address") or "")}</span></dd>
<dt>Equipment</dt><dd>{escape(summary.get("equipment") or "-")}</dd>
<dt>Reported problem</dt><dd>{escape(summary.get("symptom") or "-")}</dd>
<dt>Reported</dt><dd>{_fmt(summary.get("reported_at"))}</dd><dt>Fixed</dt><dd>{_fmt(summary.get("resolved_at"))}</dd>
</dl></div>
<div class="card"><h2>Work report</h2><dl>
<dt>Cause found</dt><dd>{escape(report.get("cause_found", "-"))}</dd>
<dt>Work done</dt><dd>{escape(report.get("work_done", "-"))}</dd>
<dt>Parts used</dt><dd>{f"<ul>{parts}</ul>" if parts else "None"}</dd>
<dt>Time spent</dt><dd>{report.get("minutes_spent", 0)} min</dd>
<dt>Follow-up needed</dt><dd>{follow}</dd></dl></div>"""


def form_page(
    summary: dict[str, Any],
    report: dict[str, Any],
    *,
    action: str,
    nonce: str,
    errors: list[str] | None = None,
    values: dict[str, str] | None = None,
) -> str:
    v = values or {}
    errs = "".join(f"<div class='error'>{escape(e)}</div>" for e in errors or [])

    def scale(name: str, label: str) -> str:
        opts = "".join(
            f'<label><input type="radio" name="{name}" value="{i}" required'
            f"{' checked' if v.get(name) == str(i) else ''}><span>{i}</span></label>"
            for i in range(1, 6)
        )
        return f'<fieldset><legend>{escape(label)} <span class="muted">(1 poor – 5 excellent)</span></legend><div class="scale">{opts}</div></fieldset>'

    yes = " checked" if v.get("satisfied") == "yes" else ""
    no = " checked" if v.get("satisfied") == "no" else ""
    body = f"""
<h1>Service confirmation</h1>
<p class="muted">Please check the work below, tell us how it went, and sign.</p>
{errs}{_summary(summary, report)}
<form id="form" class="card" method="post" action="{escape(action)}">
<fieldset><legend>Are you satisfied with the measures taken and the result?</legend>
<div class="scale"><label><input type="radio" name="satisfied" value="yes" required{yes}><span>Yes</span></label>
<label><input type="radio" name="satisfied" value="no"{no}><span>No</span></label></div></fieldset>
{"".join(scale(d, DIMENSION_LABELS[d]) for d in DIMENSIONS)}
<fieldset><legend>What should we improve? (optional)</legend>
<textarea name="comment" rows="3" maxlength="4000">{escape(v.get("comment", ""))}</textarea></fieldset>
<fieldset><legend>Your name</legend><input type="text" name="signer_name" required maxlength="200" value="{escape(v.get("signer_name", ""))}"></fieldset>
<fieldset><legend>Your role (e.g. site manager)</legend><input type="text" name="signer_role" required maxlength="200" value="{escape(v.get("signer_role", ""))}"></fieldset>
<fieldset><legend>Signature</legend><canvas id="sig" aria-label="Sign here"></canvas>
<div class="error" id="sigerr" hidden>Please sign in the box above.</div>
<p><button type="button" class="secondary" id="clear">Clear signature</button></p></fieldset>
<input type="hidden" name="signature" id="signature">
<button type="submit" id="submit">Sign and send</button>
</form>"""
    return _page("Service confirmation", body, nonce, SIGNATURE_JS)


def thanks_page(*, ticket_id: int, unsatisfied: bool, report_url: str, nonce: str) -> str:
    follow = (
        "<p>We are sorry it did not go well. The matter has been reopened and our department head will contact "
        "you shortly.</p>"
        if unsatisfied
        else "<p>We will call you within two working days to make sure everything still works.</p>"
    )
    body = f"""<div class="card"><h1 id="thanks">Thank you — your confirmation has been received</h1>
<p>Ticket {ticket_id}.</p>{follow}<p><a href="{escape(report_url)}">Download the service report (PDF)</a></p></div>"""
    return _page("Thank you", body, nonce)


def error_page(*, title: str, detail: str, nonce: str) -> str:
    body = f"""<div class="card"><h1>{escape(title)}</h1><p>{escape(detail)}</p>
<p class="muted">If you need help, call our 24-hour service line.</p></div>"""
    return _page(title, body, nonce)
