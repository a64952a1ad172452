"""Vendor analysis: a vendor's invoices and payments -> performance figures -> a short report -> export once confirmed."""
from __future__ import annotations

from collections import defaultdict
from datetime import date
from statistics import mean
from typing import Any

from .common import Step, StepFailed, Template, money


def gather(step: Step) -> str:
    vendor, period = step.params.get("vendor"), step.params.get("period")
    if not vendor:
        raise StepFailed("Which vendor should I analyse? Say for example 'vendor analysis for Metro Cabs'.")
    inv = step.rows(dataset="invoices", vendor=vendor, period=period)
    txn = step.rows(dataset="transactions", vendor=vendor, period=period)
    step.data["vendor"], step.data["period"] = inv["vendor"], inv["period"]
    step.data["invoices"] = [{k: r[k] for k in ("invoice_date", "paid_date", "status", "payment_status", "total_amount")} for r in inv["rows"]]
    step.data["transactions"] = [{k: r[k] for k in ("transaction_date", "amount", "type", "status")} for r in txn["rows"]]
    return f"{inv['matched']} invoices and {txn['matched']} transactions for {inv['vendor']} ({inv['period']})"


def performance(step: Step) -> str:
    invoices, txns = step.data["invoices"], step.data["transactions"]
    n = len(invoices)
    failed = sum(1 for r in invoices if r["status"] == "failed")
    delays = [(date.fromisoformat(r["paid_date"]) - date.fromisoformat(r["invoice_date"])).days for r in invoices if r["paid_date"]]
    months: dict[str, dict[str, Any]] = defaultdict(lambda: {"invoices": 0, "amount": 0.0, "failed": 0})
    for r in invoices:
        m = months[r["invoice_date"][:7]]
        m["invoices"] += 1
        m["amount"] += r["total_amount"]
        m["failed"] += r["status"] == "failed"
    trend = [{"month": k, "invoices": v["invoices"], "amount": round(v["amount"], 2), "failed": v["failed"],
              "failure_rate": round(v["failed"] / v["invoices"] * 100, 1)} for k, v in sorted(months.items())]
    step.data["figures"] = {
        "vendor": step.data["vendor"], "invoices": n, "failed": failed,
        "failure_rate": round(failed / n * 100, 1) if n else 0.0,
        "invoiced_amount": round(sum(r["total_amount"] for r in invoices), 2),
        "open_amount": round(sum(r["total_amount"] for r in invoices
                                 if r["payment_status"] in ("unpaid", "overdue", "partially_paid") and r["status"] != "cancelled"), 2),
        "paid_invoices": len(delays),
        "avg_payment_delay_days": round(mean(delays), 1) if delays else None,
        "payments": sum(1 for t in txns if t["type"] == "payment" and t["status"] == "completed"),
        "paid_amount": round(sum(t["amount"] for t in txns if t["type"] == "payment" and t["status"] == "completed"), 2),
        "refund_amount": round(sum(t["amount"] for t in txns if t["type"] == "refund" and t["status"] == "completed"), 2),
        "trend": trend,
    }
    del step.data["invoices"], step.data["transactions"]  # the figures are what the report needs
    f = step.data["figures"]
    return f"failure rate {f['failure_rate']}%, average payment delay {f['avg_payment_delay_days']} days"


def write_report(step: Step) -> str:
    step.data["report"] = report(step.data)
    return "report ready"


def report(data: dict[str, Any]) -> str:
    f = data.get("figures") or {}
    if not f.get("invoices"):
        return f"Vendor analysis for {data.get('vendor')}: no invoices in {data.get('period')}."
    delay = (f"average payment delay {f['avg_payment_delay_days']} days from invoice to payment ({f['paid_invoices']} paid invoices)"
             if f["avg_payment_delay_days"] is not None else "no invoice has been paid yet")
    lines = [f"Vendor analysis for {f['vendor']} ({data.get('period')}): {f['invoices']} invoices worth {money(f['invoiced_amount'])}; "
             f"{f['failed']} failed ({f['failure_rate']}%); {delay}.",
             f"Payments: {f['payments']} completed, {money(f['paid_amount'])}; refunds {money(f['refund_amount'])}; "
             f"still open {money(f['open_amount'])}."]
    recent = f["trend"][-3:]
    if recent:
        lines.append("Recent months: " + "; ".join(f"{m['month']} {m['invoices']} invoices, {money(m['amount'])}, "
                                                   f"{m['failure_rate']}% failed" for m in recent) + ".")
    return "\n".join(lines)


def propose_export(step: Step) -> list[dict[str, Any]]:
    f = step.data["figures"]
    if not f["invoices"]:
        return []
    fmt = step.params.get("format", "csv")
    params = {"dataset": "invoices", "vendor": f["vendor"], "period": step.params.get("period"), "format": fmt,
              "title": f"Vendor analysis: {f['vendor']} ({step.data['period']})"}
    summary = (f"Export {f['vendor']}'s {f['invoices']} invoices ({step.data['period']}) with the vendor analysis "
               f"as {fmt.upper()} for {step.ctx.identity.user_id}?")
    return [{"tool": "export_report", "summary": summary, "params": {k: v for k, v in params.items() if v is not None}}]


TEMPLATE = Template(
    name="vendor_analysis", title="vendor analysis",
    steps=[("gather", "filter_data", gather), ("performance", None, performance), ("report", None, write_report)],
    propose=propose_export, write_step="export", write_tool="export_report", report=report, requires=("vendor",),
)
