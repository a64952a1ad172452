"""filter_data and explain_failures: read-only tools over the business data."""
from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from business_data.models import Vendor

from business_data.db import session_scope

from .base import Source, ToolContext, ToolResult, ToolSpec
from .queries import FilterParams, select_rows


def _money(x: float) -> str:
    return f"₹{x:,.0f}"


def filter_data(ctx: ToolContext, p: FilterParams) -> ToolResult:
    with session_scope(ctx.business) as s:
        r = select_rows(ctx, s, p)
    what = p.dataset
    parts = [f"{r['matched']:,} {what if r['matched'] != 1 else what.rstrip('s')}"]
    desc = [f"{k.replace('_', ' ')} {v}" for k, v in r["filters"].items() if k not in ("workspace_id", "dates", "invoice_numbers")]
    if r["filters"].get("dates"):
        desc.append(r["period"])
    message = f"Found {parts[0]}" + (f" ({', '.join(desc)})" if desc else "")
    if r["amount"] is not None and r["matched"]:
        message += f", totalling {_money(r['amount'])}"
    message += "."
    if r["matched"] > len(r["rows"]):
        message += f" Showing the first {len(r['rows'])}."
    if r["matched"] == 0:
        message = "No " + what + " match that" + (f" ({', '.join(desc)})" if desc else "") + ". Try a wider period or fewer filters."
    data = {
        "dataset": what, "filtered_records": r["matched"], "total_records": r["total"], "returned": len(r["rows"]),
        "total_amount": r["amount"], "period": r["period"], "filters": {k: v for k, v in r["filters"].items()},
        "results": r["rows"], "keys": r["keys"],
    }
    if what == "invoices" and r["rows"]:
        data["status_counts"] = dict(Counter(row["status"] for row in r["rows"]))
    return ToolResult(status="success", message=message, data=data,
                      sources=[Source(table=what, filters=r["filters"], rows=r["matched"])])


REASON_TEXT = {
    "GSTIN missing": ("GSTIN missing on the invoice", "the vendor's GSTIN is not on the invoice, so GST input credit can't be matched",
                      "ask the vendor to reissue the invoices with their GSTIN{gstin}"),
    "GSTIN mismatch": ("GSTIN mismatch", "the GSTIN on the invoice differs from the one on the vendor record",
                       "confirm the correct GSTIN with the vendor{gstin} and update either the invoice or the vendor record"),
    "Duplicate invoice number": ("duplicate invoice number", "the invoice number was already used by an earlier invoice from the same vendor",
                                 "check whether it is a true duplicate; if not, ask the vendor for a corrected number"),
    "Tax amount mismatch": ("tax amount mismatch", "the GST charged is not 18% of the taxable amount",
                            "ask the vendor for a corrected invoice or a credit note"),
    "Invalid invoice date": ("invalid invoice date", "the invoice date falls outside the allowed filing window",
                             "ask the vendor to reissue with the correct date"),
}


def explain_failures(ctx: ToolContext, p: FilterParams) -> ToolResult:
    p = p.model_copy(update={"dataset": "invoices"})
    with session_scope(ctx.business) as s:
        r = select_rows(ctx, s, p, limit=10_000)
        gstins = _vendor_gstins(s, r["workspace_id"], {row["vendor"] for row in r["rows"]})
    rows = r["rows"]
    failed = [row for row in rows if row["status"] == "failed"]
    total = len(rows)
    if total == 0:
        return ToolResult(status="success", message="There are no invoices in that set to explain.",
                          data={"total": 0, "failed": 0, "by_reason": [], "by_vendor": []},
                          sources=[Source(table="invoices", filters=r["filters"], rows=0)])
    if not failed:
        return ToolResult(status="success", message=f"None of these {total} invoices failed, so there is nothing to fix.",
                          data={"total": total, "failed": 0, "by_reason": [], "by_vendor": []},
                          sources=[Source(table="invoices", filters=r["filters"], rows=total)])
    by_reason: dict[str, dict[str, Any]] = defaultdict(lambda: {"count": 0, "amount": 0.0, "invoice_numbers": []})
    by_vendor: dict[str, dict[str, Any]] = defaultdict(lambda: {"count": 0, "amount": 0.0})
    for row in failed:
        reason = row["error_message"] or "Unknown reason"
        by_reason[reason]["count"] += 1
        by_reason[reason]["amount"] += row["total_amount"]
        by_reason[reason]["invoice_numbers"].append(row["invoice_number"])
        by_vendor[row["vendor"]]["count"] += 1
        by_vendor[row["vendor"]]["amount"] += row["total_amount"]
    reasons = sorted(by_reason.items(), key=lambda kv: -kv[1]["count"])
    at_stake = round(sum(row["total_amount"] for row in failed), 2)
    vendors = sorted(by_vendor)
    one_vendor = vendors[0] if len(vendors) == 1 else None
    gstin_hint = f" (on file: {gstins[one_vendor]})" if one_vendor and gstins.get(one_vendor) else ""

    if len(reasons) == 1:
        reason, info = reasons[0]
        short, why, fix = REASON_TEXT.get(reason, (reason, reason, "review these invoices"))
        headline = f"{len(failed)} of {total} failed: {short}."
        body = f" In plain words, {why}. Fix: {fix.format(gstin=gstin_hint)}."
    else:
        parts = [f"{info['count']} {REASON_TEXT.get(reason, (reason,))[0]}" for reason, info in reasons]
        headline = f"{len(failed)} of {total} failed: " + ", ".join(parts) + "."
        top, info = reasons[0]
        short, why, fix = REASON_TEXT.get(top, (top, top, "review these invoices"))
        body = f" The most common problem is {short}: {why}. Fix: {fix.format(gstin=gstin_hint)}."
    who = f" All are from {one_vendor}." if one_vendor else f" They come from {len(vendors)} vendors."
    message = headline + body + who + f" Amount at stake: {_money(at_stake)}."
    data = {
        "total": total, "failed": len(failed), "amount_at_stake": at_stake,
        "by_reason": [{"reason": k, "count": v["count"], "amount": round(v["amount"], 2), "invoice_numbers": v["invoice_numbers"]} for k, v in reasons],
        "by_vendor": [{"vendor": k, "count": v["count"], "amount": round(v["amount"], 2)} for k, v in sorted(by_vendor.items(), key=lambda kv: -kv[1]["count"])],
        "invoice_numbers": [row["invoice_number"] for row in failed],
        "keys": [row["invoice_number"] for row in failed],
        "dataset": "invoices",
    }
    return ToolResult(status="success", message=message, data=data,
                      sources=[Source(table="invoices", filters=r["filters"], rows=total),
                               Source(table="vendors", filters={"names": vendors}, rows=len(vendors))])


def _vendor_gstins(s: Session, ws: str, names: set[str]) -> dict[str, str | None]:
    if not names:
        return {}
    return dict(s.execute(select(Vendor.name, Vendor.gstin).where(Vendor.workspace_id == ws, Vendor.name.in_(names))).all())


EVERYONE = ("Viewer", "Manager", "Admin")
TOOLS = [
    ToolSpec("filter_data", "Filter invoices, sales, vendors or transactions by period, vendor, status, payment status, "
             "amount, region or customer.", FilterParams, filter_data, roles=EVERYONE, action="filter data",
             phrases=("failed IndiSky invoices from last month", "sales in the North over 50k this quarter",
                      "vendor=Sky High, status=pending"),
             record_set=True, takes_records=True, explained=True),
    ToolSpec("explain_failures", "Explain in plain words why a set of invoices failed, with counts by reason, vendor and "
             "amount at stake.", FilterParams, explain_failures, roles=EVERYONE, action="explain failures",
             phrases=("why did these fail?", "what went wrong with the Metro Cabs invoices?"),
             record_set=True, takes_records=True, records_by_default=True, explained=True),
]
