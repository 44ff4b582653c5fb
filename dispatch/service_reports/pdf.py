"""The PDF service report, drawn with reportlab's platypus, in the reader's language (zh-CN, en, ko).

Labels come from the message catalogues (report.*), times are written in the site's time zone the way
the reader's language writes them, stored reasons are translated at render time (dispatch.core.texts).

Fonts: DejaVu Sans (embedded, wide Latin/Cyrillic/Greek coverage) when installed, else Helvetica.
Chinese and Korean runs are set in an embedded TrueType CJK font (WenQuanYi Zen Hei, Debian package
fonts-wqy-zenhei, has both Hanzi and Hangul), subset into the file so any reader shows them. The Noto CJK
fonts are OpenType/CFF, which reportlab cannot embed, hence a TrueType one. Without any such font the
report falls back to reportlab's non-embedded `STSong-Light` CID font (Chinese only, relies on the
reader's Asian font pack) and logs a warning; the text stays extractable either way.
"""

from __future__ import annotations

import io
import logging
import re
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from PIL import Image as PILImage
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Image, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from dispatch.confirmations.schemas import DIMENSIONS
from dispatch.core.i18n import format_datetime, normalize, tag
from dispatch.core.i18n import gettext as _
from dispatch.core.texts import audit_action, grade_reason, word
from dispatch.domain.policy import Policy
from dispatch.service_reports.service import ReportData

log = logging.getLogger(__name__)
FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu"))
# TrueType fonts with Hanzi and Hangul, first found wins: (path, index in a .ttc collection).
CJK_TTF_FONTS: tuple[tuple[Path, int], ...] = (
    (Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"), 0),
    (Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"), 0),
)
CJK_EMBEDDED = "CJK-Embedded"
CJK_FALLBACK = "STSong-Light"
# Han, kana, Hangul (syllables and jamo), CJK punctuation and full-width forms.
_CJK = re.compile(r"([\u1100-\u11ff\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]+)")


@lru_cache(maxsize=1)
def fonts() -> tuple[str, str, str | None]:
    """(regular, bold, CJK font name or None) — registered once per process, falling back gracefully."""
    regular, bold = "Helvetica", "Helvetica-Bold"
    for d in FONT_DIRS:
        if (d / "DejaVuSans.ttf").exists() and (d / "DejaVuSans-Bold.ttf").exists():
            pdfmetrics.registerFont(TTFont("DejaVuSans", str(d / "DejaVuSans.ttf")))
            pdfmetrics.registerFont(TTFont("DejaVuSans-Bold", str(d / "DejaVuSans-Bold.ttf")))
            regular, bold = "DejaVuSans", "DejaVuSans-Bold"
            break
    for path, index in CJK_TTF_FONTS:
        if path.exists():
            try:
                pdfmetrics.registerFont(TTFont(CJK_EMBEDDED, str(path), subfontIndex=index))
                return regular, bold, CJK_EMBEDDED
            except Exception:  # a damaged or CFF font file: try the next one
                log.warning("cannot use %s for CJK text in reports", path, exc_info=True)
    log.warning("no TrueType CJK font (apt-get install fonts-wqy-zenhei): CJK text in reports is not embedded")
    try:
        pdfmetrics.registerFont(UnicodeCIDFont(CJK_FALLBACK))
        return regular, bold, CJK_FALLBACK
    except Exception:
        return regular, bold, None


def _t(value: Any) -> str:
    """Escaped paragraph markup; CJK runs switch to the CJK font."""
    text = escape("" if value is None else str(value))
    cjk = fonts()[2]
    if cjk:
        text = _CJK.sub(lambda m: f'<font name="{cjk}">{m.group(1)}</font>', text)
    return text.replace("\n", "<br/>")


def _thumb(data: bytes, max_px: int = 360) -> Image | None:
    try:
        with PILImage.open(io.BytesIO(data)) as img:
            img = img.convert("RGB")
            img.thumbnail((max_px, max_px))
            out = io.BytesIO()
            img.save(out, format="JPEG", quality=80)
            w, h = img.size
    except (OSError, ValueError):
        return None
    out.seek(0)
    scale = 55 * mm / max(w, h)
    return Image(out, width=w * scale, height=h * scale)


def _signature(data: bytes) -> Image | None:
    try:
        with PILImage.open(io.BytesIO(data)) as img:
            rgba = img.convert("RGBA")
            flat = PILImage.new("RGB", rgba.size, "white")
            flat.paste(rgba, mask=rgba.getchannel("A"))
            out = io.BytesIO()
            flat.save(out, format="PNG")
            w, h = flat.size
    except (OSError, ValueError):
        return None
    out.seek(0)
    width = 70 * mm
    return Image(out, width=width, height=width * h / w)


def render_report(data: ReportData, locale: str | None = "en", policy: Policy | None = None) -> bytes:
    """The report in `locale`, times in the site's zone (UTC when the ticket has no site)."""
    locale = normalize(locale) or "en"
    zone_name = (data.site or {}).get("timezone") or "UTC"

    def tr(key: str, **params: Any) -> str:
        return _(key, locale, **params)

    def dt(value: datetime | None) -> str:
        return format_datetime(value, locale, zone_name, "short") if value else "-"

    regular, bold, _cjk = fonts()
    base = getSampleStyleSheet()
    body = ParagraphStyle("body", parent=base["BodyText"], fontName=regular, fontSize=9.5, leading=12.5)
    small = ParagraphStyle("small", parent=body, fontSize=8, leading=10)
    h1 = ParagraphStyle("h1", parent=base["Heading1"], fontName=bold, fontSize=16, leading=20)
    h2 = ParagraphStyle("h2", parent=base["Heading2"], fontName=bold, fontSize=12, spaceBefore=8)
    t = data.ticket
    grid = TableStyle(
        [
            ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#c9ced6")),
            ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#f1f3f6")),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ]
    )

    def kv(rows: list[tuple[str, Any]]) -> Table:
        table = Table(
            [[Paragraph(_t(k), body), Paragraph(_t(v), body)] for k, v in rows], colWidths=[45 * mm, 125 * mm]
        )
        table.setStyle(grid)
        return table

    reasons = [grade_reason(r, locale, policy) for r in t["grade_reasons"]]
    grade = word("grade", t["grade"], locale)
    yes, no = tr("report.yes"), tr("report.no")
    story: list[Any] = [
        Paragraph(_t(tr("report.title", ticket_id=t["id"])), h1),
        Paragraph(_t(tr("report.times-in", zone=zone_name)), small),
        Spacer(1, 2 * mm),
        kv(
            [
                (tr("report.status"), word("status", t["status"], locale)),
                (tr("report.grade"), grade + (f" — {'; '.join(reasons)}" if reasons else "")),
                (tr("report.category"), word("category", t["category"], locale)),
                (
                    tr("report.reported"),
                    tr("report.reported-by", at=dt(t["reported_at"]), name=t["reporter_name"] or "-"),
                ),
                (tr("report.problem"), t["symptom"]),
                (tr("report.special-request"), t["special_request"] or "-"),
                (tr("report.site"), f"{data.site['name']}, {data.site['address']}" if data.site else "-"),
                (
                    tr("report.equipment"),
                    tr(
                        "report.equipment-line",
                        type=word("equipment", data.equipment["type"], locale),
                        model=data.equipment["model"],
                        serial=data.equipment["serial"],
                    )
                    if data.equipment
                    else "-",
                ),
                (tr("report.on-site"), dt(t["on_site_at"])),
                (tr("report.resolved"), dt(t["resolved_at"])),
                (tr("report.closed"), dt(t["closed_at"])),
            ]
        ),
        Paragraph(_t(tr("report.deadlines")), h2),
    ]
    heads = (tr("report.clock"), tr("report.due"), tr("report.done"), tr("report.result"))
    dl_rows = [[Paragraph(_t(x), body) for x in heads]]
    for d in data.deadlines:
        verdict = tr(f"report.verdict.{d.verdict}")
        dl_rows.append([Paragraph(_t(x), body) for x in (tr(d.name), dt(d.due_at), dt(d.done_at), verdict)])
    dl_table = Table(dl_rows, colWidths=[50 * mm, 45 * mm, 45 * mm, 30 * mm])
    dl_table.setStyle(grid)
    story.append(dl_table)

    for r in data.work_reports:
        story.append(Paragraph(_t(tr("report.work-report", visit_id=r["visit_id"])), h2))
        parts = ", ".join(f"{p['name']} ({p['code']}) × {p['quantity']:g} {p['unit']}" for p in r["parts_used"]) or "-"
        follow_up = f"{yes} — {r['follow_up_note'] or ''}" if r["follow_up_needed"] else no
        story.append(
            kv(
                [
                    (tr("report.cause-found"), r["cause_found"]),
                    (tr("report.work-done"), r["work_done"]),
                    (tr("report.parts-used"), parts),
                    (tr("report.time-spent"), tr("report.minutes", n=r["minutes_spent"])),
                    (tr("report.follow-up"), follow_up),
                ]
            )
        )
    for v in data.visits:
        if v["outside_geofence"]:
            story.append(
                Paragraph(
                    _t(tr("report.outside-fence", visit_id=v["id"], metres=f"{v['arrival_distance_m']:.0f}")), small
                )
            )

    thumbs = [img for img in (_thumb(b) for _ct, b in data.photos) if img is not None]
    if thumbs:
        story.append(Paragraph(_t(tr("report.photos")), h2))
        rows = [thumbs[i : i + 3] for i in range(0, len(thumbs), 3)]
        rows[-1] += [""] * (3 - len(rows[-1]))
        story.append(Table(rows, colWidths=[58 * mm] * 3))

    story.append(Paragraph(_t(tr("report.confirmation")), h2))
    c = data.confirmation
    if c:
        ratings = [(tr(f"confirm.dimension.{d}"), f"{c['ratings'].get(d, '-')} / 5") for d in DIMENSIONS]
        story.append(
            kv(
                [
                    (tr("report.satisfied"), yes if c["satisfied"] else no),
                    *ratings,
                    (tr("report.comment"), c["comment"] or "-"),
                    (tr("report.signed-by"), f"{c['signer_name']} ({c['signer_role']})"),
                    (tr("report.signed-at"), dt(c["signed_at"])),
                    (tr("report.outcome"), word("outcome", c["outcome"], locale)),
                    (tr("report.sha256"), c["sha256"]),
                ]
            )
        )
        sig = _signature(data.signature_png) if data.signature_png else None
        if sig is not None:
            story += [Spacer(1, 4 * mm), Paragraph(_t(tr("report.signature")), body), sig]
    elif data.refusal:
        story.append(
            Paragraph(_t(tr("report.refused", at=dt(data.refusal["at"]), reason=data.refusal["reason"])), body)
        )
    else:
        story.append(Paragraph(_t(tr("report.not-signed")), body))

    story.append(Paragraph(_t(tr("report.timeline")), h2))
    heads = (tr("report.when"), tr("report.who"), tr("report.what"), tr("report.status"), tr("report.why"))
    tl = [[Paragraph(_t(x), small) for x in heads]]
    for e in data.timeline:
        to = word("status", e["to"], locale)
        status = f"{word('status', e['from'], locale) or '—'} → {to}" if e["from"] != e["to"] else to
        row = (dt(e["at"]), e["actor"], audit_action(e["action"], locale), status, e["reason"] or "")
        tl.append([Paragraph(_t(x), small) for x in row])
    tl_table = Table(tl, colWidths=[30 * mm, 22 * mm, 32 * mm, 36 * mm, 50 * mm], repeatRows=1)
    tl_table.setStyle(grid)
    story.append(tl_table)

    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        title=tr("report.document-title", ticket_id=t["id"]),
        author="Onsite24",
        lang=tag(locale),
    )
    doc.build(story)
    return out.getvalue()
