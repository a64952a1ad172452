"""What was understood, drawn under the question (AppTest, no server): the interpretation's parts as chips,
kept parts marked, a chip's ✕ queues the answer's own tool call without that part, the clarifying choices
as buttons that send their message, and which understanding answered. Built from answers as POST /chat
gives them; the answer's words are never read."""

from __future__ import annotations

import pytest
from dateutil.relativedelta import relativedelta
from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from business_data import clock
from business_data.db import make_engine
from business_data.settings import Settings
from schema.chat import ChatResponse
from ui.understanding import _changed, alternatives, chips, editable, understood_by

from .conftest import press, say

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

        from schema.accounts import Permissions

        st.session_state["me"] = Permissions(
            user_id="x",
            display_name="X",
            role="Manager",
            workspace_id="w",
            active=True,
            tools=["filter_data", "analyze_data"],
            summary="",
            can_see_other_workspaces=False,
            can_see_all_tickets=False,
        )
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


def chip_editors(at: AppTest) -> list:
    """The chips that open an editor (popovers), as their protos (label, help, disabled)."""
    return [p.proto.popover for p in at.get("popover") if "chipedit-" in p.proto.popover.id]


def test_an_analysis_shows_its_parts_as_chips_and_the_kept_ones_are_marked():
    at = draw(FOLLOW_UP)
    editors = chip_editors(at)
    assert [e.label for e in editors] == [
        "status: failed · kept",
        "vendor: IndiSky Airlines",
        "period: last month · kept",
    ]
    assert "Kept from your last question" in editors[2].help and "Kept from your last question" in editors[0].help
    assert "Kept" not in editors[1].help
    assert [(b.label, b.help) for b in chip_buttons(at)] == [  # each with its ✕
        ("✕", "Remove status: failed and ask again."),
        ("✕", "Remove vendor: IndiSky Airlines and ask again."),
        ("✕", "Remove period: last month and ask again."),
    ]
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
    assert chip_buttons(at) == [] and chip_editors(at) == []  # nothing ran: there is no call to change
    choices = [b for b in at.button if str(b.key or "").startswith("choice-")]
    assert [b.label for b in choices] == ["Run it without “frobnication”", "What can I ask about?"]
    choices[0].click()
    at.run()
    assert at.session_state["pending_prompt"] == "invoices whose is pending"
    assert "pending_tool_call" not in at.session_state


def test_chips_wait_while_a_yes_no_is_open():
    at = draw(FOLLOW_UP, waiting=True)
    assert chip_buttons(at) and all(b.disabled for b in chip_buttons(at))
    assert chip_editors(at) and all(e.disabled for e in chip_editors(at))


# -- changing a chip: its editor offers the slot's other values, one re-runs the call with it (live API) --
def sql(live_server, statement: str, **params) -> list[tuple]:
    """A statement on the live server's business database (SQLite file or PostgreSQL)."""
    url = (
        live_server.env.get("BUSINESS_DATABASE_URL")
        or Settings(_env_file=None, FINKRAFT_DATA_DIR=str(live_server.data_dir)).business_url
    )
    engine = make_engine(url)
    try:
        with engine.connect() as c:
            return [tuple(r) for r in c.execute(text(statement), params)]
    finally:
        engine.dispose()


def failed_this_month(live_server) -> int:
    """Failed invoices dated this month in acme (Maya's workspace), counted by SQL."""
    first = clock.today().replace(day=1)
    statement = (
        "SELECT COUNT(*) FROM invoices WHERE workspace_id='acme' AND status='failed' "
        "AND invoice_date >= :a AND invoice_date < :b"
    )
    return sql(live_server, statement, a=first, b=first + relativedelta(months=1))[0][0]


def open_editor(at: AppTest, label: str) -> AppTest:
    """Open the (last) chip whose text starts with `label`, as a click on it does, and run the page."""
    pops = [p.proto for p in at.get("popover") if str(p.proto.popover.label).startswith(label)]
    assert pops, [p.proto.popover.label for p in at.get("popover")]
    at.session_state[pops[-1].popover.id.split("-", 2)[-1]] = True
    at.run()
    assert not at.exception, at.exception
    return at


def test_changing_the_period_chip_asks_again_with_the_new_period(ui_for, live_server):
    at = open_editor(say(ui_for("maya"), "failed invoices last month"), "period: last month")
    offered = [b.label for b in at.button if str(b.key or "").startswith("chipedit-")]
    assert offered == [
        "this month",
        "this quarter",
        "last quarter",
        "this year",
        "last year",
        "this financial year",
        "last 30 days",
    ]
    press(at, "this month")
    messages = at.session_state["messages"]
    assert messages[-2]["text"] == "Same, with period: this month"
    answer = messages[-1]["answer"].model_dump()  # a schema.chat.ChatResponse
    assert answer["status"] == "success" and answer["interpretation"]["router"] == "client"
    assert answer["tool_calls"][-1] == {
        "tool": "filter_data",
        "params": {**messages[-3]["answer"].tool_calls[-1].params, "period": "this_month"},
    }
    n = failed_this_month(live_server)
    assert answer["data"]["filtered_records"] == n
    assert answer["agent_response"].startswith(f"Found {n:,} invoice" if n else "No invoices match")
    new_chips = [p.proto.popover.label for p in at.get("popover") if "chipedit-3-" in p.proto.popover.id]
    assert "period: this month" in new_chips  # the new answer has chips of its own


def test_a_status_chip_offers_the_other_statuses_from_the_api(ui_for):
    at = open_editor(say(ui_for("maya"), "failed invoices last month"), "status: failed")
    offered = {b.label for b in at.button if str(b.key or "").startswith("chipedit-")}
    assert offered == {"pending", "processed", "cancelled"}


def test_one_function_builds_the_call_with_a_part_replaced_or_removed():
    call = FOLLOW_UP["tool_calls"][0]
    vendor = next(c for c in chips(FOLLOW_UP) if c.label.startswith("vendor"))
    assert (vendor.slot, vendor.item, vendor.value, vendor.dimension) == ("filters", 1, "IndiSky Airlines", "vendor")
    assert _changed(call, "filters", 1, "Metro Cabs")["params"]["filters"] == [
        {"field": "status", "value": "failed"},
        {"field": "vendor", "value": "Metro Cabs"},
    ]
    assert _changed(call, "filters", 1)["params"]["filters"] == [{"field": "status", "value": "failed"}]
    assert _changed(call, "period", None, "this_fy")["params"]["period"] == "this_fy"
    assert "period" not in _changed(call, "period", None)["params"]
    nested = {"tool": "analyze_data", "params": {"query": {"dataset": "sales", "group_by": ["customer"], "limit": 3}}}
    assert _changed(nested, "limit", None, 10)["params"] == {
        "query": {"dataset": "sales", "group_by": ["customer"], "limit": 10}
    }
    assert call["params"]["period"] == "last_month" and call["params"]["filters"][1]["value"] == "IndiSky Airlines"
    not_failed = {
        **FOLLOW_UP,
        "interpretation": {
            **FOLLOW_UP["interpretation"],
            "parts": [
                {"slot": "filters", "value": [{"field": "status", "op": "ne", "value": "failed"}], "source": "message"}
            ],
        },
    }
    (chip,) = chips(not_failed)  # "status: not failed": only its ✕ (another value would read as "not" it)
    assert chip.label == "status: not failed" and not editable(chip) and chip.tool_call is not None


def test_a_top_n_chip_offers_3_5_10_and_a_grouping_only_its_cross():
    answer = {
        "tool_calls": [{"tool": "analyze_data", "params": {"dataset": "sales", "group_by": ["customer"], "limit": 3}}],
        "interpretation": {
            "action": "analyze_data",
            "decision": "run",
            "parts": [
                {"slot": "group_by", "value": ["customer"], "source": "message"},
                {"slot": "limit", "value": 3, "source": "message"},
            ],
        },
    }
    by, top = chips(answer)
    assert top.label == "top: 3" and editable(top) and alternatives(top) == [("top 5", 5), ("top 10", 10)]
    assert by.label == "by: customer" and not editable(by) and by.tool_call is not None


def test_changing_a_vendor_in_an_analysis_asks_again_with_that_vendor(ui_for, live_server):
    at = say(ui_for("maya"), "total value of failed invoices last month")
    open_editor(say(at, "what about IndiSky?"), "vendor: IndiSky Airlines")
    offered = [b.label for b in at.button if str(b.key or "").startswith("chipedit-")]
    by_value = sql(  # acme's vendors, the largest invoiced value first: what analyze_data groups by vendor
        live_server,
        "SELECT v.name FROM invoices i JOIN vendors v ON v.id=i.vendor_id WHERE i.workspace_id='acme' "
        "GROUP BY v.name ORDER BY SUM(i.total_amount) DESC LIMIT 12",
    )
    assert offered and set(offered) == {r[0] for r in by_value} - {"IndiSky Airlines"}
    other = offered[0]
    press(at, other)
    messages = at.session_state["messages"]
    assert messages[-2]["text"] == f"Same, with vendor: {other}"
    answer = messages[-1]["answer"].model_dump()
    assert answer["status"] == "success" and answer["tool_used"] == "analyze_data"
    assert answer["tool_calls"][-1]["params"]["filters"] == [
        {"field": "status", "value": "failed"},
        {"field": "vendor", "value": other},
    ]
    first = clock.today().replace(day=1)
    (expected,) = sql(
        live_server,
        "SELECT COALESCE(SUM(i.total_amount), 0) FROM invoices i JOIN vendors v ON v.id=i.vendor_id "
        "WHERE i.workspace_id='acme' AND v.name=:v AND i.status='failed' AND i.invoice_date >= :a "
        "AND i.invoice_date < :b",
        v=other,
        a=first - relativedelta(months=1),
        b=first,
    )[0]
    data = answer["data"]
    assert data["rows"][0][data["columns"].index("total_value")] == pytest.approx(float(expected), abs=0.01)


def test_a_chip_writes_its_value_by_the_format_the_part_declares(ui_for):
    """The data model says what a value is, and the chip writes it so; nothing is guessed from a field's
    name. "invoices over 50000": the amount bound is money, so ₹50,000. "regions with more than 100
    sales": the condition is on `sales_count`, a count (the old guess by name wrote ₹100)."""
    at = say(ui_for("maya"), "invoices over 50000")
    answer = at.session_state["messages"][-1]["answer"]
    bound = next(p for p in answer.interpretation.parts if p.slot == "min_amount")
    assert (bound.value, bound.format) == (50000, "money")
    assert "min amount: ₹50,000 ✕" in [b.label for b in chip_buttons(at)]

    at = say(at, "regions with more than 100 sales")
    answer = at.session_state["messages"][-1]["answer"]
    condition = next(p for p in answer.interpretation.parts if p.slot == "filters")
    assert condition.formats == {"sales_count": "count"}
    labels = [b.label for b in chip_buttons(at)]
    assert "sales count: over 100 ✕" in labels and not any("₹100" in label for label in labels)

    at = say(at, "customers with sales over 1.1 crore")  # money as the answers write it: lakh and crore
    assert "sales value: over ₹1.1 crore ✕" in [b.label for b in chip_buttons(at)]
