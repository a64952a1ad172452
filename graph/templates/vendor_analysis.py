"""Vendor analysis: a vendor's invoices and payments -> performance figures -> a short report -> export once confirmed.

Without a vendor ("how did our vendors do this quarter?") it covers every vendor in the period
and ranks them."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from statistics import mean
from typing import Any

from .common import Step, Template, money


def gather(step: Step) -> str:
    vendor, period = step.params.get("vendor"), step.params.get("period")
    inv = step.rows(dataset="invoices", vendor=vendor, period=period)
    txn = step.rows(dataset="transactions", vendor=vendor, period=period)
    step.data["vendor"], step.data["period"] = inv["vendor"], inv["period"]
    step.data["invoices"] = [
        {k: r[k] for k in ("vendor", "invoice_date", "paid_date", "status", "payment_status", "total_amount")}
        for r in inv["rows"]
    ]
    step.data["transactions"] = [
        {k: r[k] for k in ("vendor", "transaction_date", "amount", "type", "status")} for r in txn["rows"]
    ]
    who = inv["vendor"] or "all vendors"
    return f"{inv['matched']} invoices and {txn['matched']} transactions for {who} ({inv['period']})"


def performance(step: Step) -> str:
    invoices, txns = step.data["invoices"], step.data["transactions"]
    step.data["figures"] = figures(step.data["vendor"], invoices, txns)
    if step.data["vendor"] is None:  # every vendor: rank them
        names = sorted({r["vendor"] for r in invoices})
        step.data["figures"]["by_vendor"] = sorted(
            (
                figures(
                    v, [r for r in invoices if r["vendor"] == v], [t for t in txns if t["vendor"] == v], trend=False
                )
                for v in names
            ),
            key=lambda f: (-f["failure_rate"], f["vendor"]),
        )
    del step.data["invoices"], step.data["transactions"]  # the figures are what the report needs
    f = step.data["figures"]
    return f"failure rate {f['failure_rate']}%, average payment delay {f['avg_payment_delay_days']} days"


def figures(vendor: str | None, invoices: list[dict], txns: list[dict], *, trend: bool = True) -> dict[str, Any]:
    n = len(invoices)
    failed = sum(1 for r in invoices if r["status"] == "failed")
    delays = [
        (date.fromisoformat(r["paid_date"]) - date.fromisoformat(r["invoice_date"])).days
        for r in invoices
        if r["paid_date"]
    ]
    months: dict[str, dict[str, Any]] = defaultdict(lambda: {"invoices": 0, "amount": 0.0, "failed": 0})
    for r in invoices:
        m = months[r["invoice_date"][:7]]
        m["invoices"] += 1
        m["amount"] += r["total_amount"]
        m["failed"] += r["status"] == "failed"
    by_month = [
        {
            "month": k,
            "invoices": v["invoices"],
            "amount": round(v["amount"], 2),
            "failed": v["failed"],
            "failure_rate": round(v["failed"] / v["invoices"] * 100, 1),
        }
        for k, v in sorted(months.items())
    ]
    out = {
        "vendor": vendor,
        "invoices": n,
        "failed": failed,
        "failure_rate": round(failed / n * 100, 1) if n else 0.0,
        "invoiced_amount": round(sum(r["total_amount"] for r in invoices), 2),
        "open_amount": round(
            sum(
                r["total_amount"]
                for r in invoices
                if r["payment_status"] in ("unpaid", "overdue", "partially_paid") and r["status"] != "cancelled"
            ),
            2,
        ),
        "paid_invoices": len(delays),
        "avg_payment_delay_days": round(mean(delays), 1) if delays else None,
        "payments": sum(1 for t in txns if t["type"] == "payment" and t["status"] == "completed"),
        "paid_amount": round(
            sum(t["amount"] for t in txns if t["type"] == "payment" and t["status"] == "completed"), 2
        ),
        "refund_amount": round(
            sum(t["amount"] for t in txns if t["type"] == "refund" and t["status"] == "completed"), 2
        ),
    }
    if trend:
        out["trend"] = by_month
    return out


def write_report(step: Step) -> str:
    step.data["report"] = report(step.data)
    return "report ready"


def report(data: dict[str, Any]) -> str:
    f = data.get("figures") or {}
    if not f.get("invoices"):
        return f"Vendor analysis for {data.get('vendor') or 'all vendors'}: no invoices in {data.get('period')}."
    if f["vendor"] is None:
        return _all_vendors_report(f, data.get("period"))
    delay = (
        f"average payment delay {f['avg_payment_delay_days']} days from invoice to payment ({f['paid_invoices']} paid invoices)"
        if f["avg_payment_delay_days"] is not None
        else "no invoice has been paid yet"
    )
    lines = [
        f"Vendor analysis for {f['vendor']} ({data.get('period')}): {f['invoices']} invoices worth {money(f['invoiced_amount'])}; "
        f"{f['failed']} failed ({f['failure_rate']}%); {delay}.",
        f"Payments: {f['payments']} completed, {money(f['paid_amount'])}; refunds {money(f['refund_amount'])}; "
        f"still open {money(f['open_amount'])}.",
    ]
    recent = f["trend"][-3:]
    if recent:
        lines.append(
            "Recent months: "
            + "; ".join(
                f"{m['month']} {m['invoices']} invoices, {money(m['amount'])}, {m['failure_rate']}% failed"
                for m in recent
            )
            + "."
        )
    return "\n".join(lines)


def _all_vendors_report(f: dict[str, Any], period: str | None) -> str:
    ranked = f["by_vendor"]
    delays = [v for v in ranked if v["avg_payment_delay_days"] is not None]
    lines = [
        f"Vendor analysis for all {len(ranked)} vendors ({period}): {f['invoices']} invoices worth "
        f"{money(f['invoiced_amount'])}; {f['failed']} failed ({f['failure_rate']}%).",
        "Highest failure rates: "
        + "; ".join(f"{v['vendor']} {v['failure_rate']}% ({v['failed']} of {v['invoices']})" for v in ranked[:3])
        + ".",
    ]
    if delays:
        slow = max(delays, key=lambda v: v["avg_payment_delay_days"])
        fast = min(delays, key=lambda v: v["avg_payment_delay_days"])
        lines.append(
            f"Payment delay: longest {slow['vendor']} ({slow['avg_payment_delay_days']} days), "
            f"shortest {fast['vendor']} ({fast['avg_payment_delay_days']} days)."
        )
    biggest = max(ranked, key=lambda v: v["invoiced_amount"])
    lines.append(f"Largest by amount: {biggest['vendor']} ({money(biggest['invoiced_amount'])}).")
    return "\n".join(lines)


def propose_export(step: Step) -> list[dict[str, Any]]:
    f = step.data["figures"]
    if not f["invoices"]:
        return []
    fmt = step.params.get("format", "csv")
    who = f["vendor"] or "all vendors"
    params = {
        "dataset": "invoices",
        "vendor": f["vendor"],
        "period": step.params.get("period"),
        "format": fmt,
        "title": f"Vendor analysis: {who} ({step.data['period']})",
    }
    whose = f"{f['vendor']}'s" if f["vendor"] else "all vendors'"
    summary = (
        f"Export {whose} {f['invoices']} invoices ({step.data['period']}) with the vendor analysis "
        f"as {fmt.upper()} for {step.ctx.identity.user_id}?"
    )
    return [{"tool": "export_report", "summary": summary, "params": {k: v for k, v in params.items() if v is not None}}]


TEMPLATE = Template(
    name="vendor_analysis",
    title="vendor analysis",
    steps=[("gather", "filter_data", gather), ("performance", None, performance), ("report", None, write_report)],
    propose=propose_export,
    write_step="export",
    write_tool="export_report",
    report=report,
    cues=[
        (r"\bvendor (analysis|performance|review|scorecard|report)\b", 2),
        (r"\banaly[sz]e (the )?vendor\b", 2),
        (r"\bpayment delays?\b", 1),
        (r"\bperform\w*\b", 1),
        (r"\bvendor\b", 1),
    ],
)
