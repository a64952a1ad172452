"""analyze_data through the graph: a model router asks for a breakdown, "export this breakdown to
excel" exports that analysis; a large result is referred to by its query, not by 10,000 keys."""

from __future__ import annotations

import json

import pytest
from dateutil.relativedelta import relativedelta
from langchain_core.messages import AIMessage
from openpyxl import load_workbook
from sqlalchemy import select, text

from tools import queries
from business_data.appdb import Ticket
from business_data.db import session_scope

from ..helpers import cfg, turn as offline_turn, turn_and_answer
from .test_llm import ScriptedChatModel, call, data_blocks, graph_with, request_of, text_of, tools_used, turn


def analyst(messages, tools) -> AIMessage:
    """A model that routes analytics questions to analyze_data and exports to export_report."""
    if tools:
        req = request_of(messages).lower()
        if "export" in req:
            return call("export_report", format="xlsx", use_previous_results=True)
        if "by region" in req:
            return call(
                "analyze_data", dataset="sales", measures=["sales_value"], group_by=["region"], period="last_month"
            )
        return AIMessage(content="Ask me about your numbers.")
    (payload,) = data_blocks(text_of(messages[-1]))
    return AIMessage(content=payload["message"])  # repeats the tool's own figures (grounded)


def test_export_this_breakdown_to_excel_through_the_graph(services):
    g, _ = graph_with(services, ScriptedChatModel(script=analyst))
    out = turn(g, "sales by region last month", "maya", "an-1")
    assert tools_used(out) == ["analyze_data"] and out["result"]["status"] == "success"
    assert out["last_result"]["tool"] == "analyze_data" and out["last_result"]["query"]["group_by"] == ["region"]
    out = turn(g, "export this breakdown to excel", "maya", "an-1")
    assert tools_used(out) == ["export_report"], out["response"]
    data = out["result"]["data"]
    assert out["result"]["status"] == "success" and data["rows"] == 4 and data["format"] == "xlsx"
    today = services.today()
    start = today.replace(day=1) - relativedelta(months=1)
    with services.business.connect() as conn:
        expected = dict(
            conn.execute(
                text(
                    "SELECT region, sum(amount) FROM sales WHERE workspace_id = 'acme' AND sale_date >= :s "
                    "AND sale_date < :e GROUP BY region"
                ),
                {"s": start, "e": today.replace(day=1)},
            ).all()
        )
    path = services.exports_dir / "acme" / f"{data['export_id']}.xlsx"
    table = [[c.value for c in row] for row in load_workbook(path)["Report"].iter_rows()]
    body = [r for r in table if r[0] in expected]
    assert {r[0]: r[1] for r in body} == pytest.approx(expected, abs=0.01) and len(body) == 4


@pytest.fixture
def small_key_cap(monkeypatch):
    monkeypatch.setattr(queries, "KEY_CAP", 5)
    return 5


def test_a_large_result_is_referred_to_by_its_query(services, app_graph, small_key_cap):
    """With results keeping only 5 keys, "these" still means every matching invoice (13 or so)."""
    today = services.today()
    start, end = today.replace(day=1) - relativedelta(months=1), today.replace(day=1)
    with services.business.connect() as conn:
        numbers = sorted(
            n
            for (n,) in conn.execute(
                text(
                    "SELECT invoice_number FROM invoices WHERE workspace_id = 'acme' AND status = 'failed' AND invoice_date >= :s "
                    "AND invoice_date < :e"
                ),
                {"s": start, "e": end},
            )
        )
    assert len(numbers) > small_key_cap
    c = cfg("maya", "big-1")
    out = offline_turn(app_graph, c, "Filter invoices for last month, status=failed")
    data = out["result"]["data"]
    assert (
        data["filtered_records"] == len(numbers)
        and len(data["keys"]) == small_key_cap
        and data["keys_complete"] is False
    )
    assert out["last_result"]["keys_complete"] is False and out["last_result"]["query"]["filters"]
    out = offline_turn(app_graph, c, "why did these fail?")
    assert out["result"]["status"] == "success" and out["result"]["data"]["failed"] == len(numbers)  # all, not 5
    out = turn_and_answer(app_graph, c, "create a ticket for these", "yes", asks=True)
    assert out["result"]["status"] == "success", out["response"]
    with session_scope(services.app) as s:
        t = s.execute(select(Ticket).where(Ticket.ticket_id == out["result"]["data"]["ticket_id"])).scalar_one()
        assert sorted(t.record_ids) == numbers  # a ticket fixes its records: every one of them


def test_analysis_is_remembered_as_a_query_not_keys(services):
    g, _ = graph_with(services, ScriptedChatModel(script=analyst))
    turn(g, "sales by region last month", "maya", "an-2")
    with session_scope(services.app) as s:
        (ref,) = (
            s.execute(
                text(
                    "SELECT result_ref FROM memory_turns WHERE user_id = 'maya' AND thread_id = 'an-2' "
                    "AND tool = 'analyze_data' AND speaker = 'assistant'"
                )
            )
            .scalars()
            .all()
        )
    ref = json.loads(ref) if isinstance(ref, str) else ref
    assert ref["keys"] == [] and ref["query"]["group_by"] == ["region"] and ref["query"]["period"] == "last_month"


def test_the_model_is_offered_the_semantic_query_and_cannot_send_sql():
    """The router's analyze_data schema is the semantic query (names from the data model, no SQL field),
    and a tool call that smuggles SQL in is refused (the offline parser then answers)."""
    from graph.llm import LLMRouter, MalformedToolCall, tool_schemas
    from tools.rbac import Identity
    from tools.semantic import SemanticQuery

    schema = next(t for t in tool_schemas("Manager") if t["function"]["name"] == "analyze_data")["function"][
        "parameters"
    ]
    assert set(schema["properties"]) == set(SemanticQuery.model_fields) - {"workspace"}
    assert not any("sql" in k.lower() for k in schema["properties"])
    router = LLMRouter(ScriptedChatModel(script=analyst))
    maya = Identity(user_id="maya", role="Manager", workspace_id="acme")
    for args in (
        {"dataset": "invoices", "sql": "SELECT * FROM invoices"},
        {"dataset": "invoices", "measures": ["sum(total_amount)"], "raw_sql": "DROP TABLE invoices"},
    ):
        reply = AIMessage(content="", tool_calls=[{"name": "analyze_data", "args": args, "id": "c1"}])
        with pytest.raises(MalformedToolCall):
            router.intent_from(reply, maya, allowed={"analyze_data"})
