"""Exports a finance team can use, read back from the files: typed XLSX cells with ₹ formats, a frozen
header, an autofilter, a report title and totals; a PDF with formatted amounts, whole-word headers
and totals. Figures are checked against hand-written SQL."""

from __future__ import annotations

from business_data import clock

from datetime import datetime
from pathlib import Path

import pytest
from dateutil.relativedelta import relativedelta
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import text

from tools.registry import run_tool
from tools.report_files import header, inr

IN_MONTH = clock.today().replace(day=1) - relativedelta(months=1)


def _export(services, fmt: str, **params):
    res = run_tool(
        "export_report",
        {
            "dataset": "invoices",
            "vendor": "IndiSky",
            "status": "failed",
            "period": "last_month",
            "format": fmt,
            **params,
        },
        services.tool_context(services.identity("maya")),
    )
    assert res.status == "success", res.message
    with services.app.connect() as c:
        path = c.execute(
            text("SELECT path FROM exports WHERE export_id = :e"), {"e": res.data["export_id"]}
        ).scalar_one()
    return res, Path(path)


def _sql_failed_indisky(services) -> list:
    start = IN_MONTH
    end = start + relativedelta(months=1)
    with services.business.connect() as c:
        return c.execute(
            text(
                "SELECT i.invoice_number, i.total_amount FROM invoices i JOIN vendors v ON v.id = i.vendor_id "
                "WHERE i.workspace_id = 'acme' AND v.name = 'IndiSky Airlines' AND i.status = 'failed' "
                "AND i.invoice_date >= :s AND i.invoice_date < :e"
            ),
            {"s": start, "e": end},
        ).all()


def test_xlsx_reads_like_a_report(services):
    res, path = _export(services, "xlsx")
    expected = _sql_failed_indisky(services)
    title = f"IndiSky Airlines – 7 failed invoices, {IN_MONTH:%B %Y}"
    assert res.data["title"] == title
    ws = load_workbook(path).active
    assert ws["A1"].value == title
    heads = [c.value for c in ws[4]]
    assert heads[:3] == ["Invoice number", "Vendor", "Invoice date"] and "Total amount (₹)" in heads
    assert ws.freeze_panes == "A5"
    assert ws.auto_filter.ref == f"A4:{ws.cell(row=4, column=len(heads)).column_letter}{4 + len(expected)}"
    col = {h: i + 1 for i, h in enumerate(heads)}
    body = range(5, 5 + len(expected))
    assert sorted(ws.cell(row=r, column=1).value for r in body) == sorted(n for n, _ in expected)
    for r in body:
        d = ws.cell(row=r, column=col["Invoice date"])
        assert isinstance(d.value, datetime) and d.value.date().replace(day=1) == IN_MONTH and d.is_date
        amount = ws.cell(row=r, column=col["Total amount (₹)"])
        assert isinstance(amount.value, (int, float)) and "₹" in amount.number_format  # a number, not text
    total_row = 5 + len(expected) + 1
    assert ws.cell(row=total_row, column=1).value == "Total"
    assert ws.cell(row=total_row, column=col["Total amount (₹)"]).value == pytest.approx(
        sum(a for _, a in expected), abs=0.01
    )
    assert ws.column_dimensions["A"].width >= len(expected[0][0])  # fitted, not the default 8.43


def test_pdf_has_formatted_amounts_whole_headers_and_totals(services):
    res, path = _export(services, "pdf")
    expected = _sql_failed_indisky(services)
    text_ = "\n".join(page.extract_text() for page in PdfReader(str(path)).pages)
    assert f"IndiSky Airlines – 7 failed invoices, {IN_MONTH:%B %Y}" in text_
    for number, amount in expected:
        assert number in text_ and inr(amount) in text_
    assert "Total\n" in text_ or "Total " in text_
    assert inr(sum(a for _, a in expected)) in text_
    # every header word is whole on some line (never split inside a word)
    words = set(text_.split())
    for h in ("Invoice number", "Payment status", "Failure reason"):
        assert all(w in words for w in h.split()), h


def test_csv_stays_raw_for_other_programs(services):
    res, path = _export(services, "csv")
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("invoice_number,vendor,invoice_date") and len(lines) == 1 + 7


@pytest.mark.parametrize(
    "value, shown", [(490901, "₹4,90,901.00"), (12345678.5, "₹1,23,45,678.50"), (99.999, "₹100.00")]
)
def test_inr_groups_indian_style(value, shown):
    assert inr(value) == shown


def test_headers_read_as_words():
    assert header("invoice_number") == "Invoice number" and header("gstin") == "GSTIN"
    assert header("total_amount") == "Total amount (₹)" and header("payment_terms_days") == "Payment terms (days)"


def test_pdfs_written_in_parallel_threads_all_succeed(tmp_path):
    """The PDF font is registered once, safely, however many exports start together (found under load)."""
    from concurrent.futures import ThreadPoolExecutor

    from reportlab.pdfbase import pdfmetrics

    from tools import report_files

    for name in ("FinkraftSans", "FinkraftSans-Bold"):  # start as a fresh process would
        pdfmetrics._fonts.pop(name, None)
    rows = [{"invoice_number": f"INV-{i}", "total_amount": 1000.0 + i, "invoice_date": "2026-10-01"} for i in range(5)]
    cols = list(rows[0])
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: report_files.write_pdf(tmp_path / f"r{i}.pdf", cols, rows, f"report {i}"), range(16)))
    assert all(PdfReader(str(tmp_path / f"r{i}.pdf")).pages for i in range(16))
