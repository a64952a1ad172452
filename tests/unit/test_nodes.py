"""graph/nodes.py: what each node does for a user, turn by turn through the compiled graph (offline router,
real SQLite / PostgreSQL databases), and the edges that choose the next node. Figures come from SQL."""

from __future__ import annotations

import pytest

from business_data.appdb import Export, Ticket
from graph.builder import compile_graph
from graph.edges import after_act, after_confirm, after_gate, after_plan, after_route
from graph.nodes import KEEP_MESSAGES
from tests.helpers import answer, calls, cfg, count_rows, expected_indisky_failed, turn

FAILED_INDISKY = "show failed IndiSky invoices last month"


@pytest.fixture
def graph(services):
    return compile_graph(services, router=False)


def test_context_an_unknown_caller_is_told_to_sign_in_and_nothing_runs(graph):
    out = turn(graph, cfg("nobody", "n1"), FAILED_INDISKY)
    assert out["response"].startswith("I don't know who you are") and calls(out) == []
    assert out["intent"]["kind"] == "error"


def test_context_keeps_only_the_threads_latest_messages(graph):
    config = cfg("maya", "long")
    asked = [f"thanks {'again ' * i}".strip() for i in range(KEEP_MESSAGES // 2 + 2)]
    for text in asked:
        turn(graph, config, text)
    messages = graph.get_state(config).values["messages"]
    # trimmed as a turn starts (its question included), then the answer is added: the oldest questions go
    assert len(messages) == KEEP_MESSAGES + 1
    assert [m.content for m in messages if m.type == "human"] == asked[-(KEEP_MESSAGES // 2) :]


def test_plan_these_are_the_last_results_records(graph, services):
    config = cfg("maya", "these")
    listed = turn(graph, config, FAILED_INDISKY)
    expected = expected_indisky_failed(services.business)
    assert set(listed["last_result"]["keys"]) == expected
    out = turn(graph, config, "why did these fail?")
    [(tool, params)] = calls(out)
    assert tool == "explain_failures" and set(params["invoice_numbers"]) == expected


def test_plan_the_same_for_another_vendor_keeps_the_previous_filter(graph):
    config = cfg("maya", "same")
    turn(graph, config, FAILED_INDISKY)
    [(tool, params)] = calls(turn(graph, config, "what about SkyHigh?"))
    assert tool == "filter_data"
    assert params | {"vendor": "IndiSky Airlines"} == calls(turn(graph, cfg("maya", "x"), FAILED_INDISKY))[0][1]
    assert params["vendor"] == "SkyHigh Hotels" and params["status"] == "failed" and params["period"] == "last_month"


def test_plan_an_export_of_an_empty_result_acts_on_nothing(graph, services):
    config = cfg("maya", "empty")
    out = turn(graph, config, "show failed invoices over 50 crore")
    assert out["last_result"]["keys"] == []
    out = turn(graph, config, "export these as csv")
    assert out["response"].startswith("The last result here has no records") and calls(out) == []
    assert count_rows(services.app, Export) == 0


def test_plan_exporting_this_breakdown_exports_the_analysis(graph, services):
    config = cfg("maya", "breakdown")
    analysed = calls(turn(graph, config, "total sales by region this year"))
    [(tool, params)] = calls(turn(graph, config, "export this as excel"))
    assert tool == "export_report" and params["format"] == "xlsx" and params["query"] == analysed[0][1]
    assert count_rows(services.app, Export, owner="maya", format="xlsx") == 1


def test_gate_refuses_a_viewers_write_and_names_what_the_role_may_do(graph, services):
    config = cfg("victor", "viewer")
    turn(graph, config, FAILED_INDISKY)
    out = turn(graph, config, "create a ticket for these")
    assert out["response"].startswith("Sorry, as a Viewer you can't create tickets")
    assert [c["status"] for c in out["tool_calls"]] == ["denied"]
    assert count_rows(services.app, Ticket) == 0


def test_confirm_and_act_a_confirmed_write_makes_one_ticket(graph, services):
    config = cfg("maya", "write")
    turn(graph, config, FAILED_INDISKY)
    asked = turn(graph, config, "create a ticket for these", asks=True)
    assert asked["pending_confirmation"]["question"].endswith("yes/no") and count_rows(services.app, Ticket) == 0
    done = answer(graph, config, "yes")
    assert done["response"].startswith("Created ticket T-")
    assert count_rows(services.app, Ticket, created_by="maya") == 1


@pytest.mark.parametrize(
    "edge, state, to",
    [
        (after_route, {"response": "I don't know who you are"}, "respond"),
        (after_route, {}, "plan"),
        (after_plan, {"plan": {"mode": "direct", "steps": []}}, "respond"),
        (after_plan, {"plan": {"mode": "direct", "steps": [{"tool": "filter_data", "params": {}}]}}, "gate"),
        (after_gate, {"plan": {"mode": "direct", "steps": [{"tool": "filter_data", "params": {}}]}}, "act"),
        (after_gate, {"plan": {"mode": "direct", "steps": [{"tool": "create_ticket", "params": {}}]}}, "confirm"),
        (after_gate, {"plan": {"mode": "template", "template": "monthly_review"}}, "monthly_review"),
        (after_confirm, {"confirmation": {"approved": True, "answer": "yes", "id": "c1"}}, "act"),
        (after_confirm, {"confirmation": {"approved": False, "answer": "no", "id": "c1"}}, "respond"),
        (after_act, {"pending_confirmation": {"id": "c1"}}, "confirm"),
        (after_act, {}, "respond"),
    ],
)
def test_edges_choose_the_next_node(edge, state, to):
    assert edge(state) == to
