"""The analytics eval set (tests/unit/analytics_eval.yaml): questions about the numbers, follow-ups,
typos and verbs, and ambiguous questions, scored against the offline parser; every figure with
hand-written SQL is checked against that SQL on the seeded demo data (SQLite, and PostgreSQL
with FINKRAFT_TEST_DB=postgres), both for the expected query and through the graph.

The harness (load_eval, run_eval) is also used by benchmarks/analytics_eval.py.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml
from dateutil.relativedelta import relativedelta
from sqlalchemy import text

from business_data.datamodel import get_data_model
from business_data.seed import CUSTOMERS, WORKSPACES
from graph.intent import Intent, ParseContext
from graph.parser import parse
from tools.queries import FilterParams
from tools.registry import run_tool
from tools.semantic import SemanticQuery

from ..helpers import cfg, plain, this_month_so_far, turn

EVAL_PATH = Path(__file__).with_name("analytics_eval.yaml")
ACCURACY_TARGET = 0.90


# --------------------------------------------------------------------------- the eval set
def load_eval(path: Path = EVAL_PATH) -> dict[str, Any]:
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    spec["today"] = spec["today"] if isinstance(spec["today"], date) else date.fromisoformat(spec["today"])
    return spec


def section(case: dict[str, Any], follow_up: bool) -> str:
    if follow_up:
        return "follow-up"
    if "clarify" in case:
        return "ambiguous"
    return "single"


def canonical(query: dict[str, Any]) -> dict[str, Any]:
    """A semantic query in one form: validated, defaults dropped, filters sorted, numbers as floats."""
    d = SemanticQuery.model_validate(query).model_dump(mode="json", exclude_defaults=True)
    d["dataset"] = query.get("dataset", "invoices")
    if "filters" in d:
        d["filters"] = sorted(d["filters"], key=lambda f: (f["field"], str(f.get("op")), str(f.get("value"))))
    return _norm(d)


def _norm(v: Any) -> Any:
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


def filter_query(params: dict[str, Any]) -> dict[str, Any]:
    """filter_data's parameters as the semantic query a listing keeps (what the graph stores)."""
    ctx = SimpleNamespace(data_model=get_data_model("demo"))
    return FilterParams.model_validate(params).to_query(ctx).as_params()


def last_result_of(case: dict[str, Any]) -> dict[str, Any]:
    """What the thread remembers after the case's expected answer (graph/nodes.py `act`)."""
    if "analyze" in case:
        q = SemanticQuery.model_validate(case["analyze"])
        return {
            "tool": "analyze_data",
            "dataset": q.dataset,
            "keys": [],
            "keys_complete": True,
            "query": q.as_params(),
            "params": dict(case["analyze"]),
        }
    params = dict(case["filter"])
    return {
        "tool": "filter_data",
        "dataset": params.get("dataset", "invoices"),
        "keys": ["INV-ACM-2610-00001"],
        "keys_complete": True,
        "query": filter_query(params),
        "params": params,
    }


def check(case: dict[str, Any], got: Intent) -> list[str]:
    """What differs between the expected answer and the parser's; [] when it is right."""
    if "clarify" in case:
        problems = (
            []
            if got.kind == "clarify" and got.question and "?" in got.question
            else [f"{got.kind} {got.tool} {got.params}, not a question"]
        )
        if not problems and case["clarify"] and case["clarify"].lower() not in got.question.lower():
            problems.append(f"question {got.question!r} lacks {case['clarify']!r}")
        if not problems and len(got.question) > 240:
            problems.append(f"question is {len(got.question)} characters long")
        return problems
    tool = "analyze_data" if "analyze" in case else "filter_data"
    if (got.kind, got.tool) != ("tool", tool):
        return [f"{got.kind} {got.tool or got.template or ''} {got.params or got.question or ''} instead of {tool}"]
    if tool == "analyze_data":
        try:
            have = canonical(got.params)
        except Exception as e:  # noqa: BLE001 - an invalid query is a wrong answer
            return [f"invalid query {got.params}: {e}"]
        want = canonical(case["analyze"])
    else:
        have, want = _norm(got.params), _norm(case["filter"])
    problems = [f"query {have} != {want}"] if have != want else []
    if got.refs:
        problems.append(f"refs {got.refs}")
    return problems


def contexts(spec: dict[str, Any]):
    ws = spec.get("workspace", "acme")
    vendors, customers = [v.name for v in WORKSPACES[ws]], list(CUSTOMERS[ws])
    return lambda last=None: ParseContext(vendors=vendors, today=spec["today"], customers=customers, last_result=last)


def all_turns(spec: dict[str, Any]):
    """(case, last_result, section) for every scored turn: the single cases, then each chain's turns."""
    for case in spec["cases"]:
        yield case, None, section(case, False)
    for chain in spec["chains"]:
        for i, case in enumerate(chain):
            if i == 0:
                continue  # a chain's opening is a single question (most are among the cases too)
            yield case, last_result_of(chain[i - 1]), "follow-up"


def run_eval(path: Path = EVAL_PATH) -> dict[str, Any]:
    spec = load_eval(path)
    make = contexts(spec)
    by: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    failures = []
    for case, last, sec in all_turns(spec):
        got = parse(case["text"], make(last))
        problems = check(case, got)
        by[sec][1] += 1
        by[sec][0] += not problems
        if problems:
            failures.append({"text": case["text"], "section": sec, "problems": problems})
    correct = sum(c for c, _ in by.values())
    total = sum(n for _, n in by.values())
    return {"correct": correct, "cases": total, "accuracy": correct / total, "sections": dict(by), "failures": failures}


def test_eval_set_shape():
    spec = load_eval()
    singles = [c for c in spec["cases"] if "clarify" not in c]
    follow_ups = sum(len(ch) - 1 for ch in spec["chains"])
    assert len(singles) >= 60 and follow_ups >= 20 and sum("clarify" in c for c in spec["cases"]) >= 3
    texts = {c["text"] for c in spec["cases"]}
    for q in (
        "what's the total value of failed invoices last month?",
        "how much do we owe Metro Cabs?",
        "which vendor has the most failed invoices this year?",
        "top 3 customers by sales last quarter",
        "sales by region last month",
        "compare sales this month with last month",
        "average invoice amount for IndiSky this year",
        "shwo faild invoces from indsky last mnth",
        "pull up invoices over 50,000",
    ):
        assert q in texts, q
    for case, _last, _ in all_turns(spec):  # every expectation is a valid query / filter
        if "analyze" in case:
            canonical(case["analyze"])
        elif "filter" in case:
            FilterParams.model_validate(case["filter"])
    assert {c["analyze"]["dataset"] for c in singles if "analyze" in c} >= {
        "invoices",
        "sales",
        "vendors",
        "transactions",
        "invoice_items",
        "products",
    }


def test_parser_accuracy_on_the_eval_set():
    r = run_eval()
    print(
        f"\nanalytics eval: {r['correct']}/{r['cases']} = {r['accuracy']:.1%} "
        + ", ".join(f"{k} {c}/{n}" for k, (c, n) in r["sections"].items())
    )
    for f in r["failures"]:
        print(f"  FAIL [{f['section']}] {f['text']!r}: {'; '.join(f['problems'])}")
    assert r["accuracy"] >= ACCURACY_TARGET, f"{r['accuracy']:.1%} below {ACCURACY_TARGET:.0%}"


# --------------------------------------------------------------------------- figures against hand-written SQL
def bounds(today: date) -> dict[str, date]:
    """The named periods' first day and the day after their last, worked out here (not by tools/periods.py)."""
    m0 = today.replace(day=1)
    q0 = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    spans = {
        "this_month": (m0, m0 + relativedelta(months=1)),
        "last_month": (m0 - relativedelta(months=1), m0),
        "this_quarter": (q0, q0 + relativedelta(months=3)),
        "last_quarter": (q0 - relativedelta(months=3), q0),
        "this_year": (date(today.year, 1, 1), date(today.year + 1, 1, 1)),
        "last_year": (date(today.year - 1, 1, 1), date(today.year, 1, 1)),
        "last_6_months": (m0 - relativedelta(months=6), m0),
    }
    out: dict[str, date] = {}
    for name, (s, e) in spans.items():
        out[f"{name}_s"], out[f"{name}_e"] = s, e
    # compared fairly: this month (year) so far against the same days of last month (year), whole when over
    (_, out["so_far_this_month_e"]), (_, out["so_far_last_month_e"]) = this_month_so_far(today)
    tomorrow = today + timedelta(days=1)
    year_over = tomorrow.month == tomorrow.day == 1
    out["so_far_this_year_e"] = date(today.year + 1, 1, 1) if year_over else tomorrow
    try:
        year_before = date(today.year - 1, tomorrow.month, tomorrow.day)
    except ValueError:  # tomorrow is 29 February: last year's same days end with 28 February
        year_before = date(today.year - 1, 3, 1)
    out["so_far_last_year_e"] = date(today.year, 1, 1) if year_over else year_before
    return out


def sql_rows(services, case: dict[str, Any]) -> list[tuple]:
    binds = {"ws": "acme", **bounds(services.today())}
    sql = case["sql"]
    with services.business.connect() as conn:
        rows = [
            tuple(plain(v) for v in r)
            for r in conn.execute(text(sql), {k: v for k, v in binds.items() if f":{k}" in sql})
        ]
    if "bucket" in case:
        grain, agg = case["bucket"]
        assert grain == "month"
        sums: dict[str, float] = defaultdict(float)
        for d, v in rows:
            sums[str(d)[:7]] += 1 if agg == "count" else float(v)
        rows = sorted(sums.items())
    return rows


def answer_rows(data: dict[str, Any], cols: list[str]) -> list[tuple]:
    if "columns" in data:
        at = [data["columns"].index(c) for c in cols]
        return [tuple(r[i] for i in at) for r in data["rows"]]
    return [tuple(data[c] for c in cols)]


def _num(v: Any) -> Any:
    return 0.0 if v is None else float(v) if isinstance(v, (int, float)) else v


def same_figures(case: dict[str, Any], got: list[tuple], want: list[tuple]) -> None:
    got = [tuple(_num(v) for v in r) for r in got]
    want = [tuple(_num(v) for v in r) for r in want]
    if case.get("ranked"):
        assert got and len(got) <= len(want)
        assert [r[-1] for r in got] == pytest.approx([r[-1] for r in want[: len(got)]], abs=0.011), case["text"]
        for r in got:  # each named group has exactly that figure (ties may come in any order)
            assert r[:-1] in [w[:-1] for w in want if w[-1] == pytest.approx(r[-1], abs=0.011)], (case["text"], r)
        return
    key = lambda r: tuple(str(x) for x in r[:-1]) if len(r) > 1 and isinstance(r[0], str) else ()  # noqa: E731
    got, want = sorted(got, key=key), sorted(want, key=key)
    assert len(got) == len(want), (case["text"], got, want)
    for g, w in zip(got, want):
        assert [x for x in g if isinstance(x, str)] == [x for x in w if isinstance(x, str)], (case["text"], g, w)
        assert [x for x in g if not isinstance(x, str)] == pytest.approx(
            [x for x in w if not isinstance(x, str)], abs=0.011
        ), case["text"]


def sql_cases(spec: dict[str, Any]):
    """(turns to say in one thread, the case whose figures are checked)."""
    for case in spec["cases"]:
        if "sql" in case:
            yield [case], case
    for chain in spec["chains"]:
        for i, case in enumerate(chain):
            if "sql" in case:
                yield chain[: i + 1], case


def test_expected_queries_give_the_sql_figures(services):
    """The expectations themselves: each expected query, run by its tool, equals the hand-written SQL."""
    ctx = services.tool_context(services.identity("maya"))
    checked = 0
    for _, case in sql_cases(load_eval()):
        if "analyze" in case:
            res = run_tool("analyze_data", case["analyze"], ctx)
        else:
            res = run_tool("filter_data", case["filter"], ctx)
        assert res.status == "success", (case["text"], res.message)
        want = sql_rows(services, case)
        assert want, f"{case['text']!r}: the SQL finds nothing, so it checks nothing"
        same_figures(case, answer_rows(res.data, case["cols"]), want)
        checked += 1
    assert checked >= 30


def test_answers_through_the_graph_give_the_sql_figures(services, app_graph):
    """The questions as a user types them, through the graph with the offline parser: every answer that
    ran the expected tool has exactly the SQL's figures and says its first figure in words; questions the
    parser misreads count against the accuracy target (never as right)."""
    from tools.money import money

    misread, wrong = [], []
    cases = list(sql_cases(load_eval()))
    for n, (turns, case) in enumerate(cases):
        c = cfg("maya", f"eval-{n}")
        for t in turns:
            out = turn(app_graph, c, t["text"])
        res = out["result"] or {}
        tool = "analyze_data" if "analyze" in case else "filter_data"
        if res.get("tool") != tool or res.get("status") != "success":
            misread.append(f"{case['text']!r}: {res.get('tool')} {res.get('status')}: {out['response'][:120]}")
            continue
        want = sql_rows(services, case)
        try:
            same_figures(case, answer_rows(res["data"], case["cols"]), want)
        except (AssertionError, ValueError) as e:
            wrong.append(f"{case['text']!r}: figures differ: {str(e)[:200]} (asked {res['data'].get('query')})")
            continue
        # the answer's first figure: its first row (the rows equal the SQL's, in the answer's own order; the
        # SQL's first row may be one the answer folds into "and 2 more")
        got_rows = answer_rows(res["data"], case["cols"])
        first = (got_rows[0][-1] if got_rows else None) if not case.get("bucket") else None
        if (
            tool == "analyze_data"
            and isinstance(first, float)
            and "value" in case["cols"][-1]
            or case["cols"][-1] in ("outstanding", "payments_made")
        ):
            assert money(first) in out["response"], (case["text"], out["response"])  # said in words, Indian style
    assert not wrong, "\n".join(wrong)
    assert len(misread) <= (1 - ACCURACY_TARGET) * len(cases), "\n".join(misread)
