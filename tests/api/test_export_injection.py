"""Exports never carry a live spreadsheet formula (CSV/formula injection, OWASP): vendors, customers and
a report title named like formulas are written into the business database, exported as CSV, XLSX and
PDF through POST /execute_tool, downloaded, and read back with the csv module, openpyxl and pypdf."""

from __future__ import annotations

from business_data import clock

import csv
import io

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import text

from tools.report_files import safe_text, sheet_name

FORMULAS = [
    '=HYPERLINK("http://evil.example/x","click")',
    "+1+1",
    "@SUM(1)",
    "-2+3",
    "=cmd|' /C calc'!A0",
    "\t=1+2",
    "\r=1+2",
]
DANGER = ("=", "+", "-", "@", "\t", "\r")
TITLE = '=HYPERLINK("http://evil.example/t","report")'


@pytest.fixture(scope="module")
def seeded(api):
    today = clock.today()
    with api.services.business.begin() as c:
        top = c.execute(text("SELECT MAX(id) FROM vendors")).scalar_one()
        product = c.execute(text("SELECT MIN(id) FROM products WHERE workspace_id = 'acme'")).scalar_one()
        top_sale = c.execute(text("SELECT MAX(id) FROM sales")).scalar_one()
        for i, name in enumerate(FORMULAS, start=1):
            c.execute(
                text(
                    "INSERT INTO vendors (id, workspace_id, name, vendor_code, status, category, state, "
                    "contact_email, payment_terms_days) VALUES (:id, 'acme', :n, :code, 'active', 'Travel', "
                    "'Goa', 'x@example.com', 30)"
                ),
                {"id": top + i, "n": name, "code": f"INJ{i}"},
            )
            c.execute(
                text(
                    "INSERT INTO sales (id, workspace_id, sale_date, region, customer, product_id, quantity, "
                    "unit_price, amount, status) VALUES (:id, 'acme', :d, 'North', :n, :p, 1, -1234.5, "
                    "-1234.5, 'returned')"
                ),
                {"id": top_sale + i, "d": today, "n": name, "p": product},
            )
    return api


def _export(api, fmt: str, dataset: str, **params) -> bytes:
    r = api.maya.post(
        "/execute_tool",
        json={"tool_name": "export_report", "params": {"dataset": dataset, "format": fmt, "title": TITLE, **params}},
    )
    assert r.status_code == 200, r.text
    got = api.maya.get(r.json()["data"]["url"])
    assert got.status_code == 200, got.text
    return got.content


@pytest.mark.parametrize("dataset", ["vendors", "sales"])
def test_csv_has_no_cell_a_spreadsheet_would_run(seeded, dataset):
    params = {"period": "this_month"} if dataset == "sales" else {}
    rows = list(csv.reader(io.StringIO(_export(seeded, "csv", dataset, limit=50_000, **params).decode("utf-8"))))
    cells = [cell for row in rows for cell in row]
    assert not [c for c in cells if c.startswith(DANGER) and not _plain_number(c)], "a formula in the CSV"
    for name in FORMULAS:  # every name is there, neutralised, not dropped
        assert "'" + name in cells, name
    if dataset == "sales":
        head = rows[0]
        amounts = [float(r[head.index("amount")]) for r in rows[1:] if r[head.index("customer")].startswith("'")]
        assert amounts and sum(amounts) == pytest.approx(-1234.5 * len(FORMULAS))  # numbers that sum


def _plain_number(cell: str) -> bool:
    try:
        float(cell.replace(",", ""))
        return True
    except ValueError:
        return False


@pytest.mark.parametrize("dataset", ["vendors", "sales"])
def test_xlsx_has_no_formula_and_negative_amounts_stay_numbers(seeded, tmp_path, dataset):
    params = {"period": "this_month"} if dataset == "sales" else {}
    path = tmp_path / "r.xlsx"
    path.write_bytes(_export(seeded, "xlsx", dataset, **params))
    wb = load_workbook(path)
    for ws in wb.worksheets:
        assert not ws.title.startswith(DANGER)
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    assert not cell.value.startswith(DANGER) or _plain_number(cell.value), (cell.coordinate, cell.value)
    ws = wb.active
    assert ws["A1"].value == "'" + TITLE and ws["A1"].data_type == "s"
    values = [c.value for row in ws.iter_rows() for c in row]
    for name in FORMULAS:  # (XML reads a CR back as a line feed)
        assert "'" + name in values or "'" + name.replace("\r", "\n") in values, name
    if dataset == "sales":
        heads = [c.value for c in ws[4]]
        amount_col = heads.index("Amount (₹)") + 1
        customer_col = heads.index("Customer") + 1
        ours = [
            ws.cell(row=r, column=amount_col)
            for r in range(5, ws.max_row + 1)
            if str(ws.cell(row=r, column=customer_col).value or "").startswith("'")
        ]
        assert len(ours) == len(FORMULAS)
        for cell in ours:  # −1,234.50 is still a number a SUM adds up
            assert cell.data_type == "n" and cell.value == -1234.5


def test_pdf_title_is_shown_as_written(seeded, tmp_path):
    path = tmp_path / "r.pdf"
    path.write_bytes(_export(seeded, "pdf", "vendors"))
    shown = "\n".join(page.extract_text() for page in PdfReader(str(path)).pages)
    assert "HYPERLINK" in shown and "+1+1" in shown and "@SUM(1)" in shown


@pytest.mark.parametrize(
    "value, safe",
    [
        ("=1+2", "'=1+2"),
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(1)", "'@SUM(1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("-1,234.50", "-1,234.50"),  # a number written as text is not a formula
        ("+5%", "+5%"),
        ("IndiSky Airlines", "IndiSky Airlines"),
        (-1234.5, -1234.5),
        (None, None),
    ],
)
def test_safe_text(value, safe):
    assert safe_text(value) == safe


@pytest.mark.parametrize(
    "title, name",
    [
        ("Report", "Report"),
        ("=HYPERLINK(1)", "HYPERLINK(1)"),
        ("a/b:c*d?[e]\\f", "a b c d  e  f"),
        ("'quoted'", "quoted"),
        ("x" * 40, "x" * 31),
        ("history", "Report"),
        ("", "Report"),
    ],
)
def test_sheet_names_follow_excels_rules(title, name):
    assert sheet_name(title) == name


def test_text_in_a_money_column_is_neutralised_not_a_crash(tmp_path):
    """A formula where a number belongs (an amount column holding text) is written as neutral text;
    the numbers beside it stay numbers."""
    from tools.report_files import write_csv, write_xlsx

    rows = [
        {"customer": "ok", "amount": "=1+1"},
        {"customer": "@SUM(1)", "amount": "-1,234.50"},
        {"customer": "-x", "amount": -1234.5},
        {"customer": "y", "amount": "\u22121,234.50"},
    ]
    write_xlsx(tmp_path / "r.xlsx", ["customer", "amount"], rows, "+title")
    ws = load_workbook(tmp_path / "r.xlsx").active
    cells = [c for row in ws.iter_rows() for c in row]
    assert not [c for c in cells if c.data_type == "f"]
    assert [(ws.cell(row=r, column=2).value, ws.cell(row=r, column=2).data_type) for r in (5, 6, 7, 8)] == [
        ("'=1+1", "s"),
        (-1234.5, "n"),
        (-1234.5, "n"),
        (-1234.5, "n"),
    ]
    assert ws.cell(row=10, column=2).value == -3703.5  # the totals row sums the numbers
    assert ws["A1"].value == "'+title"
    write_csv(tmp_path / "r.csv", ["customer", "amount"], rows, "+title")
    assert list(csv.reader(open(tmp_path / "r.csv", encoding="utf-8"))) == [
        ["customer", "amount"],
        ["ok", "'=1+1"],
        ["'@SUM(1)", "-1,234.50"],
        ["'-x", "-1234.5"],
        ["y", "\u22121,234.50"],
    ]
