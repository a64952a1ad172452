"""Understanding you can see over POST /chat: every answer carries its interpretation (what ran, where
each part came from, the words nothing used, the decision), and a guess is never acted on: unknown words
are asked about, "these" that is empty or from another conversation is never exported, a Viewer's
"create a ticket" is refused before any question, and a new question does not inherit old filters."""

from __future__ import annotations

from sqlalchemy import func, select

from business_data.appdb import Export
from business_data.db import session_scope

from ..helpers import chat


def exports(api) -> int:
    with session_scope(api.services.app) as s:
        return s.scalar(select(func.count()).select_from(Export))


def test_an_answer_says_what_it_understood_and_where_each_part_came_from(api):
    body = chat(api.maya, "total value of failed invoices last month", "u-1")
    interp = body["interpretation"]
    assert interp["action"] == "analyze_data" and interp["router"] == "offline" and interp["decision"] == "run"
    assert {p["source"] for p in interp["parts"]} == {"message"} and interp["unused"] == []
    assert "period last month" in interp["summary"]

    body = chat(api.maya, "what about IndiSky?", "u-1")  # a follow-up: the vendor is new, the rest is kept
    interp = body["interpretation"]
    sources = {p["slot"]: p["source"] for p in interp["parts"]}
    assert sources["period"] == "carried" and interp["decision"] == "assume"
    assert (
        body["agent_response"].startswith("Kept from your last question: ")
        and "period: last month" in (body["agent_response"].splitlines()[0])
    )
    assert "IndiSky Airlines" in body["agent_response"]
    trace = api.maya.get(f"/traces/{body['trace_id']}").json()
    assert any(
        line.startswith("I understood: figures: ") and "kept from your last question" in line
        for line in trace["summary"]
    )


def test_words_nothing_understood_are_asked_about_not_dropped(api):
    body = chat(api.maya, "invoices whose frobnication is pending review", "u-2")
    interp = body["interpretation"]
    assert interp["decision"] == "ask" and "frobnication" in interp["unused"]
    assert body["tool_calls"] == [] and "frobnication" in body["agent_response"]
    assert "haven't run anything" in body["agent_response"]
    labels = [c["label"] for c in interp["choices"]]
    assert labels and labels[0].startswith("Run it without")
    again = chat(api.maya, interp["choices"][0]["message"], "u-2")  # one click: the reading without the word
    assert again["tool_used"] == "filter_data" and again["interpretation"]["unused"] == []


def test_an_empty_result_is_never_exported(api):
    before = exports(api)
    body = chat(api.maya, "failed invoices from Nimbus over 50 crore", "u-3")
    assert body["tool_used"] == "filter_data" and body["data"]["filtered_records"] == 0
    body = chat(api.maya, "export these as excel", "u-3")
    assert body["tool_used"] is None and exports(api) == before
    assert "nothing to act on" in body["agent_response"] or "no records" in body["agent_response"]


def test_these_from_another_conversation_is_not_acted_on(api):
    chat(api.maya, "failed IndiSky invoices from last month", "u-4a")
    before = exports(api)
    body = chat(api.maya, "export these as excel", "u-4b")  # a new conversation: "these" is nothing here
    assert body["tool_used"] is None and exports(api) == before
    assert body["interpretation"]["action"] == "export_report"


def test_a_report_of_figures_is_not_a_file_nobody_asked_for(api):
    before = exports(api)
    body = chat(api.maya, "could you kindly give me a report of revenue from Bharat Retail this year", "u-5")
    assert body["tool_used"] != "export_report" and exports(api) == before


def test_a_viewer_asking_for_a_ticket_is_refused_before_any_question(api):
    body = chat(api.victor, "create a ticket", "u-6")
    assert body["status"] == "denied" and "can't" in body["agent_response"].lower()
    assert body["interpretation"]["decision"] == "refuse"
    assert "which" not in body["agent_response"].lower()  # not "which invoices?"


def test_a_new_question_does_not_inherit_the_last_ones_filters(api):
    chat(api.maya, "how much do we owe IndiSky Airlines?", "u-7")
    body = chat(api.maya, "total outstanding amount", "u-7")
    assert body["interpretation"]["decision"] == "run"
    assert "IndiSky" not in body["agent_response"].splitlines()[0]
    chat(api.maya, "total sales by region this year", "u-8")
    body = chat(api.maya, "top 5 vendors by outstanding amount", "u-8")
    assert body["success"] and body["tool_used"] == "analyze_data" and "no measure" not in body["agent_response"]
