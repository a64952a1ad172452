"""How one answer is drawn, whatever tool made it (AppTest, no server): tables from rows, charts from a
Vega-Lite spec (what analytics answers carry), the welcome-back box, and yes/no under a question."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest


def draw(message: dict, tools: tuple[str, ...] = ("filter_data", "explain_failures")) -> AppTest:
    def script():
        import streamlit as st

        from ui import answers

        st.session_state["me"] = {"user_id": "x", "role": "Viewer", "tools": list(st.session_state["tools"])}
        answers.render(st.session_state["message"], key="0", latest=True)

    at = AppTest.from_function(script, default_timeout=30)
    at.session_state["message"] = message
    at.session_state["tools"] = tools
    at.run()
    assert not at.exception, at.exception
    return at


def test_an_analytics_answer_draws_its_table_and_chart():
    spec = {
        "mark": "bar",
        "encoding": {"x": {"field": "vendor", "type": "nominal"}, "y": {"field": "failed", "type": "quantitative"}},
        "data": {"values": [{"vendor": "IndiSky Airlines", "failed": 7}, {"vendor": "Metro Cabs", "failed": 2}]},
    }
    at = draw(
        {
            "answer": {
                "agent_response": "Failed invoices last month: 9; IndiSky Airlines accounts for 7 of them.",
                "status": "success",
                "tool_used": "analyze_data",
                "trace_id": None,
                "data": {
                    "columns": ["vendor", "failed"],
                    "rows": [["IndiSky Airlines", 7], ["Metro Cabs", 2]],
                    "chart": spec,
                },
            }
        }
    )
    table = at.dataframe[0].value
    assert table.to_dict("records") == [
        {"vendor": "IndiSky Airlines", "failed": 7},
        {"vendor": "Metro Cabs", "failed": 2},
    ]
    charts = at.get("vega_lite_chart")
    assert len(charts) == 1 and '"mark": "bar"' in charts[0].proto.spec and '"field": "vendor"' in charts[0].proto.spec


def test_records_are_a_table_and_their_text_lines_are_dropped():
    rows = [
        {"invoice_number": f"INV-{i}", "vendor": "IndiSky Airlines", "total_amount": 100.0 * i, "status": "failed"}
        for i in range(3)
    ]
    text = "Found 3 invoices, totalling ₹300.\n- INV-0 | IndiSky Airlines\n- INV-1 | IndiSky Airlines\n(and 1 more)"
    at = draw(
        {
            "answer": {
                "agent_response": text,
                "status": "success",
                "tool_used": "filter_data",
                "trace_id": None,
                "data": {
                    "dataset": "invoices",
                    "results": rows,
                    "filtered_records": 3,
                    "total_amount": 300.0,
                    "status_counts": {"failed": 3},
                },
            }
        }
    )
    assert len(at.dataframe[0].value) == 3
    words = "\n".join(m.value for m in at.markdown)
    assert "Found 3 invoices" in words and "- INV-0" not in words and "(and 1 more)" not in words
    assert [b.label for b in at.button] == ["Why did these fail?"]  # a Viewer: nothing that writes


def test_a_manager_is_offered_the_writes_a_viewer_is_not():
    rows = [{"invoice_number": "INV-1", "status": "failed"}]
    message = {
        "answer": {
            "agent_response": "Found 1 invoice.",
            "status": "success",
            "tool_used": "filter_data",
            "trace_id": None,
            "data": {"dataset": "invoices", "results": rows, "filtered_records": 1, "status_counts": {"failed": 1}},
        }
    }
    manager = draw(
        message, tools=("filter_data", "explain_failures", "export_report", "create_ticket", "update_ticket")
    )
    assert [b.label for b in manager.button] == ["Why did these fail?", "Create a ticket", "Export as Excel"]


def test_the_welcome_is_its_own_box_and_a_question_has_yes_and_no():
    at = draw(
        {
            "answer": {
                "agent_response": "Create ticket 'IndiSky Airlines: 7 invoices failed' for maya? yes/no",
                "welcome": "Welcome back - your ticket T-00001 was resolved yesterday.",
                "status": "awaiting_confirmation",
                "tool_used": None,
                "trace_id": None,
                "data": {},
            }
        }
    )
    assert [i.value for i in at.info] == ["Welcome back - your ticket T-00001 was resolved yesterday."]
    assert [b.label for b in at.button] == ["Yes", "No"]
    at.button[0].click().run()
    assert at.session_state["pending_prompt"] == "yes"


def test_an_older_api_welcome_glued_to_the_answer_is_split_off():
    from ui.api import split_welcome

    got = split_welcome({"agent_response": "Welcome back - ticket T-00001 is still open.\n\nFound 7 invoices."})
    assert (
        got["welcome"] == "Welcome back - ticket T-00001 is still open."
        and got["agent_response"] == "Found 7 invoices."
    )
    assert split_welcome({"agent_response": "Found 7 invoices.", "welcome": None})["welcome"] is None
    kept = split_welcome({"agent_response": "Found 7 invoices.", "welcome": "Welcome back - x."})
    assert kept["agent_response"] == "Found 7 invoices." and kept["welcome"] == "Welcome back - x."
