"""filter_data and explain_failures: read-only tools over the business data."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from business_data.db import session_scope

from .base import Source, ToolContext, ToolError, ToolResult, ToolSpec
from .money import money as _money, money_exact
from . import filtering_answer, queries
from .queries import FilterParams, describe_filters, select_rows
from .results import FailuresData, ListingData
from .runner import run_measures, run_records
from .semantic import Filter, SemanticQuery


PREVIEW_ROWS = 5
# an answer lists records one per line: RECORD_BULLET, then the preview line's fields joined by FIELD_SEP,
# the record's key first (graph/responses.render writes them; memory/semantic reads the keys back)
RECORD_BULLET = "- "
FIELD_SEP = " | "
# the lines after the records: how many more matched, and what to ask next (memory/semantic leaves
# them out of what it embeds: they say nothing the summary line does not, in every listing alike)
MORE_RECORDS = "(and {:,} more)"
MORE_RECORDS_LINE = re.compile(r"\(and [\d,]+ more\)")  # MORE_RECORDS, as a pattern
FAILED_HINT = 'Ask "why did these fail?" for the reasons, or "export these" for a file.'


def preview_line(ds, row: dict[str, Any]) -> str:
    """One record in a line, from the model's `preview` dimensions: 'INV-1 | IndiSky Airlines | 2026-10-03 | ₹28,517.72 | failed - GSTIN missing'."""
    names = ds.preview or ds.list[:5]
    parts, note = [], ""
    for n in names:
        v = row.get(n)
        if v is None:
            continue
        dim = ds.dimensions[n]
        if n == "error_message":
            note = f" - {v}"
        elif dim.format == "money":
            parts.append(money_exact(v))
        elif n == "quantity":
            parts.append(f"x{v}")
        else:
            parts.append(str(v))
    return FIELD_SEP.join(parts) + note


def _said(key: str, value: object) -> str:
    """One filter in words: "at least ₹1 lakh", "not verified", "vendor IndiSky Airlines"."""
    if key in ("min_amount", "max_amount") and isinstance(value, (int, float)):
        return f"{'at least' if key == 'min_amount' else 'at most'} {_money(value)}"
    if isinstance(value, bool):
        return f"{key.replace('_', ' ')} {'yes' if value else 'no'}"
    return f"{key.replace('_', ' ')} {value}"


def filter_data(ctx: ToolContext, p: FilterParams) -> ToolResult:
    with ctx.business.connect() as conn:  # reads only: a connection, no ORM session
        r = select_rows(ctx, conn, p)
    what = p.dataset
    parts = [f"{r['matched']:,} {what if r['matched'] != 1 else what.rstrip('s')}"]
    desc = [_said(k, v) for k, v in r["filters"].items() if k not in ("workspace_id", "dates", "invoice_numbers")]
    if r["filters"].get("dates"):
        desc.append(r["period"])
    message = f"Found {parts[0]}" + (f" ({', '.join(desc)})" if desc else "")
    if r["amount"] is not None and r["matched"]:
        message += f", totalling {_money(r['amount'])}"
    message += "."
    if r["matched"] > len(r["rows"]):
        message += f" Showing the first {len(r['rows'])}."
    if r["matched"] == 0:
        message = (
            "No "
            + what
            + " match that"
            + (f" ({', '.join(desc)})" if desc else "")
            + ". Try a wider period or fewer filters."
        )
    ds = ctx.data_model.datasets[what]
    data: ListingData = {
        "dataset": what,
        "filtered_records": r["matched"],
        "total_records": r["total"],
        "returned": len(r["rows"]),
        "total_amount": r["amount"],
        "period": r["period"],
        "filters": {k: v for k, v in r["filters"].items()},
        "results": r["rows"],
        "keys": r["keys"],
        "keys_complete": r["keys_complete"],
        "query": r["query"],
        "preview": [preview_line(ds, row) for row in r["rows"][:PREVIEW_ROWS]],
        "table": filtering_answer.records_table(ds, r["rows"], r["matched"]),
    }
    if what == "invoices" and r["rows"]:
        data["status_counts"] = dict(Counter(row["status"] for row in r["rows"]))
    return ToolResult(
        status="success",
        message=message,
        data=dict(data),
        sources=[Source(table=what, filters=r["filters"], rows=r["matched"])],
    )


REASON_TEXT = {
    "GSTIN missing": (
        "GSTIN missing on the invoice",
        "the vendor's GSTIN is not on the invoice, so GST input credit can't be matched",
        "ask the vendor to reissue the invoices with their GSTIN{gstin}",
    ),
    "GSTIN mismatch": (
        "GSTIN mismatch",
        "the GSTIN on the invoice differs from the one on the vendor record",
        "confirm the correct GSTIN with the vendor{gstin} and update either the invoice or the vendor record",
    ),
    "Duplicate invoice number": (
        "duplicate invoice number",
        "the invoice number was already used by an earlier invoice from the same vendor",
        "check whether it is a true duplicate; if not, ask the vendor for a corrected number",
    ),
    "Tax amount mismatch": (
        "tax amount mismatch",
        "the GST charged is not 18% of the taxable amount",
        "ask the vendor for a corrected invoice or a credit note",
    ),
    "Invalid invoice date": (
        "invalid invoice date",
        "the invoice date falls outside the allowed filing window",
        "ask the vendor to reissue with the correct date",
    ),
}


def explain_failures(ctx: ToolContext, p: FilterParams) -> ToolResult:
    """Why a set of invoices failed: counts and amounts by reason and by vendor, all in SQL (any size)."""
    p = p.model_copy(update={"dataset": "invoices"})
    q = p.to_query(ctx)
    model = ctx.data_model
    for needed in ("invoice_count", "failed_count", "failed_value", "total_value"):
        if needed not in model.datasets["invoices"].measures:
            raise ToolError(f"This data model has no '{needed}' measure for invoices, so I can't explain failures.")
    with session_scope(ctx.business) as s:
        conn = s.connection()
        head = run_measures(
            conn, model, q.but(measures=["invoice_count", "failed_count", "failed_value"]), ctx.identity, ctx.today
        )
        q = head.query  # names resolved
        filters = describe_filters(
            q, head.compiled.workspace, head.compiled.period, bool(head.compiled.start or head.compiled.end)
        )
        total, n_failed, at_stake = (head.rows[0][k] for k in ("invoice_count", "failed_count", "failed_value"))
        source = Source(table="invoices", filters=filters, rows=total)
        if total == 0:
            return ToolResult(
                status="success",
                message="There are no invoices in that set to explain.",
                data={"total": 0, "failed": 0, "by_reason": [], "by_vendor": []},
                sources=[source],
            )
        if not n_failed:
            return ToolResult(
                status="success",
                message=f"None of these {total} invoices failed, so there is nothing to fix.",
                data={"total": total, "failed": 0, "by_reason": [], "by_vendor": []},
                sources=[source],
            )
        failed = q.with_filter("status", "failed")
        by = {
            dim: run_measures(
                conn,
                model,
                failed.but(measures=["invoice_count", "total_value"], group_by=[dim], order_by=["-invoice_count", dim]),
                ctx.identity,
                ctx.today,
            ).rows
            for dim in ("error_message", "vendor")
        }
        numbers = run_measures(
            conn,
            model,
            failed.but(
                measures=["invoice_count"],
                group_by=["invoice_number", "error_message"],
                order_by=["invoice_number"],
                limit=queries.KEY_CAP,
            ),
            ctx.identity,
            ctx.today,
        ).rows
        vendors = sorted(r["vendor"] for r in by["vendor"] if r["vendor"])
        gstin = _vendor_gstin(ctx, conn, vendors[0]) if len(vendors) == 1 else None
    per_reason: dict[str, list[str]] = {}
    for r in numbers:
        per_reason.setdefault(r["error_message"] or "Unknown reason", []).append(r["invoice_number"])
    reasons = [(r["error_message"] or "Unknown reason", r) for r in by["error_message"]]
    one_vendor = vendors[0] if len(vendors) == 1 else None
    gstin_hint = f" (on file: {gstin})" if gstin else ""
    if len(reasons) == 1:
        reason, _ = reasons[0]
        short, why, fix = REASON_TEXT.get(reason, (reason, reason, "review these invoices"))
        headline = f"{n_failed} of {total} failed: {short}."
        body = f" In plain words, {why}. Fix: {fix.format(gstin=gstin_hint)}."
    else:
        parts = [f"{info['invoice_count']} {REASON_TEXT.get(reason, (reason,))[0]}" for reason, info in reasons]
        headline = f"{n_failed} of {total} failed: " + ", ".join(parts) + "."
        top = reasons[0][0]
        short, why, fix = REASON_TEXT.get(top, (top, top, "review these invoices"))
        body = f" The most common problem is {short}: {why}. Fix: {fix.format(gstin=gstin_hint)}."
    who = f" All are from {one_vendor}." if one_vendor else f" They come from {len(vendors)} vendors."
    message = headline + body + who + f" Amount at stake: {_money(at_stake)}."
    keys = [r["invoice_number"] for r in numbers]
    data: FailuresData = {
        "total": total,
        "failed": n_failed,
        "amount_at_stake": at_stake,
        "by_reason": [
            {
                "reason": k,
                "count": v["invoice_count"],
                "amount": v["total_value"],
                "invoice_numbers": per_reason.get(k, []),
            }
            for k, v in reasons
        ],
        "by_vendor": [
            {"vendor": r["vendor"], "count": r["invoice_count"], "amount": r["total_value"]} for r in by["vendor"]
        ],
        "invoice_numbers": keys,
        "keys": keys,
        "keys_complete": len(keys) >= n_failed,
        "query": failed.as_params(),
        "dataset": "invoices",
    }
    data["tables"] = filtering_answer.failure_tables(data["by_reason"], data["by_vendor"])
    return ToolResult(
        status="success",
        message=message,
        data=dict(data),
        sources=[source, Source(table="vendors", filters={"names": vendors}, rows=len(vendors))],
    )


def _vendor_gstin(ctx: ToolContext, conn, vendor: str) -> str | None:
    """The GSTIN on the vendor record, when the model has one (for the fix: 'on file: ...')."""
    ds = ctx.data_model.datasets.get("vendors")
    if ds is None or "gstin" not in ds.dimensions or "vendor" not in ds.dimensions:
        return None
    q = SemanticQuery(dataset="vendors", filters=[Filter(field="vendor", value=vendor)])
    rows = run_records(conn, ctx.data_model, q, ctx.identity, ctx.today, limit=1, key_cap=1).rows
    return rows[0].get("gstin") if rows else None


EVERYONE = ("Viewer", "Manager", "Admin")
TOOLS = [
    ToolSpec(
        "filter_data",
        "Filter invoices, sales, vendors or transactions by period, vendor, status, payment status, "
        "amount, region or customer.",
        FilterParams,
        filter_data,
        data_type=ListingData,
        roles=EVERYONE,
        action="filter data",
        topic="lists of records",
        step="Read {scope}, {ms}; found {rows}.",
        progress="reading {dataset}…",
        phrases=(
            "failed IndiSky invoices from last month",
            "sales in the North over 50k this quarter",
            "vendor=Sky High, status=pending",
        ),
        record_set=True,
        takes_records=True,
        explained=True,
        reads_data=True,
        next_steps=filtering_answer.listing_next_steps,
    ),
    ToolSpec(
        "explain_failures",
        "Explain in plain words why a set of invoices failed, with counts by reason, vendor and amount at stake.",
        FilterParams,
        explain_failures,
        data_type=FailuresData,
        roles=EVERYONE,
        action="explain failures",
        topic="why invoices failed",
        step="Read {scope}, {ms}; {rows} in all, grouped by reason.",
        progress="analysing failures",
        phrases=("why did these fail?", "what went wrong with the Metro Cabs invoices?"),
        record_set=True,
        takes_records=True,
        records_by_default=True,
        explained=True,
        reads_data=True,
        next_steps=filtering_answer.failure_next_steps,
    ),
]
