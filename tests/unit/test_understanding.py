"""graph/understanding.py: the words nothing used, the data model's declared values, when a question starts
clean, and the decision before acting (refuse before ask, an export needs a word asking for a file, an
export or write acts only on a non-empty result of this conversation)."""

from __future__ import annotations

from datetime import date

import pytest

from graph.intent import ParseContext
from graph.parser import parse_turn
from graph.understanding import (
    declared_values,
    decide,
    interpret,
    referent_problem,
    starts_clean,
    unused_words,
    with_declared_values,
)
from memory.references import Resolution
from tools.rbac import Identity

VENDORS = ["IndiSky Airlines", "SkyHigh Hotels", "Metro Cabs", "Nimbus Cloud Services"]
MAYA, VICTOR = Identity("maya", "Manager", "acme"), Identity("victor", "Viewer", "acme")


def ctx(last=None) -> ParseContext:
    return ParseContext(vendors=VENDORS, today=date(2026, 12, 7), customers=["Bharat Retail"], last_result=last)


def understood(text: str, who: Identity = MAYA, last=None) -> dict:
    intent, turn = parse_turn(text, ctx(last))
    record = with_declared_values({**intent.__dict__, "router": "offline"}, turn.t)
    interp = interpret(text, record, rest=turn.slots.rest, standalone=None, previous={})
    return {**decide(interp, record, text, who), "_record": record}


def test_every_word_accounted_for_runs():
    u = understood("failed IndiSky invoices from last month")
    assert u["decision"] == "run" and u["unused"] == []
    assert {p["slot"]: p["source"] for p in u["parts"]}["vendor"] == "message"


def test_a_word_nothing_understood_is_asked_about_with_a_reading_without_it():
    u = understood("invoices whose frobnication is pending")
    assert u["decision"] == "ask" and u["unused"] == ["frobnication"]
    assert u["choices"][0]["label"] == "Run it without “frobnication”"
    assert "frobnication" not in u["choices"][0]["message"]


@pytest.mark.parametrize("filler", ["please", "kindly", "quickly", "team", "hello"])
def test_filler_is_not_a_request(filler):
    assert understood(f"{filler} show failed invoices from last month")["unused"] == []


def test_a_declared_value_of_another_dataset_is_not_silently_dropped():
    assert unused_words("invoices paid by upi", {"dataset": "invoices"}, "invoices") == ["upi"]


def test_declared_values_become_filters():
    assert declared_values("list the inactive suppliers", "vendors") == {"status": "inactive"}
    assert declared_values("payments made by upi", "transactions") == {"method": "UPI"}
    assert declared_values("returned sales this year", "sales") == {"status": "returned"}
    assert understood("list the inactive suppliers")["_record"]["params"] == {
        "dataset": "vendors",
        "where": {"status": "inactive"},
    }
    rec = understood("payments made by UPI last month")["_record"]
    assert rec["params"]["where"] == {"method": "UPI"} and "vendor" not in rec["params"]  # not a vendor 'UPI'


def test_a_boolean_dimension_said_or_negated(monkeypatch):
    from business_data.datamodel import get_data_model
    from graph.parser import vocabulary as vocab_module

    model = get_data_model("reference")
    monkeypatch.setattr(vocab_module, "_DEFAULT", [1e18, model])  # the reference model's vocabulary
    assert declared_values("invoices whose gstin is not verified", "invoices") == {"gstin_verified": False}
    assert declared_values("unverified invoices", "invoices") == {"gstin_verified": False}
    assert declared_values("verified invoices", "invoices") == {"gstin_verified": True}


def test_a_viewer_is_refused_before_any_question():
    u = understood("create a ticket", VICTOR)
    assert u["decision"] == "refuse" and u["action"] == "create_ticket"
    assert understood("create a ticket", MAYA)["decision"] != "refuse"


def test_an_export_needs_a_word_asking_for_a_file():
    u = understood("give me a report of failed invoices last month")
    if u["action"] == "export_report":
        assert u["decision"] == "ask" and [c["label"] for c in u["choices"]][0] == "Just show me the figures"
    assert understood("export failed invoices last month as excel")["decision"] in ("run", "assume")


def test_an_export_acts_only_on_a_non_empty_result_of_this_conversation():
    here = Resolution(invoice_numbers=["INV-1"], source="this conversation")
    assert referent_problem("export_report", here) is None
    empty = Resolution(invoice_numbers=[], source="this conversation")
    assert "no records" in (referent_problem("export_report", empty) or "")
    other = Resolution(invoice_numbers=["INV-1"], source="your earlier conversation (yesterday)")
    assert "earlier conversation" in (referent_problem("create_ticket", other) or "")
    large = Resolution(sources={"records": "your earlier conversation (today)"}, keys_complete=False)
    assert referent_problem("export_report", large) is not None  # a large result's filter, from elsewhere
    assert referent_problem("filter_data", other) is None  # reading is not acting


def test_a_self_contained_question_starts_clean_a_follow_up_carries():
    last = {
        "tool": "analyze_data",
        "query": {"dataset": "sales", "measures": ["sales_value"], "group_by": ["region"], "period": "this_year"},
    }
    for text, clean in [
        ("top 5 vendors by outstanding amount", True),
        ("and by customer?", False),
        ("what about last year?", False),
        ("sort them by amount", False),
        ("only the East", False),
    ]:
        in_ctx, _ = parse_turn(text, ctx(last))
        alone, alone_turn = parse_turn(text, ctx())
        assert starts_clean(text, alone, alone_turn, in_ctx) is clean, text


def read(text: str, last=None) -> dict:
    """What route() would run for `text` (graph/understanding.py understand)."""
    from graph.understanding import understand

    record, _ = understand(text, ctx(last))
    params = dict(record.get("params") or {})
    return {"tool": record.get("tool"), **dict(params.get("query") or params)}


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("remittances to Nimbus last quarter", {"tool": "filter_data", "dataset": "transactions"}),
        ("what was our turnover last year?", {"tool": "analyze_data", "dataset": "sales", "measures": ["sales_value"]}),
        ("which vendor has the worst failure rate last year?", {"order_by": ["-failure_rate"], "group_by": ["vendor"]}),
        ("who was our biggest customer last quarter?", {"group_by": ["customer"], "limit": 1}),
        ("our five best customers by revenue last year", {"group_by": ["customer"], "limit": 5}),
        ("which 3 suppliers did we spend the least with last year?", {"group_by": ["vendor"], "limit": 3}),
        ("what is the vendor code for Metro Cabs?", {"tool": "filter_data", "dataset": "vendors"}),
        (
            "pichhle mahine ke failed invoices dikhao",
            {"tool": "filter_data", "period": "last_month", "status": "failed"},
        ),
        ("invoices between 2 and 3 lakh", {"min_amount": 200000.0, "max_amount": 300000.0}),
        ("November vs October sales", {"period": "2026-11", "compare_to": "2026-10"}),
    ],
)
def test_readings_from_declarations(text, want):
    got = read(text)
    assert {k: got.get(k) for k in want} == want, got


def test_a_condition_on_each_groups_total():
    got = read("customers with sales over 1.1 crore last quarter")
    assert got["tool"] == "analyze_data" and got["group_by"] == ["customer"]
    assert {"field": "sales_value", "op": "gt", "value": 11000000.0} in got["filters"]
