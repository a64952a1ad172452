"""The typed answer (schema.answer.AnswerPayload) over HTTP: POST /chat, the stream's last event, LangServe and
/openapi.json carry it; its next actions are the ones that make sense and say what the role allows; a
resumed conversation gets its tables back from GET /threads/{id}. Figures are computed by SQL here."""

from __future__ import annotations

import json

from sqlalchemy import text

from schema.answer import AnswerPayload
from schema.chat import ChatResponse, ThreadTurns
from tests.helpers import expected_indisky_failed

LISTING = "failed IndiSky invoices from last month"


def ask(who, message: str, thread: str, tool_call: dict | None = None) -> ChatResponse:
    body: dict = {"message": message, "thread_id": thread}
    if tool_call is not None:
        body["tool_call"] = tool_call
    r = who.post("/chat", json=body)
    assert r.status_code == 200, r.text
    return ChatResponse.model_validate(r.json())


def actions(answer: AnswerPayload) -> dict[str, tuple[str, bool]]:
    """label -> (tool, allowed)."""
    return {a.label: (a.tool_call.tool, a.allowed) for a in answer.next_actions}


def test_openapi_carries_the_answer_models(api):
    spec = api.maya.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    chat = schemas["ChatResponse"]["properties"]["answer"]
    assert {"$ref": "#/components/schemas/AnswerPayload"} in chat["anyOf"]
    payload = schemas["AnswerPayload"]["properties"]
    assert {"text", "tables", "chart", "interpretation", "next_actions", "records", "export"} <= set(payload)
    formats = set(schemas["Column"]["properties"]["format"]["enum"])
    assert {"money", "count", "percent", "date", "text"} <= formats
    assert schemas["NextAction"]["properties"]["allowed"]["type"] == "boolean"
    assert set(schemas["ActionCall"]["properties"]) == {"tool", "params"}
    turn = schemas["Turn"]["properties"]["answer"]
    assert {"$ref": "#/components/schemas/AnswerPayload"} in turn["anyOf"]  # GET /threads/{id}
    output = api.maya.get("/agent/output_schema").json()
    assert "answer" in output["properties"] and "AnswerPayload" in json.dumps(output)


def test_chat_stream_and_langserve_give_the_same_typed_answer(api):
    one = ask(api.maya, LISTING, "pl-chat").answer
    assert one is not None and one.tool == "filter_data"
    with api.maya.client.stream(
        "POST",
        "/chat/stream",
        json={"message": LISTING, "thread_id": "pl-stream"},
        headers={"Authorization": f"Bearer {api.maya.token}"},
    ) as r:
        events = [line for line in r.iter_lines() if line.startswith("data:")]
    streamed = ChatResponse.model_validate(json.loads(events[-1][5:])).answer
    served = api.maya.post(
        "/agent/invoke",
        json={
            "input": {"messages": [{"type": "human", "content": LISTING}]},
            "config": {"configurable": {"thread_id": "pl-ls"}},
        },
    ).json()["output"]["answer"]
    expected = expected_indisky_failed(api.services.business)
    for answer in (one, streamed, AnswerPayload.model_validate(served)):
        table = answer.tables[0]
        assert {r[0] for r in table.rows} == expected  # the listing's records, keyed by invoice number
        assert {c.name: c.format for c in table.columns}["total_amount"] == "money"
        assert {c.name: c.format for c in table.columns}["invoice_date"] == "date"
        assert answer.records is not None and set(answer.records.keys) == expected
        assert "- INV" not in answer.text and "INV-" not in answer.text  # the records are the table, not words


def test_a_viewer_sees_the_ticket_step_but_may_not_take_it(api):
    manager = ask(api.maya, LISTING, "pl-roles-m").answer
    viewer = ask(api.victor, LISTING, "pl-roles-v").answer
    assert manager is not None and viewer is not None
    assert actions(manager)["Create a ticket"] == ("create_ticket", True)
    assert actions(viewer)["Create a ticket"] == ("create_ticket", False)
    assert actions(viewer)["Why did these fail?"] == ("explain_failures", True)
    assert actions(viewer)["Export as Excel"] == ("export_report", False)
    refused = next(a for a in viewer.next_actions if a.kind == "ticket")
    assert refused.why_not and "Viewer" in refused.why_not
    ticket = next(a for a in manager.next_actions if a.kind == "ticket")
    assert set(ticket.tool_call.params["invoice_numbers"]) == expected_indisky_failed(api.services.business)


def test_no_export_of_nothing_and_no_ticket_when_nothing_failed(api):
    empty = {"tool": "filter_data", "params": {"vendor": "IndiSky", "status": "failed", "min_amount": 10**12}}
    none = ask(api.maya, "IndiSky failures over 1 lakh crore", "pl-empty", tool_call=empty).answer
    assert none is not None and none.tables[0].rows == [] and none.next_actions == []
    with api.services.business.connect() as c:
        processed = c.execute(
            text("SELECT COUNT(*) FROM invoices WHERE workspace_id = 'acme' AND status = 'processed'")
        ).scalar_one()
    assert processed > 0
    fine = ask(
        api.maya, "processed invoices", "pl-fine", tool_call={"tool": "filter_data", "params": {"status": "processed"}}
    )
    kinds = {a.kind for a in fine.answer.next_actions} if fine.answer else set()
    assert kinds == {"export"}  # nothing failed: no "why", no ticket


def test_a_next_action_runs_its_own_call_in_the_thread(api):
    listing = ask(api.maya, LISTING, "pl-next").answer
    assert listing is not None
    why = next(a for a in listing.next_actions if a.kind == "explain")
    explained = ask(api.maya, why.label, "pl-next", tool_call=why.tool_call.model_dump())
    assert explained.tool_used == "explain_failures" and explained.answer is not None
    reasons = explained.answer.tables[0]
    assert [c.format for c in reasons.columns] == ["text", "count", "money"]
    assert sum(r[1] for r in reasons.rows) == len(expected_indisky_failed(api.services.business))
    export = next(a for a in explained.answer.next_actions if a.kind == "export")
    done = ask(api.maya, export.label, "pl-next", tool_call=export.tool_call.model_dump()).answer
    assert done is not None and done.export is not None and done.export.rows == sum(r[1] for r in reasons.rows)
    assert api.maya.get(done.export.url).status_code == 200


def test_analytics_offers_drill_downs_the_trend_and_an_export_of_that_breakdown(api):
    answer = ask(api.maya, "total sales by region this year", "pl-analytics").answer
    assert answer is not None
    offered = actions(answer)
    assert offered["Drill down by customer"] == ("analyze_data", True)
    assert offered["Drill down by month"] == ("analyze_data", True)
    assert offered["Show the trend"] == ("analyze_data", True)
    assert offered["Export this breakdown"] == ("export_report", True)
    trend = next(a for a in answer.next_actions if a.kind == "trend")
    shown = ask(api.maya, trend.label, "pl-analytics", tool_call=trend.tool_call.model_dump()).answer
    assert shown is not None and shown.chart is not None and shown.chart.kind == "line"
    assert shown.chart.x.format == "date" and shown.chart.x.grain == "month" and shown.chart.y.format == "money"
    export = next(a for a in answer.next_actions if a.kind == "export")
    done = ask(api.maya, export.label, "pl-analytics", tool_call=export.tool_call.model_dump()).answer
    assert done is not None and done.export is not None and done.export.rows == len(answer.tables[0].rows)


def test_a_resumed_conversation_gets_its_tables_and_chart_back(api):
    listing = ask(api.maya, LISTING, "pl-resume").answer
    analysis = ask(api.maya, "total sales by region this year", "pl-resume").answer
    r = api.maya.get("/threads/pl-resume")
    assert r.status_code == 200
    turns = ThreadTurns.model_validate(r.json()).turns
    kept = [t.answer for t in turns if t.speaker == "assistant"]
    assert all(k is not None for k in kept) and [t.answer for t in turns if t.speaker == "user"] == [None, None]
    assert listing is not None and analysis is not None
    assert kept[0].tables[0].rows == listing.tables[0].rows  # type: ignore[union-attr]
    assert kept[1].tables == analysis.tables and kept[1].chart == analysis.chart  # type: ignore[union-attr]


def test_a_listing_is_sent_once_as_records_and_once_as_its_typed_table(api):
    """/chat's `data` keeps the records (`results`) and leaves the typed table, chart and keys to `answer`;
    /execute_tool, which has no `answer`, keeps its typed table."""
    r = api.maya.post("/chat", json={"message": "pending invoices", "thread_id": "pl-once"})
    body = r.json()
    data, answer = body["data"], body["answer"]
    assert data["filtered_records"] > 20 and len(data["results"]) == len(answer["tables"][0]["rows"])
    assert not {"table", "tables", "figure", "keys"} & set(data)
    assert answer["records"]["keys"]

    chart = api.maya.post("/chat", json={"message": "total sales by region this year", "thread_id": "pl-once"}).json()
    assert chart["answer"]["chart"] and chart["data"]["rows"] and "figure" not in chart["data"]

    direct = api.maya.post("/execute_tool", json={"tool_name": "filter_data", "params": {"status": "pending"}}).json()
    assert direct["data"]["table"]["rows"] and len(direct["data"]["table"]["rows"]) == len(direct["data"]["results"])
