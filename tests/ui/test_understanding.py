"""What was understood, drawn under the question (AppTest, no server): the interpretation's parts as chips,
kept parts marked, a chip's ✕ queues the answer's own tool call without that part, the clarifying choices
as buttons that send their message, and which understanding answered. Built from answers as POST /chat
gives them; the answer's words are never read."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from schema.chat import ChatResponse
from ui.understanding import chips, understood_by

FOLLOW_UP = {  # "what about IndiSky?" after "total value of failed invoices last month"
    "agent_response": "Kept from your last question: measures: total value; period: last month.\nFailed …",
    "status": "success",
    "tool_used": "analyze_data",
    "trace_id": None,
    "data": {},
    "tool_calls": [
        {
            "tool": "analyze_data",
            "params": {
                "measures": ["total_value"],
                "filters": [{"field": "status", "value": "failed"}, {"field": "vendor", "value": "IndiSky Airlines"}],
                "period": "last_month",
                "dataset": "invoices",
            },
        }
    ],
    "interpretation": {
        "action": "analyze_data",
        "router": "offline",
        "parts": [
            {"slot": "measures", "value": ["total_value"], "source": "carried", "why": "kept from your last question"},
            {
                "slot": "filters",
                "value": [{"field": "status", "value": "failed"}, {"field": "vendor", "value": "IndiSky Airlines"}],
                "source": "message",
                "kept": [0],
            },
            {"slot": "period", "value": "last_month", "source": "carried", "why": "kept from your last question"},
            {"slot": "dataset", "value": "invoices", "source": "message"},
        ],
        "unused": [],
        "decision": "assume",
        "assumptions": [],
        "choices": [],
    },
}
ASKED = {  # "invoices whose frobnication is pending"
    "agent_response": "I'm not sure what “frobnication” means here, so I haven't run anything.",
    "status": "answered",
    "tool_used": None,
    "trace_id": None,
    "data": {},
    "tool_calls": [],
    "interpretation": {
        "action": "filter_data",
        "router": "offline",
        "parts": [
            {"slot": "dataset", "value": "invoices", "source": "message"},
            {"slot": "status", "value": "pending", "source": "message"},
        ],
        "unused": ["frobnication"],
        "decision": "ask",
        "choices": [
            {"label": "Run it without “frobnication”", "message": "invoices whose is pending"},
            {"label": "What can I ask about?", "message": "help"},
        ],
    },
}


def response(answer: dict) -> ChatResponse:
    """The answer as the web app holds it (ui/api.py validates every /chat body into ChatResponse)."""
    typed = {"text": answer["agent_response"], "status": answer["status"], "interpretation": answer["interpretation"]}
    base = {"success": True, "welcome": None, "thread_id": "t", "answer": typed}
    return ChatResponse.model_validate({**base, **answer, "trace_id": answer["trace_id"] or ""})


def draw(answer: dict, waiting: bool = False) -> AppTest:
    def script():
        import streamlit as st

        from ui import answers

        st.session_state["me"] = {"user_id": "x", "role": "Manager", "tools": ["filter_data", "analyze_data"]}
        answers.render(st.session_state["message"], key="0", latest=True)

    at = AppTest.from_function(script, default_timeout=30)
    at.session_state["message"] = {"role": "assistant", "answer": response(answer)}
    if waiting:
        open_question = response({**answer, "status": "awaiting_confirmation"})
        at.session_state["messages"] = [{"role": "assistant", "answer": open_question}]
    at.run()
    assert not at.exception, at.exception
    return at


def chip_buttons(at: AppTest) -> list:
    return [b for b in at.button if str(b.key or "").startswith("chip-")]


def test_an_analysis_shows_its_parts_as_chips_and_the_kept_ones_are_marked():
    at = draw(FOLLOW_UP)
    assert [b.label for b in chip_buttons(at)] == [
        "status: failed · kept ✕",
        "vendor: IndiSky Airlines ✕",
        "period: last month · kept ✕",
    ]
    assert "Kept from your last question" in chip_buttons(at)[2].help
    assert "Kept from your last question" in chip_buttons(at)[0].help
    assert "Kept" not in chip_buttons(at)[1].help
    badges = [m.value for m in at.markdown if "badge" in m.value]  # what is read: shown, not removable
    assert any("measures: total value · kept" in b for b in badges) and any("dataset: invoices" in b for b in badges)
    assert [c.value for c in at.caption] == ["Understood by the offline parser"]


def test_a_chips_cross_queues_the_call_without_that_part():
    at = draw(FOLLOW_UP)
    chip_buttons(at)[1].click()
    at.run()
    assert at.session_state["pending_prompt"] == "Same, without vendor: IndiSky Airlines"
    assert at.session_state["pending_tool_call"] == {
        "tool": "analyze_data",
        "params": {
            "measures": ["total_value"],
            "filters": [{"field": "status", "value": "failed"}],
            "period": "last_month",
            "dataset": "invoices",
        },
    }
    assert FOLLOW_UP["tool_calls"][0]["params"]["filters"][1]["field"] == "vendor"  # the answer is left as it was


def test_removing_from_a_listing_drops_the_parameter():
    answer = {
        "tool_calls": [
            {
                "tool": "filter_data",
                "params": {"dataset": "invoices", "period": "last_month", "vendor": "IndiSky Airlines"},
            }
        ],
        "interpretation": {
            "action": "filter_data",
            "router": "llm",
            "model": "google_genai:gemini-2.0-flash",
            "decision": "run",
            "parts": [
                {"slot": "dataset", "value": "invoices", "source": "message"},
                {"slot": "period", "value": "last_month", "source": "message"},
                {"slot": "vendor", "value": "IndiSky Airlines", "source": "message"},
            ],
        },
    }
    found = {c.label: c.tool_call for c in chips(answer)}
    assert found["dataset: invoices"] is None
    assert found["period: last month"] == {
        "tool": "filter_data",
        "params": {"dataset": "invoices", "vendor": "IndiSky Airlines"},
    }
    assert understood_by(answer["interpretation"]) == "Understood by google_genai:gemini-2.0-flash"
    assert understood_by({"router": "client"}).startswith("Run as you chose it")


def test_a_question_offers_its_choices_as_buttons_and_no_chip_reruns():
    at = draw(ASKED)
    assert chip_buttons(at) == []  # nothing ran: there is no call to change
    choices = [b for b in at.button if str(b.key or "").startswith("choice-")]
    assert [b.label for b in choices] == ["Run it without “frobnication”", "What can I ask about?"]
    choices[0].click()
    at.run()
    assert at.session_state["pending_prompt"] == "invoices whose is pending"
    assert "pending_tool_call" not in at.session_state


def test_chips_wait_while_a_yes_no_is_open():
    at = draw(FOLLOW_UP, waiting=True)
    assert chip_buttons(at) and all(b.disabled for b in chip_buttons(at))
