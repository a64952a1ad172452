"""Show your work in a finance user's words, the trace of a resumed conversation, and the Admin trace
explorer (GET /admin/traces: user, tool, outcome, date range, duration, paging)."""

from __future__ import annotations

from sqlalchemy import func, select

from business_data import clock
from business_data.appdb import Trace
from business_data.db import session_scope

from ..helpers import chat, expected_indisky_failed
from .conftest import invalid


def _count(api, *where) -> int:
    with session_scope(api.services.app) as s:
        return s.scalar(select(func.count()).select_from(Trace).where(*where)) or 0


def test_plain_steps_name_no_tool(api):
    maya, t = api.maya, "work-plain"
    body = chat(maya, "Filter invoices for last month, vendor=IndiSky, status=failed", t)
    trace = maya.get(f"/traces/{body['trace_id']}").json()
    month = clock.today().replace(day=1)
    month = month.replace(year=month.year - 1, month=12) if month.month == 1 else month.replace(month=month.month - 1)
    n = len(expected_indisky_failed(api.services.business))
    [line] = trace["work"]
    assert line.startswith(f"Read IndiSky Airlines invoices from {month:%B %Y} (status failed), "), line
    assert line.endswith(f" ms; found {n}.")
    assert "filter_data" not in line and "=" not in line
    assert any("filter_data" in s for s in trace["summary"])  # the technical view is still there
    assert trace["outcome"] == "ok"
    body = chat(maya, "why did these fail?", t)
    [line] = maya.get(f"/traces/{body['trace_id']}").json()["work"]
    assert line.startswith(f"Read the {n} IndiSky Airlines invoices from before, ") and line.endswith(
        "grouped by reason."
    ), line


def test_resumed_thread_brings_trace_ids(api):
    maya, t = api.maya, "work-resume"
    ids = [chat(maya, q, t)["trace_id"] for q in ("failed IndiSky invoices from last month", "why did these fail?")]
    turns = maya.get(f"/threads/{t}").json()["turns"]
    assert [x["trace_id"] for x in turns if x["speaker"] == "assistant"] == ids
    assert all(x["trace_id"] is None for x in turns if x["speaker"] == "user")
    assert api.victor.get(f"/threads/{t}").status_code == 404


def test_explorer_filters_and_pages(api):
    chat(api.maya, "failed IndiSky invoices from last month", "explore-1")
    chat(api.victor, "failed IndiSky invoices from last month", "explore-2")
    body = chat(api.victor, "create a ticket for these", "explore-2")  # a Viewer may not: refused
    assert body["status"] == "denied"
    work = api.victor.get(f"/traces/{body['trace_id']}").json()["work"]
    assert work == ["Stopped: your role may not create tickets, so nothing ran."]
    admin = api.admin
    everything = admin.get("/admin/traces", params={"limit": 200}).json()
    assert everything["total"] == _count(api) and len(everything["traces"]) == min(200, everything["total"])
    mine = admin.get("/admin/traces", params={"user": "victor"}).json()
    assert mine["total"] == _count(api, Trace.user_id == "victor") and {x["user_id"] for x in mine["traces"]} == {
        "victor"
    }
    refused = admin.get("/admin/traces", params={"outcome": "refused"}).json()
    assert refused["total"] == _count(api, Trace.outcome == "refused") >= 1
    assert all(x["outcome"] == "refused" for x in refused["traces"])
    assert any(x["user_id"] == "victor" for x in refused["traces"])
    by_tool = admin.get("/admin/traces", params={"tool": "filter_data"}).json()
    assert by_tool["total"] == _count(api, Trace.tools.contains(" filter_data ")) >= 1
    assert all("filter_data" in x["tools"] for x in by_tool["traces"])
    slow = admin.get("/admin/traces", params={"min_ms": 0}).json()
    assert slow["total"] == _count(api, Trace.duration_ms > 0)
    assert admin.get("/admin/traces", params={"min_ms": 10**7}).json()["total"] == 0
    today = clock.today().isoformat()
    dated = admin.get("/admin/traces", params={"date_from": today, "date_to": today}).json()
    assert dated["total"] == everything["total"]  # all made today (the workspace's calendar)
    assert admin.get("/admin/traces", params={"date_to": "2000-01-01"}).json()["total"] == 0
    # paging: two pages of 2 are the first 4 of the whole list, newest first
    first = admin.get("/admin/traces", params={"limit": 2}).json()
    second = admin.get("/admin/traces", params={"limit": 2, "offset": first["next_offset"]}).json()
    assert first["next_offset"] == 2 and [x["trace_id"] for x in first["traces"] + second["traces"]] == [
        x["trace_id"] for x in everything["traces"][:4]
    ]
    last = admin.get("/admin/traces", params={"limit": 200, "offset": everything["total"] - 1}).json()
    assert len(last["traces"]) == 1 and last["next_offset"] is None


def test_explorer_is_admin_only_and_checks_filters(api):
    for who in (api.maya, api.victor):
        r = who.get("/admin/traces")
        assert r.status_code == 403 and "Only an Admin" in r.json()["detail"]
    assert api.anon.get("/admin/traces").status_code == 401
    invalid(
        api.admin.get("/admin/traces", params={"outcome": "maybe"}),
        "Invalid request: outcome: Input should be 'ok', 'refused' or 'failed'.",
    )
    for bad in ({"date_from": "yesterday"}, {"min_ms": -1}, {"limit": 0}, {"tool": "DROP TABLE"}, {"offset": -1}):
        r = api.admin.get("/admin/traces", params=bad)
        assert r.status_code == 422, (bad, r.text)
    errors = invalid(
        api.admin.get("/admin/traces", params={"date_from": "2026-12-07", "date_to": "2026-12-01"}),
        "Invalid request: date_to (2026-12-01) is before date_from (2026-12-07).",
    )
    assert errors[0]["loc"] == ["query", "date_to"]


def test_explorer_in_openapi(api):
    op = api.anon.get("/openapi.json").json()["paths"]["/admin/traces"]["get"]
    names = {p["name"] for p in op["parameters"]}
    assert {"user", "tool", "outcome", "date_from", "date_to", "min_ms", "limit", "offset"} <= names
    schema = op["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema["$ref"].endswith("/TracePage")
