"""The fixed report: after a ticket is resolved, "download the fixed report" gives each invoice's state
when the ticket was raised next to its state now, with when and by whom it was fixed, in the
workspace's time zone; "and as excel" is the same report as a spreadsheet, with the same title."""

from __future__ import annotations

import csv
import io
import re

from openpyxl import load_workbook
from sqlalchemy import select, text

from business_data import clock
from business_data.appdb import TicketComment
from business_data.db import session_scope

from ..helpers import chat, expected_indisky_failed


def _now_states(engine, numbers) -> dict[str, tuple[str, str]]:
    """Each invoice's status and reason in the business tables now."""
    with engine.connect() as c:
        rows = c.execute(text("SELECT invoice_number, status, COALESCE(error_message, '') FROM invoices"))
        return {r[0]: (r[1], r[2]) for r in rows if r[0] in numbers}


def test_fixed_report_then_and_now(api):
    expected = expected_indisky_failed(api.services.business)
    maya, t = api.maya, "fixed-day1"
    chat(maya, "Filter invoices for last month, vendor=IndiSky, status=failed", t)
    chat(maya, "Create a ticket and notify me when fixed", t, asks=True)
    ticket_id = chat(maya, "yes", t)["data"]["ticket_id"]
    # the customer's system reissues two of the invoices (the assistant only reads the business data)
    reissued = sorted(expected)[:2]
    with api.services.business.begin() as c:
        for n in reissued:
            c.execute(
                text("UPDATE invoices SET status='processed', error_message=NULL WHERE invoice_number=:n"), {"n": n}
            )
    r = api.admin.patch(f"/tickets/{ticket_id}", json={"status": "resolved", "comment": "vendor reissued"})
    assert r.status_code == 200, r.text
    with session_scope(api.services.app) as s:
        resolved_at = s.scalars(
            select(TicketComment.created_at).where(
                TicketComment.ticket_id == ticket_id, TicketComment.status_to == "resolved"
            )
        ).one()
    fixed_on = resolved_at.astimezone(clock.zone()).strftime("%d %b %Y, %H:%M %Z")

    body = chat(maya, "download the fixed report", "fixed-day2")
    assert body["tool_used"] == "export_report" and body["status"] == "success"
    title = f"{ticket_id} IndiSky Airlines: 7 invoices, fixed report"
    assert body["data"]["title"] == title
    assert "/exports/" not in body["agent_response"] and "download" not in body["agent_response"].lower()
    assert body["data"]["url"] == f"/exports/{body['data']['export_id']}/download"  # the API still carries it
    rows = list(csv.DictReader(io.StringIO(maya.get(body["data"]["url"]).text)))
    assert {r["invoice_number"] for r in rows} == expected
    now = _now_states(api.services.business, expected)
    for r in rows:
        assert (r["status_then"], r["reason_then"]) == ("failed", "GSTIN missing")
        assert (r["status_now"], r["reason_now"]) == now[r["invoice_number"]]
        assert (r["fixed_on"], r["fixed_by"]) == (fixed_on, "Asha Admin")
    assert {r["invoice_number"] for r in rows if r["status_now"] == "processed"} == set(reissued)
    assert not any(re.search(r"\d{2}:\d{2}:\d{2}\.\d+", v) for r in rows for v in r.values())  # no ISO with µs

    body = chat(maya, "and as excel", "fixed-day2")
    assert (body["tool_used"], body["data"]["format"], body["data"]["title"]) == ("export_report", "xlsx", title)
    assert body["tool_calls"][-1]["params"]["ticket_id"] == ticket_id
    ws = load_workbook(io.BytesIO(maya.get(body["data"]["url"]).content)).active
    assert ws["A1"].value == title
    assert clock.now().strftime("%Z") in ws["A2"].value and "UTC" not in ws["A2"].value
    head = [c.value for c in ws[4]]
    assert {"Status then", "Reason then", "Status now", "Fixed on", "Fixed by"} <= set(head), head
    got = {
        row[head.index("Invoice number")]: row
        for row in ws.iter_rows(min_row=5, max_row=4 + len(expected), values_only=True)
    }
    assert set(got) == expected
    for n, row in got.items():
        assert row[head.index("Status then")] == "failed"
        assert row[head.index("Status now")] == now[n][0]
        assert row[head.index("Fixed by")] == "Asha Admin"


def test_fixed_report_of_an_open_ticket_has_no_fixer(api):
    maya, t = api.maya, "fixed-open"
    chat(maya, "failed IndiSky invoices from last month", t)
    chat(maya, "create a ticket for these", t, asks=True)
    ticket_id = chat(maya, "yes", t)["data"]["ticket_id"]
    r = maya.post("/execute_tool", json={"tool_name": "export_report", "params": {"ticket_id": ticket_id}})
    assert r.status_code == 200, r.text
    rows = list(csv.DictReader(io.StringIO(maya.get(r.json()["data"]["url"]).text)))
    assert rows and all(r["status_then"] == "failed" and r["fixed_on"] == "" and r["fixed_by"] == "" for r in rows)
