"""The sample scenario over POST /chat, in process: filter, why, a ticket (asked first), an Admin
resolves it, maya is notified; the next day she is welcomed back with the news and downloads the
fixed report (no question: she may see that data) with her own token; every turn's trace is
readable by her (plain) and by an Admin (full)."""

from __future__ import annotations

import csv
import io

from ..helpers import chat, expected_indisky_failed

QUESTION = "Create ticket 'IndiSky Airlines: 7 invoices failed, GSTIN missing' for maya? yes/no"


def maya_ticket_ids(api) -> set[str]:
    return {t["ticket_id"] for t in api.maya.get("/tickets").json()["tickets"]}


def test_sample_scenario_over_chat(api):
    expected = expected_indisky_failed(api.services.business)
    assert len(expected) == 7
    maya, admin, day1 = api.maya, api.admin, "scenario-day1"

    # 1. filter
    body = chat(maya, "Filter invoices for last month, vendor=IndiSky, status=failed", day1)
    assert (body["success"], body["status"], body["tool_used"], body["thread_id"]) == (
        True,
        "success",
        "filter_data",
        day1,
    )
    [call] = body["tool_calls"]
    assert call["tool"] == "filter_data"
    assert {k: call["params"].get(k) for k in ("vendor", "status", "period")} == {
        "vendor": "IndiSky Airlines",
        "status": "failed",
        "period": "last_month",
    }
    data = body["data"]
    assert data["filtered_records"] == 7 and data["total_records"] >= 7 and len(data["results"]) == 7
    assert {r["invoice_number"] for r in data["results"]} == expected
    assert {(r["vendor"], r["status"], r["error_message"]) for r in data["results"]} == {
        ("IndiSky Airlines", "failed", "GSTIN missing")
    }
    assert "keys" not in data  # internal record ids stay on the server
    filter_trace = body["trace_id"]

    # 2. why
    body = chat(maya, "Why did these fail?", day1)
    assert body["tool_used"] == "explain_failures" and "7 of 7 failed: GSTIN missing" in body["agent_response"]
    assert set(body["tool_calls"][0]["params"]["invoice_numbers"]) == expected  # "these" = the 7 rows
    assert body["data"]["failed"] == 7 and body["data"]["by_reason"][0]["reason"] == "GSTIN missing"

    # 3. a ticket: asked first, nothing written until "yes"
    before = maya_ticket_ids(api)
    body = chat(maya, "Create a ticket and notify me when fixed", day1, asks=True)
    assert body["agent_response"] == QUESTION and body["tool_calls"] == [] and body["data"] == {}
    assert maya_ticket_ids(api) == before
    paused = maya.get(f"/traces/{body['trace_id']}").json()
    assert paused["status"] == "paused" and paused["response"] == QUESTION
    body = chat(maya, "yes", day1)
    assert (body["success"], body["status"], body["tool_used"]) == (True, "success", "create_ticket")
    ticket_id = body["data"]["ticket_id"]
    assert ticket_id in body["agent_response"]
    assert maya_ticket_ids(api) == before | {ticket_id}
    ticket = maya.get(f"/tickets/{ticket_id}").json()
    assert {"ticket_id", "title", "description", "status"} <= ticket.keys()
    assert (ticket["title"], ticket["status"], ticket["created_by"]) == (
        "IndiSky Airlines: 7 invoices failed, GSTIN missing",
        "open",
        "maya",
    )
    assert set(ticket["record_ids"]) == expected

    # 4. someone fixes it: an Admin resolves the ticket over PATCH
    r = admin.patch(f"/tickets/{ticket_id}", json={"status": "resolved", "comment": "vendor reissued with GSTIN"})
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["notified"]) == ("resolved", ["maya"])
    assert r.json()["message"] == f"Updated ticket {ticket_id}: status open -> resolved. Notified maya."

    # 5. maya's notification
    notes = [
        n
        for n in maya.get("/notifications", params={"unread_only": True}).json()["notifications"]
        if n["ticket_id"] == ticket_id
    ]
    assert len(notes) == 1 and notes[0]["read"] is False
    assert notes[0]["message"] == (
        f'Ticket {ticket_id} "IndiSky Airlines: 7 invoices failed, GSTIN missing" is now resolved '
        "(by admin): vendor reissued with GSTIN"
    )
    assert api.victor.get("/notifications").json()["notifications"] == []  # only subscribers hear of it

    # 6. the next day, a new thread: the fixed report, downloaded with the same token
    body = chat(maya, "download the fixed report", "scenario-day2", asks=False)  # a download: no question
    assert (body["status"], body["tool_used"]) == ("success", "export_report")
    assert body["welcome"].startswith("Welcome back") and ticket_id in body["welcome"] and "resolved" in body["welcome"]
    assert not body["agent_response"].startswith("Welcome")  # the news is apart from the answer
    assert [n["read"] for n in maya.get("/notifications").json()["notifications"] if n["ticket_id"] == ticket_id] == [
        True
    ]
    assert body["tool_calls"][-1]["params"]["ticket_id"] == ticket_id
    export = body["data"]
    assert {"export_id", "format", "rows", "url"} <= export.keys()
    assert (export["format"], export["rows"], export["url"]) == ("csv", 7, f"/exports/{export['export_id']}/download")
    r = maya.get(export["url"])
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.headers["content-disposition"].startswith("attachment;")
    assert {row["invoice_number"] for row in csv.DictReader(io.StringIO(r.text))} == expected
    assert export["export_id"] in {e["export_id"] for e in maya.get("/exports").json()["exports"]}
    for other in (api.gita, api.victor):
        assert other.get(export["url"]).status_code == 404
    assert api.anon.get(export["url"]).status_code == 401
    assert admin.get(export["url"]).status_code == 200

    # 7. show your work: plain for maya, full for an Admin, nothing for anyone else
    trace = maya.get(f"/traces/{filter_trace}").json()
    assert (trace["trace_id"], trace["thread_id"], trace["status"]) == (filter_trace, day1, "ok")
    assert trace["request"] == "Filter invoices for last month, vendor=IndiSky, status=failed"
    assert trace["tool_calls"][0]["tool"] == "filter_data" and trace["tool_calls"][0]["status"] == "success"
    assert [(d["table"], d["rows"]) for d in trace["data_consulted"]] == [("invoices", 7)]
    assert "IndiSky Airlines" in trace["data_consulted"][0]["filters"]
    assert trace["summary"] and any("filter_data" in line for line in trace["summary"])
    assert "steps" not in trace and "user_id" not in trace  # the plain form
    full = admin.get(f"/traces/{filter_trace}").json()
    assert (full["user_id"], full["workspace_id"]) == ("maya", "acme")
    nodes = [s.get("node") for s in full["steps"]]
    assert {"route", "act", "respond"} <= set(nodes) and nodes[-1] == "_tool_calls"
    assert full["steps"][-1]["tool_calls"][0]["tool"] == "filter_data"
    export_trace = maya.get(f"/traces/{body['trace_id']}").json()
    assert export_trace["tool_calls"][0]["tool"] == "export_report"
    assert any(d["table"] == "invoices" and d["rows"] == 7 for d in export_trace["data_consulted"])
    for other in (api.victor, api.gita):
        assert other.get(f"/traces/{filter_trace}").status_code == 404
    listed = {t["trace_id"]: t for t in maya.get("/traces", params={"limit": 200}).json()["traces"]}
    assert listed[filter_trace]["thread_id"] == day1 and listed[filter_trace]["user_id"] == "maya"


def test_no_and_unclear_answers(api):
    t = "scenario-no"
    chat(api.maya, "failed IndiSky invoices from last month", t)
    before = maya_ticket_ids(api)
    assert chat(api.maya, "create a ticket for these", t, asks=True)["agent_response"] == QUESTION
    body = chat(api.maya, "maybe later", t, asks=True)  # neither yes nor no: asked again
    assert body["agent_response"] == "Please answer yes or no. " + QUESTION
    body = chat(api.maya, "no", t)
    assert (body["success"], body["status"]) == (False, "cancelled")
    assert body["agent_response"] == "OK, I didn't create the ticket. Nothing was written."
    assert maya_ticket_ids(api) == before
    # the thread goes on: "these" still means the 7 invoices
    body = chat(api.maya, "why did these fail?", t)
    assert body["data"]["failed"] == 7
