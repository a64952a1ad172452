"""export_report: CSV (stdlib csv), XLSX (openpyxl) and PDF (reportlab) files with an owner and workspace."""
from __future__ import annotations

import csv
import os
import tempfile
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from sqlalchemy import select

from business_data.db import session_scope

from .appdb import Export, Ticket
from .base import Source, ToolContext, ToolError, ToolNotFound, ToolResult, ToolSpec
from .queries import FilterParams, select_rows
from .tickets import get_visible_ticket, normalise_ticket_id

MAX_EXPORT_ROWS = 50_000


class ExportParams(FilterParams):
    format: Literal["csv", "xlsx", "pdf"] = Field("csv", description="csv, xlsx or pdf")
    title: str | None = Field(None, max_length=200)
    ticket_id: str | None = Field(None, description="export the records a ticket is about (e.g. 'the fixed report')")
    limit: int = Field(MAX_EXPORT_ROWS, ge=1, le=MAX_EXPORT_ROWS)

    @field_validator("format", mode="before")
    @classmethod
    def _fmt(cls, v):
        v = str(v).strip().lower().lstrip(".")
        return {"excel": "xlsx", "xls": "xlsx", "spreadsheet": "xlsx"}.get(v, v)


def _write_csv(path: Path, columns: list[str], rows: list[dict], title: str) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=columns, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)


def _write_xlsx(path: Path, columns: list[str], rows: list[dict], title: str) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font
    wb = Workbook(write_only=False)
    ws = wb.active
    ws.title = "Report"
    ws.append(columns)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append([row.get(c) for c in columns])
    ws.freeze_panes = "A2"
    meta = wb.create_sheet("About")
    meta.append(["Report", title])
    meta.append(["Generated", datetime.now(timezone.utc).isoformat(timespec="seconds")])
    meta.append(["Rows", len(rows)])
    wb.save(path)


def _write_pdf(path: Path, columns: list[str], rows: list[dict], title: str) -> None:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import LongTable, Paragraph, SimpleDocTemplate, Spacer, TableStyle
    styles = getSampleStyleSheet()
    doc = SimpleDocTemplate(str(path), pagesize=landscape(A4), title=title, author="FinkraftAI",
                            leftMargin=24, rightMargin=24, topMargin=24, bottomMargin=24)
    cell = styles["BodyText"].clone("cell", fontSize=7, leading=8)
    data = [[Paragraph(f"<b>{c}</b>", cell) for c in columns]]
    for row in rows:
        data.append([Paragraph("" if row.get(c) is None else str(row.get(c)).replace("&", "&amp;").replace("<", "&lt;"), cell) for c in columns])
    table = LongTable(data, repeatRows=1)
    table.setStyle(TableStyle([
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#dfe7f2")),
        ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]))
    stamp = datetime.now(timezone.utc).strftime("%d %b %Y %H:%M UTC")
    doc.build([Paragraph(title.replace("&", "&amp;"), styles["Title"]),
               Paragraph(f"{len(rows)} rows, generated {stamp} by FinkraftAI", styles["Normal"]),
               Spacer(1, 8), table])


WRITERS = {"csv": _write_csv, "xlsx": _write_xlsx, "pdf": _write_pdf}


def export_report(ctx: ToolContext, p: ExportParams) -> ToolResult:
    ticket = None
    if p.ticket_id:
        tid = normalise_ticket_id(p.ticket_id)
        with session_scope(ctx.app) as s:
            t = get_visible_ticket(ctx, s, tid)
            ticket = {"ticket_id": t.ticket_id, "title": t.title, "status": t.status, "record_ids": list(t.record_ids or []), "workspace_id": t.workspace_id}
        if not ticket["record_ids"]:
            raise ToolError(f"Ticket {tid} is not about any records, so there is nothing to export.")
        p = p.model_copy(update={"dataset": "invoices", "invoice_numbers": ticket["record_ids"], "workspace": ticket["workspace_id"],
                                 "period": None, "date_from": None, "date_to": None, "status": None, "vendor": None})
    with session_scope(ctx.business) as s:
        r = select_rows(ctx, s, p, limit=p.limit)
    rows = r["rows"]
    if not rows:
        raise ToolError("There is nothing to export: no records match. Filter some data first, or widen the filters.")
    columns = list(rows[0].keys())
    if ticket:
        title = p.title or f"Ticket {ticket['ticket_id']} ({ticket['status']}): {ticket['title']}"
    else:
        title = p.title or f"{p.dataset.capitalize()} report: " + (", ".join(f"{k} {v}" for k, v in r["filters"].items() if k != "workspace_id") or "all")
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
            s.add(Export(export_id=export_id, owner=ctx.identity.user_id, workspace_id=r["workspace_id"], format=p.format,
                         dataset=p.dataset, rows=len(rows), path=str(final), title=title,
                         params=p.model_dump(mode="json", exclude_none=True), record_ids=[str(k) for k in r["keys"]],
                         ticket_id=ticket["ticket_id"] if ticket else None))
    except BaseException:
        for f in (tmp, final):
            Path(f).unlink(missing_ok=True)
        raise
    url = f"/exports/{export_id}/download"
    msg = f"Your {p.format.upper()} report is ready: {len(rows)} row{'s' if len(rows) != 1 else ''}" + (f" from ticket {ticket['ticket_id']}" if ticket else "") + f". Download: {url}"
    if r["matched"] > len(rows):
        msg += f" (limited to the first {len(rows)} of {r['matched']:,})"
    return ToolResult(status="success", message=msg,
                      data={"export_id": export_id, "format": p.format, "rows": len(rows), "url": url, "title": title,
                            "filename": f"finkraft-{p.dataset}-{export_id[:8]}.{p.format}", "keys": r["keys"], "dataset": p.dataset,
                            "ticket_id": ticket["ticket_id"] if ticket else None},
                      sources=[Source(table=p.dataset, filters=r["filters"], rows=len(rows))])


def get_export(ctx: ToolContext, export_id: str) -> Export:
    """The export row if this user may download it (owner, or Admin), else ToolError."""
    with session_scope(ctx.app) as s:
        e = s.get(Export, export_id)
        if e is None or not (e.owner == ctx.identity.user_id and e.workspace_id == ctx.identity.workspace_id or ctx.identity.is_admin):
            raise ToolNotFound("No such export, or it isn't yours to download.")
        s.expunge(e)
        return e


# Writes a file only its owner can download: no yes/no question (the data is the user's to see already).
TOOLS = [
    ToolSpec("export_report", "Export records as a CSV, XLSX or PDF report you can download.", ExportParams, export_report,
             roles=("Manager", "Admin"), action="export reports", writes=True, confirm=False,
             cancelled="export the report",
             phrases=("export these as excel", "download the fixed report", "save last month's sales as pdf"),
             record_set=True, takes_records=True, records_by_default=True, takes_ticket=True),
]
