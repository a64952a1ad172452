"""POST /chat with `tool_call`: the web app's chips re-run the previous answer's call with one part removed.
The call is the turn's request (no parsing), through the graph: the role gate, the trace and memory apply
as for any message, and the message is recorded as the turn's words."""

from __future__ import annotations

from business_data import clock
from dateutil.relativedelta import relativedelta
from sqlalchemy import text

from ..helpers import chat


def failed_last_month(business_engine) -> int:
    """Failed invoices dated last month in acme, every vendor, counted by SQL."""
    first = clock.today().replace(day=1)
    with business_engine.connect() as c:
        return int(
            c.execute(
                text(
                    "SELECT COUNT(*) FROM invoices WHERE workspace_id='acme' AND status='failed' "
                    "AND invoice_date >= :a AND invoice_date < :b"
                ),
                {"a": first - relativedelta(months=1), "b": first},
            ).scalar_one()
        )


def test_removing_a_filter_reruns_the_call_without_it(api):
    first = chat(api.maya, "failed IndiSky invoices last month", "tc-1")
    call = first["tool_calls"][-1]
    assert call["tool"] == "filter_data" and call["params"]["vendor"] == "IndiSky Airlines"
    params = {k: v for k, v in call["params"].items() if k != "vendor"}  # the chip "vendor: IndiSky Airlines ✕"

    body = chat(
        api.maya,
        "Without vendor IndiSky Airlines",
        "tc-1",
        tool_call={"tool": "filter_data", "params": params},
    )
    assert body["status"] == "success" and body["tool_calls"] == [{"tool": "filter_data", "params": params}]
    expected = failed_last_month(api.services.business)
    assert expected > first["data"]["filtered_records"]  # other vendors failed too
    assert body["data"]["filtered_records"] == expected
    interp = body["interpretation"]
    assert interp["router"] == "client" and interp["decision"] == "run" and interp["unused"] == []
    assert {p["slot"] for p in interp["parts"]} == {"dataset", "period", "status"}

    turns = api.maya.get("/threads/tc-1").json()["turns"]  # memory keeps the message as the turn's words
    assert [t["text"] for t in turns if t["speaker"] == "user"][-1] == "Without vendor IndiSky Airlines"
    trace = api.maya.get(f"/traces/{body['trace_id']}").json()
    assert trace["request"] == "Without vendor IndiSky Airlines"
    assert [c["tool"] for c in trace["tool_calls"]] == ["filter_data"]


def test_removing_a_filter_of_an_analysis(api):
    chat(api.maya, "total value of failed invoices last month", "tc-2")
    body = chat(api.maya, "what about IndiSky?", "tc-2")
    call = body["tool_calls"][-1]
    assert call["tool"] == "analyze_data"
    filters = next(p for p in body["interpretation"]["parts"] if p["slot"] == "filters")
    assert filters["source"] == "message" and filters["kept"] == [0]  # status failed: kept; the vendor: new
    assert call["params"]["filters"][0] == {"field": "status", "value": "failed"}
    query = dict(call["params"])
    query["filters"] = [f for f in query["filters"] if f["field"] != "vendor"]
    again = chat(
        api.maya, "Without vendor IndiSky Airlines", "tc-2", tool_call={"tool": "analyze_data", "params": query}
    )
    assert again["status"] == "success" and again["tool_calls"][-1]["params"] == query
    # every vendor again, not only IndiSky: the answer is the total of all failed invoices last month
    first = again["agent_response"].split(";")[0]
    assert first.startswith("Failed invoices last month") and "IndiSky" not in first


def test_a_viewer_cannot_export_by_a_tool_call(api):
    chat(api.victor, "failed IndiSky invoices last month", "tc-3")
    body = chat(
        api.victor,
        "Export as excel",
        "tc-3",
        tool_call={"tool": "export_report", "params": {"format": "xlsx"}},
    )
    assert body["status"] == "denied" and body["success"] is False
    assert "as a Viewer you can't" in body["agent_response"]
    assert body["tool_calls"] == [{"tool": "export_report", "params": {"format": "xlsx"}}]
    assert not body["data"].get("export_id")


def test_an_unknown_tool_is_refused_plainly(api):
    r = api.maya.post(
        "/chat", json={"message": "do it", "thread_id": "tc-4", "tool_call": {"tool": "drop_tables", "params": {}}}
    )
    assert r.status_code == 422, r.text
    assert "there is no tool called 'drop_tables'" in r.json()["detail"]
    r = api.maya.post(
        "/chat", json={"message": "do it", "thread_id": "tc-4", "tool_call": {"tool": "run_template", "params": {}}}
    )
    assert r.status_code == 422 and "no tool called 'run_template'" in r.json()["detail"]
    r = api.maya.post("/chat", json={"message": "do it", "tool_call": {"tool": "filter_data", "sql": "x"}})
    assert r.status_code == 422 and "'tool_call.sql' is not a field" in r.json()["detail"]


def test_bad_parameters_are_the_tools_plain_refusal(api):
    body = chat(
        api.maya, "odd", "tc-5", tool_call={"tool": "filter_data", "params": {"dataset": "invoices", "colour": "red"}}
    )
    assert body["status"] == "error" and "'colour' is not something I can filter on" in body["agent_response"]


def test_a_write_by_tool_call_still_asks_first(api):
    chat(api.maya, "failed IndiSky invoices last month", "tc-6")
    body = chat(
        api.maya,
        "Create a ticket",
        "tc-6",
        asks=True,
        tool_call={"tool": "create_ticket", "params": {"title": "IndiSky failures"}},
    )
    assert body["status"] == "awaiting_confirmation"
    r = api.maya.post(  # while the question is open, a tool call is not read as its answer
        "/chat",
        json={"message": "x", "thread_id": "tc-6", "tool_call": {"tool": "view_tickets", "params": {}}},
    )
    assert r.status_code == 409 and "waiting for your yes or no" in r.json()["detail"]
    body = chat(api.maya, "no", "tc-6")
    assert body["status"] == "cancelled"
