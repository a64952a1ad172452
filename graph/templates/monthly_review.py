"""Monthly review: last month's invoices and sales -> summary against the month before -> export once confirmed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from dateutil.relativedelta import relativedelta

from tools.periods import PeriodError, describe, resolve_period

from .common import Step, StepFailed, Template, money, pct_change

REGIONS = ("North", "South", "East", "West")


def _months(step: Step) -> dict[str, dict[str, str]]:
    try:
        start, end = resolve_period(step.params.get("period") or "last_month", step.ctx.today)
    except PeriodError as e:
        raise StepFailed(str(e)) from None
    prev = start - relativedelta(months=1)
    return {
        "current": {
            "date_from": start.isoformat(),
            "date_to": (end - timedelta(days=1)).isoformat(),
            "label": describe(start, end),
        },
        "previous": {
            "date_from": prev.isoformat(),
            "date_to": (start - timedelta(days=1)).isoformat(),
            "label": describe(prev, start),
        },
    }


def collect(step: Step) -> str:
    """Exact counts and sums from select_rows (not capped row lists): totals, failures, each region."""
    months = _months(step)
    step.data["months"] = months
    out = []
    for key, m in months.items():
        bounds: dict[str, Any] = {"date_from": m["date_from"], "date_to": m["date_to"], "limit": 1}
        inv = step.rows(dataset="invoices", **bounds)
        failed = step.rows(dataset="invoices", status="failed", **bounds)
        sales = step.rows(dataset="sales", **bounds)
        regions = {r: step.rows(dataset="sales", region=r, **bounds)["amount"] or 0.0 for r in REGIONS}
        step.data[key] = {
            "invoices": inv["matched"],
            "invoice_amount": inv["amount"] or 0.0,
            "failed": failed["matched"],
            "failure_rate": round(failed["matched"] / inv["matched"] * 100, 1) if inv["matched"] else 0.0,
            "sales": sales["matched"],
            "sales_amount": sales["amount"] or 0.0,
            "sales_by_region": regions,
        }
        out.append(f"{m['label']}: {inv['matched']} invoices, {sales['matched']} sales")
    return "; ".join(out)


def summarise(step: Step) -> str:
    cur, prev = step.data.pop("current"), step.data.pop("previous")
    change: dict[str, Any] = {
        k: pct_change(cur[k], prev[k]) for k in ("invoices", "invoice_amount", "failed", "sales", "sales_amount")
    }
    change["failure_rate_points"] = round(cur["failure_rate"] - prev["failure_rate"], 1)
    change["sales_by_region"] = {r: pct_change(cur["sales_by_region"][r], prev["sales_by_region"][r]) for r in REGIONS}
    step.data["figures"] = {
        "current": cur,
        "previous": prev,
        "change": change,
        "months": {k: v["label"] for k, v in step.data["months"].items()},
    }
    return f"{cur['invoices']} invoices ({_pct(change['invoices'])}), sales {money(cur['sales_amount'])} ({_pct(change['sales_amount'])})"


def _pct(x: float | None) -> str:
    return "n/a vs the month before" if x is None else f"{x:+.1f}%"


def report(data: dict[str, Any]) -> str:
    f = data.get("figures")
    if not f:
        return ""
    cur, prev, ch = f["current"], f["previous"], f["change"]
    regions = ", ".join(f"{r} {money(cur['sales_by_region'][r])} ({_pct(ch['sales_by_region'][r])})" for r in REGIONS)
    return (
        f"Monthly review for {f['months']['current']} (compared with {f['months']['previous']}):\n"
        f"- Invoices: {cur['invoices']} ({_pct(ch['invoices'])}), worth {money(cur['invoice_amount'])} ({_pct(ch['invoice_amount'])}).\n"
        f"- Failures: {cur['failed']} ({cur['failure_rate']}% of invoices, {ch['failure_rate_points']:+.1f} points; "
        f"the month before {prev['failed']}, {prev['failure_rate']}%).\n"
        f"- Sales: {cur['sales']} ({_pct(ch['sales'])}), worth {money(cur['sales_amount'])} ({_pct(ch['sales_amount'])}).\n"
        f"- Sales by region: {regions}."
    )


def propose_exports(step: Step) -> dict[str, Any]:
    cur, m = step.data["figures"]["current"], step.data["months"]["current"]
    fmt, who = step.params.get("format", "csv"), step.ctx.identity.user_id
    bounds = {"date_from": m["date_from"], "date_to": m["date_to"], "format": fmt}
    writes: list[dict[str, Any]] = [
        {
            "tool": "export_report",
            "params": {"dataset": dataset, **bounds, "title": f"Monthly review: {dataset}, {m['label']}"},
            "summary": f"the {n} {dataset}",
        }
        for dataset, n in (("invoices", cur["invoices"]), ("sales", cur["sales"]))
        if n
    ]
    question = f"Export {' and '.join(w['summary'] for w in writes)} of {m['label']} as {fmt.upper()} for {who}?"
    return {"question": question, "writes": writes}


TEMPLATE = Template(
    name="monthly_review",
    title="monthly review",
    steps=[("collect", "filter_data", collect), ("summarise", None, summarise)],
    propose=propose_exports,
    write_step="export",
    write_tool="export_report",
    report=report,
    cues=[
        (r"\bmonth(ly|[- ]end) (review|report|summary|close)\b", 2),
        (r"\breview (of )?(last|this|the) month\b", 2),
        (r"\bmonth[- ]over[- ]month\b", 2),
        (r"\bcompare\w* .*\bmonth\b", 1),
        (r"\bsales by region\b", 1),
    ],
)
