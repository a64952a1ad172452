"""The offline intent parser: the eval set (tests/parser_eval.yaml) plus targeted hard cases.

No database, no network: ParseContext is built from the seed's vendor and customer lists.
"""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from business_data.seed import CUSTOMERS, WORKSPACES
from graph.intent import Intent, ParseContext
from graph.parser import parse
from tests.helpers import LAST, parsed as p

EVAL_PATH = Path(__file__).with_name("parser_eval.yaml")
ACCURACY_TARGET = 0.99  # the set the parser was tuned on: a regression guard (it was 316/316)


# --------------------------------------------------------------------------- eval harness (also used by benchmarks/parser_eval.py)


def load_eval(path: Path = EVAL_PATH) -> tuple[dict[str, ParseContext], list[dict[str, Any]]]:
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    today = spec["today"] if isinstance(spec["today"], date) else date.fromisoformat(spec["today"])
    ws = spec.get("workspace", "acme")
    vendors = [v.name for v in WORKSPACES[ws]]
    contexts = {
        name: ParseContext(vendors=vendors, today=today, customers=list(CUSTOMERS[ws]), **(extra or {}))
        for name, extra in spec["contexts"].items()
    }
    return contexts, spec["cases"]


def _norm(v: Any) -> Any:
    """YAML reads 2026-03 as a string but 2025 as an int and 2026-03-01 as a date: compare as text/numbers."""
    if isinstance(v, dict):
        return {k: _norm(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_norm(x) for x in v]
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, bool) or v is None:
        return v
    if isinstance(v, (int, float)):
        return float(v)
    return str(v)


def check_case(case: dict[str, Any], got: Intent) -> list[str]:
    """What differs between the expected intent and the parser's; [] when it is right."""
    problems = []
    if got.kind != case["kind"]:
        problems.append(f"kind {got.kind!r} != {case['kind']!r}")
    if case["kind"] == "tool" and got.tool != case["tool"]:
        problems.append(f"tool {got.tool!r} != {case['tool']!r}")
    if case["kind"] == "template" and got.template != case["template"]:
        problems.append(f"template {got.template!r} != {case['template']!r}")
    if case["kind"] in ("tool", "template"):
        want_p, got_p = _norm(case.get("params") or {}), _norm(got.params)
        if want_p != got_p:
            problems.append(f"params {got_p} != {want_p}")
        want_r = case.get("refs") or {}
        if got.refs != want_r:
            problems.append(f"refs {got.refs} != {want_r}")
    if case["kind"] == "clarify":
        if not got.question:
            problems.append("clarify without a question")
        elif case.get("question_contains") and case["question_contains"].lower() not in (got.question or "").lower():
            problems.append(f"question {got.question!r} lacks {case['question_contains']!r}")
    return problems


def run_eval(path: Path = EVAL_PATH) -> dict[str, Any]:
    contexts, cases = load_eval(path)
    failures, times = [], []
    for case in cases:
        ctx = contexts[case.get("ctx", "fresh")]
        t0 = time.perf_counter()
        got = parse(case["text"], ctx)
        times.append(time.perf_counter() - t0)
        problems = check_case(case, got)
        if problems:
            failures.append({"text": case["text"], "ctx": case.get("ctx", "fresh"), "problems": problems})
    times.sort()
    return {
        "cases": len(cases),
        "correct": len(cases) - len(failures),
        "accuracy": (len(cases) - len(failures)) / len(cases),
        "failures": failures,
        "median_ms": times[len(times) // 2] * 1000,
        "p95_ms": times[int(len(times) * 0.95)] * 1000,
        "max_ms": times[-1] * 1000,
    }


def test_eval_set_accuracy():
    r = run_eval()
    print(f"\nparser eval: {r['correct']}/{r['cases']} = {r['accuracy']:.1%}, median {r['median_ms']:.3f} ms")
    for f in r["failures"]:
        print(f"  FAIL [{f['ctx']}] {f['text']!r}: {'; '.join(f['problems'])}")
    assert r["cases"] >= 150
    assert r["accuracy"] >= ACCURACY_TARGET, (
        f"accuracy {r['accuracy']:.1%} below {ACCURACY_TARGET:.0%}: {r['failures']}"
    )


def test_eval_set_is_fast():
    run_eval()  # warm caches
    r = run_eval()
    assert r["median_ms"] < 1.0, r["median_ms"]


# --------------------------------------------------------------------------- targeted hard cases


@pytest.mark.parametrize(
    "text,lo,hi",
    [
        ("invoices over 50k", 50_000, None),
        ("invoices above ₹2.5 lakh", 250_000, None),
        ("invoices more than 1,00,000", 100_000, None),
        ("invoices more than 12,50,000.50", 1_250_000.5, None),
        ("invoices under 10000", None, 10_000),
        ("invoices between 20k and 1L", 20_000, 100_000),
        ("invoices between 1L and 20k", 20_000, 100_000),
        ("invoices of at least 1.2 crore", 12_000_000, None),
        ("invoices at most Rs. 5,000", None, 5_000),
        ("invoices below rs 5000", None, 5_000),
        ("invoices over 2 lacs", 200_000, None),
        ("invoices of 3 lakhs or more", 300_000, None),
        ("invoices ₹10k-₹25k", 10_000, 25_000),
        ("invoices for Rs. 5,000", 5_000, 5_000),
        ("invoices over 1.5 million", 1_500_000, None),
    ],
)
def test_amounts(text, lo, hi):
    i = p(text)
    assert (i.kind, i.tool) == ("tool", "filter_data"), i
    assert i.params.get("min_amount") == lo and i.params.get("max_amount") == hi, i.params


def test_counts_and_days_are_not_amounts():
    for text in (
        "show 5 failed invoices",
        "invoices from the last 30 days",
        "failed invoices in 2025",
        "status of ticket 12",
    ):
        i = p(text)
        assert "min_amount" not in i.params and "max_amount" not in i.params, (text, i.params)


@pytest.mark.parametrize(
    "typed,vendor",
    [
        ("indsky", "IndiSky Airlines"),
        ("IndiSky's", "IndiSky Airlines"),
        ("indi sky", "IndiSky Airlines"),
        ("Sky High hotels", "SkyHigh Hotels"),
        ("skyhigh", "SkyHigh Hotels"),
        ("metro", "Metro Cabs"),
        ("zenit", "Zenith Telecom"),
        ("nimbus cloud", "Nimbus Cloud Services"),
        ("deccan power", "Deccan Power Utilities"),
        ("apex office", "Apex Office Supplies"),
        ("gnga logistics", "Ganga Logistics"),
        ("vayu", "Vayu Travels"),
    ],
)
def test_vendor_spellings(typed, vendor):
    for text in (f"failed invoices from {typed}", f"{typed} invoices last month", f"show invoices, vendor={typed}"):
        i = p(text)
        assert i.kind == "tool" and i.params.get("vendor") == vendor, (text, i)


def test_unknown_vendor_passes_through_raw():
    i = p("failed invoices from Tata Steel last month")
    assert i.params == {"dataset": "invoices", "vendor": "Tata Steel", "status": "failed", "period": "last_month"}


def test_sql_injection_is_a_literal_vendor():
    for text, value in [
        ("show invoices vendor=x'; DROP TABLE invoices; --", "x'; DROP TABLE invoices; --"),
        ('filter invoices vendor="Robert\'); DROP TABLE vendors;--"', "Robert'); DROP TABLE vendors;--"),
        ("invoices from vendor '; DELETE FROM invoices WHERE '1'='1", "'; DELETE FROM invoices WHERE '1'='1"),
    ]:
        i = p(text)
        assert (i.kind, i.tool) == ("tool", "filter_data"), (text, i)
        assert i.params["vendor"] == value and isinstance(i.params["vendor"], str), (text, i.params)


@pytest.mark.parametrize(
    "text",
    [
        "invoices on 31 February",
        "invoices from 30 feb to 3 march",
        "invoices since 2026-02-30",
        "invoices for 2026-13",
        "invoices on 31/04/2026",
        "invoices on 29 Feb 2026",
    ],
)
def test_impossible_dates_are_not_fixed(text):
    i = p(text)
    assert i.kind == "clarify" and "not a real" in i.question, (text, i)


def test_leap_day_is_real():
    i = p("invoices on 29 Feb 2028")
    assert i.params["date_from"] == i.params["date_to"] == "2028-02-29"


@pytest.mark.parametrize(
    "text,expect",
    [
        ("invoices in March", {"period": "2026-03"}),
        ("invoices in December", {"period": "2025-12"}),  # the most recent December not in the future
        ("invoices in November", {"period": "2026-11"}),  # the current month counts
        ("Q2 invoices", {"period": "2026-Q2"}),
        ("Q4 invoices", {"period": "2026-Q4"}),
        ("Q1 FY26 invoices", {"period": "2025-Q2"}),  # Indian FY quarter: Apr-Jun 2025
        ("invoices March 2026", {"period": "2026-03"}),
        ("invoices last 30 days", {"period": "last_30_days"}),
        ("invoices past two weeks", {"period": "last_14_days"}),
        ("invoices yesterday", {"period": "yesterday"}),
        ("invoices since 2026-05-01", {"date_from": "2026-05-01"}),
        ("invoices between 1 March and 15 April", {"date_from": "2026-03-01", "date_to": "2026-04-15"}),
        ("invoices between 1 Dec and 15 Jan", {"date_from": "2025-12-01", "date_to": "2026-01-15"}),
        ("invoices until 10 Oct", {"date_to": "2026-10-10"}),
    ],
)
def test_periods(text, expect):
    i = p(text)
    got = {k: v for k, v in i.params.items() if k in ("period", "date_from", "date_to")}
    assert got == expect, (text, i.params)


def test_month_inference_follows_today():
    i = p("invoices in March", today=date(2026, 2, 10))
    assert i.params["period"] == "2025-03"


def test_ticket_flow():
    i = p("Create a ticket and notify me when fixed", last_result=LAST)
    assert (i.tool, i.params, i.refs) == (
        "create_ticket",
        {"notify_me": True, "notify_on": "resolved"},
        {"records": "previous"},
    )
    i = p("close that ticket", last_ticket_id="T-00001")
    assert (i.tool, i.params, i.refs) == ("update_ticket", {"status": "closed"}, {"ticket": "previous"})
    i = p("mark T-00001 as resolved")
    assert i.params == {"ticket_id": "T-00001", "status": "resolved"}
    i = p("Add a comment to ticket 3: Vendor called back, will reissue")
    assert i.params == {"ticket_id": "T-00003", "comment": "Vendor called back, will reissue"}
    i = p("download the fixed report")
    assert (i.tool, i.refs) == ("export_report", {"ticket": "fixed"})


@pytest.mark.parametrize(
    "word,status",
    [
        ("done", "resolved"),
        ("fixed", "resolved"),
        ("resolved", "resolved"),
        ("closed", "closed"),
        ("in progress", "in_progress"),
        ("open", "open"),
    ],
)
def test_ticket_status_synonyms(word, status):
    i = p(f"mark T-00009 as {word}")
    assert i.tool == "update_ticket" and i.params == {"ticket_id": "T-00009", "status": status}


@pytest.mark.parametrize(
    "word,status",
    [
        ("rejected", "failed"),
        ("errored", "failed"),
        ("bounced", "failed"),
        ("unsuccessful", "failed"),
        ("done", "processed"),
        ("completed", "processed"),
        ("posted", "processed"),
        ("cleared", "processed"),
        ("approved", "processed"),
        ("open", "pending"),
        ("awaiting", "pending"),
        ("queued", "pending"),
        ("unprocessed", "pending"),
        ("voided", "cancelled"),
        ("canceled", "cancelled"),
    ],
)
def test_invoice_status_synonyms(word, status):
    i = p(f"show {word} invoices")
    assert i.tool == "filter_data" and i.params.get("status") == status, (word, i.params)


def test_keyword_typos():
    assert p("show invocies from last month").params == {"dataset": "invoices", "period": "last_month"}
    assert p("exprot these to excel", last_result=LAST).tool == "export_report"
    assert p("my tikets").tool == "view_tickets"
    assert p("notifcations").tool == "view_notifications"


def test_long_and_odd_input_is_safe_and_fast():
    text = "show failed invoices from indisky " * 500
    t0 = time.perf_counter()
    i = p(text)
    assert time.perf_counter() - t0 < 0.5
    assert i.kind in ("tool", "clarify")
    for weird in ("🙂🙂🙂", "SELECT * FROM invoices", "<script>alert(1)</script>", "\x00\x01", "1" * 400):
        assert isinstance(p(weird), Intent)


def test_every_intent_has_a_reason_and_sane_confidence():
    contexts, cases = load_eval()
    for case in cases:
        i = parse(case["text"], contexts[case.get("ctx", "fresh")])
        assert i.reason, case["text"]
        assert 0.0 < i.confidence <= 1.0
        if i.kind == "clarify":
            assert i.question and i.confidence < 0.7


def test_assign_and_unassign_a_ticket():
    assert (p("assign T-00001 to victor").tool, p("assign T-00001 to victor").params) == (
        "update_ticket",
        {"ticket_id": "T-00001", "assignee": "victor"},
    )
    assert p("please reassign ticket 3 to Victor Varma.").params == {"ticket_id": "T-00003", "assignee": "Victor Varma"}
    assert p("unassign T-00002").params == {"ticket_id": "T-00002", "assignee": ""}
    assert p("assign it to victor", last_ticket_id="T-00004").refs == {"ticket": "previous"}
    assert p("assign to victor").tool is None  # which ticket? it asks
    assert p("mark T-00001 resolved").params == {"ticket_id": "T-00001", "status": "resolved"}  # unchanged
