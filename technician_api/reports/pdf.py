"""The PDF service report, drawn with reportlab's platypus.

Fonts: DejaVu Sans (embedded, wide Latin/Cyrillic/Greek coverage) when installed, else Helvetica. Chinese,
Japanese and Korean runs are set in reportlab's built-in `STSong-Light` CID font: the Noto CJK fonts that
Debian ships are OpenType/CFF collections, which reportlab cannot embed, so CJK text relies on the
reader's Asian font pack (every mainstream PDF reader has one); the text stays extractable either way.
"""

from __future__ import annotations

import io
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

from technician_api.confirmation.schemas import DIMENSION_LABELS, DIMENSIONS
from technician_api.reports.service import ReportData

FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu"))
CJK_FONT = "STSong-Light"
_CJK = re.compile(r"([\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]+)")


@lru_cache(maxsize=1)
def fonts() -> tuple[str, str, bool]:
    """(regular, bold, cjk available) — registered once per process, falling back gracefully."""
    regular, bold = "Helvetica", "Helvetica-Bold"
    for d in FONT_DIRS:
        if (d / "DejaVuSans.ttf").exists() and (d / "DejaVuSans-Bold.ttf").exists():
            pdfmetrics.registerFont(TTFont("DejaVuSans", str(d / "DejaVuSans.ttf")))
            pdfmetrics.registerFont(TTFont("DejaVuSans-Bold", str(d / "DejaVuSans-Bold.ttf")))
            regular, bold = "DejaVuSans", "DejaVuSans-Bold"
            break
    try:
        pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))
        cjk = True
    except Exception:
        cjk = False
    return regular, bold, cjk


def _t(value: Any) -> str:
    """Escaped paragraph markup; CJK runs switch to the CJK font."""
    text = escape("" if value is None else str(value))
    if fonts()[2]:
        text = _CJK.sub(lambda m: f'<font name="{CJK_FONT}">{m.group(1)}</font>', text)
    return text.replace("\n", "<br/>")


def _dt(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "-"


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


def render_report(data: ReportData) -> bytes:
    regular, bold, _ = fonts()
    base = getSampleStyleSheet()
    body = ParagraphStyle("body", parent=base["BodyText"], fontName=regular, fontSize=9.5, leading=12.5)
    small = ParagraphStyle("small", parent=body, fontSize=8, leading=10)
    h1 = ParagraphStyle("h1", parent=base["Heading1"], fontName=bold, fontSize=16)
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

    story: list[Any] = [
        Paragraph(_t(f"Service report — ticket {t['id']}"), h1),
        kv(
            [
                ("Status", t["status"]),
                ("Grade", t["grade"] + (f" — {'; '.join(t['grade_reasons'])}" if t["grade_reasons"] else "")),
                ("Category", t["category"]),
                ("Reported", f"{_dt(t['reported_at'])} by {t['reporter_name'] or '-'}"),
                ("Problem", t["symptom"]),
                ("Special request", t["special_request"] or "-"),
                ("Site", f"{data.site['name']}, {data.site['address']}" if data.site else "-"),
                (
                    "Equipment",
                    f"{data.equipment['type']} {data.equipment['model']} · serial {data.equipment['serial']}"
                    if data.equipment
                    else "-",
                ),
                ("On site", _dt(t["on_site_at"])),
                ("Resolved", _dt(t["resolved_at"])),
                ("Closed", _dt(t["closed_at"])),
            ]
        ),
        Paragraph("Deadlines", h2),
    ]
    dl_rows = [[Paragraph(_t(x), body) for x in ("Clock", "Due", "Done", "Result")]]
    for d in data.deadlines:
        dl_rows.append([Paragraph(_t(x), body) for x in (d.name, _dt(d.due_at), _dt(d.done_at), d.verdict.upper())])
    dl_table = Table(dl_rows, colWidths=[50 * mm, 45 * mm, 45 * mm, 30 * mm])
    dl_table.setStyle(grid)
    story.append(dl_table)

    for r in data.work_reports:
        story.append(Paragraph(_t(f"Work report (visit {r['visit_id']})"), h2))
        parts = ", ".join(f"{p['name']} ({p['code']}) × {p['quantity']:g} {p['unit']}" for p in r["parts_used"]) or "-"
        story.append(
            kv(
                [
                    ("Cause found", r["cause_found"]),
                    ("Work done", r["work_done"]),
                    ("Parts used", parts),
                    ("Time spent", f"{r['minutes_spent']} min"),
                    ("Follow-up needed", ("yes — " + (r["follow_up_note"] or "")) if r["follow_up_needed"] else "no"),
                ]
            )
        )
    for v in data.visits:
        if v["outside_geofence"]:
            story.append(
                Paragraph(
                    _t(f"Visit {v['id']}: check-in {v['arrival_distance_m']:.0f} m from the site (outside the fence)."),
                    small,
                )
            )

    thumbs = [img for img in (_thumb(b) for _ct, b in data.photos) if img is not None]
    if thumbs:
        story.append(Paragraph("Photos", h2))
        rows = [thumbs[i : i + 3] for i in range(0, len(thumbs), 3)]
        rows[-1] += [""] * (3 - len(rows[-1]))
        story.append(Table(rows, colWidths=[58 * mm] * 3))

    story.append(Paragraph("Customer confirmation", h2))
    c = data.confirmation
    if c:
        ratings = [(DIMENSION_LABELS[d], f"{c['ratings'].get(d, '-')} / 5") for d in DIMENSIONS]
        story.append(
            kv(
                [
                    ("Satisfied", "yes" if c["satisfied"] else "no"),
                    *ratings,
                    ("Comment", c["comment"] or "-"),
                    ("Signed by", f"{c['signer_name']} ({c['signer_role']})"),
                    ("Signed at", _dt(c["signed_at"])),
                    ("Outcome", c["outcome"]),
                    ("Document SHA-256", c["sha256"]),
                ]
            )
        )
        sig = _signature(data.signature_png) if data.signature_png else None
        if sig is not None:
            story += [Spacer(1, 4 * mm), Paragraph("Signature:", body), sig]
    elif data.refusal:
        story.append(
            Paragraph(_t(f"The customer refused to sign ({_dt(data.refusal['at'])}): {data.refusal['reason']}"), body)
        )
    else:
        story.append(Paragraph("Not signed yet.", body))

    story.append(Paragraph("Timeline", h2))
    tl = [[Paragraph(_t(x), small) for x in ("When", "Who", "What", "Status", "Why")]]
    for e in data.timeline:
        status = f"{e['from'] or '—'} → {e['to']}" if e["from"] != e["to"] else e["to"]
        tl.append([Paragraph(_t(x), small) for x in (_dt(e["at"]), e["actor"], e["action"], status, e["reason"] or "")])
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
        title=f"Onsite24 service report — ticket {t['id']}",
        author="Onsite24",
    )
    doc.build(story)
    return out.getvalue()
