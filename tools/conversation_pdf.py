"""The PDF of a conversation (tools/conversation_report.py): reportlab, like every PDF export.

Each exchange: "You asked, <time>" and the question, the answer's words, its table (the first rows,
amounts Indian style) and, for a breakdown or trend, a bar chart of its first measure."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from .fixed_report import local_time
from .report_files import _PDF_LOCK, _pdf_fonts, _shown, header, inr, kind

CHART_BARS = 12


def _esc(text: Any) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\n", "<br/>")


def _chart(table: dict[str, Any], width: float, font: str):
    """A bar chart of the table's first number column by its first text column (None if it has neither)."""
    from reportlab.graphics.charts.barcharts import VerticalBarChart
    from reportlab.graphics.shapes import Drawing
    from reportlab.lib import colors

    cols, rows = table["columns"], table["rows"][:CHART_BARS]
    label = next((c for c in cols if kind(c) in ("text", "date")), None)
    value = next(
        (c for c in cols if isinstance(rows[0].get(c), (int, float)) and not isinstance(rows[0].get(c), bool)), None
    )
    if label is None or value is None:
        return None
    drawing = Drawing(width, 170)
    chart = VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = 50, 30, width - 70, 120
    chart.data = [[float(r.get(value) or 0) for r in rows]]
    chart.categoryAxis.categoryNames = [str(r.get(label))[:14] for r in rows]
    chart.categoryAxis.labels.fontName = chart.valueAxis.labels.fontName = font
    chart.categoryAxis.labels.fontSize = chart.valueAxis.labels.fontSize = 6
    chart.categoryAxis.labels.angle = 30 if len(rows) > 6 else 0
    chart.categoryAxis.labels.boxAnchor = "ne" if len(rows) > 6 else "n"
    chart.valueAxis.valueMin = min(0, *chart.data[0])
    chart.bars[0].fillColor = colors.HexColor("#4c78a8")
    drawing.add(chart)
    return drawing


def write_conversation_pdf(path: Path, title: str, items: list[dict[str, Any]], saved_at: datetime) -> None:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import KeepTogether, LongTable, Paragraph, SimpleDocTemplate, Spacer, TableStyle

    regular, bold = _pdf_fonts()
    money = inr if regular != "Helvetica" else (lambda v: inr(v).replace("₹", "Rs. "))
    styles = getSampleStyleSheet()
    body = styles["BodyText"].clone("conv-body", fontName=regular, fontSize=9, leading=12)
    asked = body.clone("conv-asked", fontName=bold, textColor=colors.HexColor("#1f3b63"))
    small = body.clone("conv-small", fontSize=7, leading=9, textColor=colors.HexColor("#666666"))
    cell = body.clone("conv-cell", fontSize=7, leading=8.5)
    head = cell.clone("conv-head", fontName=bold)
    doc = SimpleDocTemplate(
        str(path), pagesize=A4, title=title, author="FinkraftAI", leftMargin=36, rightMargin=36, topMargin=36
    )
    width = A4[0] - 72
    story: list[Any] = [
        Paragraph(_esc(title), styles["Title"].clone("conv-title", fontName=bold, fontSize=16)),
        Paragraph(
            f"{len(items)} question{'s' if len(items) != 1 else ''} · saved {local_time(saved_at)} by FinkraftAI",
            small,
        ),
        Spacer(1, 10),
    ]
    for n, item in enumerate(items, start=1):
        story.append(Paragraph(f"{n}. You asked, {local_time(item['asked_at'])}", small))
        story.append(Paragraph(_esc(item["question"]), asked))
        story.append(Spacer(1, 3))
        table = item.get("table")
        words = item["answer"] or "(no answer was recorded)"
        if table:  # the table shows the rows: the answer's row-by-row lines are left out
            words = "\n".join(x for x in words.splitlines() if not x.startswith(("- ", "(and ")))
        story.append(Paragraph(_esc(words), body))
        if table:
            cols = table["columns"]
            data = [[Paragraph(_esc(header(c)), head) for c in cols]]
            data += [[Paragraph(_esc(_shown(c, r.get(c), money)), cell) for c in cols] for r in table["rows"]]
            t = LongTable(data, repeatRows=1, colWidths=[width / len(cols)] * len(cols))
            t.setStyle(
                TableStyle(
                    [
                        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#dfe7f2")),
                        ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                        ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ]
                )
            )
            story += [Spacer(1, 4), t]
            if table["matched"] > len(table["rows"]):
                story.append(Paragraph(f"The first {len(table['rows'])} of {table['matched']:,} rows.", small))
            chart = _chart(table, width, regular) if table.get("chart") else None
            if chart is not None:
                story.append(KeepTogether([Spacer(1, 4), chart]))
        story.append(Spacer(1, 12))
    with _PDF_LOCK:
        doc.build(story)
