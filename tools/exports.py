"""export_report: a CSV, XLSX or PDF report (tools/report_files.py) with an owner and a workspace."""

from __future__ import annotations

import os
import tempfile
import uuid
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator
from sqlalchemy import select

from business_data.appdb import Export
from business_data.db import session_scope

from .fixed_report import fixed_rows, fixed_title
from .base import Source, ToolContext, ToolError, ToolNotFound, ToolResult, ToolSpec
from .periods import PeriodError, date_range, period_label
from .queries import FilterParams, select_rows
from .rbac import Identity, readable_by
from .report_files import WRITERS
from .results import ReportData
from .semantic import SemanticQuery, problem_text
from .tickets import get_visible_ticket, normalise_ticket_id

MAX_EXPORT_ROWS = 50_000


class ExportParams(FilterParams):
    format: Literal["csv", "xlsx", "pdf"] = Field("csv", description="csv, xlsx or pdf")
    title: str | None = Field(None, max_length=200)
    ticket_id: str | None = Field(None, description="export the records a ticket is about (e.g. 'the fixed report')")
    query: dict[str, Any] | None = Field(
        None,
        description="export the answer to a semantic query (an analyze_data breakdown, "
        "ranking or trend, or a record listing) instead of filters",
    )
    limit: int = Field(MAX_EXPORT_ROWS, ge=1, le=MAX_EXPORT_ROWS)

    @field_validator("format", mode="before")
    @classmethod
    def _fmt(cls, v):
        v = str(v).strip().lower().lstrip(".")
        return {"excel": "xlsx", "xls": "xlsx", "spreadsheet": "xlsx"}.get(v, v)


def report_title(p: ExportParams, r: dict, count: int, today) -> str:
    """ "IndiSky Airlines – 7 failed invoices, October 2026": who, how many of what, when."""
    f = r.get("filters") or {}
    what = " ".join(
        x for x in (f.get("status"), f.get("payment_status"), p.dataset if count != 1 else p.dataset.rstrip("s")) if x
    )
    where = f" in the {f['region']}" if f.get("region") else ""
    customer = f" for {p.customer}" if p.customer and p.dataset == "sales" else ""
    try:
        start, end = date_range(p.period, p.date_from, p.date_to, today)
    except PeriodError:
        start = end = None
    when = f", {period_label(start, end)}" if (start or end) else ""
    head = f"{f['vendor']} – " if f.get("vendor") and p.dataset != "vendors" else ""
    return f"{head}{count:,} {what}{where}{customer}{when}"


def export_report(ctx: ToolContext, p: ExportParams) -> ToolResult:
    ticket: dict[str, Any] | None = None
    if p.ticket_id:
        tid = normalise_ticket_id(p.ticket_id)
        with session_scope(ctx.app) as s:
            t = get_visible_ticket(ctx, s, tid)
            ticket = {
                "ticket_id": t.ticket_id,
                "title": t.title,
                "status": t.status,
                "record_ids": list(t.record_ids or []),
                "workspace_id": t.workspace_id,
            }
        if not ticket["record_ids"]:
            raise ToolError(f"Ticket {tid} is not about any records, so there is nothing to export.")
        p = p.model_copy(
            update={
                "dataset": "invoices",
                "invoice_numbers": ticket["record_ids"],
                "workspace": ticket["workspace_id"],
                "period": None,
                "date_from": None,
                "date_to": None,
                "status": None,
                "vendor": None,
            }
        )
    if p.query is not None:
        r = _query_rows(ctx, p)
    else:
        with session_scope(ctx.business) as s:
            r = select_rows(ctx, s, p, limit=p.limit)
    rows = r["rows"]
    dataset = r.get("dataset", p.dataset)
    if not rows:
        raise ToolError("There is nothing to export: no records match. Filter some data first, or widen the filters.")
    if ticket:
        rows = fixed_rows(ctx, ticket, rows)  # then (when the ticket was raised) next to now
    columns = list(rows[0].keys())
    if ticket:
        title = fixed_title(ticket, rows) if not p.title or p.title.startswith(str(ticket["ticket_id"])) else p.title
    elif r.get("title"):
        title = p.title or r["title"]
    else:
        title = p.title or report_title(p, r, len(rows), ctx.today)
    export_id = uuid.uuid4().hex
    folder = ctx.exports_dir / r["workspace_id"]
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / f"{export_id}.{p.format}"
    fd, tmp = tempfile.mkstemp(dir=folder, suffix=f".{p.format}.part")
    os.close(fd)
    try:
        WRITERS[p.format](Path(tmp), columns, rows, title)
        os.replace(tmp, final)  # atomic: a download never sees half a file
        with session_scope(ctx.app) as s:
            s.add(
                Export(
                    export_id=export_id,
                    owner=ctx.identity.user_id,
                    workspace_id=r["workspace_id"],
                    format=p.format,
                    dataset=dataset,
                    rows=len(rows),
                    path=str(final),
                    title=title,
                    params=p.model_dump(mode="json", exclude_none=True),
                    record_ids=[str(k) for k in r["keys"]],
                    ticket_id=ticket["ticket_id"] if ticket else None,
                )
            )
    except BaseException:
        for f in (tmp, final):
            Path(f).unlink(missing_ok=True)
        raise
    url = f"/exports/{export_id}/download"
    msg = (
        f"Your {p.format.upper()} report is ready: {len(rows)} row{'s' if len(rows) != 1 else ''}"
        + (f" from ticket {ticket['ticket_id']}, each invoice's state then and now" if ticket else "")
        + "."
    )
    if r["matched"] > len(rows):
        msg += f" (limited to the first {len(rows)} of {r['matched']:,})"
    data: ReportData = {
        "export_id": export_id,
        "format": p.format,
        "rows": len(rows),
        "url": url,
        "title": title,
        "filename": f"finkraft-{dataset}-{export_id[:8]}.{p.format}",
        "keys": r["keys"],
        "dataset": dataset,
        "ticket_id": ticket["ticket_id"] if ticket else None,
    }
    return ToolResult(
        status="success",
        message=msg,
        data=dict(data),
        sources=[Source(table=dataset, filters=r["filters"], rows=len(rows))],
    )


def _query_rows(ctx: ToolContext, p: ExportParams) -> dict[str, Any]:
    """The rows of a semantic query: an analysis table (measures) or records, in the caller's workspace."""
    from .analytics import analysis_table
    from .runner import run_records

    try:
        q = SemanticQuery.model_validate(p.query)
    except ValidationError as e:
        raise ToolError(problem_text(e)) from None
    if q.measures:
        return analysis_table(ctx, q)
    with session_scope(ctx.business) as s:
        a = run_records(s.connection(), ctx.data_model, q, ctx.identity, ctx.today, limit=p.limit, key_cap=1_000)
    return {
        "rows": a.rows,
        "matched": a.matched,
        "keys": a.keys,
        "workspace_id": a.compiled.workspace or ctx.identity.workspace_id,
        "filters": {"query": q.as_params()},
        "dataset": q.dataset,
        "title": f"{q.dataset.replace('_', ' ').capitalize()} report ({a.compiled.period})",
    }


def downloadable_by(identity: Identity):
    """The exports a user may download: every export for an Admin, else their own in their workspace.
    Downloads and memory's "that report" use this one rule."""
    return readable_by(identity, Export.owner, Export.workspace_id)


def find_export(app, identity: Identity, export_id: str) -> Export | None:
    """The export row (detached) if this user may download it, else None."""
    with session_scope(app) as s:
        e = s.scalars(select(Export).where(Export.export_id == str(export_id), downloadable_by(identity))).one_or_none()
        if e is not None:
            s.expunge(e)
        return e


def get_export(ctx: ToolContext, export_id: str) -> Export:
    """The export row if this user may download it (owner, or Admin), else ToolNotFound."""
    e = find_export(ctx.app, ctx.identity, export_id)
    if e is None:
        raise ToolNotFound("No such export, or it isn't yours to download.")
    return e


# Writes a file only its owner can download: no yes/no question (the data is the user's to see already).
TOOLS = [
    ToolSpec(
        "export_report",
        "Export records as a CSV, XLSX or PDF report you can download.",
        ExportParams,
        export_report,
        data_type=ReportData,
        roles=("Manager", "Admin"),
        action="export reports",
        topic="exports",
        step="Wrote a {format} file of {rows} rows from {scope}, {ms}.",
        progress="writing the export file",
        writes=True,
        confirm=False,
        cancelled="export the report",
        phrases=("export these as excel", "download the fixed report", "save last month's sales as pdf"),
        record_set=True,
        reads_data=True,
        takes_records=True,
        records_by_default=True,
        takes_ticket=True,
    ),
]
