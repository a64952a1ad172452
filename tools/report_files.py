"""The files behind export_report, made for a finance team to open: CSV (stdlib csv), XLSX (openpyxl)
and PDF (reportlab).

- XLSX: a report title, real dates and numbers (₹ in Indian grouping), readable headers, a frozen
  header row, an autofilter, fitted column widths and a totals row.
- PDF: the same title, amounts formatted Indian style and right-aligned, headers that never break
  inside a word, and totals.
- CSV: the raw columns and values, for other programs (no title, no formatting).

No cell of either spreadsheet is ever a formula (CSV/formula injection, OWASP): a text cell that
begins with = + - @ tab or CR (a vendor named '=HYPERLINK(...)', a title '@SUM(1)') is written with a
leading ' (`safe_text`), and in XLSX as an explicit string cell; numbers stay numbers.
"""

from __future__ import annotations

import csv
import re
import threading
from datetime import date
from pathlib import Path
from typing import Any

from babel.numbers import format_decimal

from business_data import clock

# Excel's own number format with Indian grouping (12,34,56,789.00): lakh and crore sections by value
INR_FORMAT = '[>=10000000]"₹"##\\,##\\,##\\,##0.00;[>=100000]"₹"##\\,##\\,##0.00;"₹"#,##0.00'
DATE_FORMAT = "DD MMM YYYY"
MONEY_WORDS = ("amount", "price", "total", "tax", "value", "outstanding", "paid")
LABELS = {
    "gstin": "GSTIN",
    "payment_terms_days": "Payment terms (days)",
    "sale_id": "Sale #",
    "error_message": "Failure reason",
    "contact_email": "Contact email",
}


# what makes a spreadsheet read a cell as a formula (OWASP "CSV Injection"), with the full-width forms
# some spreadsheets also accept
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
PLAIN_NUMBER = re.compile(r"[+-]?(\d{1,3}(,\d{2,3})+|\d+)(\.\d+)?%?")
SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\\x00-\x1f]")


def safe_text(value: Any) -> Any:
    """A text value no spreadsheet runs: one beginning with = + - @ tab or CR gets a leading ' (OWASP);
    a plain number written as text ('-1,234.50', '+5%') is left as it is. Anything not text is unchanged.
    The one neutraliser for every CSV and XLSX cell, header and title."""
    if isinstance(value, str) and value.startswith(FORMULA_START) and not PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def sheet_name(text: str) -> str:
    """A worksheet name Excel accepts and never reads as a formula: no [ ] : * ? / \\ or control
    characters, no ' at either end, not 'History', 1 to 31 characters."""
    name = SHEET_FORBIDDEN.sub(" ", str(text)).strip().strip("'").lstrip("".join(FORMULA_START)).strip()
    name = name[:31].strip().strip("'")
    return name if name and name.lower() != "history" else "Report"


def kind(column: str) -> str:
    """money | date | int | text, from the column's name (the same for every dataset)."""
    c = column.lower()
    if c.endswith(("_share", "_pct", "_rate")):  # analysis columns: percentages, not rupees
        return "text"
    if c.endswith("date") or c.endswith("_at"):
        return "date"
    if any(w in c for w in MONEY_WORDS) and not c.endswith("_id") and c != "total_records":
        return "money"
    if c in ("quantity", "rows", "count", "invoices") or c.endswith("_days") or c.endswith("_count"):
        return "int"
    return "text"


def header(column: str) -> str:
    """'invoice_number' -> 'Invoice number'; money columns say ₹."""
    label = LABELS.get(column) or column.replace("_", " ").capitalize()
    return f"{label} (₹)" if kind(column) == "money" else label


def inr(value: float) -> str:
    """₹4,90,901.00: Indian grouping (lakh, crore), through Babel's en_IN locale."""
    return "₹" + format_decimal(round(float(value), 2), format="#,##,##0.00", locale="en_IN")


def _typed(column: str, value: Any) -> Any:
    if value is None or value == "":
        return None
    k = kind(column)
    if k == "date" and isinstance(value, str):
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return value
    if k in ("money", "int") and isinstance(value, (str, int, float)) and not isinstance(value, bool):
        # a figure written as text ("-1,234.50", "−1,234.50", "₹4,90,901") is still a number
        plain = (
            value.replace(",", "").replace("\u2212", "-").replace("₹", "").strip() if isinstance(value, str) else value
        )
        try:
            return float(plain) if k == "money" else int(plain)
        except ValueError:
            return value
    return value


def totals(columns: list[str], rows: list[dict]) -> dict[str, float]:
    """The sum of each money column (a value that is not a number, e.g. text, is left out)."""

    def number(column: str, value: Any) -> float:
        v = _typed(column, value)
        return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else 0.0

    return {c: round(sum(number(c, r.get(c)) for r in rows), 2) for c in columns if kind(c) == "money"}


def _csv_value(column: str, value: Any) -> Any:
    """The raw value, except that text which a spreadsheet would run as a formula is neutralised."""
    typed = _typed(column, value)
    if isinstance(typed, (int, float)) and not isinstance(typed, bool):
        return value  # a number (also one that came as text) stays as the database gave it
    return safe_text(value)


def write_csv(path: Path, columns: list[str], rows: list[dict], title: str) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow([safe_text(c) for c in columns])
        w.writerows([_csv_value(c, row.get(c)) for c in columns] for row in rows)


def _string_cells(cells) -> None:
    """Text cells as explicit strings (data type 's'): openpyxl would make '=...' a formula."""
    for cell in cells:
        if isinstance(cell.value, str):
            cell.value = safe_text(cell.value)
            cell.data_type = "s"


def write_xlsx(path: Path, columns: list[str], rows: list[dict], title: str) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = sheet_name("Report")
    ws.append([safe_text(title)])
    ws["A1"].font = Font(bold=True, size=14)
    stamp = clock.now().strftime("%d %b %Y %H:%M %Z")  # the workspace's time zone
    ws.append([f"{len(rows):,} row{'s' if len(rows) != 1 else ''} · generated {stamp} by FinkraftAI"])
    ws["A2"].font = Font(italic=True, color="666666")
    ws.append([])
    head_row = 4
    ws.append([safe_text(header(c)) for c in columns])
    fill = PatternFill("solid", fgColor="DFE7F2")
    _string_cells(ws[1])
    _string_cells(ws[head_row])
    for cell in ws[head_row]:
        cell.font, cell.fill = Font(bold=True), fill
        cell.alignment = Alignment(vertical="center", wrap_text=False)
    widths = [len(header(c)) for c in columns]
    for row in rows:
        ws.append([safe_text(_typed(c, row.get(c))) for c in columns])
        r = ws.max_row
        _string_cells(ws[r])
        for i, c in enumerate(columns, start=1):
            cell = ws.cell(row=r, column=i)
            k = kind(c)
            if k == "money" and not isinstance(cell.value, str):
                cell.number_format = INR_FORMAT
                widths[i - 1] = max(widths[i - 1], len(inr(cell.value or 0)) + 1)
            elif k == "date" and isinstance(cell.value, date):
                cell.number_format = DATE_FORMAT
                widths[i - 1] = max(widths[i - 1], 12)
            else:
                widths[i - 1] = max(widths[i - 1], min(len(str(cell.value or "")), 60))
    last = ws.max_row
    ws.freeze_panes = ws.cell(row=head_row + 1, column=1)
    ws.auto_filter.ref = f"A{head_row}:{get_column_letter(len(columns))}{last}"
    sums = totals(columns, rows)
    if rows and sums:
        ws.append([])
        ws.append(["Total"] + [sums.get(c) for c in columns[1:]])
        for i, c in enumerate(columns, start=1):
            cell = ws.cell(row=ws.max_row, column=i)
            cell.font = Font(bold=True)
            if c in sums:
                cell.number_format = INR_FORMAT
    for i, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = w + 2
    wb.save(path)


def write_pdf(path: Path, columns: list[str], rows: list[dict], title: str) -> None:
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_RIGHT
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.pdfbase.pdfmetrics import stringWidth
    from reportlab.platypus import LongTable, Paragraph, SimpleDocTemplate, Spacer, TableStyle

    def esc(text: Any) -> str:
        return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    regular, bold = _pdf_fonts()
    styles = getSampleStyleSheet()
    page_w = landscape(A4)[0] - 48
    doc = SimpleDocTemplate(
        str(path),
        pagesize=landscape(A4),
        title=title,
        author="FinkraftAI",
        leftMargin=24,
        rightMargin=24,
        topMargin=24,
        bottomMargin=24,
    )
    cell = styles["BodyText"].clone("cell", fontName=regular, fontSize=7, leading=8.5)
    num = cell.clone("num", alignment=TA_RIGHT)
    head = cell.clone("head", fontName=bold)
    money = inr if regular != "Helvetica" else (lambda v: inr(v).replace("₹", "Rs. "))  # no ₹ glyph in Helvetica
    shown = {c: [_shown(c, r.get(c), money) for r in rows] for c in columns}
    sums = totals(columns, rows)
    # figures and dates never wrap; a header never breaks inside a word; text columns take what is left
    floor, want = [], []
    for c in columns:
        word = max(stringWidth(w, bold, 7) for w in header(c).split())
        values = shown[c][:500] + ([money(sums[c])] if c in sums else [])
        body = max([stringWidth(v, bold if c in sums else regular, 7) for v in values] or [0])
        fixed = kind(c) != "text" or c.endswith(("number", "reference", "gstin", "_id", "status", "region"))
        floor.append(max(word, body if fixed else 0) + PAD)
        want.append(max(word, min(body, 200)) + PAD)
    spare = max(page_w - sum(floor), 0)
    extra = [w - f for f, w in zip(floor, want)]
    scale = min(1.0, spare / sum(extra)) if sum(extra) else 0
    widths = [f + e * scale for f, e in zip(floor, extra)]
    data = [[Paragraph(esc(header(c)), head) for c in columns]]
    for i in range(len(rows)):
        data.append([Paragraph(esc(shown[c][i]), num if kind(c) in ("money", "int") else cell) for c in columns])
    if rows and sums:
        data.append(
            [Paragraph("<b>Total</b>", cell)]
            + [Paragraph(f"<b>{money(sums[c])}</b>", num) if c in sums else Paragraph("", cell) for c in columns[1:]]
        )
    table = LongTable(data, colWidths=widths, repeatRows=1)
    style = [
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#dfe7f2")),
        ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]
    if rows and sums:
        style.append(("BACKGROUND", (0, -1), (-1, -1), colors.HexColor("#f2f2f2")))
    table.setStyle(TableStyle(style))
    stamp = clock.now().strftime("%d %b %Y %H:%M %Z")  # the workspace's time zone
    # reportlab is not thread-safe: two first builds at once in a process can see its named-colour
    # table half made ("Invalid color value 'black'", seen with concurrent exports); one build at a time
    with _PDF_LOCK:
        doc.build(
            [
                Paragraph(esc(title), styles["Title"].clone("title", fontName=bold)),
                Paragraph(
                    f"{len(rows):,} rows, generated {stamp} by FinkraftAI",
                    styles["Normal"].clone("sub", fontName=regular),
                ),
                Spacer(1, 8),
                table,
            ]
        )


# DejaVu Sans (Debian's fonts-dejavu-core, on every machine of ours) has the ₹ sign; Helvetica has not
DEJAVU = Path("/usr/share/fonts/truetype/dejavu")
PAD = 14  # a table cell's left and right padding (6 + 6), and a little air
_FONT_LOCK = threading.Lock()
_PDF_LOCK = threading.Lock()


def _pdf_fonts() -> tuple[str, str]:
    """(regular, bold) font names for the PDF: DejaVu Sans Condensed when installed, else Helvetica."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    with _FONT_LOCK:  # exports run in parallel threads: register both faces before anyone uses one
        if "FinkraftSans-Bold" in pdfmetrics.getRegisteredFontNames():
            return "FinkraftSans", "FinkraftSans-Bold"
        regular, bold = DEJAVU / "DejaVuSansCondensed.ttf", DEJAVU / "DejaVuSansCondensed-Bold.ttf"
        if not (regular.exists() and bold.exists()):
            return "Helvetica", "Helvetica-Bold"
        pdfmetrics.registerFont(TTFont("FinkraftSans", str(regular)))
        pdfmetrics.registerFont(TTFont("FinkraftSans-Bold", str(bold)))
        pdfmetrics.registerFontFamily("FinkraftSans", normal="FinkraftSans", bold="FinkraftSans-Bold")
        return "FinkraftSans", "FinkraftSans-Bold"


def _shown(column: str, value: Any, money=None) -> str:
    v = _typed(column, value)
    if v is None:
        return ""
    k = kind(column)
    if k == "money" and isinstance(v, (int, float)):
        return (money or inr)(v)
    if k == "date" and isinstance(v, date):
        return f"{v:%d %b %Y}"
    return str(v)


WRITERS = {"csv": write_csv, "xlsx": write_xlsx, "pdf": write_pdf}
