"""Business templates as subgraphs: figures checked against independent SQL, step statuses,
retries under the RetryPolicy, request analysis, and the subgraphs in the drawn graph.

Real SQLite files in tmp_path; each run pauses before its write (confirmation is tested in
test_confirmation.py), so the figures are read from the paused thread's state.
"""

from __future__ import annotations

from business_data import clock

import dataclasses

from datetime import date

import pytest
from dateutil.relativedelta import relativedelta

from graph.templates.matching import analyse_request
from tests.conftest import make_services
from tests.helpers import cfg, turn
from tools.base import ToolResult
from graph.templates import TEMPLATES
from tools.registry import TOOLS
from tests.helpers import sql


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    from graph.builder import compile_graph

    services = make_services(tmp_path_factory.mktemp("templates"))
    return services, compile_graph(services, router=False)


def month_bounds(months_back: int) -> tuple[str, str]:
    first = clock.today().replace(day=1) - relativedelta(months=months_back)
    return first.isoformat(), (first + relativedelta(months=1)).isoformat()


def paused(graph, user: str, thread: str, message: str) -> dict:
    out = turn(graph, cfg(user, thread), message, asks=True)
    assert out["response"].endswith("\n\n" + out["pending_confirmation"]["question"])  # the findings, then the question
    return out


def completed(graph, user: str, thread: str, message: str) -> dict:
    """A template whose write is an export: no question; the report comes first, then its files."""
    out = turn(graph, cfg(user, thread), message, asks=False)
    assert out["pending_confirmation"] is None, out.get("response")
    written = out["result"]["data"]["written"]
    assert written and all(w["tool"] == "export_report" and w["url"].startswith("/exports/") for w in written)
    assert out["response"].startswith(TEMPLATES[out["plan"]["template"]].report(out["template_data"]))
    assert out["response"].endswith(written[-1]["message"])
    return out


def test_invoice_investigation_figures_match_sql(world):
    services, graph = world
    out = paused(graph, "maya", "inv-1", "investigate the IndiSky failures from last month")
    assert out["plan"]["mode"] == "template" and out["plan"]["template"] == "invoice_investigation"
    assert out["plan"]["reason"]
    assert [s["step"] for s in out["step_statuses"]] == ["filter", "analyse", "propose"]
    assert all(s["status"] == "success" and s["attempts"] == 1 for s in out["step_statuses"])
    start, end = month_bounds(1)
    rows = sql(
        services,
        """
        SELECT i.status, i.error_message, i.total_amount FROM invoices i JOIN vendors v ON v.id = i.vendor_id
        WHERE i.workspace_id = 'acme' AND v.name = 'IndiSky Airlines' AND i.invoice_date >= :s AND i.invoice_date < :e""",
        s=start,
        e=end,
    )
    failed = [r for r in rows if r.status == "failed"]
    fig = out["template_data"]["figures"]
    assert fig["invoices"] == len(rows) and fig["failed"] == len(failed) == 7
    assert fig["amount_at_stake"] == pytest.approx(sum(r.total_amount for r in failed), abs=0.01)
    assert fig["by_reason"] == [
        {"reason": "GSTIN missing", "count": 7, "amount": pytest.approx(fig["amount_at_stake"], abs=0.01)}
    ]
    assert fig["by_vendor"][0]["vendor"] == "IndiSky Airlines" and fig["by_vendor"][0]["count"] == 7
    assert out["response"].endswith(
        "\n\nCreate ticket 'IndiSky Airlines: 7 invoices failed, GSTIN missing' for maya? yes/no"
    )
    assert out["response"].startswith("Invoice investigation (IndiSky Airlines")


def test_vendor_analysis_figures_match_sql(world):
    services, graph = world
    out = completed(graph, "maya", "va-1", "vendor analysis for Metro Cabs")
    assert out["plan"]["template"] == "vendor_analysis"
    assert [s["step"] for s in out["step_statuses"]] == ["gather", "performance", "report", "propose", "export"]
    vid = sql(services, "SELECT id FROM vendors WHERE workspace_id='acme' AND name='Metro Cabs'")[0].id
    # portable SQL (SQLite and PostgreSQL): read the rows, compute the figures here
    rows = sql(
        services,
        """SELECT invoice_date, status, total_amount, paid_date FROM invoices
                            WHERE workspace_id='acme' AND vendor_id=:v""",
        v=vid,
    )
    as_date = lambda d: d if isinstance(d, date) else date.fromisoformat(str(d))  # noqa: E731
    n, failed, invoiced = len(rows), sum(r.status == "failed" for r in rows), sum(r.total_amount for r in rows)
    delays = [(as_date(r.paid_date) - as_date(r.invoice_date)).days for r in rows if r.paid_date is not None]
    delay = sum(delays) / len(delays)
    paid = sql(
        services,
        """SELECT coalesce(sum(amount), 0) FROM transactions WHERE workspace_id='acme' AND vendor_id=:v
                            AND type='payment' AND status='completed'""",
        v=vid,
    )[0][0]
    months: dict[str, list[int]] = {}
    for r in rows:
        m = months.setdefault(as_date(r.invoice_date).strftime("%Y-%m"), [0, 0])
        m[0] += 1
        m[1] += r.status == "failed"
    trend = [(m, c, f) for m, (c, f) in sorted(months.items())]
    fig = out["template_data"]["figures"]
    assert fig["invoices"] == n and fig["failed"] == failed
    assert fig["failure_rate"] == round(failed / n * 100, 1)
    assert fig["invoiced_amount"] == pytest.approx(invoiced, abs=0.01)
    assert fig["avg_payment_delay_days"] == round(delay, 1)
    assert fig["paid_amount"] == pytest.approx(paid, abs=0.01)
    assert [(t["month"], t["invoices"], t["failed"]) for t in fig["trend"]] == [tuple(r) for r in trend]
    assert f"{fig['failure_rate']}%" in out["template_data"]["report"]
    assert out["result"]["data"]["written"][0]["rows"] == n  # the file holds the vendor's invoices


def test_vendor_analysis_of_all_vendors_ranks_them(world):
    """ "How did our vendors do last quarter?": every vendor in the period, ranked by failure rate."""
    services, graph = world
    out = completed(graph, "maya", "va-all", "how did our vendors do last quarter?")
    assert out["plan"]["template"] == "vendor_analysis" and "vendor" not in out["plan"]["params"]
    first = clock.today().replace(day=1)
    q0 = date(first.year, 3 * ((first.month - 1) // 3) + 1, 1)
    s, e = (q0 - relativedelta(months=3)).isoformat(), q0.isoformat()
    rows = sql(
        services,
        """SELECT v.name, count(*), sum(CASE WHEN i.status='failed' THEN 1 ELSE 0 END) FROM invoices i
                            JOIN vendors v ON v.id = i.vendor_id WHERE i.workspace_id='acme'
                            AND i.invoice_date >= :s AND i.invoice_date < :e GROUP BY v.name""",
        s=s,
        e=e,
    )
    fig = out["template_data"]["figures"]
    assert fig["invoices"] == sum(r[1] for r in rows) and fig["failed"] == sum(r[2] for r in rows)
    by = {v["vendor"]: (v["invoices"], v["failed"]) for v in fig["by_vendor"]}
    assert by == {r[0]: (r[1], r[2]) for r in rows}
    rates = [v["failure_rate"] for v in fig["by_vendor"]]
    assert rates == sorted(rates, reverse=True)
    worst = fig["by_vendor"][0]
    assert out["response"].startswith(f"Vendor analysis for all {len(rows)} vendors")
    assert f"{worst['vendor']} {worst['failure_rate']}%" in out["response"]
    assert out["result"]["data"]["written"][0]["rows"] == fig["invoices"]


def test_vendor_analysis_of_unknown_vendor_says_so(world):
    _, graph = world
    out = turn(graph, cfg("maya", "va-unknown"), "vendor analysis for Zzyzx Unknown Corp", asks=False)
    assert "couldn't find a vendor called 'Zzyzx Unknown Corp'" in out["response"]


def test_monthly_review_figures_match_sql(world):
    services, graph = world
    out = completed(graph, "maya", "mr-1", "do the monthly review")
    assert out["plan"]["template"] == "monthly_review"
    assert out["response"].startswith("Monthly review for ")  # the review first, then its two files
    fig = out["template_data"]["figures"]
    for key, back in (("current", 1), ("previous", 2)):
        s, e = month_bounds(back)
        n, failed, amount = sql(
            services,
            """SELECT count(*), sum(CASE WHEN status='failed' THEN 1 ELSE 0 END), sum(total_amount)
                                             FROM invoices WHERE workspace_id='acme' AND invoice_date >= :s AND invoice_date < :e""",
            s=s,
            e=e,
        )[0]
        regions = dict(
            sql(
                services,
                """SELECT region, sum(amount) FROM sales WHERE workspace_id='acme'
                                        AND sale_date >= :s AND sale_date < :e GROUP BY region""",
                s=s,
                e=e,
            )
        )
        m = fig[key]
        assert (m["invoices"], m["failed"]) == (n, failed)
        assert m["invoice_amount"] == pytest.approx(amount, abs=0.01)
        assert m["failure_rate"] == round(failed / n * 100, 1)
        assert m["sales_amount"] == pytest.approx(sum(regions.values()), abs=0.01)
        for region, total in regions.items():
            assert m["sales_by_region"][region] == pytest.approx(total, abs=0.01)
    cur, prev = fig["current"], fig["previous"]
    assert fig["change"]["invoices"] == round((cur["invoices"] - prev["invoices"]) / prev["invoices"] * 100, 1)
    assert fig["change"]["sales_amount"] == round(
        (cur["sales_amount"] - prev["sales_amount"]) / prev["sales_amount"] * 100, 1
    )
    assert len(out["result"]["data"]["written"]) == 2


def _flaky_explain(fail_times: int):
    real = TOOLS["explain_failures"]
    calls = {"n": 0}

    def func(ctx, p) -> ToolResult:
        calls["n"] += 1
        if calls["n"] <= fail_times:
            raise ConnectionError(f"database went away (call {calls['n']})")
        return real.func(ctx, p)

    return dataclasses.replace(real, func=func), calls


def test_step_fails_twice_then_succeeds_under_retry_policy(world, monkeypatch):
    _, graph = world
    spec, calls = _flaky_explain(2)
    monkeypatch.setitem(TOOLS, "explain_failures", spec)
    out = paused(graph, "maya", "retry-1", "investigate the IndiSky failures from last month")
    analyse = next(s for s in out["step_statuses"] if s["step"] == "analyse")
    assert calls["n"] == 3 and analyse == {**analyse, "status": "success", "attempts": 3}
    assert out["template_data"]["figures"]["failed"] == 7


def test_step_that_keeps_failing_is_reported_plainly_and_keeps_what_succeeded(world, monkeypatch):
    _, graph = world
    spec, calls = _flaky_explain(99)
    monkeypatch.setitem(TOOLS, "explain_failures", spec)
    out = turn(graph, cfg("maya", "retry-2"), "investigate the IndiSky failures from last month", asks=False)
    assert not out.get("pending_confirmation")
    steps = {s["step"]: s for s in out["step_statuses"]}
    assert steps["filter"]["status"] == "success"
    assert steps["analyse"]["status"] == "failed" and steps["analyse"]["attempts"] == 3 == calls["n"]
    assert "propose" not in steps and "create_ticket" not in steps
    assert "stopped at step 'analyse'" in out["response"] and "Traceback" not in out["response"]
    assert "22 invoices" in out["response"] or "invoices from IndiSky Airlines" in out["response"]
    assert out["result"]["data"]["status"] == "failed"


def test_user_errors_are_not_retried(world):
    _, graph = world
    out = turn(graph, cfg("maya", "va-bad"), "vendor analysis for Zzyzx Unknown Corp", asks=False)
    if out.get("step_statuses"):  # the parser may already ask which vendor; if it ran, the step failed once
        gather = out["step_statuses"][0]
        assert gather["status"] == "failed" and gather["attempts"] == 1


def test_viewer_cannot_run_templates(world):
    _, graph = world
    out = turn(graph, cfg("victor", "viewer-1"), "do the monthly review", asks=False)
    assert not out.get("step_statuses")
    assert "can't run business templates" in out["response"]


def test_templates_are_subgraphs_in_the_drawn_graph(world):
    _, graph = world
    mermaid = graph.get_graph(xray=True).draw_mermaid()
    for name in ("invoice_investigation", "vendor_analysis", "monthly_review"):
        assert f"subgraph {name}" in mermaid
    assert "invoice_investigation\\3acreate_ticket" in mermaid and "vendor_analysis\\3aexport" in mermaid
    assert "gate -.-> confirm" in mermaid and "confirm -.-> act" in mermaid


@pytest.mark.parametrize(
    "text,intent,decision,template",
    [
        ("failed IndiSky invoices from last month", {"kind": "tool", "tool": "filter_data"}, "direct", None),
        (
            "why did these fail?",
            {"kind": "tool", "tool": "explain_failures", "refs": {"records": "previous"}},
            "direct",
            None,
        ),
        ("create a ticket and notify me when fixed", {"kind": "tool", "tool": "create_ticket"}, "direct", None),
        (
            "show me the vendor performance for Metro Cabs",
            {"kind": "tool", "tool": "filter_data"},
            "template",
            "vendor_analysis",
        ),
        (
            "filter failed invoices, explain why, then open a ticket",
            {"kind": "tool", "tool": "filter_data"},
            "template",
            "invoice_investigation",
        ),
        ("do the monthly review", {"kind": "template", "template": "monthly_review"}, "template", "monthly_review"),
    ],
)
def test_request_analysis_decides_direct_or_template(text, intent, decision, template):
    a = analyse_request(text, intent)
    assert (a["decision"], a["template"]) == (decision, template)
    assert a["reason"] and isinstance(a["complexity"], int)
